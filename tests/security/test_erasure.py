"""Erasure on request: the client's personal data goes (names, contact details,
protected identifiers, every free text about them), the referral skeletons stay, so
every count and report is unchanged. Only the organisation that recorded the client,
or a coalition admin, may erase; others on a referral get 403, everyone else 404."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from core.principal import Principal
from orgs.models import ServiceType
from referrals import services
from referrals.models import (
    ERASED,
    Client,
    Consent,
    ContactPreference,
    Referral,
    ReferralEvent,
    ReferralNote,
    ReferralOutcome,
)
from referrals.services import ConsentInput, OutcomeInput
from reporting import fiscal
from reporting.budget import budget_request
from reporting.models import Grant
from reporting.selectors import ReportSpec, service_numbers

from tests.assertions import assert_problem

from .conftest import (
    A_NUMBER,
    FAMILY_NAME,
    GIVEN_NAME,
    IDENTIFYING,
    RECEIVER,
    SENDER,
    graphql_code,
    move,
    principal_of,
)

CLIENTS = "/api/v1/clients/"
REFERRALS = "/api/v1/referrals/"


def delete(caller, client_id):
    return caller.delete(f"{CLIENTS}{client_id}/",
                         headers={"Authorization": f"Bearer {caller.token}"})


def erase_mutation(caller, client_id):
    return caller.graphql('mutation { eraseClient(id: "%s") { client { id givenName '
                          'familyName aNumber dateOfBirth phone email erasedAt } } }'
                          % client_id)


@pytest.fixture
def history(refer):
    """One client with the works: two referrals (one completed with an outcome note,
    one forwarded onward to a third org), notes, reasons, consents."""
    first = refer(summary=f"{GIVEN_NAME} {FAMILY_NAME} fears return; A-Number {A_NUMBER}.")
    services.referral_note_add(principal=first.receiver, referral_id=first.id,
                               text=f"Called {GIVEN_NAME} at 718-555-0199.")
    move(first, "receiver", "accepted")
    move(first, "receiver", "on-hold", reason=f"{GIVEN_NAME} is gathering documents")
    move(first, "receiver", "in-progress")
    first.referral = services.referral_transition(
        principal=first.receiver, referral_id=first.id, to="completed",
        expected_version=first.referral.version,
        outcomes=[OutcomeInput("advice-given", f"Advised {GIVEN_NAME} on filing")])

    second = refer(client=first.client, service_type="removal-defense",
                   summary="Master calendar hearing next month.")
    move(second, "receiver", "accepted")
    second.referral, _child = services.referral_forward(
        principal=second.receiver, referral_id=second.id,
        expected_version=second.referral.version, receiving_org="cala",
        reason=f"{GIVEN_NAME} lives closer to CALA",
        consent=ConsentInput(method="written"))
    return first, second


def counts(client) -> dict:
    referrals = Referral.objects.filter(client=client)
    return {
        "referrals": referrals.count(),
        "events": ReferralEvent.objects.filter(referral__in=referrals).count(),
        "outcomes": ReferralOutcome.objects.filter(referral__in=referrals).count(),
        "notes": ReferralNote.objects.filter(referral__in=referrals).count(),
        "consents": Consent.objects.filter(client=client).count(),
        "statuses": sorted(referrals.values_list("status", flat=True)),
    }


def assert_erased(client_id) -> None:
    client = Client.objects.get(pk=client_id)
    assert (client.given_name, client.family_name) == (ERASED, ERASED)
    assert (client.phone, client.email) == ("", "")
    assert client.a_number is None and client.date_of_birth is None
    assert client.contact_preference == ContactPreference.DO_NOT_CONTACT
    assert client.erased_at is not None
    assert not client.preferred_languages.exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT a_number, date_of_birth FROM referrals_client WHERE id = %s",
                       [client.pk.hex if connection.vendor == "sqlite" else client.pk])
        assert cursor.fetchone() == (None, None)
    referrals = Referral.objects.filter(client=client)
    assert set(referrals.values_list("summary", flat=True)) == {""}
    assert set(referrals.exclude(status_reason="").values_list("status_reason", flat=True)) \
        == {ERASED}
    assert set(ReferralNote.objects.filter(referral__in=referrals)
               .values_list("text", flat=True)) == {ERASED}
    reasons = set(ReferralEvent.objects.filter(referral__in=referrals)
                  .values_list("reason", flat=True))
    assert reasons == {"", ERASED}  # reasons given are erased; none are made up
    assert set(ReferralOutcome.objects.filter(referral__in=referrals)
               .exclude(note="").values_list("note", flat=True)) == {ERASED}


def test_the_creating_organisation_erases_a_client(office, history):
    client = history[0].client
    before = counts(client)
    assert before["notes"] and before["outcomes"] and before["consents"]

    response = delete(office, client.pk)

    assert response.status_code == 204
    assert response.content == b""
    assert_erased(client.pk)
    # The skeletons stay: every referral, event, outcome and consent.
    assert counts(client) == before
    client.refresh_from_db()
    assert client.primary_language.code == "es"  # reports count clients by it


def test_no_identifying_value_is_left_in_any_client_or_referral_table(office, history):
    delete(office, history[0].client.pk)

    tables = ["referrals_client", "referrals_referral", "referrals_referralevent",
              "referrals_referralnote", "referrals_referraloutcome", "referrals_consent",
              "referrals_idempotencyrecord"]
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 - fixed table names
            dump = " ".join(str(value) for row in cursor.fetchall() for value in row)
            for value in IDENTIFYING:
                assert value not in dump, (table, value)


def test_erased_data_reads_back_erased_through_both_apis(office, camba, history):
    client = history[0].client
    delete(office, client.pk)

    shown = camba.get(f"{CLIENTS}{client.pk}/").json()
    referral = camba.get(f"{REFERRALS}{history[0].id}/").json()
    notes = camba.get(f"{REFERRALS}{history[0].id}/notes/").json()
    graphql = camba.graphql('{ client(id: "%s") { givenName aNumber dateOfBirth phone } }'
                            % client.pk).json()["data"]["client"]

    assert (shown["given_name"], shown["a_number"], shown["date_of_birth"]) == (
        ERASED, None, None)
    assert shown["erased_at"]
    assert (referral["client"]["family_name"], referral["summary"]) == (ERASED, "")
    assert referral["outcomes"][0]["code"] == "advice-given"
    assert {n["text"] for n in notes} == {ERASED}
    assert graphql == {"givenName": ERASED, "aNumber": None, "dateOfBirth": None,
                       "phone": None}


def test_erasing_twice_is_harmless(office, history):
    client = history[0].client
    assert delete(office, client.pk).status_code == 204
    erased_at = Client.objects.get(pk=client.pk).erased_at

    again = delete(office, client.pk)

    assert again.status_code == 204
    assert Client.objects.get(pk=client.pk).erased_at == erased_at


def test_the_receiving_organisation_may_not_erase(camba, history):
    client = history[0].client

    assert_problem(delete(camba, client.pk), 403, "not_client_creator")
    assert graphql_code(erase_mutation(camba, client.pk)) == "not_client_creator"
    assert Client.objects.get(pk=client.pk).given_name == GIVEN_NAME
    assert Client.objects.get(pk=client.pk).a_number == A_NUMBER


@pytest.mark.parametrize("client_id", ["history", "unknown"])
def test_an_unrelated_organisation_gets_404(api, history, client_id):
    outsider = api("nyic")  # on none of the client's referrals (cala is, by the forward)
    target = history[0].client.pk if client_id == "history" else uuid.uuid4()

    assert_problem(delete(outsider, target), 404, "not_found")
    assert graphql_code(erase_mutation(outsider, target)) == "not_found"
    assert Client.objects.get(pk=history[0].client.pk).erased_at is None


def test_a_funder_cannot_erase(api, history):
    funder = api("nyc-council")  # its tokens never carry a referrals scope
    response = delete(funder, history[0].client.pk)

    assert_problem(response, 403, "insufficient_scope")
    assert Client.objects.get(pk=history[0].client.pk).erased_at is None


def test_the_erase_needs_the_write_scope(api, history):
    reader = api(SENDER, scopes="referrals:read")

    assert_problem(delete(reader, history[0].client.pk), 403, "insufficient_scope")
    assert Client.objects.get(pk=history[0].client.pk).erased_at is None


def test_a_coalition_admin_may_erase(admin, history):
    assert delete(admin, history[0].client.pk).status_code == 204
    assert_erased(history[0].client.pk)


def test_graphql_erase_client(office, history):
    client = history[0].client
    before = counts(client)

    response = erase_mutation(office, client.pk)

    body = response.json()
    assert "errors" not in body, body
    erased = body["data"]["eraseClient"]["client"]
    assert (erased["givenName"], erased["familyName"], erased["aNumber"],
            erased["dateOfBirth"], erased["phone"], erased["email"]) == (
        ERASED, ERASED, None, None, "", "")
    assert erased["erasedAt"]
    assert_erased(client.pk)
    assert counts(client) == before
    again = erase_mutation(office, client.pk).json()
    assert again["data"]["eraseClient"]["client"]["erasedAt"] == erased["erasedAt"]


def test_graphql_erase_by_a_coalition_admin(admin, history):
    assert "errors" not in erase_mutation(admin, history[0].client.pk).json()
    assert_erased(history[0].client.pk)


def test_an_erased_client_cannot_be_referred_again(office, history):
    client = history[0].client
    delete(office, client.pk)

    rest = office.post(REFERRALS, {
        "client_id": str(client.pk), "consent": {"method": "verbal"},
        "receiving_org": "cala", "service_type": "asylum",
        "intake_channel": "district-office"}, headers={"Idempotency-Key": str(uuid.uuid4())})
    graphql = office.graphql("""mutation($key: String!, $client: UUID!) {
        createReferral(idempotencyKey: $key, input: {clientId: $client,
            consent: {method: VERBAL}, receivingOrg: "cala", serviceType: "asylum",
            intakeChannel: DISTRICT_OFFICE}) { referral { id } } }""",
                             {"key": str(uuid.uuid4()), "client": str(client.pk)})

    assert_problem(rest, 400, "client_erased")
    assert graphql_code(graphql) == "client_erased"
    assert Referral.objects.filter(client=client).count() == 3  # two and the forward


def test_a_replayed_create_after_erasure_does_not_bring_the_client_back(office):
    """The first response to a create is kept for replays (24 hours): erasure must
    not leave the client's name and contact details in it."""
    key = str(uuid.uuid4())
    body = {"client": {"given_name": GIVEN_NAME, "family_name": FAMILY_NAME,
                       "phone": "718-555-0199", "a_number": A_NUMBER},
            "consent": {"method": "verbal"}, "receiving_org": RECEIVER,
            "service_type": "asylum", "intake_channel": "district-office",
            "summary": f"{GIVEN_NAME} needs help"}
    first = office.post(REFERRALS, body, headers={"Idempotency-Key": key})
    assert first.status_code == 201
    delete(office, first.json()["client"]["id"])

    replay = office.post(REFERRALS, body, headers={"Idempotency-Key": key})

    assert replay.status_code == 201
    assert replay["Idempotent-Replayed"] == "true"
    assert replay.json()["id"] == first.json()["id"]
    assert replay.json()["client"]["family_name"] == ERASED
    content = replay.content.decode()
    for value in (GIVEN_NAME, FAMILY_NAME, "718-555-0199", "needs help"):
        assert value not in content


