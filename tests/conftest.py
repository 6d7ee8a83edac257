"""Shared fixtures: the seeded coalition, OAuth clients and tokens, API clients."""

from __future__ import annotations

import secrets
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import AccessToken, set_token_value

from config.celery import app as celery_app
from orgs.models import Membership, OAuthApplication, Organization
from orgs.services import coalition_seed, oauth_client_create

# Webhook deliveries queued by tests go to an in-memory broker, never to a Redis
# that a running `make demo` worker would consume (tests/live start their own).
celery_app.conf.broker_url = "memory://"

CASEWORK_SCOPES = "orgs:read referrals:read referrals:write reports:read"


@pytest.fixture(autouse=True)
def fast_client_secret_hashing(settings):
    """Client secrets and passwords are hashed with the first PASSWORD_HASHERS entry;
    PBKDF2 costs ~0.3 s a secret. MD5 is still a real hash, and fine for tests."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def coalition(db):
    """The seeded coalition directory (see orgs/coalition.py)."""
    if not Organization.objects.exists():
        coalition_seed()
    return {org.slug: org for org in Organization.objects.all()}


@pytest.fixture
def make_app(coalition):
    """An OAuth application for an organisation slug."""

    def make(slug: str, scopes: str = CASEWORK_SCOPES, **kwargs) -> OAuthApplication:
        org = Organization.objects.get(slug=slug)
        if org.kind == "funder":
            scopes = " ".join(s for s in scopes.split() if s in {"orgs:read", "reports:read"})
        if org.kind == "caucus" and "admin" not in scopes and kwargs.pop("admin", False):
            scopes += " admin"
        issued = oauth_client_create(organization=org, name=f"test {slug}",
                                     scopes=scopes.split(), **kwargs)
        app = issued.application
        app.plain_secret = issued.client_secret
        return app

    return make


@pytest.fixture
def make_token(db):
    """An access token string for an application (and optionally a user)."""

    def make(app: OAuthApplication, scopes: str | None = None, user=None,
             expires_in: int = 3600) -> str:
        raw = secrets.token_urlsafe(30)
        token = AccessToken(application=app, user=user,
                            scope=scopes if scopes is not None else app.allowed_scopes,
                            expires=timezone.now() + timedelta(seconds=expires_in))
        set_token_value(token, raw)
        token.save()
        return raw

    return make


class APIClient(Client):
    """Django test client that sends a bearer token and JSON bodies."""

    def __init__(self, token: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.token = token

    def _headers(self, headers):
        headers = dict(headers or {})
        if self.token:
            headers.setdefault("Authorization", f"Bearer {self.token}")
        return headers

    def get(self, path, data=None, headers=None, **extra):
        return super().get(path, data, headers=self._headers(headers), **extra)

    def post(self, path, data=None, headers=None, content_type="application/json", **extra):
        return super().post(path, data, content_type=content_type,
                            headers=self._headers(headers), **extra)

    def graphql(self, query: str, variables: dict | None = None, headers=None):
        payload = {"query": query}
        if variables is not None:
            payload["variables"] = variables
        return self.post("/graphql/", payload, headers=headers)


@pytest.fixture
def api(make_app, make_token):
    """An API client acting for an organisation: api("camba-legal", scopes=...)."""

    def make(slug: str | None = None, scopes: str | None = None, **token_kwargs) -> APIClient:
        if slug is None:
            return APIClient()
        app = make_app(slug)
        client = APIClient(make_token(app, scopes=scopes, **token_kwargs))
        client.app = app
        client.org = app.organization
        return client

    return make


@pytest.fixture
def member(coalition, django_user_model):
    """A user who works at an organisation in a role."""

    def make(slug: str, role: str = "caseworker", username: str | None = None):
        user = django_user_model.objects.create_user(
            username=username or f"{role}.{slug}", password="pw-for-tests-only")
        Membership.objects.create(user=user, organization=coalition[slug], role=role)
        return user

    return make
