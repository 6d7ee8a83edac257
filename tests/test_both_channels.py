"""One table of refused inputs, each sent through REST and through GraphQL: both
channels must answer the same stable code, on the same field, with the status the
code registry gives it. The parsers (DRF serializers, GraphQL inputs) only read
types; every limit below is the service's, so removing one from the service makes
its row fail in both channels.

A row is (operation, input in the domain's snake_case names, code, field). The input
is merged over a valid request of the operation; GraphQL gets it camel-cased, with
enum values in upper case.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

import pytest
import yaml
from django.conf import settings
from django.utils import timezone

from core.errors import CODES
from core.scopes import WEBHOOKS_MANAGE
from tests.conftest import CASEWORK_SCOPES
from tests.referrals.factories import advance, make_client, make_referral

SENDER = "sd13-peralta-office"
RECEIVER = "camba-legal"
THIRD = "cala"
FUNDER = "nyc-council"
FUTURE = (timezone.now() + timedelta(days=3)).isoformat()
TOMORROW = (timezone.localdate() + timedelta(days=1)).isoformat()
ENUM_FIELDS = {"priority", "intake_channel", "method", "contact_preference", "to", "code",
               "reason_code", "location_type",
               "kind", "dimensions", "measures", "period", "events"}


@dataclass(frozen=True)
class Row:
    operation: str
    input: dict
    code: str
    field: str | None
    actor: str = "default"
    setup: str = ""  # e.g. "accepted": the referral acted on is first moved there

    def __str__(self):
        return f"{self.operation}-{self.code}-{self.field}"


def long(n: int) -> str:
    return "x" * n


def completing(*outcomes, **extra) -> dict:
    return {"to": "completed", "outcomes": list(outcomes), **extra}


def outcome(code="advice-given", note=""):
    return {"code": code, "note": note}


ROWS = [
    # --- client_create -------------------------------------------------------------
    Row("client_create", {"given_name": ""}, "required", "given_name"),
    Row("client_create", {"given_name": "   "}, "required", "given_name"),
    Row("client_create", {"family_name": ""}, "required", "family_name"),
    Row("client_create", {"given_name": long(101)}, "too_long", "given_name"),
    Row("client_create", {"family_name": long(101)}, "too_long", "family_name"),
    Row("client_create", {"phone": "1" * 41}, "too_long", "phone"),
    Row("client_create", {"email": long(250) + "@x.org"}, "too_long", "email"),
    Row("client_create", {"email": "not-an-address"}, "validation_error", "email"),
    Row("client_create", {"preferred_languages": ["es"] * 21}, "too_many_items",
        "preferred_languages"),
    Row("client_create", {"preferred_languages": ["xx"]}, "unknown_language",
        "preferred_languages"),
    Row("client_create", {"preferred_languages": ["spanish"]}, "too_long",
        "preferred_languages"),
    Row("client_create", {"a_number": "12345"}, "validation_error", "a_number"),
    Row("client_create", {}, "insufficient_scope", None, actor="funder"),
    # --- referral_create -----------------------------------------------------------
    Row("referral_create", {"summary": long(5001)}, "too_long", "summary"),
    Row("referral_create", {"district": 0}, "unknown_district", "district"),
    Row("referral_create", {"district": 64}, "unknown_district", "district"),
    Row("referral_create", {"receiving_org": "nobody"}, "unknown_organization",
        "receiving_org"),
    Row("referral_create", {"service_type": "tax-returns"}, "unknown_service_type",
        "service_type"),
    Row("referral_create", {"receiving_org": SENDER}, "self_referral", "receiving_org"),
    Row("referral_create", {"receiving_org": "idc"}, "receiver_not_accepting",
        "receiving_org"),
    Row("referral_create", {"service_type": "know-your-rights"}, "service_not_offered",
        "service_type"),
    Row("referral_create", {"client": {"given_name": ""}}, "required", "client.given_name"),
    Row("referral_create", {"client": {"family_name": long(101)}}, "too_long",
        "client.family_name"),
    Row("referral_create", {"client": {"preferred_languages": ["es"] * 21}},
        "too_many_items", "client.preferred_languages"),
    Row("referral_create", {"client": {"preferred_languages": ["xx"]}}, "unknown_language",
        "client.preferred_languages"),
    Row("referral_create", {"client": {"email": "nope"}}, "validation_error", "client.email"),
    Row("referral_create", {"client": {"phone": "1" * 41}}, "too_long", "client.phone"),
    Row("referral_create", {"consent": {"method": "verbal", "captured_at": FUTURE}},
        "date_out_of_range", "consent.captured_at"),
    Row("referral_create", {"consent": {"method": "verbal",
                                        "captured_at": "1999-12-31T12:00:00+00:00"}},
        "date_out_of_range", "consent.captured_at"),
    Row("referral_create", {"consent": None}, "consent_required", "consent"),
    Row("referral_create", {"client": None}, "exactly_one_required", "client_id"),
    Row("referral_create", {"client_id": "own"}, "exactly_one_required", "client_id"),
    Row("referral_create", {"client": None, "client_id": "foreign"}, "not_found", None),
    Row("referral_create", {}, "insufficient_scope", None, actor="funder"),
    # --- referral_transition (the receiver, on a requested referral) ------------------
    Row("referral_transition", {"to": "rejected"}, "reason_required", "reason"),
    Row("referral_transition", {"to": "rejected", "reason_code": "duplicate"},
        "reason_code_not_for_status", "reason_code"),
    Row("referral_transition", {"to": "rejected", "reason_code": "other"}, "reason_required",
        "reason"),
    Row("referral_transition", {"to": "rejected", "reason": "   "}, "reason_required",
        "reason"),
    Row("referral_transition", {"to": "rejected", "reason": long(2001)}, "too_long",
        "reason"),
    Row("referral_transition", {"to": "completed"}, "invalid_transition", "to"),
    Row("referral_transition", {"to": "cancelled", "reason": "x"}, "not_allowed_for_party",
        "to"),
    Row("referral_transition", {"to": "accepted", "outcomes": [outcome()]},
        "outcomes_not_allowed", "outcomes"),
    Row("referral_transition", {"to": "accepted", "version": 99}, "version_mismatch", None),
    Row("referral_transition", {"to": "accepted"}, "not_found", None, actor="third"),
    Row("referral_transition", {"to": "accepted"}, "insufficient_scope", None,
        actor="funder"),
    Row("referral_transition", completing(), "outcomes_required", "outcomes",
        setup="accepted"),
    Row("referral_transition", completing(outcome(), outcome()), "duplicate_outcome",
        "outcomes", setup="accepted"),
    Row("referral_transition", completing(outcome("petition-delivered")),
        "outcome_not_for_service", "outcomes", setup="accepted"),
    Row("referral_transition", completing(*[outcome()] * 11), "too_many_items", "outcomes",
        setup="accepted"),
    Row("referral_transition", completing(outcome(note=long(2001))), "too_long",
        "outcomes[0].note", setup="accepted"),
    Row("referral_transition", completing(outcome("referred-onward")), "use_forward",
        "outcomes", setup="accepted"),
    # --- referral_forward (the receiver, on an accepted referral) --------------------
    Row("referral_forward", {"receiving_org": "nobody"}, "unknown_organization",
        "receiving_org", setup="accepted"),
    Row("referral_forward", {"receiving_org": SENDER}, "forward_to_party", "receiving_org",
        setup="accepted"),
    Row("referral_forward", {"receiving_org": RECEIVER}, "forward_to_party", "receiving_org",
        setup="accepted"),
    Row("referral_forward", {"reason": long(2001)}, "too_long", "reason", setup="accepted"),
    Row("referral_forward", {"summary": long(5001)}, "too_long", "summary",
        setup="accepted"),
    Row("referral_forward", {"service_type": "tax-returns"}, "unknown_service_type",
        "service_type", setup="accepted"),
    Row("referral_forward", {"service_type": "naturalization"}, "service_not_offered",
        "service_type", setup="accepted"),
    Row("referral_forward", {"version": 99}, "version_mismatch", None, setup="accepted"),
    Row("referral_forward", {}, "not_allowed_for_party", None, actor="sender",
        setup="accepted"),
    # --- referral_note_add ---------------------------------------------------------
    Row("referral_note_add", {"text": ""}, "required", "text"),
    Row("referral_note_add", {"text": "  "}, "required", "text"),
    Row("referral_note_add", {"text": long(10001)}, "too_long", "text"),
    Row("referral_note_add", {}, "not_found", None, actor="third"),
    # --- referral_outcomes_add (outcomes after the close) ---------------------------
    Row("referral_outcomes_add", {}, "outcomes_not_allowed", "outcomes"),
    Row("referral_outcomes_add", {"outcomes": []}, "outcomes_required", "outcomes",
        setup="completed"),
    Row("referral_outcomes_add", {"outcomes": [outcome()]}, "duplicate_outcome", "outcomes",
        setup="completed"),
    Row("referral_outcomes_add", {"outcomes": [outcome("petition-delivered")]},
        "outcome_not_for_service", "outcomes", setup="completed"),
    Row("referral_outcomes_add", {}, "not_found", None, actor="third", setup="completed"),
    # --- referral_appointment_add ----------------------------------------------------
    Row("referral_appointment_add", {"at": "2999-01-01T10:00:00+00:00"}, "date_out_of_range",
        "at"),
    Row("referral_appointment_add", {}, "not_found", None, actor="third"),
    # --- referral_assign -----------------------------------------------------------
    Row("referral_assign", {"assigned_to": "nobody.at.camba"}, "unknown_assignee",
        "assigned_to"),
    Row("referral_assign", {"assigned_to": long(151)}, "too_long", "assigned_to"),
    Row("referral_assign", {"assigned_to": ""}, "required", "assigned_to"),
    Row("referral_assign", {}, "not_found", None, actor="third"),
    # --- consent_record and client_erase --------------------------------------------
    Row("consent_record", {"shared_with": "nobody"}, "unknown_organization", "shared_with"),
    Row("consent_record", {"captured_at": FUTURE}, "date_out_of_range", "captured_at"),
    Row("consent_record", {}, "not_found", None, actor="third"),
    Row("client_erase", {}, "not_client_creator", None, actor="receiver"),
    Row("client_erase", {}, "not_found", None, actor="third"),
    # --- routing_suggestions -------------------------------------------------------
    Row("routing", {"service_type": "tax-returns"}, "unknown_service_type", "service_type"),
    Row("routing", {"language": "xx"}, "unknown_language", "language"),
    Row("routing", {"language": "spanish"}, "too_long", "language"),
    Row("routing", {"district": 0}, "unknown_district", "district"),
    Row("routing", {"district": 64}, "unknown_district", "district"),
    # --- service_numbers -----------------------------------------------------------
    Row("service_numbers", {"dimensions": ["service_type", "district", "period", "priority"]},
        "too_many_dimensions", "dimensions"),
    Row("service_numbers", {"dimensions": ["service_type", "service_type"]},
        "invalid_dimension", "dimensions"),
    Row("service_numbers", {"dimensions": ["outcome"], "measures": ["referrals_received"]},
        "measure_not_applicable", "measures"),
    Row("service_numbers", {"districts": [99]}, "unknown_district", "districts"),
    Row("service_numbers", {"districts": [0]}, "unknown_district", "districts"),
    Row("service_numbers", {"districts": [13] * 64}, "too_many_items", "districts"),
    Row("service_numbers", {"fiscal_year": "2017-19"}, "invalid_fiscal_year", "fiscal_year"),
    Row("service_numbers", {"fiscal_year": long(21)}, "too_long", "fiscal_year"),
    Row("service_numbers", {"date_from": "2018-01-01", "date_to": "2017-01-01"},
        "invalid_date_range", "date_from"),
    Row("service_numbers", {"organizations": ["nobody"]}, "unknown_organization",
        "organizations"),
    Row("service_numbers", {"service_types": ["asylum"] * 51}, "too_many_items",
        "service_types"),
    # --- budget_request (a funder) ---------------------------------------------------
    Row("budget_request", {"fiscal_year": "2017"}, "invalid_fiscal_year", "fiscal_year"),
    Row("budget_request", {"fiscal_year": long(21)}, "too_long", "fiscal_year"),
    Row("budget_request", {"org": FUNDER}, "not_a_grantee", "org"),
    # --- service_event_create ------------------------------------------------------
    Row("service_event_create", {"title": ""}, "required", "title"),
    Row("service_event_create", {"title": long(201)}, "too_long", "title"),
    Row("service_event_create", {"attendance": -1}, "out_of_range", "attendance"),
    Row("service_event_create", {"attendance": 1_000_001}, "out_of_range", "attendance"),
    Row("service_event_create", {"district": 64}, "unknown_district", "district"),
    Row("service_event_create", {"languages": ["xx"]}, "unknown_language", "languages"),
    Row("service_event_create", {"languages": ["es"] * 21}, "too_many_items", "languages"),
    Row("service_event_create", {"service_type": "nope"}, "unknown_service_type",
        "service_type"),
    Row("service_event_create", {"date": TOMORROW}, "date_out_of_range", "date"),
    Row("service_event_create", {}, "insufficient_scope", None, actor="funder"),
    # --- webhook_create ------------------------------------------------------------
    Row("webhook_create", {"events": []}, "required", "events"),
    Row("webhook_create", {"events": ["webhook.ping"]}, "unknown_event_type", "events"),
    Row("webhook_create", {"description": long(201)}, "too_long", "description"),
    Row("webhook_create", {"url": "ftp://hooks.example.org/in"}, "webhook_url_invalid",
        "url"),
    Row("webhook_create", {"url": ""}, "required", "url"),
]


# --- the valid request each row starts from ------------------------------------------

def base_input(operation: str) -> dict:
    return {
        "client_create": {"given_name": "Ana", "family_name": "Quispe"},
        "referral_create": {
            "client": {"given_name": "Ana", "family_name": "Quispe",
                       "preferred_languages": ["es"]},
            "consent": {"method": "verbal"}, "receiving_org": RECEIVER,
            "service_type": "asylum", "intake_channel": "district-office"},
        "referral_transition": {"to": "accepted", "reason": ""},
        "referral_forward": {"receiving_org": THIRD, "reason": "", "summary": ""},
        "referral_note_add": {"text": "Called the client back."},
        "referral_assign": {"assigned_to": "nobody.at.camba"},
        "referral_outcomes_add": {"outcomes": [{"code": "relief-granted", "note": ""}]},
        "referral_appointment_add": {"kind": "ice-check-in", "at": FUTURE,
                                     "location_type": "ice-office"},
        "consent_record": {"shared_with": THIRD, "method": "verbal"},
        "client_erase": {},
        "routing": {"service_type": "asylum"},
        "service_numbers": {},
        "budget_request": {"org": RECEIVER, "fiscal_year": "2017-18"},
        "service_event_create": {"kind": "workshop", "title": "Know your rights",
                                 "date": "2017-06-01", "attendance": 30},
        "webhook_create": {"url": "https://hooks.example.org/in",
                           "events": ["referral.created"], "description": ""},
    }[operation]


def merged(base: dict, change: dict) -> dict:
    out = dict(base)
    for key, value in change.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merged(out[key], value)
        else:
            out[key] = value
    return {k: v for k, v in out.items() if v is not None}


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def enum(value: str) -> str:
    return value.upper().replace("-", "_").replace(".", "_")


def to_graphql(value, key: str = ""):
    if isinstance(value, dict):
        return {camel(k): to_graphql(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [to_graphql(v, key) for v in value]
    if key in ENUM_FIELDS and isinstance(value, str):
        return enum(value)
    return value


# --- the world each row runs in ---------------------------------------------------

@dataclass
class World:
    callers: dict
    referral: object = None
    own_client: object = None
    foreign_client: object = None
    extra: dict = field(default_factory=dict)


@pytest.fixture
def world(coalition, make_app, make_token):
    def caller(slug, scopes):
        from tests.conftest import APIClient
        client = APIClient(make_token(make_app(slug, scopes=scopes), scopes=scopes))
        return client

    hooks = f"{CASEWORK_SCOPES} {WEBHOOKS_MANAGE}"
    callers = {"sender": caller(SENDER, CASEWORK_SCOPES),
               "receiver": caller(RECEIVER, hooks),
               "third": caller(THIRD, CASEWORK_SCOPES),
               "funder": caller(FUNDER, "orgs:read reports:read")}
    loop = make_referral(sender=SENDER, receiver=RECEIVER)
    return World(callers=callers, referral=loop,
                 own_client=make_client(by=SENDER, family_name="Mamani"),
                 foreign_client=make_client(by=THIRD, family_name="Condori"))


DEFAULT_ACTOR = {"client_create": "sender", "referral_create": "sender",
                 "referral_transition": "receiver", "referral_forward": "receiver",
                 "referral_note_add": "receiver", "referral_assign": "receiver",
                 "referral_outcomes_add": "receiver", "referral_appointment_add": "sender",
                 "consent_record": "sender",
                 "client_erase": "sender", "routing": "sender", "service_numbers": "receiver",
                 "budget_request": "funder", "service_event_create": "receiver",
                 "webhook_create": "receiver"}


def prepare(world: World, row: Row) -> tuple:
    """(caller, input, referral id, version, client id) for the row."""
    actor = DEFAULT_ACTOR[row.operation] if row.actor == "default" else row.actor
    loop = world.referral
    if row.setup and loop.referral.status != row.setup:
        advance(loop, row.setup)
    data = merged(base_input(row.operation), row.input)
    if data.get("client_id") == "own":
        data["client_id"] = str(world.own_client.pk)
    elif data.get("client_id") == "foreign":
        data["client_id"] = str(world.foreign_client.pk)
    version = data.pop("version", loop.referral.version)
    client_id = loop.referral.client_id if row.operation == "client_erase" else (
        world.own_client.pk)
    return world.callers[actor], data, loop.id, version, client_id


# --- the two channels --------------------------------------------------------------

def rest(world: World, row: Row):
    caller, data, referral_id, version, client_id = prepare(world, row)
    if_match = {"If-Match": f'"{version}"'}
    op = row.operation
    if op == "client_create":
        response = caller.post("/api/v1/clients/", data)
    elif op == "referral_create":
        response = caller.post("/api/v1/referrals/", data,
                               headers={"Idempotency-Key": str(uuid.uuid4())})
    elif op == "referral_transition":
        response = caller.post(f"/api/v1/referrals/{referral_id}/transition/", data,
                               headers=if_match)
    elif op == "referral_forward":
        response = caller.post(f"/api/v1/referrals/{referral_id}/forward/", data,
                               headers=if_match)
    elif op == "referral_note_add":
        response = caller.post(f"/api/v1/referrals/{referral_id}/notes/", data)
    elif op == "referral_assign":
        response = caller.post(f"/api/v1/referrals/{referral_id}/assign/", data)
    elif op == "referral_outcomes_add":
        response = caller.post(f"/api/v1/referrals/{referral_id}/outcomes/", data,
                               headers=if_match)
    elif op == "referral_appointment_add":
        response = caller.post(f"/api/v1/referrals/{referral_id}/appointments/", data)
    elif op == "consent_record":
        response = caller.post(f"/api/v1/clients/{client_id}/consents/", data)
    elif op == "client_erase":
        response = caller.delete(f"/api/v1/clients/{client_id}/",
                                 headers=caller._headers(None))
    elif op in ("routing", "service_numbers", "budget_request"):
        path = {"routing": "/api/v1/routing/suggestions/",
                "service_numbers": "/api/v1/reports/service-numbers/",
                "budget_request": "/api/v1/reports/budget-request/"}[op]
        query = {k: ",".join(map(str, v)) if isinstance(v, list) else v
                 for k, v in data.items()}
        response = caller.get(f"{path}?{urlencode(query)}")
    elif op == "service_event_create":
        response = caller.post("/api/v1/service-events/", data)
    elif op == "webhook_create":
        response = caller.post("/api/v1/webhooks/", data)
    else:  # pragma: no cover - a row names an operation this table does not know
        raise AssertionError(op)
    assert response["Content-Type"] == "application/problem+json", response.content
    body = response.json()
    errors = body.get("errors") or [{}]
    return response.status_code, body["code"], errors[0].get("field"), {
        **body, "message": body["detail"]}


GRAPHQL = {
    "client_create": ("mutation($input: ClientInput!) { createClient(input: $input) "
                      "{ client { id } } }"),
    "referral_create": ("mutation($key: String!, $input: CreateReferralInput!) "
                        "{ createReferral(idempotencyKey: $key, input: $input) "
                        "{ referral { id } } }"),
    "referral_transition": (
        "mutation($id: UUID!, $v: Int!, $to: ReferralStatus!, $reason: String, "
        "$reasonCode: ReasonCode, $outcomes: [OutcomeInput!]) { transitionReferral(id: $id, "
        "expectedVersion: $v, to: $to, reason: $reason, reasonCode: $reasonCode, "
        "outcomes: $outcomes) { referral { id } } }"),
    "referral_forward": (
        "mutation($id: UUID!, $v: Int!, $receivingOrg: String!, $serviceType: String, "
        "$reason: String, $summary: String) { forwardReferral(id: $id, expectedVersion: $v, "
        "receivingOrg: $receivingOrg, serviceType: $serviceType, reason: $reason, "
        "summary: $summary) { child { id } } }"),
    "referral_note_add": ("mutation($id: UUID!, $text: String!) "
                          "{ addReferralNote(id: $id, text: $text) { note { id } } }"),
    "referral_outcomes_add": ("mutation($id: UUID!, $v: Int!, $outcomes: [OutcomeInput!]!) "
                              "{ addReferralOutcomes(id: $id, expectedVersion: $v, "
                              "outcomes: $outcomes) { referral { id } } }"),
    "referral_appointment_add": ("mutation($id: UUID!, $kind: AppointmentKind!, "
                                 "$at: DateTime!, $locationType: LocationType!) "
                                 "{ addAppointment(referralId: $id, kind: $kind, at: $at, "
                                 "locationType: $locationType) { appointment { id } } }"),
    "referral_assign": ("mutation($id: UUID!, $assignedTo: String) "
                        "{ assignReferral(id: $id, assignedTo: $assignedTo) "
                        "{ referral { id } } }"),
    "consent_record": ("mutation($clientId: UUID!, $sharedWith: String!, "
                       "$consent: ConsentInput!) { recordConsent(clientId: $clientId, "
                       "sharedWith: $sharedWith, consent: $consent) { consent { id } } }"),
    "client_erase": "mutation($id: UUID!) { eraseClient(id: $id) { client { id } } }",
    "routing": ("query($serviceType: String!, $language: String, $district: Int) "
                "{ routingSuggestions(serviceType: $serviceType, language: $language, "
                "district: $district) { score } }"),
    "service_numbers": (
        "query($dimensions: [ReportDimension!], $measures: [ReportMeasure!], "
        "$fiscalYear: String, $dateFrom: Date, $dateTo: Date, $organizations: [String!], "
        "$districts: [Int!], $serviceTypes: [String!]) { serviceNumbers("
        "dimensions: $dimensions, measures: $measures, fiscalYear: $fiscalYear, "
        "dateFrom: $dateFrom, dateTo: $dateTo, organizations: $organizations, "
        "districts: $districts, serviceTypes: $serviceTypes) { suppressionApplied } }"),
    "budget_request": ("query($org: String!, $fiscalYear: String!) "
                       "{ budgetRequest(org: $org, fiscalYear: $fiscalYear) { grantTotal } }"),
    "service_event_create": ("mutation($input: ServiceEventInput!) "
                             "{ createServiceEvent(input: $input) { serviceEvent { id } } }"),
    "webhook_create": ("mutation($input: WebhookSubscriptionInput!) "
                       "{ createWebhookSubscription(input: $input) "
                       "{ subscription { id } } }"),
}
INPUT_OBJECT = {"client_create", "service_event_create", "webhook_create"}


def graphql(world: World, row: Row):
    caller, data, referral_id, version, client_id = prepare(world, row)
    op = row.operation
    if op in INPUT_OBJECT:
        variables = {"input": to_graphql(data)}
    elif op == "referral_create":
        variables = {"key": str(uuid.uuid4()), "input": to_graphql(data)}
    elif op == "consent_record":
        shared_with = data.pop("shared_with")
        variables = {"clientId": str(client_id), "sharedWith": shared_with,
                     "consent": to_graphql(data)}
    elif op == "client_erase":
        variables = {"id": str(client_id)}
    else:
        variables = to_graphql(data)
        if op.startswith("referral_"):
            variables.update(id=str(referral_id), v=version)
    response = caller.graphql(GRAPHQL[op], variables)
    body = response.json()
    assert body.get("errors"), body
    extensions = body["errors"][0]["extensions"]
    return extensions.get("status"), extensions["code"], extensions.get("field"), {
        **extensions, "message": body["errors"][0]["message"]}


@pytest.mark.parametrize("row", ROWS, ids=str)
@pytest.mark.parametrize("channel", [rest, graphql], ids=["rest", "graphql"])
def test_both_channels_refuse_alike(world, row, channel):
    status, code, field_name, _ = channel(world, row)

    assert (code, field_name) == (row.code, row.field)
    assert status == CODES[row.code].status


@pytest.mark.parametrize("row", ROWS, ids=str)
def test_both_channels_say_the_same_message(world, row):
    """The message is the service's, so a person reads the same words in both."""
    _, _, _, by_rest = rest(world, row)
    _, _, _, by_graphql = graphql(world, row)

    assert by_rest["message"] == by_graphql["message"]


