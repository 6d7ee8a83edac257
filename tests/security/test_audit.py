"""The audit trail: every read and write of client data leaves a row (who, for which
organisation, through which application and channel, which operation, which
object); it never holds the client's identifiers; it cannot be changed; and when it
cannot be written, the data is not sent."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import timedelta
from unittest import mock

import pytest
from django.db import DatabaseError, Error, connection, transaction
from django.utils import timezone

from audit.api.views import CSV_COLUMNS
from audit.models import AuditRecord
from referrals import services
from referrals.models import ERASED, ReferralEvent
from referrals.services import ConsentInput
from tests.conftest import APIClient

from tests.assertions import assert_problem

from .conftest import (
    IDENTIFYING,
    RECEIVER,
    SENDER,
    audit_since,
    graphql_code,
    last_audit_id,
    move,
)

REFERRALS = "/api/v1/referrals/"
CLIENTS = "/api/v1/clients/"
AUDIT = "/api/v1/audit-records/"
ON_POSTGRES = connection.vendor == "postgresql"
NO_SUCH_ID = "00000000-0000-4000-8000-000000000000"


def reads(mark: int) -> set[tuple[str, str]]:
    return {(r.object_type, r.object_id)
            for r in audit_since(mark).filter(action="read")}


def assert_one_request(rows, *, caller, channel: str, operation: str) -> None:
    """Every row names the caller's organisation and application, the channel and the
    operation, and the rows of one request share its request id."""
    rows = list(rows)
    assert rows
    assert {r.organization_id for r in rows} == {caller.org.pk}
    assert {r.application_id for r in rows} == {caller.app.pk}
    assert {r.channel for r in rows} == {channel}
    assert {r.operation for r in rows} == {operation}
    assert len({r.request_id for r in rows}) == 1


def writes(mark: int) -> list[tuple[str, str, str, str]]:
    return [(r.action, r.object_type, r.object_id, r.operation)
            for r in audit_since(mark).exclude(action="read")]


@pytest.fixture
def two_loops(refer, camba):
    """Two referrals office -> camba, for two clients, with a note each."""
    loops = [refer(), refer(given_name="Ama", family_name="Owusu", a_number="")]
    for loop in loops:
        services.referral_note_add(principal=loop.receiver, referral_id=loop.id,
                                   text="Called the client back.")
    return loops


# --- REST reads -------------------------------------------------------------------


def test_a_referral_list_audits_each_referral_and_client_on_the_page(camba, two_loops):
    mark = last_audit_id()

    response = camba.get(REFERRALS)

    assert response.status_code == 200
    assert len(response.json()["results"]) == 2
    expected = {("referral", str(loop.id)) for loop in two_loops} | {
        ("client", str(loop.client.pk)) for loop in two_loops}
    assert reads(mark) == expected
    rows = audit_since(mark)
    assert rows.count() == 4  # one row per object, not per field or query
    assert_one_request(rows, caller=camba, channel="rest", operation="GET referral-list")


def test_only_the_page_returned_is_audited(camba, two_loops):
    mark = last_audit_id()

    response = camba.get(REFERRALS, {"page_size": 1})

    shown = response.json()["results"][0]
    assert reads(mark) == {("referral", shown["id"]), ("client", shown["client"]["id"])}


@pytest.mark.parametrize("suffix, operation, types", [
    ("", "GET referral-detail", {"referral", "client"}),
    ("events/", "GET referral-events", {"referral"}),
    ("notes/", "GET referral-notes", {"referral"}),
])
def test_reading_one_referral_is_audited(office, two_loops, suffix, operation, types):
    loop = two_loops[0]
    mark = last_audit_id()

    response = office.get(f"{REFERRALS}{loop.id}/{suffix}")

    assert response.status_code == 200
    ids = {"referral": str(loop.id), "client": str(loop.client.pk)}
    assert reads(mark) == {(t, ids[t]) for t in types}
    assert_one_request(audit_since(mark), caller=office, channel="rest", operation=operation)


@pytest.mark.parametrize("suffix, operation", [
    ("", "GET client-detail"),
    ("consents/", "GET client-consents"),
])
def test_reading_one_client_is_audited(camba, two_loops, suffix, operation):
    client = two_loops[1].client
    mark = last_audit_id()

    response = camba.get(f"{CLIENTS}{client.pk}/{suffix}")

    assert response.status_code == 200
    assert reads(mark) == {("client", str(client.pk))}
    assert_one_request(audit_since(mark), caller=camba, channel="rest", operation=operation)


def test_the_client_list_is_audited(office, two_loops):
    mark = last_audit_id()

    response = office.get(CLIENTS)

    assert response.status_code == 200
    assert reads(mark) == {("client", str(loop.client.pk)) for loop in two_loops}
    assert_one_request(audit_since(mark), caller=office, channel="rest",
                       operation="GET client-list")


# --- GraphQL reads ------------------------------------------------------------------

REFERRAL_FIELDS = "id status client { id givenName familyName }"


@pytest.mark.parametrize("field", ["referrals", "referral", "clients", "client",
                                   "clientConsents", "nested"])
def test_graphql_reads_are_audited(camba, two_loops, field):
    loop = two_loops[0]
    referral, client = str(loop.id), str(loop.client.pk)
    queries = {
        "referrals": ("{ referrals { edges { node { %s } } } }" % REFERRAL_FIELDS,
                      {("referral", str(x.id)) for x in two_loops}
                      | {("client", str(x.client.pk)) for x in two_loops}),
        "referral": ('{ referral(id: "%s") { %s } }' % (referral, REFERRAL_FIELDS),
                     {("referral", referral), ("client", client)}),
        "clients": ("{ clients { edges { node { id familyName } } } }",
                    {("client", str(x.client.pk)) for x in two_loops}),
        "client": ('{ client(id: "%s") { id aNumber } }' % client, {("client", client)}),
        "clientConsents": ('{ clientConsents(clientId: "%s") { id sharedWith } }' % client,
                           {("client", client)}),
        # The client is read through the referral: both are audited.
        "nested": ('{ referral(id: "%s") { id events { reason } notes { text } '
                   'client { givenName } } }' % referral,
                   {("referral", referral), ("client", client)}),
    }
    query, expected = queries[field]
    mark = last_audit_id()

    response = camba.graphql(query)

    assert response.status_code == 200 and "errors" not in response.json(), response.content
    assert reads(mark) == expected
    root = "referral" if field == "nested" else field
    assert_one_request(audit_since(mark), caller=camba, channel="graphql",
                       operation=f"query {root}")


def test_a_graphql_request_with_two_root_fields_names_both(camba, two_loops):
    loop = two_loops[0]
    mark = last_audit_id()

    camba.graphql('{ referral(id: "%s") { id } client(id: "%s") { id } }'
                  % (loop.id, loop.client.pk))

    assert reads(mark) == {("referral", str(loop.id)), ("client", str(loop.client.pk))}
    assert {r.operation for r in audit_since(mark)} == {"query referral,client"}


# --- nothing read, nothing written ----------------------------------------------------


@pytest.mark.parametrize("caller, path", [
    ("camba", "/api/v1/organizations/"),
    ("camba", "/api/v1/service-types/"),
    ("cala", REFERRALS),                       # sees no referral: an empty page
    ("cala", "{referral}"),                    # another org's referral: 404
    ("cala", "{client}"),
    ("cala", "{referral}events/"),
    ("camba", "/api/v1/reports/service-numbers/"),
    ("anonymous", REFERRALS),
    ("camba", f"{REFERRALS}{NO_SUCH_ID}/"),
])
def test_requests_that_read_no_client_data_leave_nothing(api, two_loops, caller, path):
    client = APIClient() if caller == "anonymous" else api(RECEIVER if caller == "camba"
                                                           else "cala")
    path = path.format(referral=f"{REFERRALS}{two_loops[0].id}/",
                       client=f"{CLIENTS}{two_loops[0].client.pk}/")
    mark = last_audit_id()

    response = client.get(path)

    assert response.status_code in (200, 401, 404), response.content
    assert not audit_since(mark).exists()


@pytest.mark.parametrize("query", [
    "{ organizations { edges { node { slug } } } }",
    "{ referrals { totalCount } }",
    "{ serviceTypes { code } }",
    '{ referral(id: "%s") { id } }' % NO_SUCH_ID,
    "{ referrals { edges { node { nosuchfield } } } }",
])
def test_graphql_requests_that_read_no_client_data_leave_nothing(camba, two_loops, query):
    mark = last_audit_id()

    camba.graphql(query)

    assert not audit_since(mark).exists()


def test_an_outsider_querying_graphql_leaves_nothing(cala, two_loops):
    mark = last_audit_id()

    response = cala.graphql('{ referral(id: "%s") { id client { givenName } } '
                            'referrals { edges { node { id } } } }' % two_loops[0].id)

    assert "Zenaida" not in response.content.decode()
    assert not audit_since(mark).exists()


# --- writes -----------------------------------------------------------------------------


def test_rest_writes_are_audited_with_the_write_and_the_read(office, camba):
    mark = last_audit_id()
    created = office.post(REFERRALS, {
        "client": {"given_name": "Ama", "family_name": "Owusu"},
        "consent": {"method": "verbal"}, "receiving_org": RECEIVER,
        "service_type": "asylum", "intake_channel": "district-office",
    }, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert created.status_code == 201
    referral, client = created.json()["id"], created.json()["client"]["id"]

    assert writes(mark) == [
        ("create", "client", client, "POST referral-list -> client_create"),
        ("update", "client", client, "POST referral-list -> consent_record"),
        ("create", "referral", referral, "POST referral-list -> referral_create"),
    ]
    assert reads(mark) == {("referral", referral), ("client", client)}
    rows = list(audit_since(mark))
    assert len({r.request_id for r in rows}) == 1
    assert {(r.organization_id, r.application_id, r.channel) for r in rows} == {
        (office.org.pk, office.app.pk, "rest")}

    steps = [
        (camba, f"{REFERRALS}{referral}/transition/", {"to": "accepted"}, {"If-Match": '"1"'},
         ("update", "referral", referral, "POST referral-transition -> referral_transition")),
        (camba, f"{REFERRALS}{referral}/notes/", {"text": "Intake booked."}, {},
         ("update", "referral", referral, "POST referral-notes -> referral_note_add")),
        (office, f"{CLIENTS}{client}/consents/", {"shared_with": "cala", "method": "written"},
         {}, ("update", "client", client, "POST client-consents -> consent_record")),
    ]
    for caller, path, body, headers, expected in steps:
        mark = last_audit_id()
        response = caller.post(path, body, headers=headers)
        assert response.status_code in (200, 201), response.content
        assert writes(mark) == [expected]
        assert {(r.organization_id, r.application_id) for r in audit_since(mark)} == {
            (caller.org.pk, caller.app.pk)}

    mark = last_audit_id()
    assert office.delete(f"{CLIENTS}{client}/", headers={
        "Authorization": f"Bearer {office.token}"}).status_code == 204
    assert writes(mark) == [("erase", "client", client, "DELETE client-detail -> client_erase")]


def test_a_replayed_create_is_audited_as_a_read(office):
    """A replay sends the stored first response, client names included: a read."""
    key = str(uuid.uuid4())
    body = {"client": {"given_name": "Ama", "family_name": "Owusu"},
            "consent": {"method": "verbal"}, "receiving_org": RECEIVER,
            "service_type": "asylum", "intake_channel": "district-office"}
    first = office.post(REFERRALS, body, headers={"Idempotency-Key": key}).json()
    mark = last_audit_id()

    replay = office.post(REFERRALS, body, headers={"Idempotency-Key": key})

    assert replay["Idempotent-Replayed"] == "true"
    assert reads(mark) == {("referral", first["id"]), ("client", first["client"]["id"])}
    assert not writes(mark)
    assert_one_request(audit_since(mark), caller=office, channel="rest",
                       operation="POST referral-list")


def test_graphql_writes_are_audited(office, camba):
    mark = last_audit_id()
    response = office.graphql("""
        mutation($key: String!) { createReferral(idempotencyKey: $key, input: {
            client: {givenName: "Ama", familyName: "Owusu"}, consent: {method: VERBAL},
            receivingOrg: "camba-legal", serviceType: "asylum",
            intakeChannel: DISTRICT_OFFICE}) { referral { id version client { id } } } }""",
                              {"key": str(uuid.uuid4())})
    made = response.json()["data"]["createReferral"]["referral"]
    referral, client = made["id"], made["client"]["id"]

    assert writes(mark) == [
        ("create", "client", client, "mutation createReferral -> client_create"),
        ("update", "client", client, "mutation createReferral -> consent_record"),
        ("create", "referral", referral, "mutation createReferral -> referral_create"),
    ]
    assert {r.channel for r in audit_since(mark)} == {"graphql"}

    mark = last_audit_id()
    camba.graphql('mutation { transitionReferral(id: "%s", expectedVersion: 1, to: ACCEPTED) '
                  '{ referral { id } } }' % referral)
    camba.graphql('mutation { addReferralNote(id: "%s", text: "Booked.") { note { id } } }'
                  % referral)
    office.graphql('mutation { eraseClient(id: "%s") { client { id } } }' % client)

    assert writes(mark) == [
        ("update", "referral", referral, "mutation transitionReferral -> referral_transition"),
        ("update", "referral", referral, "mutation addReferralNote -> referral_note_add"),
        ("erase", "client", client, "mutation eraseClient -> client_erase"),
    ]


def test_a_failed_write_leaves_no_audit_row(office, camba, refer):
    loop = refer()
    mark = last_audit_id()

    # The new client is recorded (and audited) before the receiver is checked; the
    # refusal rolls both back.
    refused = office.post(REFERRALS, {
        "client": {"given_name": "Ama", "family_name": "Owusu"},
        "consent": {"method": "verbal"}, "receiving_org": "sd11-avella-office",
        "service_type": "know-your-rights", "intake_channel": "district-office",
    }, headers={"Idempotency-Key": str(uuid.uuid4())})
    stale = camba.post(f"{REFERRALS}{loop.id}/transition/", {"to": "accepted"},
                       headers={"If-Match": '"7"'})
    empty_note = office.graphql('mutation { addReferralNote(id: "%s", text: "") '
                               '{ note { id } } }' % loop.id)

    assert refused.status_code == 400 and stale.status_code == 412
    assert "errors" in empty_note.json()
    assert not audit_since(mark).exists()


def test_a_write_whose_audit_row_fails_is_rolled_back(camba, refer):
    """The audit row is written in the write's own transaction: no row, no write."""
    loop = refer()
    caller = APIClient(camba.token, raise_request_exception=False)

    with mock.patch.object(AuditRecord.objects, "bulk_create",
                           side_effect=DatabaseError("audit table unavailable")):
        response = caller.post(f"{REFERRALS}{loop.id}/transition/", {"to": "accepted"},
                               headers={"If-Match": '"1"'})

    assert response.status_code >= 500
    loop.referral.refresh_from_db()
    assert (loop.referral.status, loop.referral.version) == ("requested", 1)
    assert not ReferralEvent.objects.filter(referral=loop.referral, to_status="accepted").exists()


