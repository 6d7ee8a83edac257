"""Response headers: no sniffing, no framing, no referrer; CORS only for the origins
configured; and production's HTTPS settings (HSTS, redirect, secure cookies, no
introspection, no GraphiQL)."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.test import Client

from tests.conftest import APIClient

BASE_DIR = Path(__file__).resolve().parent.parent.parent
INTAKE = "https://intake.example.org"
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


@pytest.fixture
def partner(api):
    return api("camba-legal")


@pytest.mark.parametrize("request_kind", [
    "rest", "rest-problem-401", "rest-problem-404", "graphql", "graphql-401", "csv", "oauth",
])
def test_api_responses_carry_the_security_headers(partner, admin, request_kind):
    responses = {
        "rest": lambda: partner.get("/api/v1/organizations/"),
        "rest-problem-401": lambda: Client().get("/api/v1/referrals/"),
        "rest-problem-404": lambda: partner.get("/api/v1/no-such-thing/"),
        "graphql": lambda: partner.graphql("{ serviceTypes { code } }"),
        "graphql-401": lambda: APIClient().graphql("{ serviceTypes { code } }"),
        "csv": lambda: admin.get("/api/v1/audit-records/", {"format": "csv"}),
        "oauth": lambda: Client().post("/o/token/", {"grant_type": "client_credentials"}),
    }

    response = responses[request_kind]()

    for name, value in SECURITY_HEADERS.items():
        assert response[name] == value, (name, response.status_code)


@pytest.fixture
def cors(settings):
    settings.CORS_ALLOWED_ORIGINS = [INTAKE]


def preflight(origin: str, path: str = "/api/v1/referrals/", method: str = "POST",
              headers: str = "authorization, content-type, idempotency-key, if-match"):
    return Client().options(path, headers={
        "Origin": origin, "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": headers})


@pytest.mark.parametrize("path", ["/api/v1/referrals/", "/graphql/", "/o/token/"])
def test_a_preflight_from_the_intake_origin_is_allowed(cors, db, path):
    response = preflight(INTAKE, path)

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == INTAKE
    allowed = {h.strip().lower() for h in response["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "idempotency-key", "if-match", "content-type"} <= allowed
    assert "POST" in response["Access-Control-Allow-Methods"]
    # Bearer tokens, not cookies: browsers are not told to send credentials.
    assert "Access-Control-Allow-Credentials" not in response


@pytest.mark.parametrize("origin", ["https://evil.example.com", "http://intake.example.org",
                                    "https://intake.example.org.evil.com", "null"])
def test_other_origins_get_no_cors_headers(cors, db, origin):
    response = preflight(origin)

    assert "Access-Control-Allow-Origin" not in response
    assert "Access-Control-Allow-Headers" not in response


def test_no_origin_is_allowed_by_default(db):
    assert "Access-Control-Allow-Origin" not in preflight(INTAKE)


def test_cors_is_not_offered_outside_the_api(cors, db):
    response = preflight(INTAKE, "/admin/login/")

    assert "Access-Control-Allow-Origin" not in response


def test_a_cross_origin_read_may_see_the_etag_and_retry_after(cors, partner, refer):
    loop = refer()

    response = partner.get(f"/api/v1/referrals/{loop.id}/", headers={"Origin": INTAKE})

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == INTAKE
    exposed = {h.strip().lower() for h in response["Access-Control-Expose-Headers"].split(",")}
    assert {"etag", "retry-after", "location"} <= exposed


# --- production -------------------------------------------------------------------------------

PRODUCTION_PROBE = r"""
import json
import django
from django.conf import settings
django.setup()
from django.test import Client

names = ["DEBUG", "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_SSL_REDIRECT",
         "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY",
         "GRAPHQL_INTROSPECTION", "GRAPHIQL_ENABLED", "SECURE_CONTENT_TYPE_NOSNIFF",
         "X_FRAME_OPTIONS", "SECURE_REFERRER_POLICY", "CORS_ALLOWED_ORIGINS"]
out = {name: getattr(settings, name, None) for name in names}
out["SECURE_PROXY_SSL_HEADER"] = list(settings.SECURE_PROXY_SSL_HEADER or [])
client = Client(HTTP_HOST="api.example.org")
plain = client.get("/api/v1/organizations/")
out["http_status"], out["http_location"] = plain.status_code, plain.get("Location")
secure = client.get("/api/v1/organizations/", HTTP_X_FORWARDED_PROTO="https")
out["https_status"] = secure.status_code
out["https_hsts"] = secure.get("Strict-Transport-Security")
graphiql = client.get("/graphql/", HTTP_ACCEPT="text/html", HTTP_X_FORWARDED_PROTO="https")
out["graphiql_status"] = graphiql.status_code
out["graphiql_html"] = b"graphiql" in graphiql.content.lower()
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def production(tmp_path_factory):
    """config.settings under DJANGO_ENV=production, in a fresh interpreter."""
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("DJANGO_", "SECURE_", "GRAPHQL_", "CORS_"))
           and name not in ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL",
                            "FIELD_ENCRYPTION_KEYS")}
    env.update(DJANGO_ENV="production", DJANGO_SETTINGS_MODULE="config.settings",
               SECRET_KEY=secrets.token_urlsafe(64), ALLOWED_HOSTS="api.example.org",
               FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
               DATABASE_URL=f"sqlite:///{tmp_path_factory.mktemp('prod') / 'x.sqlite3'}")
    result = subprocess.run([sys.executable, "-c", PRODUCTION_PROBE], cwd=BASE_DIR, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_turns_on_https_and_secure_cookies(production):
    assert production["DEBUG"] is False
    assert production["SECURE_HSTS_SECONDS"] >= 31536000
    assert production["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert production["SECURE_SSL_REDIRECT"] is True
    assert production["SESSION_COOKIE_SECURE"] and production["CSRF_COOKIE_SECURE"]
    assert production["SESSION_COOKIE_HTTPONLY"] is True
    assert production["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]


def test_production_turns_off_introspection_and_graphiql(production):
    assert production["GRAPHQL_INTROSPECTION"] is False
    assert production["GRAPHIQL_ENABLED"] is False
    assert production["graphiql_html"] is False
    assert production["graphiql_status"] in (400, 401, 405)


def test_production_keeps_the_headers_and_allows_no_origin_by_default(production):
    assert production["SECURE_CONTENT_TYPE_NOSNIFF"] is True
    assert production["X_FRAME_OPTIONS"] == "DENY"
    assert production["SECURE_REFERRER_POLICY"] == "no-referrer"
    assert production["CORS_ALLOWED_ORIGINS"] == []


def test_production_redirects_plain_http_and_sends_hsts(production):
    assert production["http_status"] == 301
    assert production["http_location"].startswith("https://api.example.org/")
    assert production["https_status"] == 401  # reached the API: no token sent
    assert "max-age=31536000" in production["https_hsts"]
    assert "includeSubDomains" in production["https_hsts"]