# --- reports are unchanged ---------------------------------------------------------


@pytest.fixture
def caseload(refer, api, coalition):
    """Referrals from two offices to two partners, clients in three languages, in
    every state a report counts, some forwarded; and a grant to camba."""
    peralta, avella = api(SENDER), api("sd11-avella-office")
    camba, cala = api(RECEIVER), api("cala")
    loops = []
    plan = [
        (peralta, camba, "asylum", ["es"], "completed"),
        (peralta, camba, "asylum", ["bn", "en"], "completed"),
        (peralta, camba, "removal-defense", ["es"], "rejected"),
        (peralta, camba, "asylum", ["zh"], "accepted"),
        (avella, camba, "asylum", ["es"], "on-hold"),
        (avella, camba, "naturalization", ["bn"], "failed"),
        (avella, cala, "asylum", ["es"], "completed"),
        (avella, cala, "stay-of-removal", ["zh"], "requested"),
        (peralta, cala, "asylum", ["bn"], "cancelled"),
        (peralta, cala, "removal-defense", ["es"], "accepted"),
    ] * 2
    for i, (sender, receiver, service, languages, status) in enumerate(plan):
        loop = refer(sender=sender, receiver=receiver, service_type=service,
                     given_name=f"Client{i}", preferred_languages=languages,
                     summary=f"Summary about client {i}")
        if status in ("completed", "accepted", "on-hold", "failed"):
            move(loop, "receiver", "accepted")
        if status == "completed":
            move(loop, "receiver", "completed", outcomes=["advice-given"])
        elif status == "on-hold":
            move(loop, "receiver", "on-hold", reason=f"Client{i} travelling")
        elif status == "failed":
            move(loop, "receiver", "failed", reason="Unreachable",
                 outcomes=["client-unreachable"])
        elif status == "rejected":
            move(loop, "receiver", "rejected", reason=f"Client{i} is out of area")
        elif status == "cancelled":
            move(loop, "sender", "cancelled", reason="Found other counsel")
        loops.append(loop)
    services.referral_note_add(principal=loops[0].receiver, referral_id=loops[0].id,
                               text="Client0 called")
    start = fiscal.sfy_start_year(timezone.localdate())
    grant = Grant.objects.create(funder=coalition["nyc-council"], grantee=coalition[RECEIVER],
                                 fiscal_year=fiscal.sfy_label(start), amount=Decimal("250000"))
    grant.service_types.set(ServiceType.objects.filter(code__in=["asylum", "removal-defense"]))
    Grant.objects.create(funder=coalition["empire-immigrant-fund"],
                         grantee=coalition[RECEIVER], fiscal_year=fiscal.sfy_label(start - 1),
                         amount=Decimal("40000"))
    return loops