# --- no identifiers in the trail --------------------------------------------------------


def test_no_audit_row_holds_a_name_a_number_or_date_of_birth(office, camba, admin, refer):
    loop = refer()
    client = loop.client
    move(loop, "receiver", "accepted")
    services.referral_note_add(principal=loop.receiver, referral_id=loop.id,
                               text="Spoke with Zenaida Quispewari, A204718395.")
    for caller in (office, camba, admin):
        caller.get(f"{REFERRALS}{loop.id}/")
        caller.get(f"{CLIENTS}{client.pk}/")
        caller.get(CLIENTS, {"search": "Quispewari"})
        caller.get(f"{REFERRALS}{loop.id}/notes/")
        caller.graphql('{ client(id: "%s") { givenName familyName aNumber dateOfBirth } '
                       'referrals { edges { node { notes { text } } } } }' % client.pk)
    office.post(REFERRALS, {
        "client": {"given_name": "Zenaida", "family_name": "Quispewari",
                   "a_number": "204718395", "date_of_birth": "1983-07-19"},
        "consent": {"method": "verbal"}, "receiving_org": "cala", "service_type": "asylum",
        "intake_channel": "district-office"}, headers={"Idempotency-Key": str(uuid.uuid4())})
    services.client_erase(principal=loop.sender, client_id=client.pk)
    assert AuditRecord.objects.count() > 20

    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM audit_auditrecord")
        rows = cursor.fetchall()
    dump = "\n".join(" ".join(str(value) for value in row) for row in rows)
    for value in IDENTIFYING + ("19830719", "07/19/1983"):
        assert value not in dump


