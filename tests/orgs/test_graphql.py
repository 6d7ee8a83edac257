"""GraphQL for the coalition directory: authentication, scopes, the same filters as
REST, paging limits, errors and query counts."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import APIClient

from .directory_cases import ALL_SLUGS, FILTER_CASES, ORDERING_CASES

SERVICE_TYPES = "{ serviceTypes { code } }"


def organizations(args: str = "", fields: str = "slug") -> str:
    args = f"({args})" if args else ""
    return f"{{ organizations{args} {{ edges {{ node {{ {fields} }} }} }} }}"


def slugs(response) -> list[str]:
    assert response.status_code == 200, response.content
    body = response.json()
    assert "errors" not in body, body["errors"]
    return [edge["node"]["slug"] for edge in body["data"]["organizations"]["edges"]]


def error_code(response) -> str:
    return response.json()["errors"][0]["extensions"]["code"]


@pytest.fixture
def reader(api):
    return api("camba-legal", scopes="orgs:read")


# --- authentication and scopes ------------------------------------------------


def assert_unauthorized(response, code: str):
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/json")
    assert response["WWW-Authenticate"].startswith("Bearer ")
    # RFC 6750: a refused token is named as such; a missing one is not an error.
    assert ('error="invalid_token"' in response["WWW-Authenticate"]) == (
        code != "not_authenticated")
    body = response.json()
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == code
    assert body["errors"][0]["message"]


def test_no_token_is_401(coalition):
    assert_unauthorized(APIClient().graphql(SERVICE_TYPES), "not_authenticated")


def test_a_garbage_token_is_401(coalition):
    assert_unauthorized(APIClient("garbage").graphql(SERVICE_TYPES), "invalid_token")


def test_an_expired_token_is_401(make_app, make_token):
    token = make_token(make_app("camba-legal"), expires_in=-10)

    assert_unauthorized(APIClient(token).graphql(SERVICE_TYPES), "invalid_token")


def test_a_revoked_token_is_401(make_app, make_token):
    from oauth2_provider.models import get_access_token_model

    app = make_app("camba-legal")
    client = APIClient(make_token(app))
    assert client.graphql(SERVICE_TYPES).status_code == 200

    get_access_token_model().objects.get(application=app).revoke()

    assert_unauthorized(client.graphql(SERVICE_TYPES), "invalid_token")


def test_a_get_without_a_token_is_401_too(coalition):
    response = APIClient().get("/graphql/", {"query": SERVICE_TYPES},
                               headers={"Accept": "application/json"})

    assert_unauthorized(response, "not_authenticated")


@pytest.mark.parametrize("query", [
    organizations(),
    '{ organization(slug: "cala") { slug } }',
    SERVICE_TYPES,
    '{ node(id: "T3JnYW5pemF0aW9uOjE=") { id } }',
])
def test_a_token_without_orgs_read_gets_insufficient_scope(api, query):
    response = api("nyc-council", scopes="reports:read").graphql(query)

    body = response.json()
    assert body["errors"][0]["extensions"]["code"] == "insufficient_scope"
    assert "orgs:read" in body["errors"][0]["message"]
    assert not any((body.get("data") or {}).values())


# --- filters, ordering, paging ------------------------------------------------


def test_the_list_shows_the_whole_seeded_coalition(reader):
    assert set(slugs(reader.graphql(organizations("first: 100")))) == ALL_SLUGS


@pytest.mark.parametrize("case_id, _rest, args, expected", FILTER_CASES,
                         ids=[case[0] for case in FILTER_CASES])
def test_filters_match_rest(reader, case_id, _rest, args, expected):
    found = slugs(reader.graphql(organizations(f"first: 100, {args}")))

    assert sorted(found) == sorted(expected)


@pytest.mark.parametrize("_rest, ordering, kinds, expected", ORDERING_CASES,
                         ids=[case[0] for case in ORDERING_CASES])
def test_ordering_matches_rest(reader, _rest, ordering, kinds, expected):
    kind_list = ", ".join(f'"{kind}"' for kind in kinds)

    found = slugs(reader.graphql(organizations(f'kind: [{kind_list}], ordering: "{ordering}"')))

    assert found == expected


def test_ordering_by_slug_and_reversed(reader):
    forward = slugs(reader.graphql(organizations('first: 100, ordering: "slug"')))
    backward = slugs(reader.graphql(organizations('first: 100, ordering: "-slug"')))

    assert forward[0] == "black-institute"
    assert backward == forward[::-1]


def test_filters_take_variables(reader):
    query = """query($kind: [String], $district: Int) {
      organizations(kind: $kind, district: $district) { edges { node { slug } } } }"""

    response = reader.graphql(query, {"kind": ["legal_nonprofit", "hotline"], "district": 38})

    assert sorted(slugs(response)) == ["idc-hotline", "vera-nyifup"]


def test_cursor_paging_walks_the_whole_directory(reader):
    query = """query($after: String) {
      organizations(first: 10, after: $after, ordering: "slug") {
        pageInfo { hasNextPage endCursor } edges { node { slug } } } }"""
    seen, after = [], None
    for _ in range(5):
        page = reader.graphql(query, {"after": after}).json()["data"]["organizations"]
        seen += [edge["node"]["slug"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]

    assert len(seen) == len(set(seen)) == 24


@pytest.mark.parametrize("args, word", [
    ("first: 1000", "first"),
    ("last: 1000", "last"),
    ("first: -1", "first"),
    ('offset: 2, before: "YXJyYXljb25uZWN0aW9uOjU="', "offset"),
])
def test_oversized_or_negative_pages_are_refused_as_a_client_error(reader, args, word):
    response = reader.graphql(organizations(args))

    assert response.status_code == 200
    body = response.json()
    assert body["data"]["organizations"] is None
    error = body["errors"][0]
    assert error["extensions"]["code"] == "validation_error"
    assert word in error["message"]
    assert "internal" not in error["message"].lower()


def test_the_page_limit_is_100(reader):
    assert len(slugs(reader.graphql(organizations("first: 100")))) == 24
    assert "100" in reader.graphql(organizations("first: 101")).json()["errors"][0]["message"]


def test_the_page_limit_applies_to_variables_too(reader):
    query = "query($n: Int) { organizations(first: $n) { edges { node { slug } } } }"

    response = reader.graphql(query, {"n": 500})

    assert error_code(response) == "validation_error"


@pytest.mark.parametrize("args, field", [
    ('kind: ["embassy"]', "kind"),
    ('ordering: "password"', "ordering"),
])
def test_invalid_filter_values_are_validation_errors(reader, args, field):
    response = reader.graphql(organizations(args))

    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "validation_error"
    assert [e["field"] for e in error["extensions"]["errors"]] == [field]
    assert error["message"].startswith(f"{field}: ")


def test_a_mistyped_filter_value_is_refused_before_execution(reader):
    response = reader.graphql(organizations('district: "abc"'))

    assert response.status_code == 400
    assert error_code(response) == "validation_error"
    assert "data" not in response.json()


# --- one organisation, service types, node ------------------------------------


def test_organization_by_slug(reader):
    query = """{ organization(slug: "cala") {
        slug name kind senateDistricts languages acceptingReferrals
        serviceTypes { code } capacity { available maximum } address { city region } } }"""

    response = reader.graphql(query)

    assert response.json() == {"data": {"organization": {
        "slug": "cala",
        "name": "Central American Legal Assistance (CALA)",
        "kind": "LEGAL_NONPROFIT",
        "senateDistricts": [13, 20, 34],
        "languages": ["en", "es"],
        "acceptingReferrals": True,
        "serviceTypes": [{"code": "asylum"}, {"code": "legal-consultation"},
                         {"code": "removal-defense"}, {"code": "stay-of-removal"}],
        "capacity": {"available": 8, "maximum": 30},
        "address": {"city": "Brooklyn", "region": "NY"},
    }}}


def test_an_unknown_slug_is_not_found(reader):
    response = reader.graphql('{ organization(slug: "no-such-org") { slug } }')

    body = response.json()
    assert body["data"]["organization"] is None
    assert body["errors"][0]["extensions"]["code"] == "not_found"


def test_service_types(reader):
    codes = [item["code"] for item in reader.graphql(SERVICE_TYPES).json()["data"]["serviceTypes"]]

    assert codes == sorted(codes)
    assert len(codes) == 13
    assert {"asylum", "stay-of-removal", "ice-checkin-accompaniment", "u-t-visa-vawa"} <= set(codes)


def test_node_refetches_an_organisation_by_global_id(reader):
    node_id = reader.graphql('{ organization(slug: "iana") { id } }').json()[
        "data"]["organization"]["id"]

    response = reader.graphql(
        "query($id: ID!) { node(id: $id) { id ... on Organization { slug } } }", {"id": node_id})

    assert response.json()["data"]["node"] == {"id": node_id, "slug": "iana"}


# --- query counts -------------------------------------------------------------

FULL_NODE = "slug kind senateDistricts languages serviceTypes { code name } capacity { available }"


def count_queries(client, first: int) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.graphql(organizations(f"first: {first}", FULL_NODE))
    assert len(slugs(response)) == first
    return len(queries)


def test_listing_costs_the_same_queries_for_5_or_24_organisations(reader):
    reader.graphql(SERVICE_TYPES)  # warm up

    small = count_queries(reader, 5)
    large = count_queries(reader, 24)

    assert small == large
    assert large <= 7  # token lookup, its organisation, count, page, three prefetches
