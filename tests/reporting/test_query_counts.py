"""Reports cost a fixed number of SQL queries, whatever the amount of data: the same
count for a small dataset and for one five times larger, through REST and GraphQL."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from .fixtures import CAMBA, FUNDER, build_grants, build_many_small_cells

pytestmark = pytest.mark.django_db

SMALL = 40

SHAPES = [(), ("service_type",), ("receiving_org", "period"),
          ("service_type", "district", "period")]


def rest_numbers(client, dims):
    response = client.get("/api/v1/reports/service-numbers/",
                          {"dimensions": ",".join(dims), "period": "quarter"})
    assert response.status_code == 200, response.content
    body = response.json()
    return len(body["rows"]) + len(body["totals"])


def graphql_numbers(client, dims):
    dimensions = ", ".join(d.upper() for d in dims)
    response = client.graphql(
        f"{{ serviceNumbers(dimensions: [{dimensions}], period: QUARTER) {{"
        " rows { dimensions { value } values { measure value } }"
        " totals { dimensions { value } values { measure value } } } }")
    body = response.json()
    assert "errors" not in body, body
    return len(body["data"]["serviceNumbers"]["rows"]) + len(
        body["data"]["serviceNumbers"]["totals"])


def rest_budget(client, _dims):
    # One shape (coarsen=auto tries up to three, as the data asks: each a fixed count).
    response = client.get("/api/v1/reports/budget-request/",
                          {"org": CAMBA, "fiscal_year": "2017-18", "coarsen": "none"})
    assert response.status_code == 200, response.content
    return len(response.json()["lines"])


def graphql_budget(client, _dims):
    response = client.graphql(
        '{ budgetRequest(org: "camba-legal", fiscalYear: "2017-18", coarsen: NONE) { grantTotal'
        " costPerClientServed grants { funder amount serviceTypes }"
        " lines { serviceType district current { measure value } } } }")
    body = response.json()
    assert "errors" not in body, body
    return len(body["data"]["budgetRequest"]["lines"])


def queries(request, client, dims) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as context:
        size = request(client, dims)
    return len(context.captured_queries), size


def case(request_report, dims=(), who=FUNDER):
    api_name = "rest" if request_report.__name__.startswith("rest") else "graphql"
    what = f"{len(dims)}-{'-'.join(dims) or 'none'}" if "numbers" in request_report.__name__ \
        else "budget"
    return pytest.param(request_report, dims, who, id=f"{api_name}-{what}-{who}")


# Suppressed (a funder) for every shape; own numbers (CAMBA) for the widest ones.
CASES = ([case(rest_numbers, dims) for dims in SHAPES]
         + [case(graphql_numbers, dims) for dims in SHAPES]
         + [case(rest_budget), case(graphql_budget),
            case(rest_numbers, ("outcome", "sending_org", "period")),
            case(rest_numbers, SHAPES[-1], CAMBA), case(graphql_numbers, SHAPES[-1], CAMBA),
            case(rest_budget, who=CAMBA), case(graphql_budget, who=CAMBA)])


@pytest.mark.parametrize("request_report, dims, who", CASES)
def test_same_query_count_for_five_times_the_data(api, coalition, request_report, dims, who):
    build_grants()
    build_many_small_cells(count=SMALL, seed=1, client_offset=10_000)
    client = api(who)
    request_report(client, dims)  # warm up: content types, the token, the schema
    small, small_size = queries(request_report, client, dims)
    build_many_small_cells(count=4 * SMALL, seed=2, client_offset=20_000)
    large, large_size = queries(request_report, client, dims)
    assert small == large, f"{small} queries for {SMALL} referrals, {large} for {5 * SMALL}"
    assert large_size >= small_size
    # One query per family of measures and level of totals, plus a handful to
    # authenticate and resolve the scope: bounded by the number of dimensions.
    # The budget: two years of two dimensions, and its one grant's total.
    levels = 2 ** len(dims) if request_report in (rest_numbers, graphql_numbers) else 2 * 4 + 1
    assert small <= 5 * levels + 12, small