# --- append-only ---------------------------------------------------------------------------


@pytest.fixture
def audited(camba, two_loops):
    camba.get(REFERRALS)
    return AuditRecord.objects.filter(action="read").first()


def test_the_application_cannot_change_or_delete_an_audit_row(audited):
    audited.operation = "nothing to see"
    with pytest.raises(RuntimeError, match="append-only"):
        audited.save()
    with pytest.raises(RuntimeError, match="append-only"):
        audited.delete()
    with pytest.raises(Error), transaction.atomic():
        AuditRecord.objects.filter(pk=audited.pk).update(operation="nothing to see")

    audited.refresh_from_db()
    assert audited.operation == "GET referral-list"


def test_the_database_refuses_to_update_an_audit_row(audited):
    with pytest.raises(Error), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditrecord SET object_id = %s WHERE id = %s",
                       ["forged", audited.pk])

    assert AuditRecord.objects.get(pk=audited.pk).object_id != "forged"


@pytest.mark.skipif(not ON_POSTGRES, reason="SQLite keeps DELETE so test databases flush")
def test_postgres_refuses_to_delete_an_audit_row(audited):
    with pytest.raises(Error), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditrecord WHERE id = %s", [audited.pk])
    with pytest.raises(Error), transaction.atomic():
        AuditRecord.objects.filter(pk=audited.pk).delete()

    assert AuditRecord.objects.filter(pk=audited.pk).exists()


