"""REST for referrals and clients: create, the closed loop, ETags, filters, paging,
forwarding, notes, events, clients and consent, contact preference, routing."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from urllib.parse import parse_qs, urlparse

import pytest
from django.utils import timezone

from orgs.models import Organization
from referrals import services
from referrals.models import Client, Consent, Referral, ReferralEvent, ReferralNote
from referrals.services import ConsentInput

from .factories import (
    bulk_referrals,
    make_client,
    make_referral,
    principal_for,
)
from tests.assertions import assert_problem

REFERRALS = "/api/v1/referrals/"
CLIENTS = "/api/v1/clients/"
ROUTING = "/api/v1/routing/suggestions/"


def new_referral_body(**overrides) -> dict:
    body = {
        "client": {"given_name": "Rosa", "family_name": "Quispe", "phone": "718-555-0134",
                   "email": "rosa@example.org", "preferred_languages": ["es", "en"]},
        "consent": {"method": "verbal"},
        "receiving_org": "camba-legal",
        "service_type": "asylum",
        "intake_channel": "district-office",
        "priority": "urgent",
        "summary": "Asylum screening; one-year filing deadline in March.",
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def post_referral(caller, body, key: str | None = None):
    return caller.post(REFERRALS, body, headers={"Idempotency-Key": key or str(uuid.uuid4())})


def transition(caller, referral_id, version, to, **payload):
    return caller.post(f"{REFERRALS}{referral_id}/transition/", {"to": to, **payload},
                       headers={"If-Match": f'"{version}"'})


@pytest.fixture
def office(api):
    return api("sd13-peralta-office")


@pytest.fixture
def camba(api):
    return api("camba-legal")


@pytest.fixture
def cala(api):
    return api("cala")


# --- create -------------------------------------------------------------------------


def test_create_with_a_new_client_and_consent(office):
    response = post_referral(office, new_referral_body())

    assert response.status_code == 201, response.content
    body = response.json()
    assert response["Location"] == f"{REFERRALS}{body['id']}/"
    assert response["ETag"] == '"1"'
    assert (body["status"], body["version"], body["priority"]) == ("requested", 1, "urgent")
    assert (body["sending_org"], body["receiving_org"], body["service_type"]) == (
        "sd13-peralta-office", "camba-legal", "asylum")
    assert body["client"]["family_name"] == "Quispe"
    assert body["client"]["preferred_languages"] == ["en", "es"]
    referral = Referral.objects.get(pk=body["id"])
    assert referral.created_by_application_id == office.app.pk
    consent = Consent.objects.get(client=referral.client)
    assert (consent.shared_with.slug, consent.captured_by_org.slug, consent.method) == (
        "camba-legal", "sd13-peralta-office", "verbal")
    assert consent.captured_by_application_id == office.app.pk
    event = ReferralEvent.objects.get(referral=referral)
    assert (event.kind, event.to_status, event.organization.slug) == (
        "created", "requested", "sd13-peralta-office")
    assert event.actor_application_id == office.app.pk


def test_create_for_an_existing_client_with_consent_on_file(office):
    client = office.post(CLIENTS, {"given_name": "Abdul", "family_name": "Karim",
                                   "preferred_languages": ["bn"]}).json()
    consent = office.post(f"{CLIENTS}{client['id']}/consents/",
                          {"shared_with": "camba-legal", "method": "written"})
    assert consent.status_code == 201, consent.content

    response = post_referral(office, new_referral_body(client=None, consent=None,
                                                       client_id=client["id"]))

    assert response.status_code == 201, response.content
    assert response.json()["client"]["id"] == client["id"]
    assert Client.objects.count() == 1
    assert Consent.objects.count() == 1


def test_create_for_an_existing_client_without_consent_is_consent_required(office):
    client = make_client("sd13-peralta-office")

    response = post_referral(office, new_referral_body(client=None, consent=None,
                                                       client_id=str(client.pk)))

    body = assert_problem(response, 400, "consent_required")
    assert body["errors"][0]["field"] == "consent"
    assert not Referral.objects.exists()


def test_create_with_a_new_client_and_no_consent_leaves_nothing_behind(office):
    response = post_referral(office, new_referral_body(consent=None))

    assert_problem(response, 400, "consent_required")
    assert not Referral.objects.exists()
    assert not Client.objects.exists()


def test_a_revoked_consent_no_longer_counts(office):
    client = make_client("sd13-peralta-office")
    consent = office.post(f"{CLIENTS}{client.pk}/consents/",
                          {"shared_with": "camba-legal", "method": "verbal"}).json()
    revoked = office.post(f"{CLIENTS}{client.pk}/consents/{consent['id']}/revoke/")
    assert revoked.status_code == 200, revoked.content

    response = post_referral(office, new_referral_body(client=None, consent=None,
                                                       client_id=str(client.pk)))

    assert_problem(response, 400, "consent_required")


def test_consent_for_another_organisation_does_not_count(office):
    client = make_client("sd13-peralta-office")
    services.consent_record(principal=principal_for(office), client_id=client.pk,
                            shared_with="cala", data=ConsentInput("verbal"))

    response = post_referral(office, new_referral_body(client=None, consent=None,
                                                       client_id=str(client.pk)))

    assert_problem(response, 400, "consent_required")


def test_a_client_of_another_organisation_cannot_be_referred(office):
    stranger = make_client("cala", family_name="Stranger")

    response = post_referral(office, new_referral_body(client=None,
                                                       client_id=str(stranger.pk)))

    assert_problem(response, 404, "not_found")
    assert not Referral.objects.exists()


@pytest.mark.parametrize("overrides, code", [
    ({"service_type": "detained-defense"}, "service_not_offered"),
    ({"receiving_org": "sd20-hamilton-office", "service_type": "know-your-rights"},
     "receiver_not_accepting"),
    ({"receiving_org": "sd13-peralta-office", "service_type": "know-your-rights"},
     "self_referral"),
    ({"receiving_org": "no-such-org"}, "unknown_organization"),
    ({"service_type": "tax-returns"}, "unknown_service_type"),
])
def test_create_checks_the_receiver(office, overrides, code):
    response = post_referral(office, new_referral_body(**overrides))

    assert_problem(response, 400, code)
    assert not Referral.objects.exists()


def test_client_and_client_id_together_are_refused(office):
    client = make_client("sd13-peralta-office")

    response = post_referral(office, new_referral_body(client_id=str(client.pk)))

    assert_problem(response, 400, "exactly_one_required")


@pytest.mark.parametrize("a_number", ["1234567", "ABCDEFGH", "12345678A", "1234567890",
                                      "A12345678"])
def test_an_invalid_a_number_is_400(office, a_number):
    body = new_referral_body()
    body["client"]["a_number"] = a_number

    response = post_referral(office, body)
    direct = office.post(CLIENTS, {"given_name": "A", "family_name": "B",
                                   "a_number": a_number})

    problem = assert_problem(response, 400, "validation_error")
    assert problem["errors"][0]["field"] == "client.a_number"
    assert assert_problem(direct, 400, "validation_error")["errors"][0]["field"] == "a_number"
    assert not Client.objects.exists()


@pytest.mark.parametrize("a_number", ["12345678", "123456789", ""])
def test_a_valid_or_absent_a_number_is_accepted(office, a_number):
    body = new_referral_body()
    body["client"]["a_number"] = a_number

    response = post_referral(office, body)

    assert response.status_code == 201, response.content
    assert response.json()["client"]["id"] == str(Client.objects.get().pk)
    assert (Client.objects.get().a_number or "") == a_number


# --- the closed loop, ETags, preconditions ------------------------------------------


def test_the_full_loop_district_office_to_camba_and_back(office, camba):
    created = post_referral(office, new_referral_body())
    assert created.status_code == 201, created.content
    referral_id = created.json()["id"]

    inbox = camba.get(REFERRALS, {"receiver": "camba-legal", "status": "requested"})
    assert [r["id"] for r in inbox.json()["results"]] == [referral_id]
    accepted = transition(camba, referral_id, 1, "accepted")
    assert accepted.status_code == 200, accepted.content
    working = transition(camba, referral_id, 2, "in-progress")
    assert working.status_code == 200, working.content
    completed = transition(camba, referral_id, 3, "completed", outcomes=[
        {"code": "stay-of-removal-granted", "note": "Six-month stay granted"},
        {"code": "case-reopened"}])
    assert completed.status_code == 200, completed.content

    seen = office.get(f"{REFERRALS}{referral_id}/")
    assert seen.status_code == 200
    body = seen.json()
    assert (body["status"], body["version"]) == ("completed", 4)
    assert [(o["code"], o["note"]) for o in body["outcomes"]] == [
        ("stay-of-removal-granted", "Six-month stay granted"), ("case-reopened", "")]
    assert body["accepted_at"] and body["closed_at"]
    events = office.get(f"{REFERRALS}{referral_id}/events/").json()
    assert [(e["kind"], e["from_status"], e["to_status"], e["organization"], e["version"])
            for e in events] == [
        ("created", "", "requested", "sd13-peralta-office", 1),
        ("status_changed", "requested", "accepted", "camba-legal", 2),
        ("status_changed", "accepted", "in-progress", "camba-legal", 3),
        ("status_changed", "in-progress", "completed", "camba-legal", 4),
    ]
    assert [e["actor_application"] for e in events] == [office.app.name] + [camba.app.name] * 3


def test_etag_and_if_none_match(office, camba):
    loop = make_referral(sender=office, receiver=camba)
    url = f"{REFERRALS}{loop.id}/"

    first = office.get(url)
    assert first["ETag"] == '"1"'
    not_modified = office.get(url, headers={"If-None-Match": '"1"'})
    assert not_modified.status_code == 304
    assert not_modified["ETag"] == '"1"'
    assert not_modified.content == b""

    moved = transition(camba, loop.id, 1, "accepted")
    assert moved["ETag"] == '"2"'
    changed = office.get(url, headers={"If-None-Match": '"1"'})
    assert changed.status_code == 200
    assert changed["ETag"] == '"2"'
    assert changed.json()["status"] == "accepted"


def test_if_match_missing_is_428_and_stale_is_412(camba):
    loop = make_referral(receiver=camba)
    url = f"{REFERRALS}{loop.id}/transition/"

    missing = camba.post(url, {"to": "accepted"})
    assert_problem(missing, 428, "precondition_required")
    assert transition(camba, loop.id, 1, "accepted").status_code == 200
    stale = transition(camba, loop.id, 1, "in-progress")

    assert_problem(stale, 412, "version_mismatch")
    assert stale["ETag"] == '"2"'
    assert loop.refresh().status == "accepted"


# --- list filters and paging ----------------------------------------------------------

T0 = datetime(2017, 1, 30, 15, 0, tzinfo=dt_timezone.utc)  # the coalition's launch


@pytest.fixture
def dataset(coalition, camba):
    """Referrals CAMBA can see (a, b, c, e, f) and one it cannot (g), with fixed times.

    a: office -> camba, asylum, routine, requested, due in 10 days
    b: hotline -> camba, removal-defense, urgent, accepted, overdue
    c: office -> camba, visa, asap, completed, past due (closed, so not overdue); a's client
    e: office -> camba, removal-defense, forwarded (completed)
    f: camba -> cala, removal-defense, child of e, requested
    g: office -> cala, not visible to CAMBA
    """
    today = timezone.localdate()
    a = make_referral(receiver=camba, priority="routine", needed_by=today + timedelta(days=10))
    b = make_referral("accepted", sender="idc-hotline", receiver=camba,
                      service_type="removal-defense", priority="urgent",
                      needed_by=today - timedelta(days=1), intake_channel="hotline")
    c = make_referral("completed", receiver=camba, service_type="visa", client=a.client,
                      priority="asap", needed_by=today - timedelta(days=1))
    e = make_referral("accepted", receiver=camba, service_type="removal-defense",
                      needed_by=today + timedelta(days=3))
    _, child = services.referral_forward(
        principal=e.receiver, referral_id=e.id, expected_version=2, receiving_org="cala",
        consent=ConsentInput("verbal"))
    g = make_referral(receiver="cala", family_name="Hidden")
    rows = {"a": a.referral, "b": b.referral, "c": c.referral, "e": e.referral, "f": child,
            "g": g.referral}
    for i, name in enumerate("abcefg"):
        Referral.objects.filter(pk=rows[name].pk).update(
            created_at=T0 + timedelta(days=7 * i),
            updated_at=T0 + timedelta(days=7 * i, hours=1 + (5 - i)))
    return {name: str(r.pk) for name, r in rows.items()}


def names(response, dataset) -> list[str]:
    assert response.status_code == 200, response.content
    by_id = {v: k for k, v in dataset.items()}
    return [by_id.get(r["id"], r["id"]) for r in response.json()["results"]]


def at(days: int, hours: int = 0) -> str:
    return (T0 + timedelta(days=days, hours=hours)).isoformat()


FILTER_CASES = {
    "nothing": ({}, "abcef"),
    "status": ({"status": "requested"}, "af"),
    "status repeated": ({"status": ["requested", "accepted"]}, "abf"),
    "service_type": ({"service_type": "removal-defense"}, "bef"),
    "priority": ({"priority": "urgent"}, "b"),
    "priority repeated": ({"priority": ["urgent", "asap"]}, "bc"),
    "sender": ({"sender": "idc-hotline"}, "b"),
    "sender is me": ({"sender": "camba-legal"}, "f"),
    "receiver": ({"receiver": "cala"}, "f"),
    "receiver is me": ({"receiver": "camba-legal"}, "abce"),
    "created_after (inclusive)": ({"created_after": at(14)}, "cef"),
    "created_before (exclusive)": ({"created_before": at(14)}, "ab"),
    "created window": ({"created_after": at(7), "created_before": at(21)}, "bc"),
    "updated_after (exclusive)": ({"updated_after": at(14, 4)}, "ef"),
    "updated_before (inclusive)": ({"updated_before": at(7, 5)}, "ab"),
    "overdue": ({"overdue": "true"}, "b"),
    "not overdue": ({"overdue": "false"}, "acef"),
    "district": ({"district": 13}, "acef"),
}


@pytest.mark.parametrize("params, expected", FILTER_CASES.values(), ids=FILTER_CASES.keys())
def test_list_filters(camba, dataset, params, expected):
    response = camba.get(REFERRALS, params)

    assert sorted(names(response, dataset)) == sorted(expected)


def test_list_filters_client_and_parent(camba, dataset):
    client_id = Referral.objects.get(pk=dataset["a"]).client_id

    by_client = camba.get(REFERRALS, {"client": str(client_id)})
    by_parent = camba.get(REFERRALS, {"parent": dataset["e"]})
    by_other = camba.get(REFERRALS, {"client": str(uuid.uuid4())})

    assert sorted(names(by_client, dataset)) == ["a", "c"]
    assert names(by_parent, dataset) == ["f"]
    assert names(by_other, dataset) == []


@pytest.mark.parametrize("ordering, expected", [
    (None, "fecba"),
    ("-created_at", "fecba"),
    ("created_at", "abcef"),
    ("updated_at", "bcefa"),
    ("-updated_at", "afecb"),
    # As soon as possible, urgent, then routine; newest first within a priority.
    ("urgency", "cbfea"),
    ("-urgency", "feabc"),
    # A list is ordered by its first key; urgency after it once answered 500.
    ("-updated_at,-updated_at,urgency", "afecb"),
    ("urgency,-updated_at", "cbfea"),
])
def test_list_ordering(camba, dataset, ordering, expected):
    # Make a the most recently updated, so that the two orders differ.
    Referral.objects.filter(pk=dataset["a"]).update(updated_at=T0 + timedelta(days=100))

    response = camba.get(REFERRALS, {"ordering": ordering} if ordering else {})

    assert "".join(names(response, dataset)) == expected


def test_graphql_lists_most_urgent_first_like_rest(camba, dataset):
    query = '{ referrals(ordering: "urgency") { edges { node { id priority } } } }'
    edges = camba.graphql(query).json()["data"]["referrals"]["edges"]
    by_id = {v: k for k, v in dataset.items()}
    assert "".join(by_id[e["node"]["id"]] for e in edges) == "cbfea"
    assert [e["node"]["priority"] for e in edges][:2] == ["ASAP", "URGENT"]


def test_list_ordering_by_needed_by(camba, dataset):
    response = camba.get(REFERRALS, {"ordering": "needed_by"})

    dates = [r["needed_by"] for r in response.json()["results"]]
    assert len(dates) == 5
    assert dates == sorted(dates)


@pytest.mark.parametrize("params", [{"status": "lost"}, {"priority": "whenever"},
                                    {"client": "not-a-uuid"}, {"ordering": "family_name"},
                                    {"created_after": "yesterday"}])
def test_bad_filter_values_are_400(camba, dataset, params):
    assert_problem(camba.get(REFERRALS, params), 400, "validation_error")


def test_cursor_pagination_walks_every_referral_once(coalition, office):
    bulk_referrals(25)

    seen, url, pages = [], REFERRALS + "?page_size=10", 0
    while url:
        response = office.get(url)
        assert response.status_code == 200
        body = response.json()
        assert len(body["results"]) <= 10
        seen += [r["id"] for r in body["results"]]
        url, pages = body["next"], pages + 1
        if url:
            assert "cursor" in parse_qs(urlparse(url).query)
            assert parse_qs(urlparse(url).query)["page_size"] == ["10"]

    assert pages == 3
    assert len(seen) == len(set(seen)) == 25
    assert "count" not in body
    assert body["previous"]


def test_page_size_defaults_to_20_and_stops_at_100(coalition, office):
    bulk_referrals(105)

    default = office.get(REFERRALS).json()
    capped = office.get(REFERRALS, {"page_size": 500}).json()

    assert len(default["results"]) == 20
    assert len(capped["results"]) == 100
    assert capped["next"]


def test_new_referrals_do_not_shift_a_cursor_page(coalition, office):
    bulk_referrals(15)
    first = office.get(REFERRALS, {"page_size": 10}).json()
    make_referral(sender=office)

    second = office.get(first["next"]).json()

    assert len(second["results"]) == 5
    assert not {r["id"] for r in first["results"]} & {r["id"] for r in second["results"]}


# --- forward --------------------------------------------------------------------------


def forward(caller, referral_id, version, **payload):
    payload.setdefault("receiving_org", "cala")
    return caller.post(f"{REFERRALS}{referral_id}/forward/", payload,
                       headers={"If-Match": f'"{version}"'} if version else {})


def test_forward_completes_the_parent_and_opens_a_child_to_a_third_org(office, camba, cala):
    loop = make_referral("accepted", sender=office, receiver=camba, family_name="Okafor")

    response = forward(camba, loop.id, 2, service_type="stay-of-removal",
                       reason="Needs an emergency stay", consent={"method": "written"})

    assert response.status_code == 201, response.content
    parent, child = response.json()["parent"], response.json()["child"]
    assert response["Location"] == f"{REFERRALS}{child['id']}/"
    assert (parent["status"], parent["version"]) == ("completed", 3)
    assert [o["code"] for o in parent["outcomes"]] == ["referred-onward"]
    assert (child["status"], child["parent"], child["sending_org"], child["receiving_org"],
            child["service_type"], child["intake_channel"]) == (
        "requested", str(loop.id), "camba-legal", "cala", "stay-of-removal", "partner")
    assert child["client"]["id"] == str(loop.client.pk)
    last = ReferralEvent.objects.filter(referral_id=loop.id).order_by("-version").first()
    assert (last.kind, last.to_status, last.reason) == ("forwarded", "completed",
                                                         "Needs an emergency stay")

    assert cala.get(f"{REFERRALS}{child['id']}/").status_code == 200
    assert_problem(cala.get(f"{REFERRALS}{loop.id}/"), 404, "not_found")
    assert_problem(cala.get(f"{REFERRALS}{loop.id}/events/"), 404, "not_found")
    assert [r["id"] for r in cala.get(REFERRALS).json()["results"]] == [child["id"]]
    assert office.get(f"{REFERRALS}{loop.id}/").json()["status"] == "completed"
    assert_problem(office.get(f"{REFERRALS}{child['id']}/"), 404, "not_found")


def test_forward_without_consent_for_the_third_org_changes_nothing(camba):
    loop = make_referral("accepted", receiver=camba)

    response = forward(camba, loop.id, 2)

    assert_problem(response, 400, "consent_required")
    assert (loop.refresh().status, loop.referral.version) == ("accepted", 2)
    assert Referral.objects.count() == 1


@pytest.mark.parametrize("who, receiving_org, status, code", [
    ("sender", "cala", 403, "not_allowed_for_party"),
    ("receiver", "sd13-peralta-office", 400, "forward_to_party"),
    ("receiver", "camba-legal", 400, "forward_to_party"),
    ("receiver", "her-justice", 400, "service_not_offered"),
])
def test_forward_refusals(office, camba, who, receiving_org, status, code):
    loop = make_referral("accepted", sender=office, receiver=camba)

    response = forward(office if who == "sender" else camba, loop.id, 2,
                       receiving_org=receiving_org, consent={"method": "verbal"})

    assert_problem(response, status, code)
    assert loop.refresh().status == "accepted"


PARENT_SUMMARY = "Lives with her sister in Corona; afraid of the landlord."

FORWARD_MUTATION = """mutation($id: UUID!, $summary: String) {
  forwardReferral(id: $id, expectedVersion: 2, receivingOrg: "cala",
                  consent: {method: VERBAL}, summary: $summary) {
    child { id summary } } }"""


@pytest.mark.parametrize("channel", ["rest", "graphql"])
@pytest.mark.parametrize("summary, child_summary", [
    (None, ""),  # nothing written for the third organisation: nothing shared with it
    ("", ""),
    ("Needs a stay before Friday's check-in.", "Needs a stay before Friday's check-in."),
])
def test_a_forward_shares_only_the_summary_written_for_the_third_org(
        office, camba, cala, channel, summary, child_summary):
    loop = make_referral("accepted", sender=office, receiver=camba, summary=PARENT_SUMMARY)

    if channel == "rest":
        payload = {"consent": {"method": "verbal"}}
        if summary is not None:
            payload["summary"] = summary
        response = forward(camba, loop.id, 2, **payload)
        assert response.status_code == 201, response.content
        child_id = response.json()["child"]["id"]
        assert response.json()["child"]["summary"] == child_summary
        seen = cala.get(f"{REFERRALS}{child_id}/").json()["summary"]
    else:
        variables = {"id": str(loop.id)}
        if summary is not None:
            variables["summary"] = summary
        body = camba.graphql(FORWARD_MUTATION, variables).json()
        assert "errors" not in body, body
        child_id = body["data"]["forwardReferral"]["child"]["id"]
        assert body["data"]["forwardReferral"]["child"]["summary"] == child_summary
        seen = cala.graphql('{ referral(id: "%s") { summary } }' % child_id).json()[
            "data"]["referral"]["summary"]

    assert seen == child_summary
    assert PARENT_SUMMARY not in cala.get(REFERRALS).content.decode()
    assert Referral.objects.get(pk=loop.id).summary == PARENT_SUMMARY


def test_forward_needs_if_match(camba):
    loop = make_referral("accepted", receiver=camba)

    assert_problem(forward(camba, loop.id, None), 428, "precondition_required")
    assert_problem(forward(camba, loop.id, 1), 412, "version_mismatch")


# --- notes and events -------------------------------------------------------------------


def test_notes_are_shared_by_both_parties_only(office, camba, cala):
    loop = make_referral(sender=office, receiver=camba)
    url = f"{REFERRALS}{loop.id}/notes/"

    first = office.post(url, {"text": "Family reachable through the district office."})
    second = camba.post(url, {"text": "  Intake call booked for Tuesday.  "})

    assert first.status_code == second.status_code == 201
    assert (first.json()["author_org"], second.json()["text"]) == (
        "sd13-peralta-office", "Intake call booked for Tuesday.")
    for reader in (office, camba):
        notes = reader.get(url).json()
        assert [(n["author_org"], n["text"]) for n in notes] == [
            ("sd13-peralta-office", "Family reachable through the district office."),
            ("camba-legal", "Intake call booked for Tuesday.")]
    assert_problem(cala.get(url), 404, "not_found")
    assert_problem(cala.post(url, {"text": "peek"}), 404, "not_found")
    assert ReferralNote.objects.count() == 2
    kinds = list(ReferralEvent.objects.filter(referral_id=loop.id).values_list("kind", flat=True))
    assert kinds == ["created", "note_added", "note_added"]
    assert loop.refresh().version == 1  # a note is not a status change


@pytest.mark.parametrize("text", ["", "   "])
def test_an_empty_note_is_400(office, text):
    loop = make_referral(sender=office)

    response = office.post(f"{REFERRALS}{loop.id}/notes/", {"text": text})

    assert_problem(response, 400, "required")
    assert not ReferralNote.objects.exists()


def test_events_list_the_history_with_who_and_why(office, camba):
    loop = make_referral(sender=office, receiver=camba)
    transition(camba, loop.id, 1, "rejected", reason="No capacity this month")

    events = camba.get(f"{REFERRALS}{loop.id}/events/").json()

    assert [(e["kind"], e["to_status"], e["reason"], e["organization"],
             e["actor_application"]) for e in events] == [
        ("created", "requested", "", "sd13-peralta-office", office.app.name),
        ("status_changed", "rejected", "No capacity this month", "camba-legal",
         camba.app.name)]
    assert all(e["at"] for e in events)


# --- clients and consent -----------------------------------------------------------------


def test_client_create_list_and_retrieve(office, camba):
    response = office.post(CLIENTS, {"given_name": "Wei", "family_name": "Chen",
                                     "preferred_languages": ["zh", "en"],
                                     "contact_preference": "email",
                                     "email": "wei@example.org", "a_number": "012345678"})
    assert response.status_code == 201, response.content
    client = response.json()
    assert response["Location"] == f"{CLIENTS}{client['id']}/"
    # A write's response withholds the A-Number (protected); a read of the client shows it.
    assert (client["created_by_org"], client["a_number"], client["email"]) == (
        "sd13-peralta-office", None, "wei@example.org")
    assert office.get(f"{CLIENTS}{client['id']}/").json()["a_number"] == "012345678"
    make_client("cala", family_name="Elsewhere")

    listed = office.get(CLIENTS).json()
    assert [c["id"] for c in listed["results"]] == [client["id"]]
    assert listed["count"] == 1
    assert office.get(f"{CLIENTS}{client['id']}/").json()["family_name"] == "Chen"
    assert office.get(CLIENTS, {"search": "che"}).json()["count"] == 1
    assert office.get(CLIENTS, {"search": "zzz"}).json()["count"] == 0
    # CAMBA has no referral for Wei Chen yet.
    assert_problem(camba.get(f"{CLIENTS}{client['id']}/"), 404, "not_found")
    assert camba.get(CLIENTS).json()["count"] == 0


def test_a_receiver_sees_the_client_once_referred(camba):
    loop = make_referral(receiver=camba, family_name="Gonzalez")

    assert camba.get(f"{CLIENTS}{loop.client.pk}/").json()["family_name"] == "Gonzalez"
    assert [c["id"] for c in camba.get(CLIENTS).json()["results"]] == [str(loop.client.pk)]


@pytest.mark.parametrize("body, code", [
    ({"given_name": "", "family_name": "X"}, "required"),
    ({"given_name": "X", "family_name": "Y", "preferred_languages": ["xx"]},
     "unknown_language"),
    ({"given_name": "X", "family_name": "Y", "contact_preference": "pigeon"},
     "validation_error"),
])
def test_client_create_refusals(office, body, code):
    assert_problem(office.post(CLIENTS, body), 400, code)
    assert not Client.objects.exists()


def test_consents_list_add_and_revoke(office):
    client = make_client("sd13-peralta-office")
    url = f"{CLIENTS}{client.pk}/consents/"

    added = office.post(url, {"shared_with": "camba-legal", "method": "written"})
    assert added.status_code == 201, added.content
    consent = added.json()
    assert (consent["shared_with"], consent["method"], consent["active"],
            consent["captured_by_org"]) == ("camba-legal", "written", True,
                                            "sd13-peralta-office")
    assert [c["id"] for c in office.get(url).json()] == [consent["id"]]

    revoked = office.post(f"{url}{consent['id']}/revoke/")
    assert revoked.status_code == 200
    assert (revoked.json()["active"], bool(revoked.json()["revoked_at"])) == (False, True)
    again = office.post(f"{url}{consent['id']}/revoke/")
    assert again.json()["revoked_at"] == revoked.json()["revoked_at"]
    assert office.get(url).json()[0]["active"] is False
    row = Consent.objects.get()
    assert row.revoked_by_org.slug == "sd13-peralta-office"


def test_consent_refusals(office):
    client = make_client("sd13-peralta-office")
    url = f"{CLIENTS}{client.pk}/consents/"

    assert_problem(office.post(url, {"shared_with": "nobody", "method": "verbal"}), 400,
                   "unknown_organization")
    assert_problem(office.post(url, {"shared_with": "cala", "method": "telepathy"}), 400,
                   "validation_error")
    future = (timezone.now() + timedelta(days=1)).isoformat()
    assert_problem(office.post(url, {"shared_with": "cala", "method": "verbal",
                                     "captured_at": future}), 400, "date_out_of_range")
    assert_problem(office.post(f"{url}{uuid.uuid4()}/revoke/"), 404, "not_found")
    assert not Consent.objects.exists()


# --- contact preference -------------------------------------------------------------------


def test_do_not_contact_keeps_phone_and_email_with_the_creating_org(office, camba):
    loop = make_referral(sender=office, receiver=camba, family_name="Baptiste",
                         client_fields={"contact_preference": "do-not-contact",
                                        "phone": "718-555-0104", "email": "jb@example.org"})

    for path in (f"{REFERRALS}{loop.id}/", f"{CLIENTS}{loop.client.pk}/"):
        mine = office.get(path).json()
        theirs = camba.get(path).json()
        mine = mine.get("client", mine)
        theirs = theirs.get("client", theirs)
        assert (mine["phone"], mine["email"]) == ("718-555-0104", "jb@example.org")
        assert (theirs["phone"], theirs["email"]) == (None, None)
        assert theirs["contact_preference"] == "do-not-contact"
    listed = camba.get(REFERRALS).json()["results"][0]["client"]
    assert (listed["phone"], listed["email"]) == (None, None)
    assert b"718-555-0104" not in camba.get(CLIENTS).content

    query = """query($id: UUID!) { referral(id: $id) { client { phone email } } }"""
    mine = office.graphql(query, {"id": str(loop.id)}).json()["data"]["referral"]["client"]
    theirs = camba.graphql(query, {"id": str(loop.id)}).json()["data"]["referral"]["client"]
    assert mine == {"phone": "718-555-0104", "email": "jb@example.org"}
    assert theirs == {"phone": None, "email": None}


def test_other_contact_preferences_share_phone_and_email(office, camba):
    loop = make_referral(sender=office, receiver=camba,
                         client_fields={"contact_preference": "sms", "phone": "347-555-0102"})

    assert camba.get(f"{REFERRALS}{loop.id}/").json()["client"]["phone"] == "347-555-0102"


# --- routing suggestions ------------------------------------------------------------------


def suggestions(caller, **params):
    response = caller.get(ROUTING, params)
    assert response.status_code == 200, response.content
    return response.json()


def test_routing_ranks_language_over_district_over_capacity(coalition, office):
    # removal-defense: CAMBA (speaks ru), CALA and NYIFUP (serve SD 13), the
    # Manhattan firm (capacity only).
    Organization.objects.filter(slug="camba-legal").update(capacity_available=0)
    Organization.objects.filter(slug="cala").update(capacity_available=0)

    ranked = suggestions(office, service_type="removal-defense", language="ru", district=13)

    assert [s["organization"] for s in ranked] == [
        "camba-legal",                 # language only (4) beats district + capacity (3)
        "vera-nyifup",                 # district + capacity (3)
        "cala",                        # district only (2) beats capacity only (1)
        "manhattan-immigration-firm",  # capacity only (1)
    ]
    assert [s["score"] for s in ranked] == [4, 3, 2, 1]
    first = ranked[0]
    assert (first["speaks_language"], first["serves_district"], first["has_capacity"]) == (
        True, False, False)
    assert (ranked[1]["serves_district"], ranked[1]["has_capacity"]) == (True, True)


def test_routing_breaks_ties_by_free_capacity(coalition, office):
    ranked = suggestions(office, service_type="removal-defense")

    assert [s["organization"] for s in ranked] == [
        "camba-legal", "vera-nyifup", "cala", "manhattan-immigration-firm"]  # 25, 15, 8, 5
    assert {s["score"] for s in ranked} == {1}


def test_routing_excludes_orgs_not_offering_not_accepting_and_the_caller(coalition, office,
                                                                         camba):
    Organization.objects.filter(slug="vera-nyifup").update(accepting_referrals=False)
    Organization.objects.filter(slug="cala").update(active=False)

    mine = [s["organization"] for s in suggestions(office, service_type="removal-defense")]
    camba_view = [s["organization"] for s in suggestions(camba, service_type="removal-defense")]
    naturalization = {s["organization"]
                      for s in suggestions(office, service_type="naturalization")}

    assert mine == ["camba-legal", "manhattan-immigration-firm"]
    assert camba_view == ["manhattan-immigration-firm"]
    assert naturalization == {"camba-legal", "chhaya-cdc", "iana", "emerald-isle",
                              "cuny-citizenship-now"}
    # District offices offer know-your-rights but accept no referrals.
    kyr = {s["organization"] for s in suggestions(office, service_type="know-your-rights")}
    assert not {slug for slug in kyr if slug.startswith("sd")}
    assert "nyic" in kyr


@pytest.mark.parametrize("params, code", [
    ({"service_type": "tax-returns"}, "unknown_service_type"),
    ({"service_type": "asylum", "language": "xx"}, "unknown_language"),
    ({}, "validation_error"),
    ({"service_type": "asylum", "district": 64}, "unknown_district"),
])
def test_routing_refuses_bad_queries(office, params, code):
    assert_problem(office.get(ROUTING, params), 400, code)


# --- malformed ids ----------------------------------------------------------------------


@pytest.mark.parametrize("method, path", [
    ("get", REFERRALS + "{bad}/"),
    ("get", REFERRALS + "{bad}/events/"),
    ("get", REFERRALS + "{bad}/notes/"),
    ("post", REFERRALS + "{bad}/notes/"),
    ("post", REFERRALS + "{bad}/transition/"),
    ("post", REFERRALS + "{bad}/forward/"),
    ("get", CLIENTS + "{bad}/"),
    ("get", CLIENTS + "{bad}/consents/"),
    ("post", CLIENTS + "{bad}/consents/"),
    ("post", CLIENTS + "{good}/consents/{bad}/revoke/"),
])
def test_a_malformed_id_is_404_not_500(office, method, path):
    """36 characters of hex digits and dashes that are no UUID."""
    bad = "-" * 36
    url = path.format(bad=bad, good=make_client("sd13-peralta-office").pk)

    valid_body = {"to": "accepted", "text": "x", "receiving_org": "cala",
                  "shared_with": "cala", "method": "verbal"}

    response = getattr(office, method)(url, valid_body if method == "post" else None,
                                       headers={"If-Match": '"1"'})

    assert_problem(response, 404, "not_found")


# --- erasure ------------------------------------------------------------------------------


def test_erasing_a_client_keeps_the_referral_skeleton(office, camba):
    loop = make_referral("rejected", sender=office, receiver=camba, family_name="Erasable",
                         client_fields={"a_number": "12345678", "phone": "718-555-0199"})
    office.post(f"{REFERRALS}{loop.id}/notes/", {"text": "Lives with her sister in Corona."})

    erased = office.delete(f"{CLIENTS}{loop.client.pk}/",
                           headers={"Authorization": f"Bearer {office.token}"})

    assert erased.status_code == 204
    client = office.get(f"{CLIENTS}{loop.client.pk}/").json()
    assert (client["given_name"], client["family_name"], client["a_number"],
            client["phone"]) == ("[erased]", "[erased]", None, "")
    assert client["erased_at"]
    referral = camba.get(f"{REFERRALS}{loop.id}/").json()
    assert (referral["status"], referral["summary"], referral["status_reason"]) == (
        "rejected", "", "[erased]")
    assert referral["client"]["family_name"] == "[erased]"
    assert [n["text"] for n in camba.get(f"{REFERRALS}{loop.id}/notes/").json()] == ["[erased]"]
    reasons = [e["reason"] for e in camba.get(f"{REFERRALS}{loop.id}/events/").json()]
    assert "No capacity this month" not in reasons
    assert b"Erasable" not in camba.get(CLIENTS).content
    again = post_referral(office, new_referral_body(client=None, client_id=str(loop.client.pk)))
    assert_problem(again, 400, "client_erased")
