"""Fixtures for the webhook tests: the seeded coalition, webhook-capable clients,
a local receiver, and the Celery app on its in-memory broker."""

from __future__ import annotations

import pytest

from core.scopes import WEBHOOKS_MANAGE
from tests.conftest import CASEWORK_SCOPES, APIClient
from tests.referrals.conftest import fast_secret_hashing, seeded_coalition  # noqa: F401
from tests.webhook_receiver import Receiver

INTEGRATION_SCOPES = f"{CASEWORK_SCOPES} {WEBHOOKS_MANAGE}"


@pytest.fixture
def hook_api(make_app, make_token):
    """An API client for an organisation holding webhooks:manage (or other scopes)."""

    def make(slug: str, scopes: str = INTEGRATION_SCOPES) -> APIClient:
        app = make_app(slug, scopes=INTEGRATION_SCOPES)
        client = APIClient(make_token(app, scopes=scopes))
        client.app = app
        client.org = app.organization
        return client

    return make


@pytest.fixture
def receiver():
    with Receiver() as hook:
        yield hook


@pytest.fixture
def local_targets(settings):
    """Allow http:// and 127.0.0.1, as in development, so the local receiver can be used."""
    settings.WEBHOOK_ALLOW_LOCAL_TARGETS = True
    return settings