def test_the_table_covers_enough_refusals():
    assert len(ROWS) >= 60
    assert all(row.code in CODES for row in ROWS)


@pytest.mark.parametrize("channel", [rest, graphql], ids=["rest", "graphql"])
def test_a_stale_version_names_the_current_one_in_both_channels(world, channel):
    row = Row("referral_transition", {"to": "accepted", "version": 99}, "version_mismatch",
              None)

    _, code, _, details = channel(world, row)

    assert code == "version_mismatch"
    assert details["current_version"] == world.referral.referral.version


def test_nothing_refused_was_written(world):
    """A refusal writes nothing: no client, referral, note or event appears."""
    from referrals.models import Client, Referral, ReferralEvent, ReferralNote
    before = (Client.objects.count(), Referral.objects.count(), ReferralEvent.objects.count(),
              ReferralNote.objects.count())
    for row in ROWS:
        if row.operation.startswith(("client_", "referral_")) and not row.setup:
            rest(world, row)
            graphql(world, row)
    assert (Client.objects.count(), Referral.objects.count(), ReferralEvent.objects.count(),
            ReferralNote.objects.count()) == before


REST_OPERATION = {
    "client_create": ("/api/v1/clients/", "post"),
    "referral_create": ("/api/v1/referrals/", "post"),
    "referral_transition": ("/api/v1/referrals/{id}/transition/", "post"),
    "referral_forward": ("/api/v1/referrals/{id}/forward/", "post"),
    "referral_note_add": ("/api/v1/referrals/{id}/notes/", "post"),
    "referral_assign": ("/api/v1/referrals/{id}/assign/", "post"),
    "referral_outcomes_add": ("/api/v1/referrals/{id}/outcomes/", "post"),
    "referral_appointment_add": ("/api/v1/referrals/{id}/appointments/", "post"),
    "consent_record": ("/api/v1/clients/{id}/consents/", "post"),
    "client_erase": ("/api/v1/clients/{id}/", "delete"),
    "routing": ("/api/v1/routing/suggestions/", "get"),
    "service_numbers": ("/api/v1/reports/service-numbers/", "get"),
    "budget_request": ("/api/v1/reports/budget-request/", "get"),
    "service_event_create": ("/api/v1/service-events/", "post"),
    "webhook_create": ("/api/v1/webhooks/", "post"),
}


@pytest.fixture(scope="module")
def openapi():
    with open(Path(settings.BASE_DIR) / "schema" / "openapi.yaml") as document:
        return yaml.safe_load(document)


@pytest.mark.parametrize("row", ROWS, ids=str)
def test_the_openapi_document_lists_each_code_under_its_status(openapi, row):
    path, method = REST_OPERATION[row.operation]
    status = str(CODES[row.code].status)

    response = openapi["paths"][path][method]["responses"][status]

    assert row.code in response["x-problem-codes"]
    assert f"`{row.code}`" in response["description"]
