"""GET /api/v1/me/ and { me }: a token learns whom it acts for."""

import pytest


@pytest.mark.parametrize("scopes", ["orgs:read referrals:read", "reports:read"])
def test_rest_me_names_the_organisation_and_scopes(api, scopes):
    camba = api("camba-legal", scopes=scopes)
    response = camba.get("/api/v1/me/")
    assert response.status_code == 200
    assert response.json() == {
        "organization": "camba-legal", "organization_name": camba.org.name,
        "organization_kind": "legal_nonprofit", "scopes": sorted(scopes.split()),
        "client_id": camba.app.client_id, "username": None}


def test_graphql_me_is_the_same(api, member, make_app, make_token):
    from tests.conftest import APIClient

    user = member("camba-legal", role="caseworker")
    app = make_app("camba-legal")
    client = APIClient(make_token(app, scopes="orgs:read", user=user))
    body = client.graphql("{ me { organization { slug kind } scopes clientId username } }")
    assert body.json()["data"]["me"] == {
        "organization": {"slug": "camba-legal", "kind": "LEGAL_NONPROFIT"},
        "scopes": ["orgs:read"], "clientId": app.client_id, "username": user.username}
    assert client.get("/api/v1/me/").json()["username"] == user.username


def test_me_needs_a_token(api):
    response = api().get("/api/v1/me/")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert api().graphql("{ me { scopes } }").status_code == 401


def test_a_funder_learns_it_holds_no_referral_scope(api):
    body = api("nyc-council").get("/api/v1/me/").json()
    assert body["organization_kind"] == "funder"
    assert not any(scope.startswith(("referrals", "webhooks")) for scope in body["scopes"])
