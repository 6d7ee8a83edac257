"""OAuth2 through the real endpoints: client credentials, authorization code with
PKCE, refresh-token rotation, and what a token may do once issued."""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlparse

import pytest
from django.conf import settings
from django.shortcuts import resolve_url
from django.test import Client, RequestFactory
from oauth2_provider.models import get_access_token_model

from orgs.auth import authenticate_request
from orgs.models import OAuthApplication, Organization

CALLBACK = "https://client.example.org/cb"
CASEWORK = {"orgs:read", "referrals:read", "referrals:write", "reports:read"}


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def client_credentials(app, secret: str | None = None, **data):
    return Client().post(
        "/o/token/", {"grant_type": "client_credentials", **data},
        headers={"Authorization": basic(app.client_id, secret or app.plain_secret)},
    )


def list_orgs(token: str):
    return Client().get("/api/v1/organizations/", headers={"Authorization": f"Bearer {token}"})


def access_token_row(raw: str):
    checksum = hashlib.sha256(raw.encode()).hexdigest()
    return get_access_token_model().objects.get(token_checksum=checksum)


# --- client credentials -------------------------------------------------------


def test_client_credentials_issue_a_one_hour_bearer_token_that_works(make_app):
    app = make_app("camba-legal")

    response = client_credentials(app)

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert "refresh_token" not in body  # client credentials never get one
    assert set(body["scope"].split()) == CASEWORK  # no scope asked: all the app may hold
    assert list_orgs(body["access_token"]).status_code == 200


def test_client_credentials_grant_only_the_scopes_asked_for(make_app):
    app = make_app("camba-legal")

    response = client_credentials(app, scope="orgs:read")

    assert response.status_code == 200
    assert response.json()["scope"] == "orgs:read"
    assert access_token_row(response.json()["access_token"]).scope == "orgs:read"


def test_client_credentials_refuse_a_scope_outside_the_apps_allowed_scopes(make_app):
    app = make_app("camba-legal", scopes="orgs:read")

    response = client_credentials(app, scope="orgs:read referrals:write")

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


def test_a_funder_app_never_gets_referral_scopes(make_app):
    app = make_app("nyc-council")
    assert app.allowed_scope_set == {"orgs:read", "reports:read"}

    refused = client_credentials(app, scope="referrals:read")
    default = client_credentials(app)

    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_scope"
    assert default.status_code == 200
    assert set(default.json()["scope"].split()) == {"orgs:read", "reports:read"}


def test_org_kind_caps_scopes_even_if_the_app_row_lists_more(make_app):
    """Defence in depth: a funder app whose stored allowed_scopes were tampered with
    still cannot be granted a referrals scope."""
    app = make_app("nyc-council")
    OAuthApplication.objects.filter(pk=app.pk).update(
        allowed_scopes="orgs:read referrals:read referrals:write reports:read")

    refused = client_credentials(app, scope="orgs:read referrals:read")
    default = client_credentials(app)

    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_scope"
    assert set(default.json()["scope"].split()) == {"orgs:read", "reports:read"}


def test_a_stored_token_with_extra_scopes_only_carries_what_policy_allows(make_app, make_token):
    app = make_app("nyc-council")
    raw = make_token(app, scopes="orgs:read referrals:read referrals:write reports:read")
    request = RequestFactory().get("/api/v1/organizations/",
                                   headers={"Authorization": f"Bearer {raw}"})

    principal = authenticate_request(request)

    assert principal.organization.slug == "nyc-council"
    assert principal.scopes == {"orgs:read", "reports:read"}
    assert principal.user is None


def test_a_wrong_client_secret_is_refused(make_app):
    app = make_app("camba-legal")

    response = client_credentials(app, secret="not-the-secret")

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_the_client_secret_is_stored_hashed(make_app):
    app = make_app("camba-legal")

    stored = OAuthApplication.objects.get(pk=app.pk).client_secret

    assert stored != app.plain_secret
    assert app.plain_secret not in stored


def test_tokens_are_not_stored_in_plaintext(make_app):
    app = make_app("camba-legal")
    raw = client_credentials(app).json()["access_token"]

    assert access_token_row(raw).token in ("", None)


def test_an_access_token_in_the_query_string_is_not_accepted(make_app):
    raw = client_credentials(make_app("camba-legal")).json()["access_token"]

    response = Client().get("/api/v1/organizations/", {"access_token": raw})

    assert response.status_code == 401


