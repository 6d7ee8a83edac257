"""REST API of the coalition directory: authentication, scopes, filters, paging,
errors and query counts."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orgs.models import Organization
from tests.conftest import APIClient

from .directory_cases import ALL_SLUGS, FILTER_CASES, ORDERING_CASES
from tests.assertions import assert_problem

ORGS = "/api/v1/organizations/"


def slugs(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [org["slug"] for org in response.json()["results"]]


@pytest.fixture
def reader(api):
    """A partner system allowed to read the directory."""
    return api("camba-legal", scopes="orgs:read")


# --- authentication and scopes ------------------------------------------------


@pytest.mark.parametrize("path", [ORGS, f"{ORGS}cala/", "/api/v1/service-types/"])
def test_no_token_is_401_problem_with_a_bearer_challenge(coalition, path):
    response = APIClient().get(path)

    body = assert_problem(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer ")
    assert "/o/token/" in body["detail"]
    assert "results" not in body


def test_a_garbage_token_is_401_invalid_token(coalition):
    response = APIClient("not-a-real-token").get(ORGS)

    assert_problem(response, 401, "invalid_token")
    assert response["WWW-Authenticate"].startswith("Bearer ")


def test_an_expired_token_is_401_invalid_token(make_app, make_token):
    token = make_token(make_app("camba-legal"), expires_in=-10)

    response = APIClient(token).get(ORGS)

    assert_problem(response, 401, "invalid_token")
    assert response["WWW-Authenticate"].startswith("Bearer ")


def test_a_revoked_token_is_401_invalid_token(make_app, make_token):
    from oauth2_provider.models import get_access_token_model

    app = make_app("camba-legal")
    token = make_token(app)
    client = APIClient(token)
    assert client.get(ORGS).status_code == 200

    get_access_token_model().objects.get(application=app).revoke()

    assert_problem(client.get(ORGS), 401, "invalid_token")


def test_a_non_bearer_authorization_header_is_not_accepted(coalition):
    response = APIClient().get(ORGS, headers={"Authorization": "Basic dXNlcjpwYXNz"})

    assert_problem(response, 401, "not_authenticated")


def test_a_user_token_without_membership_is_refused(make_app, make_token, django_user_model):
    user = django_user_model.objects.create_user("drifter", password="pw-for-tests-only")
    token = make_token(make_app("camba-legal"), user=user)

    assert_problem(APIClient(token).get(ORGS), 401, "no_membership")


@pytest.mark.parametrize("path", [ORGS, f"{ORGS}cala/", "/api/v1/service-types/"])
def test_a_token_without_orgs_read_is_403_insufficient_scope(api, path):
    response = api("nyc-council", scopes="reports:read").get(path)

    body = assert_problem(response, 403, "insufficient_scope")
    assert "orgs:read" in body["detail"]


def test_write_methods_are_not_allowed_on_the_directory(reader):
    response = reader.post(ORGS, {"slug": "new-org", "name": "New", "kind": "law_firm"})

    assert_problem(response, 405, "method_not_allowed")
    assert not Organization.objects.filter(slug="new-org").exists()


# --- list, filters, ordering --------------------------------------------------


def test_the_list_shows_the_whole_seeded_coalition(reader):
    response = reader.get(ORGS, {"page_size": 100})

    body = response.json()
    assert body["count"] == len(ALL_SLUGS) == 24
    assert set(slugs(response)) == ALL_SLUGS
    assert body["next"] is None and body["previous"] is None


@pytest.mark.parametrize("case_id, params, _graphql, expected",
                         FILTER_CASES, ids=[case[0] for case in FILTER_CASES])
def test_filters(reader, case_id, params, _graphql, expected):
    response = reader.get(ORGS, {**params, "page_size": 100})

    found = slugs(response)
    assert sorted(found) == sorted(expected)  # also: no organisation listed twice
    assert response.json()["count"] == len(expected)


def test_the_active_filter_finds_an_inactive_organisation(reader):
    Organization.objects.filter(slug="iana").update(active=False)

    assert slugs(reader.get(ORGS, {"active": "false"})) == ["iana"]
    assert "iana" not in slugs(reader.get(ORGS, {"active": "true", "page_size": 100}))


@pytest.mark.parametrize("ordering, _graphql, kinds, expected", ORDERING_CASES,
                         ids=[case[0] for case in ORDERING_CASES])
def test_ordering(reader, ordering, _graphql, kinds, expected):
    assert slugs(reader.get(ORGS, {"kind": kinds, "ordering": ordering})) == expected


def test_ordering_by_slug_and_reversed(reader):
    forward = slugs(reader.get(ORGS, {"ordering": "slug", "page_size": 100}))
    backward = slugs(reader.get(ORGS, {"ordering": "-slug", "page_size": 100}))

    assert forward[0] == "black-institute"
    assert forward[-1] == "vera-nyifup"
    assert set(forward) == ALL_SLUGS
    assert backward == forward[::-1]


@pytest.mark.parametrize("params, field", [
    ({"district": "abc"}, "district"),
    ({"district": "13.5"}, "district"),
    ({"kind": "embassy"}, "kind"),
    ({"kind": ["funder", "embassy"]}, "kind"),
    ({"ordering": "password"}, "ordering"),
])
def test_invalid_filter_values_are_400_validation_error(reader, params, field):
    response = reader.get(ORGS, params)

    body = assert_problem(response, 400, "validation_error")
    assert [error["field"] for error in body["errors"]] == [field]


# --- paging -------------------------------------------------------------------


def test_pages_follow_one_another(reader):
    first = reader.get(ORGS, {"ordering": "slug", "page_size": 10})
    body = first.json()
    assert body["count"] == 24
    assert len(body["results"]) == 10
    assert body["previous"] is None

    second = reader.get(body["next"])
    third = reader.get(second.json()["next"])

    assert len(third.json()["results"]) == 4
    assert third.json()["next"] is None
    seen = slugs(first) + slugs(second) + slugs(third)
    assert len(seen) == len(set(seen)) == 24


def test_the_default_page_size_is_20(reader):
    body = reader.get(ORGS).json()

    assert len(body["results"]) == 20
    assert body["next"]


def test_page_size_is_capped_at_100(reader):
    Organization.objects.bulk_create(
        Organization(name=f"Extra partner {n:03}", slug=f"extra-{n:03}", kind="law_firm")
        for n in range(110)
    )

    body = reader.get(ORGS, {"page_size": 1000}).json()

    assert body["count"] == 134
    assert len(body["results"]) == 100
    assert body["next"]


def test_a_page_past_the_end_is_404_problem(reader):
    assert_problem(reader.get(ORGS, {"page": 99}), 404, "not_found")


# --- one organisation, service types ------------------------------------------


def test_retrieve_one_organisation_by_slug(reader):
    response = reader.get(f"{ORGS}cala/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "slug": "cala",
        "name": "Central American Legal Assistance (CALA)",
        "kind": "legal_nonprofit",
        "senate_districts": [13, 20, 34],
        "languages": ["en", "es"],
        "service_types": ["asylum", "legal-consultation", "removal-defense", "stay-of-removal"],
        "accepting_referrals": True,
        "capacity": {"available": 8, "maximum": 30},
        "phone": "",
        "email": "",
        "address": {"street": "", "city": "Brooklyn", "region": "NY", "postal_code": ""},
        "active": True,
        "created_at": response.json()["created_at"],
        "updated_at": response.json()["updated_at"],
    }


def test_the_hotline_shows_its_public_number(reader):
    body = reader.get(f"{ORGS}idc-hotline/").json()

    assert body["phone"] == "1-800-213-6385"
    assert body["kind"] == "hotline"
    assert body["senate_districts"] == [11, 13, 20, 23, 31, 34, 38, 53]


def test_an_unknown_slug_is_404_problem(reader):
    body = assert_problem(reader.get(f"{ORGS}no-such-org/"), 404, "not_found")

    assert body["instance"] == f"{ORGS}no-such-org/"


def test_service_types_list_the_taxonomy_codes(reader):
    response = reader.get("/api/v1/service-types/")

    assert response.status_code == 200
    codes = [item["code"] for item in response.json()]
    assert codes == sorted(codes)
    assert set(codes) == {
        "legal-consultation", "visa", "green-card", "removal-defense", "detained-defense",
        "asylum", "stay-of-removal", "ice-checkin-accompaniment", "executive-order-questions",
        "naturalization", "u-t-visa-vawa", "know-your-rights", "hotline-intake",
    }
    assert all(item.keys() == {"code", "name", "description"} for item in response.json())


def test_service_types_search_and_retrieve(reader):
    found = reader.get("/api/v1/service-types/", {"search": "VISA"}).json()
    one = reader.get("/api/v1/service-types/stay-of-removal/")

    assert {item["code"] for item in found} == {"visa", "u-t-visa-vawa"}
    assert one.json()["name"] == "Stay of deportation"
    assert_problem(reader.get("/api/v1/service-types/no-such-code/"), 404, "not_found")


# --- query counts -------------------------------------------------------------


def count_queries(client, params) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(ORGS, params)
    assert response.status_code == 200
    return len(queries)


def test_listing_costs_the_same_queries_for_5_or_24_organisations(reader):
    reader.get(ORGS)  # warm up anything cached per process

    small = count_queries(reader, {"page_size": 5})
    large = count_queries(reader, {"page_size": 24})
    filtered = count_queries(reader, {"page_size": 24, "district": 13, "language": "es"})

    assert small == large == filtered
    assert large <= 7  # token, its organisation, count, page, three prefetches