@pytest.fixture
def event(refer):
    loop = refer()
    move(loop, "receiver", "rejected", reason="No capacity this month")
    return ReferralEvent.objects.get(referral=loop.referral, to_status="rejected")


def test_the_application_cannot_change_or_delete_a_referral_event(event):
    event.reason = "rewritten"
    with pytest.raises(RuntimeError, match="append-only"):
        event.save()
    with pytest.raises(RuntimeError, match="append-only"):
        event.delete()


@pytest.mark.parametrize("assignment, params", [
    ("to_status = %s", ["accepted"]),
    ("reason = %s", ["rewritten"]),
    ("reason = %s, to_status = %s", [ERASED, "accepted"]),
    ("reason = %s, version = version + 5", [ERASED]),
    # Erasing the reason is no cover for rewriting who acted, for whom, or from where.
    ("reason = %s, from_status = %s", [ERASED, "accepted"]),
    ("reason = %s, organization_id = (SELECT MIN(o.id) FROM orgs_organization o "
     "WHERE o.id <> organization_id)", [ERASED]),
    ("reason = %s, actor_application_id = NULL", [ERASED]),
    # Nor for rewriting why (the coded reason is no personal data; erasure keeps it).
    ("reason_code = %s", ["duplicate"]),
    ("reason = %s, reason_code = %s", [ERASED, "duplicate"]),
])
def test_the_database_refuses_to_rewrite_a_referral_event(event, assignment, params):
    before = ReferralEvent.objects.filter(pk=event.pk).values().get()

    with pytest.raises(Error), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE referrals_referralevent SET {assignment} WHERE id = %s",
                       [*params, event.pk])

    assert ReferralEvent.objects.filter(pk=event.pk).values().get() == before