def test_a_token_of_an_inactive_organisation_is_refused(make_app, make_token):
    app = make_app("cala")
    raw = make_token(app)
    Organization.objects.filter(slug="cala").update(active=False)

    response = list_orgs(raw)

    assert response.status_code == 401
    assert response.json()["code"] == "organization_inactive"


# --- authorization code + PKCE ------------------------------------------------


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(
        hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


@pytest.fixture
def web_app(make_app):
    """A public interactive client of the caucus (it may hold every scope)."""
    return make_app("idc", grant="authorization-code", redirect_uris=[CALLBACK], public=True,
                    admin=True)


def authorize(browser: Client, app, challenge: str | None, *, scope: str = "orgs:read",
              method: str | None = "S256", redirect_uri: str = CALLBACK, state: str = "st-42"):
    params = {"response_type": "code", "client_id": app.client_id,
              "redirect_uri": redirect_uri, "scope": scope, "state": state}
    if challenge is not None:
        params["code_challenge"] = challenge
    if method is not None:
        params["code_challenge_method"] = method
    return browser.get("/o/authorize/", params)


def approve(browser: Client, consent_page):
    """Press "Authorize" on DOT's consent form (the hidden fields carry the request)."""
    assert consent_page.status_code == 200, consent_page.content
    form = consent_page.context["form"]
    data = {name: value for name, value in form.initial.items() if value is not None}
    data["allow"] = "Authorize"
    return browser.post("/o/authorize/", data)


def through_consent(browser: Client, response):
    """Approve when DOT shows a consent page; some refusals come only after it."""
    return approve(browser, response) if response.status_code == 200 else response


def redirect_params(response) -> dict[str, str]:
    assert response.status_code == 302, response.content
    location = urlparse(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == CALLBACK
    return {key: values[0] for key, values in parse_qs(location.query).items()}


def exchange(app, code: str, verifier: str, redirect_uri: str = CALLBACK):
    return Client().post("/o/token/", {
        "grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
        "client_id": app.client_id, "code_verifier": verifier,
    })


def refresh(app, refresh_token: str):
    return Client().post("/o/token/", {"grant_type": "refresh_token",
                                       "refresh_token": refresh_token,
                                       "client_id": app.client_id})


def login(member, slug: str, role: str) -> tuple[Client, object]:
    user = member(slug, role)
    browser = Client()
    browser.force_login(user)
    return browser, user


def code_flow(browser, app, scope: str) -> dict:
    verifier, challenge = pkce_pair()
    params = redirect_params(approve(browser, authorize(browser, app, challenge, scope=scope)))
    assert params["state"] == "st-42"
    response = exchange(app, params["code"], verifier)
    assert response.status_code == 200, response.content
    return response.json()


def test_authorization_code_with_pkce_end_to_end(web_app, member):
    browser, user = login(member, "sd13-peralta-office", "intake")
    verifier, challenge = pkce_pair()

    consent = authorize(browser, web_app, challenge, scope="orgs:read referrals:read")
    assert consent.context["form"].initial["code_challenge_method"] == "S256"
    params = redirect_params(approve(browser, consent))
    assert params["state"] == "st-42"
    assert params["iss"]  # RFC 9207 issuer identifier in the authorization response
    tokens = exchange(web_app, params["code"], verifier)

    assert tokens.status_code == 200, tokens.content
    body = tokens.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["refresh_token"]
    assert set(body["scope"].split()) == {"orgs:read", "referrals:read"}
    assert list_orgs(body["access_token"]).status_code == 200

    # The token acts for the person's organisation, not the application's (the caucus).
    request = RequestFactory().get("/", headers={"Authorization": f"Bearer {body['access_token']}"})
    principal = authenticate_request(request)
    assert principal.organization.slug == "sd13-peralta-office"
    assert principal.user == user
    assert principal.application.organization.slug == "idc"
    assert principal.scopes == {"orgs:read", "referrals:read"}
    assert not principal.is_admin


def test_the_code_can_be_used_only_once(web_app, member):
    browser, _ = login(member, "camba-legal", "caseworker")
    verifier, challenge = pkce_pair()
    params = redirect_params(approve(browser, authorize(browser, web_app, challenge)))

    assert exchange(web_app, params["code"], verifier).status_code == 200
    again = exchange(web_app, params["code"], verifier)

    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"


@pytest.mark.parametrize("slug, role, scope", [
    ("sd13-peralta-office", "intake", "orgs:read reports:read"),  # role has no reports
    ("sd13-peralta-office", "caseworker", "orgs:read admin"),  # only coalition admins
    ("nyc-council", "funder_analyst", "orgs:read referrals:read"),  # funders: never
])
def test_a_person_cannot_authorise_scopes_beyond_their_role_and_org(web_app, member, slug,
                                                                       role, scope):
    browser, _ = login(member, slug, role)
    _, challenge = pkce_pair()

    params = redirect_params(approve(browser, authorize(browser, web_app, challenge, scope=scope)))

    assert "code" not in params
    assert params["error"] == "invalid_scope"


def test_a_coalition_admin_can_authorise_the_admin_scope(web_app, member):
    browser, _ = login(member, "idc", "coalition_admin")

    body = code_flow(browser, web_app, "orgs:read admin")

    assert set(body["scope"].split()) == {"orgs:read", "admin"}


def test_the_plain_pkce_method_is_refused(web_app, member):
    browser, _ = login(member, "camba-legal", "caseworker")
    verifier, _ = pkce_pair()

    params = redirect_params(
        through_consent(browser, authorize(browser, web_app, verifier, method="plain")))

    assert "code" not in params
    assert params["error"] == "invalid_request"
    assert "S256" in params["error_description"]


def test_an_authorization_request_without_pkce_is_refused(web_app, member):
    browser, _ = login(member, "camba-legal", "caseworker")

    params = redirect_params(through_consent(browser, authorize(browser, web_app, None,
                                                                method=None)))

    assert "code" not in params
    assert params["error"] == "invalid_request"


def test_a_wrong_code_verifier_is_refused(web_app, member):
    browser, _ = login(member, "camba-legal", "caseworker")
    _, challenge = pkce_pair()
    params = redirect_params(approve(browser, authorize(browser, web_app, challenge)))

    response = exchange(web_app, params["code"], pkce_pair()[0])

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


@pytest.mark.parametrize("redirect_uri", [
    "https://client.example.org/cb/evil",
    "https://evil.example.org/cb",
    "http://client.example.org/cb",
])
def test_a_redirect_uri_other_than_the_registered_one_is_refused(web_app, member, redirect_uri):
    browser, _ = login(member, "camba-legal", "caseworker")
    _, challenge = pkce_pair()

    response = authorize(browser, web_app, challenge, redirect_uri=redirect_uri)

    # Never redirect to an unregistered address: DOT shows an error page instead.
    assert response.status_code == 400
    assert not response.has_header("Location")
    assert b"redirect" in response.content.lower()


def test_an_anonymous_visitor_is_sent_to_log_in(web_app):
    _, challenge = pkce_pair()

    response = authorize(Client(), web_app, challenge)

    assert response.status_code == 302
    assert response["Location"].startswith(resolve_url(settings.LOGIN_URL) + "?next=/o/authorize/")


def test_refresh_tokens_rotate_and_a_reused_one_revokes_the_family(web_app, member):
    browser, _ = login(member, "camba-legal", "caseworker")
    first = code_flow(browser, web_app, "orgs:read referrals:read")

    second = refresh(web_app, first["refresh_token"])
    assert second.status_code == 200, second.content
    second = second.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert set(second["scope"].split()) == {"orgs:read", "referrals:read"}
    assert list_orgs(second["access_token"]).status_code == 200

    # Replaying the rotated-out refresh token fails...
    replay = refresh(web_app, first["refresh_token"])
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    # ...and, as a sign of theft, revokes everything issued from it.
    assert refresh(web_app, second["refresh_token"]).status_code == 400
    assert list_orgs(second["access_token"]).status_code == 401


# --- revocation ---------------------------------------------------------------


def test_revoking_through_the_endpoint_makes_the_token_useless(make_app):
    app = make_app("camba-legal")
    raw = client_credentials(app).json()["access_token"]
    assert list_orgs(raw).status_code == 200

    response = Client().post("/o/revoke_token/", {"token": raw},
                             headers={"Authorization": basic(app.client_id, app.plain_secret)})

    assert response.status_code == 200
    assert list_orgs(raw).status_code == 401
