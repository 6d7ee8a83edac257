"""Limits that keep one caller from starving the others: a rate per OAuth application
(not per IP), a body size cap, page sizes, and GraphQL depth, aliases, cost and
introspection, all refused as the client's error (4xx), never a 500."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from django.core.cache import cache
from django.test import RequestFactory, override_settings

from audit.models import AuditRecord
from core.throttling import ApplicationRateThrottle
from orgs.models import Organization, ServiceType
from referrals.models import Client, Referral, ReferralNote
from schema.views import CoalitionGraphQLView, validation_rules

from tests.assertions import assert_problem

from .conftest import RECEIVER, SENDER, graphql_code

REFERRALS = "/api/v1/referrals/"


def codes(response) -> set[str]:
    return {e.get("extensions", {}).get("code") for e in response.json().get("errors", [])}


# --- rate limit per application ---------------------------------------------------------


@pytest.fixture
def three_a_minute(monkeypatch):
    """DRF reads the rates into the throttle class when it is defined; patch them there."""
    monkeypatch.setattr(ApplicationRateThrottle, "THROTTLE_RATES", {"application": "3/min"})
    cache.clear()
    yield
    cache.clear()


def test_the_fourth_request_of_an_application_is_429(three_a_minute, api):
    partner = api(RECEIVER)
    for _ in range(3):
        assert partner.get("/api/v1/organizations/").status_code == 200

    response = partner.get("/api/v1/organizations/")

    assert_problem(response, 429, "rate_limited")
    assert 0 < int(response["Retry-After"]) <= 60


def test_the_limit_is_per_application_not_per_ip_or_organisation(three_a_minute, api):
    busy, other_app_same_org, other_org = api(RECEIVER), api(RECEIVER), api(SENDER)
    for _ in range(3):
        busy.get("/api/v1/organizations/")
    assert busy.get("/api/v1/organizations/").status_code == 429

    # The same address (the test client's 127.0.0.1) is not held against other callers...
    assert other_app_same_org.get("/api/v1/organizations/").status_code == 200
    assert other_org.get("/api/v1/organizations/").status_code == 200
    # ...and another address does not free the busy application.
    assert busy.get("/api/v1/organizations/", REMOTE_ADDR="203.0.113.9").status_code == 429
    assert busy.get("/api/v1/organizations/",
                    headers={"X-Forwarded-For": "198.51.100.7"}).status_code == 429


def test_graphql_counts_against_the_same_limit(three_a_minute, api):
    partner, other = api(RECEIVER), api(RECEIVER)
    partner.get("/api/v1/organizations/")
    assert partner.graphql("{ serviceTypes { code } }").status_code == 200
    partner.get("/api/v1/service-types/")

    graphql = partner.graphql("{ serviceTypes { code } }")
    rest = partner.get("/api/v1/organizations/")

    assert graphql.status_code == 429
    assert graphql_code(graphql) == "rate_limited"
    assert int(graphql["Retry-After"]) > 0
    assert_problem(rest, 429, "rate_limited")
    assert other.graphql("{ serviceTypes { code } }").status_code == 200


def test_a_graphql_burst_limits_rest_too(three_a_minute, api):
    partner = api(RECEIVER)
    for _ in range(3):
        assert partner.graphql("{ serviceTypes { code } }").status_code == 200

    assert_problem(partner.get("/api/v1/organizations/"), 429, "rate_limited")


# --- request body size ----------------------------------------------------------------------


def test_an_oversized_rest_body_is_413_and_changes_nothing(settings, office, refer):
    loop = refer()
    over = settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1024

    note = office.post(f"{REFERRALS}{loop.id}/notes/", {"text": "x" * over})
    create = office.post(REFERRALS, {
        "client": {"given_name": "Ama", "family_name": "Owusu"},
        "consent": {"method": "verbal"}, "receiving_org": RECEIVER, "service_type": "asylum",
        "intake_channel": "district-office", "summary": "y" * over,
    }, headers={"Idempotency-Key": str(uuid.uuid4())})

    assert_problem(note, 413, "payload_too_large")
    assert_problem(create, 413, "payload_too_large")
    assert not ReferralNote.objects.filter(referral=loop.referral).exists()
    assert Referral.objects.count() == 1


def test_an_oversized_graphql_body_is_413(settings, office):
    padding = " " * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1024)

    response = office.graphql("{ serviceTypes { code } }", {"padding": padding})

    assert response.status_code == 413
    assert graphql_code(response) == "payload_too_large"


def test_an_oversized_graphql_document_is_413(settings, office):
    query = "{ serviceTypes { code } }" + " " * settings.GRAPHQL_MAX_DOCUMENT_BYTES

    response = office.graphql(query)

    assert response.status_code == 413
    assert graphql_code(response) == "payload_too_large"


# --- page sizes ------------------------------------------------------------------------------


@pytest.fixture
def plenty(coalition):
    """More than a page's maximum of everything a list shows."""
    Organization.objects.bulk_create([
        Organization(name=f"Community group {i:03}", slug=f"community-group-{i:03}",
                     kind="community_group") for i in range(101)])
    office, camba = coalition[SENDER], coalition[RECEIVER]
    clients = Client.objects.bulk_create([
        Client(given_name="Client", family_name=f"{i:03}", created_by_org=office)
        for i in range(101)])
    asylum = ServiceType.objects.get(code="asylum")
    Referral.objects.bulk_create([
        Referral(sending_org=office, receiving_org=camba, client=client, service_type=asylum,
                 intake_channel="district-office") for client in clients])
    AuditRecord.objects.bulk_create([
        AuditRecord(channel="system", operation="test", action="read", object_type="client",
                    object_id=str(client.pk)) for client in clients])