def test_the_database_lets_erasure_blank_an_events_reason(event):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE referrals_referralevent SET reason = %s WHERE id = %s",
                       [ERASED, event.pk])

    event.refresh_from_db()
    assert (event.to_status, event.reason) == ("rejected", ERASED)


@pytest.mark.skipif(not ON_POSTGRES, reason="SQLite keeps DELETE so test databases flush")
def test_postgres_refuses_to_delete_a_referral_event(event):
    with pytest.raises(Error), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM referrals_referralevent WHERE id = %s", [event.pk])

    assert ReferralEvent.objects.filter(pk=event.pk).exists()


# --- failing closed --------------------------------------------------------------------------


@pytest.mark.parametrize("channel", ["rest", "graphql"])
def test_when_the_audit_cannot_be_written_the_data_is_not_sent(camba, two_loops, channel):
    loop = two_loops[0]
    with mock.patch("audit.middleware.flush_reads",
                    side_effect=DatabaseError("audit table unavailable")):
        if channel == "rest":
            response = camba.get(f"{REFERRALS}{loop.id}/")
        else:
            response = camba.graphql('{ referral(id: "%s") { id summary client '
                                     '{ givenName familyName } } }' % loop.id)

    assert_problem(response, 503, "service_unavailable")
    assert response["Retry-After"]
    body = response.content.decode()
    for value in ("Zenaida", "Quispewari", "Asylum screening", '"summary"'):
        assert value not in body


