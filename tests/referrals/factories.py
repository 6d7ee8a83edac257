"""Referrals in any status, made through the services, so tests don't repeat setup.

    loop = make_referral("on-hold", sender="sd13-peralta-office", receiver="camba-legal")
    loop.referral, loop.sender, loop.receiver   # the row and the two parties' Principals

Principals carry a real OAuth application (events record it), issued without
secret hashing so hundreds of them stay cheap.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from core.principal import Principal
from orgs.models import Language, OAuthApplication, Organization, ServiceType
from referrals import services
from referrals.models import (
    Client,
    EventKind,
    Referral,
    ReferralEvent,
    ReferralNote,
    ReferralOutcome,
    Status,
)
from referrals.services import ClientInput, ConsentInput, OutcomeInput
from tests.conftest import CASEWORK_SCOPES

CASEWORK = frozenset(CASEWORK_SCOPES.split())
SENDER = "sd13-peralta-office"
RECEIVER = "camba-legal"
SERVICE = "asylum"

ALL_STATUSES = [s.value for s in Status]


def _org(who) -> Organization:
    if isinstance(who, Organization):
        return who
    return Organization.objects.get(slug=who)


def application_for(who, scopes: frozenset[str] | str = CASEWORK) -> OAuthApplication:
    """An OAuth application for an organisation, issued directly (no hashing)."""
    org = _org(who)
    if not isinstance(scopes, str):
        scopes = " ".join(sorted(scopes))
    return OAuthApplication.objects.create(
        name=f"factory {org.slug} {secrets.token_hex(3)}", organization=org,
        client_type=OAuthApplication.CLIENT_CONFIDENTIAL,
        authorization_grant_type=OAuthApplication.GRANT_CLIENT_CREDENTIALS,
        client_secret=secrets.token_urlsafe(16), hash_client_secret=False,
        allowed_scopes=scopes)


def principal_for(who, scopes: frozenset[str] | str = CASEWORK) -> Principal:
    """A Principal for a slug, an Organization, an existing Principal (returned as
    is) or a tests.conftest.APIClient (same organisation and application)."""
    if isinstance(who, Principal):
        return who
    if isinstance(scopes, str):
        scopes = frozenset(scopes.split())
    if hasattr(who, "app") and hasattr(who, "org"):
        return Principal(organization=who.org, scopes=scopes, application=who.app)
    org = _org(who)
    return Principal(organization=org, scopes=scopes,
                     application=application_for(org, scopes))


def client_input(family_name: str = "Quispe", **fields) -> ClientInput:
    fields.setdefault("given_name", "Rosa")
    fields.setdefault("phone", "718-555-0134")
    fields.setdefault("email", "rosa@example.org")
    fields.setdefault("preferred_languages", ["es"])
    return ClientInput(family_name=family_name, **fields)


def make_client(by=SENDER, family_name: str = "Quispe", **fields) -> Client:
    return services.client_create(principal=principal_for(by),
                                  data=client_input(family_name, **fields))


@dataclass
class Loop:
    referral: Referral
    sender: Principal
    receiver: Principal

    @property
    def client(self) -> Client:
        return self.referral.client

    @property
    def id(self):
        return self.referral.pk

    def refresh(self) -> Referral:
        self.referral.refresh_from_db()
        return self.referral


# How each status is reached from requested: (party, to, reason, outcome codes).
PATHS: dict[str, list[tuple[str, str, str, list[str]]]] = {
    Status.REQUESTED: [],
    Status.ACCEPTED: [("receiver", Status.ACCEPTED, "", [])],
    Status.IN_PROGRESS: [("receiver", Status.ACCEPTED, "", []),
                         ("receiver", Status.IN_PROGRESS, "", [])],
    Status.ON_HOLD: [("receiver", Status.ACCEPTED, "", []),
                     ("receiver", Status.ON_HOLD, "Waiting for the client's documents", [])],
    Status.REJECTED: [("receiver", Status.REJECTED, "No capacity this month", [])],
    Status.COMPLETED: [("receiver", Status.ACCEPTED, "", []),
                       ("receiver", Status.COMPLETED, "", ["advice-given"])],
    Status.FAILED: [("receiver", Status.ACCEPTED, "", []),
                    ("receiver", Status.FAILED, "Client stopped answering",
                     ["client-unreachable"])],
    Status.CANCELLED: [("sender", Status.CANCELLED, "Client found other counsel", [])],
    Status.ENTERED_IN_ERROR: [("sender", Status.ENTERED_IN_ERROR, "Wrong client", [])],
}


def advance(loop: Loop, status: str) -> Loop:
    """Walk a fresh (requested) referral to ``status`` along PATHS."""
    for party, to, reason, codes in PATHS[status]:
        loop.referral = services.referral_transition(
            principal=loop.sender if party == "sender" else loop.receiver,
            referral_id=loop.id, to=to, reason=reason,
            expected_version=loop.referral.version,
            outcomes=[OutcomeInput(code) for code in codes])
    assert loop.referral.status == status
    return loop


def make_referral(status: str = Status.REQUESTED, *, sender=SENDER, receiver=RECEIVER,
                  service_type: str = SERVICE, client: Client | None = None,
                  consent: bool = True, family_name: str = "Quispe",
                  client_fields: dict | None = None, priority: str = "routine",
                  needed_by=None, intake_channel: str = "district-office",
                  summary: str = "Needs an asylum screening before the one-year deadline."
                  ) -> Loop:
    """A referral from ``sender`` to ``receiver`` in ``status``; a new client unless
    ``client`` is given. Sender and receiver are slugs, Organizations, Principals or
    API clients."""
    sender_p = principal_for(sender)
    receiver_p = principal_for(receiver)
    referral = services.referral_create(
        principal=sender_p, receiving_org=receiver_p.organization.slug,
        service_type=service_type, intake_channel=intake_channel,
        client_id=client.pk if client is not None else None,
        client=None if client is not None else client_input(family_name,
                                                             **(client_fields or {})),
        consent=ConsentInput("verbal") if consent else None,
        priority=priority, needed_by=needed_by, summary=summary)
    return advance(Loop(referral, sender_p, receiver_p), status)


def bulk_referrals(count: int, *, sender=SENDER,
                   receivers=("camba-legal", "cala", "vera-nyifup"),
                   service_type: str = "removal-defense", family_name: str = "Bulk") -> list:
    """``count`` referrals with a client, languages, an outcome, two events and a
    note each, written with bulk_create (fast; skips the services' checks)."""
    sender_org = _org(sender)
    receiver_orgs = [_org(slug) for slug in receivers]
    service = ServiceType.objects.get(code=service_type)
    languages = list(Language.objects.filter(code__in=["es", "en"]))
    application = application_for(sender_org)
    now = timezone.now()
    clients = Client.objects.bulk_create(
        Client(given_name=f"Client{i}", family_name=f"{family_name}{i:04d}",
               phone="718-555-0100", created_by_org=sender_org) for i in range(count))
    Through = Client.preferred_languages.through
    Through.objects.bulk_create(Through(client_id=c.pk, language_id=lang.pk)
                                for c in clients for lang in languages)
    referrals = Referral.objects.bulk_create(
        Referral(sending_org=sender_org, receiving_org=receiver_orgs[i % len(receiver_orgs)],
                 client=client, service_type=service, intake_channel="hotline",
                 status=Status.COMPLETED, version=2, created_by_application=application,
                 created_at=now - timedelta(minutes=i), updated_at=now - timedelta(minutes=i),
                 needed_by=now.date() + timedelta(days=7))
        for i, client in enumerate(clients))
    ReferralOutcome.objects.bulk_create(
        ReferralOutcome(referral=r, code="advice-given") for r in referrals)
    ReferralEvent.objects.bulk_create(
        [ReferralEvent(referral=r, kind=EventKind.CREATED, organization=sender_org,
                       actor_application=application, to_status=Status.REQUESTED, version=1)
         for r in referrals]
        + [ReferralEvent(referral=r, kind=EventKind.STATUS_CHANGED,
                         organization=r.receiving_org, from_status=Status.REQUESTED,
                         to_status=Status.COMPLETED, version=2) for r in referrals])
    ReferralNote.objects.bulk_create(
        ReferralNote(referral=r, author_org=sender_org, text=f"note {i}")
        for i, r in enumerate(referrals))
    return referrals