@pytest.mark.parametrize("path, caller, page", [
    ("/api/v1/organizations/", RECEIVER, 20),
    (REFERRALS, RECEIVER, 20),
    ("/api/v1/clients/", SENDER, 20),
    ("/api/v1/audit-records/", "admin", 50),
])
def test_rest_pages_stop_at_100(api, admin, plenty, path, caller, page):
    client = admin if caller == "admin" else api(caller)

    default = client.get(path).json()
    asked_for_more = client.get(path, {"page_size": 1000}).json()

    assert len(default["results"]) == page
    assert len(asked_for_more["results"]) == 100
    assert asked_for_more["next"]


def test_graphql_pages_stop_at_100(api, plenty):
    response = api(RECEIVER).graphql("{ referrals(first: 101) { edges { node { id } } } }")

    assert graphql_code(response) == "validation_error"
    assert "100" in response.json()["errors"][0]["message"]


# --- GraphQL query limits -------------------------------------------------------------------


def nested(levels: int) -> str:
    """A selection nested ``levels`` deep below serviceTypes."""
    return "{ serviceTypes " + "{ a " * levels + "}" * levels + " }"


def test_a_query_deeper_than_the_limit_is_query_too_deep(settings, office):
    response = office.graphql(nested(settings.GRAPHQL_MAX_DEPTH + 2))

    assert response.status_code == 400
    assert "query_too_deep" in codes(response)
    assert "data" not in response.json()