def test_a_failing_audit_insert_answers_503_and_is_logged(camba, two_loops, caplog):
    """The real flush (not a stub): its INSERT fails, the transaction rolls back, the
    failure is logged with the request id, the client gets 503."""
    with mock.patch.object(AuditRecord.objects, "bulk_create",
                           side_effect=DatabaseError("disk full")):
        response = camba.get(CLIENTS)

    assert_problem(response, 503, "service_unavailable")
    assert "Zenaida" not in response.content.decode()
    assert any("could not write" in r.getMessage() and "audit record" in r.getMessage()
               for r in caplog.records)


# --- the admin API ---------------------------------------------------------------------------


@pytest.fixture
def trail(office, camba, admin, two_loops):
    """Audit rows from three callers over both channels."""
    office.get(REFERRALS)
    camba.get(f"{CLIENTS}{two_loops[0].client.pk}/")
    camba.graphql("{ clients { edges { node { id } } } }")
    admin.get(f"{REFERRALS}{two_loops[1].id}/events/")
    return two_loops


def rows_of(response) -> list[dict]:
    assert response.status_code == 200, response.content
    return response.json()["results"]


@pytest.mark.parametrize("params, matches", [
    ({"object_type": "referral"}, lambda r, x: r.object_type == "referral"),
    ({"object_type": "client", "object_id": "{client}"},
     lambda r, x: (r.object_type, r.object_id) == ("client", x["client"])),
    ({"organization": RECEIVER}, lambda r, x: r.organization.slug == RECEIVER),
    ({"application": "{camba_app}"}, lambda r, x: r.application_id == x["camba_app_pk"]),
    ({"action": "create"}, lambda r, x: r.action == "create"),
    ({"action": "read", "channel": "graphql"},
     lambda r, x: r.action == "read" and r.channel == "graphql"),
    ({"channel": "rest", "organization": SENDER},
     lambda r, x: r.channel == "rest" and r.organization.slug == SENDER),
])
def test_audit_records_filters(admin, camba, trail, params, matches):
    context = {"client": str(trail[0].client.pk), "camba_app": camba.app.client_id,
               "camba_app_pk": camba.app.pk}
    query = {k: v.format(**context) for k, v in params.items()}
    query["page_size"] = 100

    response = admin.get(AUDIT, query)

    expected = {r.pk for r in AuditRecord.objects.select_related("organization")
                if matches(r, context)}
    assert expected  # the filter has something to find...
    assert expected != set(AuditRecord.objects.values_list("pk", flat=True))  # ...and to drop
    assert {row["id"] for row in rows_of(response)} == expected


