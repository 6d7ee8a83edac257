"""A page of referrals or clients costs the same number of queries whatever its
size (no N+1), over REST and GraphQL, nested relations included."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from .factories import bulk_referrals

# Generous: auth, throttle-free lookups, the page, its prefetches, the audit insert.
REST_BOUND = 15
GRAPHQL_BOUND = 25


@pytest.fixture
def office(coalition, api):
    bulk_referrals(110)
    return api("sd13-peralta-office")


AUDIT_INSERT = 'INSERT INTO "audit_auditrecord"'


def count_queries(request) -> tuple[int, object, list[str]]:
    """Queries a request issues, the audit trail's INSERT counted once.

    The audit trail writes one row per object read, in one bulk INSERT; SQLite's
    limit on bound parameters splits a large one into batches (PostgreSQL does
    not: see test_the_audit_trail_is_one_insert_on_postgresql)."""
    with CaptureQueriesContext(connection) as captured:
        response = request()
    sql = [q["sql"] for q in captured.captured_queries]
    audit = [q for q in sql if q.startswith(AUDIT_INSERT)]
    others = [q for q in sql if not q.startswith(AUDIT_INSERT)]
    return len(others) + min(len(audit), 1), response, sql


def explain(small: list[str], large: list[str]) -> str:
    return "\n".join(["page of 10:", *small, "", "page of 100:", *large])


@pytest.mark.parametrize("path", ["/api/v1/referrals/", "/api/v1/clients/"])
def test_rest_list_queries_do_not_grow_with_the_page(office, path):
    office.get(path, {"page_size": 1})  # warm caches that are not per request

    small, small_response, small_sql = count_queries(lambda: office.get(path, {"page_size": 10}))
    large, large_response, large_sql = count_queries(
        lambda: office.get(path, {"page_size": 100}))

    assert small_response.status_code == large_response.status_code == 200
    assert len(small_response.json()["results"]) == 10
    assert len(large_response.json()["results"]) == 100
    assert small == large, explain(small_sql, large_sql)
    assert large <= REST_BOUND, explain(small_sql, large_sql)


@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="SQLite splits a bulk INSERT by its bound-parameter limit")
def test_the_audit_trail_is_one_insert_on_postgresql(office):
    with CaptureQueriesContext(connection) as captured:
        response = office.get("/api/v1/referrals/", {"page_size": 100})

    assert response.status_code == 200
    audit = [q for q in captured.captured_queries if q["sql"].startswith(AUDIT_INSERT)]
    assert len(audit) == 1


def test_rest_referral_pages_show_the_nested_data(office):
    """What the counts above load is really rendered (not skipped)."""
    row = office.get("/api/v1/referrals/", {"page_size": 100}).json()["results"][-1]

    assert row["client"]["preferred_languages"] == ["en", "es"]
    assert [o["code"] for o in row["outcomes"]] == ["advice-given"]
    assert row["receiving_org"] in {"camba-legal", "cala", "vera-nyifup"}


REFERRALS_QUERY = """
query Page($first: Int!) {
  referrals(first: $first) {
    edges { node {
      id status
      client { givenName preferredLanguages }
      sendingOrg { slug name languages serviceTypes { code } }
      receivingOrg { slug }
      serviceType { code }
      outcomes { code }
      events { kind organization actorApplication }
      notes { text }
    } }
  }
}"""

CLIENTS_QUERY = """
query Page($first: Int!) {
  clients(first: $first) {
    edges { node { id givenName familyName preferredLanguages createdByOrg { slug } } }
  }
}"""


@pytest.fixture
def no_cost_limit(settings):
    """These tests count queries, not the cost limit: with every nested list asked
    for, `first: 100` is over GRAPHQL_MAX_COST (which assumes 10 items per list)."""
    settings.GRAPHQL_MAX_COST = 10**7


@pytest.mark.parametrize("query, field", [(REFERRALS_QUERY, "referrals"),
                                          (CLIENTS_QUERY, "clients")])
def test_graphql_list_queries_do_not_grow_with_the_page(office, no_cost_limit, query, field):
    office.graphql(query, {"first": 1})

    small, small_response, small_sql = count_queries(
        lambda: office.graphql(query, {"first": 10}))
    large, large_response, large_sql = count_queries(
        lambda: office.graphql(query, {"first": 100}))

    small_body, large_body = small_response.json(), large_response.json()
    assert "errors" not in large_body, large_body
    assert len(small_body["data"][field]["edges"]) == 10
    assert len(large_body["data"][field]["edges"]) == 100
    assert small == large, explain(small_sql, large_sql)
    assert large <= GRAPHQL_BOUND, explain(small_sql, large_sql)


def test_graphql_referral_pages_show_the_nested_data(office, no_cost_limit):
    edges = office.graphql(REFERRALS_QUERY, {"first": 100}).json()["data"]["referrals"]["edges"]
    node = edges[-1]["node"]

    assert node["client"]["preferredLanguages"] == ["en", "es"]
    assert node["sendingOrg"]["languages"] == ["en", "es"]
    assert {s["code"] for s in node["sendingOrg"]["serviceTypes"]} == {
        "know-your-rights", "executive-order-questions"}
    assert [e["kind"] for e in node["events"]] == ["CREATED", "STATUS_CHANGED"]
    assert node["events"][0]["actorApplication"].startswith("factory sd13-peralta-office")
    assert [n["text"] for n in node["notes"]] == [f"note {len(edges) - 1}"]
    assert node["outcomes"] == [{"code": "ADVICE_GIVEN"}]