def graphql_view(principal_client, query: str, **settings_overrides):
    """The GraphQL view built afresh under other settings (its rules come from them)."""
    with override_settings(**settings_overrides):
        view = CoalitionGraphQLView.as_view(validation_rules=validation_rules())
        request = RequestFactory().post(
            "/graphql/", json.dumps({"query": query}), content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {principal_client.token}")
        return view(request)


REAL_DEPTH_6 = ("{ referrals { edges { node { sendingOrg { serviceTypes { code } } } } } }")


def test_the_depth_limit_applies_to_valid_queries(office):
    within = graphql_view(office, REAL_DEPTH_6, GRAPHQL_MAX_DEPTH=6)
    beyond = graphql_view(office, REAL_DEPTH_6, GRAPHQL_MAX_DEPTH=5)

    assert within.status_code == 200, within.content
    assert beyond.status_code == 400
    assert [e["extensions"]["code"] for e in json.loads(beyond.content)["errors"]] == [
        "query_too_deep"]


def aliases(count: int) -> str:
    return "{ serviceTypes { " + " ".join(f"a{i}: code" for i in range(count)) + " } }"


def test_aliases_up_to_the_limit_are_fine(settings, office):
    response = office.graphql(aliases(settings.GRAPHQL_MAX_ALIASES))

    assert response.status_code == 200
    assert "errors" not in response.json()


def test_one_alias_too_many_is_too_many_aliases(settings, office):
    response = office.graphql(aliases(settings.GRAPHQL_MAX_ALIASES + 1))

    assert response.status_code == 400
    assert codes(response) == {"too_many_aliases"}


@pytest.mark.parametrize("document_limit", [None, 1_000_000])
def test_two_thousand_aliases_are_refused_fast(settings, office, document_limit):
    if document_limit:  # past the document size check, so the alias rule has to do it
        settings.GRAPHQL_MAX_DOCUMENT_BYTES = document_limit
    query = aliases(2000)

    started = time.thread_time()  # this thread's CPU, so that a busy machine does not fail it
    response = office.graphql(query)
    elapsed = time.thread_time() - started

    assert 400 <= response.status_code < 500
    assert elapsed < 2
    if document_limit:
        assert "too_many_aliases" in codes(response)


def test_thousands_of_repeated_fields_are_refused_without_running(office):
    """The most fields a document under the size limit holds. graphql-core's
    overlapping-fields check is quadratic in them (about a second of CPU here, five
    late in a full test run): over the cost limit, validation stops before it."""
    query = "{ referrals(first: 100) { edges { node { " + "id " * 6500 + "} } } }"

    started = time.thread_time()  # this thread's CPU: the test client runs the request in it
    response = office.graphql(query)

    assert time.thread_time() - started < 2
    assert response.status_code == 400
    assert "query_too_costly" in codes(response)


def test_a_fragment_cycle_is_a_validation_error_not_a_500(office):
    response = office.graphql("""
        query { serviceTypes { ...A } }
        fragment A on ServiceType { code ...B }
        fragment B on ServiceType { name ...A }""")

    assert response.status_code == 400
    assert codes(response) <= {"validation_error"}
    assert codes(response)


@pytest.mark.parametrize("levels", [200, 5000])
def test_deep_nesting_is_refused_as_the_clients_error(settings, office, levels):
    settings.GRAPHQL_MAX_DOCUMENT_BYTES = 1_000_000

    started = time.thread_time()
    response = office.graphql(nested(levels))

    assert time.thread_time() - started < 2
    assert 400 <= response.status_code < 500
    assert codes(response) & {"query_too_deep", "syntax_error"}


REFERRAL_PAGE = """referrals(first: 100%s) { edges { node {
    id status summary
    client { id givenName familyName preferredLanguages }
    events { id kind organization actorUser actorApplication at fromStatus toStatus reason
             version }
    notes { id text authorOrg authorUser createdAt }
    outcomes { code note recordedAt }
    sendingOrg { slug serviceTypes { code name } languages senateDistricts }
    receivingOrg { slug serviceTypes { code name } languages senateDistricts } } } }"""
# Two full pages of referrals with every nested list: about twice the cost limit.
COSTLY = "{ open: %s closed: %s }" % (REFERRAL_PAGE % ', status: ["accepted"]',
                                       REFERRAL_PAGE % ', status: ["completed"]')


def test_a_costly_query_is_refused_before_it_runs(office, refer):
    refer()

    response = office.graphql(COSTLY)

    assert response.status_code == 400
    assert "query_too_costly" in codes(response)
    assert "data" not in response.json()


def test_the_same_query_on_a_small_page_is_allowed(office, refer):
    refer()

    response = office.graphql(COSTLY.replace("first: 100", "first: 5"))

    assert response.status_code == 200
    assert "errors" not in response.json()


def test_a_costly_query_through_variables_counts_the_full_page(office):
    query = "query($n: Int) " + COSTLY.replace("first: 100", "first: $n")

    response = office.graphql(query, {"n": 5})

    assert "query_too_costly" in codes(response)


# --- introspection --------------------------------------------------------------------------


@pytest.mark.parametrize("query", [
    "{ __schema { types { name } } }",
    '{ __type(name: "Client") { fields { name } } }',
    "{ serviceTypes { code } __schema { queryType { name } } }",
])
def test_introspection_is_refused_when_switched_off(settings, office, query):
    settings.GRAPHQL_INTROSPECTION = False

    response = office.graphql(query)

    assert response.status_code == 400
    assert "data" not in response.json()
    assert "introspection is disabled" in response.json()["errors"][0]["message"]


def test_introspection_is_refused_by_a_view_built_under_production_settings(office):
    response = graphql_view(office, "{ __schema { types { name } } }",
                            GRAPHQL_INTROSPECTION=False)

    assert response.status_code == 400
    assert b"introspection is disabled" in response.content
    assert b"Referral" not in response.content


def test_typename_still_works_without_introspection(settings, office):
    """GraphQL clients (Apollo, Relay) add __typename to every selection."""
    settings.GRAPHQL_INTROSPECTION = False

    response = office.graphql("{ __typename serviceTypes { __typename code } }")

    assert response.status_code == 200, response.content
    assert response.json()["data"]["__typename"] == "Query"


def test_introspection_works_when_switched_on(settings, office):
    settings.GRAPHQL_INTROSPECTION = True

    response = office.graphql('{ __type(name: "Referral") { name } }')

    assert response.json()["data"]["__type"]["name"] == "Referral"


# --- the standard introspection query is exempt from the depth and cost limits ---------------


def standard_introspection_query() -> str:
    """What GraphiQL and gql send to fetch the schema (13 levels deep)."""
    from graphql import get_introspection_query

    return get_introspection_query(descriptions=True, specified_by_url=True,
                                   directive_is_repeatable=True, schema_description=True,
                                   input_value_deprecation=True)


def test_the_standard_introspection_query_returns_the_whole_schema(settings, office):
    from graphql import build_client_schema, print_schema

    from schema.schema import schema

    settings.GRAPHQL_INTROSPECTION = True
    assert settings.GRAPHQL_MAX_DEPTH < 13  # the query is deeper than the limit

    response = office.graphql(standard_introspection_query())

    assert response.status_code == 200, response.content
    body = response.json()
    assert "errors" not in body
    fetched = build_client_schema(body["data"])
    assert print_schema(fetched) == print_schema(schema.graphql_schema)


def test_a_deep_query_beside_introspection_is_still_refused(office):
    query = REAL_DEPTH_6[:-1] + " __schema { queryType { name } } }"

    within = graphql_view(office, query, GRAPHQL_MAX_DEPTH=6, GRAPHQL_INTROSPECTION=True)
    beyond = graphql_view(office, query, GRAPHQL_MAX_DEPTH=5, GRAPHQL_INTROSPECTION=True)

    assert within.status_code == 200, within.content
    assert json.loads(within.content)["data"]["__schema"] == {"queryType": {"name": "Query"}}
    assert beyond.status_code == 400
    assert [e["extensions"]["code"] for e in json.loads(beyond.content)["errors"]] == [
        "query_too_deep"]


@pytest.mark.parametrize("query", [
    # Each `fields` multiplies the answer by the number of fields: unbounded growth.
    "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }",
    '{ __type(name: "Referral") { fields { type { ofType { fields { type { fields { name } } '
    "} } } } } }",
])
def test_a_runaway_introspection_query_is_refused(settings, office, query):
    settings.GRAPHQL_INTROSPECTION = True

    response = office.graphql(query)

    assert response.status_code == 400
    assert "data" not in response.json()
    assert "introspection depth" in response.json()["errors"][0]["message"]


def test_aliases_inside_introspection_still_count(settings, office):
    settings.GRAPHQL_INTROSPECTION = True
    many = " ".join(f"t{i}: types {{ name }}" for i in range(settings.GRAPHQL_MAX_ALIASES + 1))

    response = office.graphql("{ __schema { %s } }" % many)

    assert response.status_code == 400
    assert codes(response) == {"too_many_aliases"}


def test_introspection_stays_under_the_limits_when_switched_off(settings, office):
    """Off, the introspection query is refused (by the introspection rule), not run."""
    settings.GRAPHQL_INTROSPECTION = False

    response = office.graphql(standard_introspection_query())

    assert response.status_code == 400
    assert "data" not in response.json()