def test_audit_records_rows_name_who_did_what(admin, camba, trail):
    mark_rows = rows_of(admin.get(AUDIT, {"organization": RECEIVER, "channel": "graphql"}))

    assert mark_rows
    for row in mark_rows:
        assert row["organization"] == RECEIVER
        assert row["application"] == camba.app.client_id
        assert row["operation"] == "query clients"
        assert (row["action"], row["object_type"]) == ("read", "client")


def test_audit_records_since_and_until(admin):
    now = timezone.now().replace(microsecond=0)
    made = AuditRecord.objects.bulk_create([
        AuditRecord(at=now - timedelta(days=days), channel="system", operation="test",
                    action="read", object_type="client", object_id=f"c{days}")
        for days in (1, 3, 5)])
    by_days = {int(r.object_id[1:]): r.pk for r in made}

    def ids(**params):
        query = {k: (now - timedelta(days=v)).isoformat() for k, v in params.items()}
        return {row["id"] for row in rows_of(admin.get(AUDIT, query))
                if row["operation"] == "test"}

    assert ids(since=4) == {by_days[3], by_days[1]}
    assert ids(until=3) == {by_days[5]}                 # until is exclusive
    assert ids(since=3, until=1) == {by_days[3]}        # since is inclusive


def test_audit_records_are_cursor_paginated_newest_first(admin):
    now = timezone.now()
    AuditRecord.objects.bulk_create([
        AuditRecord(at=now - timedelta(minutes=i % 3), channel="system", operation="test",
                    action="read", object_type="client", object_id=str(i))
        for i in range(7)])
    expected = list(AuditRecord.objects.order_by("-at", "-id").values_list("id", flat=True))

    seen, url, pages = [], AUDIT + "?page_size=3", 0
    while url:
        body = admin.get(url).json()
        assert "count" not in body  # a cursor, not page numbers
        seen += [row["id"] for row in body["results"]]
        url, pages = body["next"], pages + 1
        assert pages < 10

    assert seen == expected
    assert pages == 3


def test_audit_records_export_as_csv(admin, trail):
    response = admin.get(AUDIT, {"format": "csv", "organization": RECEIVER})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    table = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert table[0] == CSV_COLUMNS
    expected = AuditRecord.objects.filter(organization__slug=RECEIVER)
    assert len(table) - 1 == expected.count() > 0
    assert {row[CSV_COLUMNS.index("organization")] for row in table[1:]} == {RECEIVER}
    assert {row[CSV_COLUMNS.index("object_id")] for row in table[1:]} == set(
        expected.values_list("object_id", flat=True))


@pytest.mark.parametrize("scopes", [None, "referrals:read admin"])
def test_only_coalition_admins_read_the_trail(api, trail, scopes):
    """A partner's token cannot carry admin, even if it asks for it."""
    partner = api(RECEIVER, scopes=scopes)

    rest = partner.get(AUDIT)
    csv_export = partner.get(AUDIT, {"format": "csv"})
    graphql = partner.graphql("{ auditRecords { edges { node { objectId } } } }")

    assert_problem(rest, 403, "insufficient_scope")
    assert csv_export.status_code == 403
    assert graphql_code(graphql) == "insufficient_scope"
    assert graphql.json()["data"] in (None, {"auditRecords": None})


def test_the_caucus_without_the_admin_scope_cannot_read_the_trail(api, trail):
    caucus = api("idc", scopes="orgs:read reports:read")

    assert_problem(caucus.get(AUDIT), 403, "insufficient_scope")
    assert graphql_code(caucus.graphql("{ auditRecords { edges { node { id } } } }")) == \
        "insufficient_scope"


AUDIT_QUERY = """query($filters: String) { auditRecords(first: 100, %s) {
    edges { node { id organization application channel action objectType objectId
                   operation } } } }"""


