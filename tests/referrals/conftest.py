"""Fixtures for the referral tests: fast OAuth clients and a coalition admin."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from orgs.models import Organization
from orgs.services import coalition_seed
from tests.conftest import CASEWORK_SCOPES, APIClient

ADMIN_SCOPES = f"{CASEWORK_SCOPES} admin"


@pytest.fixture(scope="package", autouse=True)
def seeded_coalition(django_db_setup, django_db_blocker):
    """Seed the coalition once per worker, committed, instead of once per test (each
    test's transaction rolls back to it; the `coalition` fixture then finds it).
    Flushed on leaving the package, so other tests find the database as migrated."""
    with django_db_blocker.unblock():
        if not Organization.objects.exists():
            coalition_seed()
    yield
    with django_db_blocker.unblock():
        call_command("flush", interactive=False, verbosity=0)


@pytest.fixture(scope="module")
def reseed_after_flush(django_db_blocker):
    """For modules with transactional tests, which flush the database: put the
    package's committed seed back afterwards."""
    yield
    with django_db_blocker.unblock():
        if not Organization.objects.exists():
            coalition_seed()


@pytest.fixture(autouse=True)
def fast_secret_hashing(settings):
    """Issuing an OAuth client hashes its secret with the production hasher
    (~0.25 s each); these tests issue hundreds, and what they test is not hashing."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def admin_api(make_app, make_token):
    """A coalition administrator: the caucus's application holding the admin scope."""

    def make(scopes: str = ADMIN_SCOPES) -> APIClient:
        app = make_app("idc", scopes=ADMIN_SCOPES)
        client = APIClient(make_token(app, scopes=scopes))
        client.app = app
        client.org = app.organization
        return client

    return make