REPORT_DIMENSIONS = [
    (),
    ("receiving_org",),
    ("client_language",),
    ("service_type", "client_language"),
    ("sending_org", "receiving_org", "client_language"),
    ("outcome",),
    ("district", "priority"),
    ("period",),
]


def all_reports(principals: dict[str, Principal]) -> dict:
    label = fiscal.sfy_label(fiscal.sfy_start_year(timezone.localdate()))
    reports = {}
    for who, principal in principals.items():
        for dimensions in REPORT_DIMENSIONS:
            reports[who, dimensions] = service_numbers(
                principal, ReportSpec(dimensions=dimensions, period="month"))
        reports[who, "budget"] = budget_request(principal, organization=RECEIVER,
                                                fiscal_year=label)
    return reports


def test_reports_are_unchanged_by_erasure(caseload, admin, api):
    principals = {"admin": principal_of(admin), "camba": principal_of(api(RECEIVER))}
    before = all_reports(principals)
    # The data is rich enough to show: camba sees its own numbers whole.
    whole = before["camba", ()].grand_total().values
    assert whole["referrals_received"] == 12 and whole["unique_clients_served"] == 10
    assert before["admin", ()].grand_total().values["referrals_sent"] == 20
    languages = {e.key[0] for e in before["camba", ("client_language",)].cells}
    assert languages == {"es", "bn", "zh"}
    budget = before["admin", "budget"]
    assert budget.grant_total == Decimal("250000")

    erased = set()
    for loop in caseload[::2] + caseload[1:6]:
        if loop.client.pk not in erased:
            services.client_erase(principal=loop.sender, client_id=loop.client.pk)
            erased.add(loop.client.pk)
    assert Client.objects.filter(erased_at__isnull=False).count() == len(erased) >= 10

    after = all_reports(principals)
    for key in before:
        assert after[key] == before[key], key


def test_a_primary_language_survives_erasure_for_the_language_report(office, refer):
    loop = refer(preferred_languages=["bn", "en"])

    delete(office, loop.client.pk)

    client = Client.objects.get(pk=loop.client.pk)
    assert client.primary_language.code == "bn"
    assert list(client.preferred_languages.all()) == []