@pytest.mark.parametrize("arguments, matches", [
    ('objectType: "referral"', lambda r, x: r.object_type == "referral"),
    ('objectType: "client", objectId: "{client}"',
     lambda r, x: (r.object_type, r.object_id) == ("client", x["client"])),
    (f'organization: "{RECEIVER}"', lambda r, x: r.organization.slug == RECEIVER),
    ('application: "{camba_app}"', lambda r, x: r.application_id == x["camba_app_pk"]),
    ('action: "create"', lambda r, x: r.action == "create"),
    ('channel: "graphql"', lambda r, x: r.channel == "graphql"),
    ('since: "{yesterday}", until: "{tomorrow}", channel: "rest"',
     lambda r, x: r.channel == "rest"),
])
def test_graphql_audit_records_filters(admin, camba, trail, arguments, matches):
    context = {"client": str(trail[0].client.pk), "camba_app": camba.app.client_id,
               "camba_app_pk": camba.app.pk,
               "yesterday": (timezone.now() - timedelta(days=1)).isoformat(),
               "tomorrow": (timezone.now() + timedelta(days=1)).isoformat()}
    expected = {str(r.pk) for r in AuditRecord.objects.select_related("organization")
                if matches(r, context)}

    response = admin.graphql(AUDIT_QUERY.replace("%s", arguments.format(**context))
                             .replace("($filters: String)", ""))

    body = response.json()
    assert "errors" not in body, body
    assert expected
    assert {e["node"]["id"] for e in body["data"]["auditRecords"]["edges"]} == expected


def test_graphql_audit_records_since_until_exclude_other_times(admin):
    now = timezone.now().replace(microsecond=0)
    AuditRecord.objects.bulk_create([
        AuditRecord(at=now - timedelta(days=days), channel="system", operation="test",
                    action="read", object_type="client", object_id=f"c{days}")
        for days in (1, 3, 5)])

    response = admin.graphql(
        '{ auditRecords(since: "%s", until: "%s") { edges { node { objectId } } } }'
        % ((now - timedelta(days=4)).isoformat(), (now - timedelta(days=2)).isoformat()))

    assert [e["node"]["objectId"] for e in response.json()["data"]["auditRecords"]["edges"]] \
        == ["c3"]


def test_consent_writes_through_the_service_are_audited_as_system_outside_a_request(refer):
    loop = refer()
    mark = last_audit_id()

    services.consent_record(principal=loop.sender, client_id=loop.client.pk,
                            shared_with="cala", data=ConsentInput(method="written"))

    (row,) = audit_since(mark)
    assert (row.channel, row.action, row.object_type, row.object_id, row.operation) == (
        "system", "update", "client", str(loop.client.pk), "consent_record")
    assert row.organization_id == loop.sender.organization.pk
    assert row.application_id == loop.sender.application.pk


# --- the Django admin -------------------------------------------------------------


@pytest.fixture
def staff_browser(client, django_user_model):
    """A coalition staff member signed in to /admin/ (a session, no token)."""
    user = django_user_model.objects.create_user("admin.audit", password="x", is_staff=True,
                                                 is_superuser=True)
    client.force_login(user)
    return client, user


def test_an_admin_referral_page_is_in_the_audit_trail(staff_browser, two_loops):
    browser, user = staff_browser
    loop = two_loops[0]
    mark = last_audit_id()

    response = browser.get(f"/admin/referrals/referral/{loop.id}/change/")

    assert response.status_code == 200
    assert reads(mark) == {("referral", str(loop.id)), ("client", str(loop.client.pk))}
    rows = audit_since(mark)
    assert {row.channel for row in rows} == {"admin"}
    assert {row.user_id for row in rows} == {user.pk}
    assert {row.organization_id for row in rows} == {None}


def test_the_admin_referral_list_audits_the_referrals_it_shows(staff_browser, two_loops):
    browser, user = staff_browser
    mark = last_audit_id()

    response = browser.get("/admin/referrals/referral/")

    assert response.status_code == 200
    assert reads(mark) == {("referral", str(loop.id)) for loop in two_loops}
    assert {(row.channel, row.user_id) for row in audit_since(mark)} == {("admin", user.pk)}


def test_admin_pages_without_client_data_leave_no_read(staff_browser, two_loops):
    browser, _ = staff_browser
    mark = last_audit_id()

    assert browser.get("/admin/orgs/organization/").status_code == 200

    assert reads(mark) == set()
