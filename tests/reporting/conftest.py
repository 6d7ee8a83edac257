"""Fixtures for the reporting tests: the hand-counted casework, grants, principals
and API clients for an organisation, a funder and a coalition administrator."""

from __future__ import annotations

import pytest
from django.db import transaction

from core.principal import Principal
from orgs.models import Organization
from orgs.services import coalition_seed
from referrals.models import Referral
from tests.conftest import CASEWORK_SCOPES, APIClient

from .fixtures import FUNDER, build_casework, build_grants, build_many_small_cells

ADMIN_SCOPES = f"{CASEWORK_SCOPES} admin"
FUNDER_SCOPES = "orgs:read reports:read"


@pytest.fixture(autouse=True)
def fast_secret_hashing(settings):
    """Issuing an OAuth client hashes its secret with the production hasher; what
    these tests check is not hashing."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _shared(django_db_blocker, build):
    """Build a dataset once for a test module, inside a transaction rolled back at the
    module's end; each test runs in a savepoint inside it (as TestCase.setUpTestData)."""
    with django_db_blocker.unblock(), transaction.atomic():
        if not Organization.objects.exists():
            coalition_seed()
        assert not Referral.objects.exists(), "one shared dataset per test module"
        dataset = build()
        build_grants(dataset)
        yield dataset
        transaction.set_rollback(True)


@pytest.fixture(scope="module")
def _casework(django_db_setup, django_db_blocker):
    yield from _shared(django_db_blocker, build_casework)


@pytest.fixture(scope="module")
def _many_cells(django_db_setup, django_db_blocker):
    yield from _shared(django_db_blocker, build_many_small_cells)


@pytest.fixture
def casework(_casework, coalition):
    """The hand-counted dataset of tests/reporting/fixtures.py, with its grants."""
    return _casework


@pytest.fixture
def many_cells(_many_cells, coalition):
    """A seeded dataset full of small cells, with the same grants."""
    return _many_cells


@pytest.fixture
def principal(coalition):
    """A Principal for an organisation, as the API would build it (no HTTP)."""

    def make(slug: str, admin: bool = False) -> Principal:
        org = Organization.objects.get(slug=slug)
        scopes = FUNDER_SCOPES if org.kind == "funder" else CASEWORK_SCOPES
        if admin:
            scopes = ADMIN_SCOPES
        return Principal(organization=org, scopes=frozenset(scopes.split()))

    return make


@pytest.fixture
def admin_api(make_app, make_token):
    """The caucus's application holding the admin scope: a coalition administrator."""
    app = make_app("idc", scopes=ADMIN_SCOPES)
    client = APIClient(make_token(app))
    client.app = app
    client.org = app.organization
    return client


@pytest.fixture
def funder_api(api):
    return api(FUNDER)
