"""Fixtures for the security tests: the coalition seeded once per worker, the three
parties of a referral (sending office, receiving partner, an unrelated partner),
a coalition admin, and referrals made through the services."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date

import pytest
from django.core.management import call_command

from audit.models import AuditRecord
from core.principal import Principal
from orgs.models import Organization
from orgs.services import coalition_seed
from referrals import services
from referrals.models import Referral
from referrals.services import ClientInput, ConsentInput, OutcomeInput
from tests.conftest import CASEWORK_SCOPES, APIClient

ADMIN_SCOPES = f"{CASEWORK_SCOPES} admin"
SENDER = "sd13-peralta-office"
RECEIVER = "camba-legal"
OUTSIDER = "cala"

# A client whose every identifying value is distinctive enough to grep for.
GIVEN_NAME = "Zenaida"
FAMILY_NAME = "Quispewari"
A_NUMBER = "204718395"
DATE_OF_BIRTH = "1983-07-19"
PHONE = "718-555-0199"
EMAIL = "zenaida.q@example.org"
IDENTIFYING = (GIVEN_NAME, FAMILY_NAME, A_NUMBER, DATE_OF_BIRTH, PHONE, EMAIL)


@pytest.fixture(scope="package", autouse=True)
def seeded_coalition(django_db_setup, django_db_blocker):
    """Seed the coalition once per worker, committed; each test's transaction rolls
    back to it. Flushed on leaving the package, so other tests find the database as
    migrated."""
    with django_db_blocker.unblock():
        if not Organization.objects.exists():
            coalition_seed()
    yield
    with django_db_blocker.unblock():
        call_command("flush", interactive=False, verbosity=0)


def graphql_code(response) -> str:
    return response.json()["errors"][0]["extensions"]["code"]


def principal_of(client: APIClient) -> Principal:
    """The Principal an API client's token stands for (same organisation and app)."""
    return Principal(organization=client.org, application=client.app,
                     scopes=frozenset(client.app.allowed_scopes.split()))


@pytest.fixture
def office(api):
    return api(SENDER)


@pytest.fixture
def camba(api):
    return api(RECEIVER)


@pytest.fixture
def cala(api):
    return api(OUTSIDER)


@pytest.fixture
def admin(make_app, make_token):
    """A coalition administrator: the caucus's application holding the admin scope."""
    app = make_app("idc", scopes=ADMIN_SCOPES)
    client = APIClient(make_token(app))
    client.app = app
    client.org = app.organization
    return client


def client_input(**fields) -> ClientInput:
    values = {"given_name": GIVEN_NAME, "family_name": FAMILY_NAME, "phone": PHONE,
              "email": EMAIL, "a_number": A_NUMBER, "preferred_languages": ["es", "en"]}
    values.update(fields)
    if isinstance(values.get("date_of_birth"), str):
        values["date_of_birth"] = date.fromisoformat(values["date_of_birth"])
    values.setdefault("date_of_birth", None)
    return ClientInput(**values)


@dataclass
class Loop:
    referral: Referral
    sender: Principal
    receiver: Principal

    @property
    def id(self) -> uuid.UUID:
        return self.referral.pk

    @property
    def client(self):
        return self.referral.client


@pytest.fixture
def refer(office, camba):
    """make a referral office -> camba (through the services) for a new client or an
    existing one: refer(), refer(client=loop.client), refer(receiver=other_api)."""

    def make(*, sender: APIClient | None = None, receiver: APIClient | None = None,
             client=None, service_type: str = "asylum",
             summary: str = "Asylum screening before the one-year deadline.",
             **client_fields) -> Loop:
        sender_p = principal_of(sender or office)
        receiver_p = principal_of(receiver or camba)
        client_fields.setdefault("date_of_birth", DATE_OF_BIRTH)
        referral = services.referral_create(
            principal=sender_p, receiving_org=receiver_p.organization.slug,
            service_type=service_type, intake_channel="district-office", summary=summary,
            client_id=client.pk if client is not None else None,
            client=None if client is not None else client_input(**client_fields),
            consent=ConsentInput(method="verbal"))
        return Loop(referral=referral, sender=sender_p, receiver=receiver_p)

    return make


def move(loop: Loop, party: str, to: str, reason: str = "", outcomes=()) -> Referral:
    loop.referral = services.referral_transition(
        principal=loop.sender if party == "sender" else loop.receiver, referral_id=loop.id,
        to=to, reason=reason, expected_version=loop.referral.version,
        outcomes=[OutcomeInput(code) for code in outcomes])
    return loop.referral


def last_audit_id() -> int:
    return AuditRecord.objects.order_by("-id").values_list("id", flat=True).first() or 0


def audit_since(mark: int):
    return AuditRecord.objects.filter(id__gt=mark).order_by("id")
