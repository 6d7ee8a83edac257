"""Reads that span relations: referral lists shaped for the APIs, and routing."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import (
    BigIntegerField,
    BooleanField,
    Case,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.utils import timezone

from core.errors import DomainError, NotFound
from orgs.models import Language, Organization, SenateDistrict, ServiceType
from orgs.selectors import organization_list

from . import rules
from .models import (
    Appointment,
    Client,
    Consent,
    Referral,
    ReferralEvent,
    ReferralNote,
    ReferralOutcome,
)


def by_id(queryset: QuerySet, pk):
    """The row of ``queryset`` with this id, or None. A URL id that is no UUID
    names no row (rather than raising, which would be a 500)."""
    try:
        return queryset.filter(pk=pk).first()
    except ValidationError:
        return None


def referral_list(principal, *, with_events: bool = False, with_org_details: bool = False,
                  with_notes: bool = False) -> QuerySet[Referral]:
    """Referrals visible to the principal, with what a page of them shows
    loaded in a constant number of queries."""
    queryset = (
        Referral.objects.visible_to(principal)
        .select_related("client", "client__primary_language", "client__created_by_org",
                        "sending_org", "receiving_org",
                        "service_type", "district", "assignee", "sender_owner")
        .prefetch_related(
            Prefetch("outcomes", queryset=ReferralOutcome.objects.order_by("id")),
            Prefetch("appointments", queryset=Appointment.objects.order_by("at", "id")),
            Prefetch("client__preferred_languages", queryset=Language.objects.order_by("code")),
        )
    )
    if with_events:
        queryset = queryset.prefetch_related(
            Prefetch("events", queryset=ReferralEvent.objects.select_related(
                "organization", "actor_user", "actor_application").order_by("at", "id")))
    if with_notes:
        queryset = queryset.prefetch_related(
            Prefetch("notes", queryset=ReferralNote.objects.select_related(
                "author_org", "author_user").order_by("created_at", "id")))
    if with_org_details:
        for relation in ("sending_org", "receiving_org"):
            queryset = queryset.prefetch_related(
                Prefetch(f"{relation}__senate_districts",
                         queryset=SenateDistrict.objects.order_by("number")),
                Prefetch(f"{relation}__languages", queryset=Language.objects.order_by("code")),
                Prefetch(f"{relation}__service_types",
                         queryset=ServiceType.objects.order_by("code")),
            )
    return queryset


def client_list(principal) -> QuerySet[Client]:
    return Client.objects.visible_to(principal).select_related(
        "created_by_org", "primary_language").prefetch_related(
        Prefetch("preferred_languages", queryset=Language.objects.order_by("code")))


def client_consents(principal, client) -> QuerySet[Consent]:
    """Minimum necessary: the organisation that recorded the client (and coalition
    admins) see all its consents; another sees those it captured or is named in."""
    consents = client.consents.select_related("shared_with", "captured_by_org")
    org = principal.organization
    if principal.is_admin or client.created_by_org_id == org.pk:
        return consents
    return consents.filter(Q(shared_with=org) | Q(captured_by_org=org))


def visible_referral(principal, referral_id) -> Referral:
    """One referral through the read gate, or 404 (never 403: it does not exist for you)."""
    referral = by_id(Referral.objects.visible_to(principal), referral_id)
    if referral is None:
        raise NotFound("No referral with this id is visible to your organisation.")
    return referral


def visible_client(principal, client_id) -> Client:
    """One client through the read gate, or 404."""
    client = by_id(Client.objects.visible_to(principal), client_id)
    if client is None:
        raise NotFound("No client with this id is visible to your organisation.")
    return client


def referral_events(principal, referral_id) -> QuerySet[ReferralEvent]:
    referral = visible_referral(principal, referral_id)
    return ReferralEvent.objects.filter(referral=referral).select_related(
        "organization", "actor_user", "actor_application").order_by("at", "id")


def referral_chain(principal, referral_id) -> list[Referral]:
    """Every referral of the chain ``referral_id`` is on (the first one and all
    forwarded down from it), oldest first, to any organisation on one of them (and
    coalition admins); 404 to everyone else. Each link carries its organisations,
    service, status, dates and outcome codes, never client data: the client's own
    details stay on the referrals a caller is party to."""
    links = None
    row = by_id(Referral.objects.only("pk", "chain_root_id"), referral_id)
    if row is not None:
        root = row.chain_root_pk
        links = Referral.objects.filter(Q(pk=root) | Q(chain_root_id=root))
        if not links.visible_to(principal).exists():
            links = None
    if links is None:
        raise NotFound("No referral with this id is visible to your organisation.")
    return list(links.select_related("sending_org", "receiving_org", "service_type")
                .prefetch_related(Prefetch("outcomes", queryset=ReferralOutcome.objects
                                           .order_by("recorded_at", "id")))
                .order_by("created_at", "id"))


def referral_appointments(principal, referral_id) -> QuerySet[Appointment]:
    referral = visible_referral(principal, referral_id)
    return Appointment.objects.filter(referral=referral).select_related(
        "created_by_org").order_by("at", "id")


def referral_notes(principal, referral_id) -> QuerySet[ReferralNote]:
    referral = visible_referral(principal, referral_id)
    return ReferralNote.objects.filter(referral=referral).select_related(
        "author_org", "author_user").order_by("created_at", "id")


# --- incremental sync -----------------------------------------------------------------

# Below the xmin of a PostgreSQL snapshot every transaction has finished: no change
# keyed below it can still appear. SQLite has no concurrent writers, hence no bound.
PG_COMMITTED_HORIZON = "pg_snapshot_xmin(pg_current_snapshot())::text::bigint"
SQLITE_COMMITTED_HORIZON = "SELECT COALESCE(MAX(change_seq), 0) + 1 FROM referrals_referral"


@dataclass(frozen=True)
class SyncPosition:
    """Where a partner's feed stands: after (seq, id), or from ``seq`` on when ``id``
    is None. ``updated_after``/``horizon``: a first sync asked only for referrals
    changed after that instant, among those committed before ``horizon``."""

    seq: int = 0
    id: uuid.UUID | None = None
    updated_after: datetime | None = None
    horizon: int | None = None

    def encode(self) -> str:
        data: dict = {"s": self.seq}
        if self.id is not None:
            data["i"] = str(self.id)
        if self.updated_after is not None:
            data["u"] = self.updated_after.isoformat()
            data["b"] = self.horizon
        raw = json.dumps(data, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> SyncPosition:
        invalid = DomainError("invalid_sync_token",
                              "`since` is not a sync token this API handed out.", field="since")
        if not rules.SYNC_TOKEN.matches(token):
            raise invalid
        try:
            data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
            if not isinstance(data, dict) or not set(data) <= {"s", "i", "u", "b"}:
                raise ValueError(data)
            seq, horizon = data.get("s"), data.get("b")
            if not _whole(seq) or ("u" in data) != ("b" in data) or (
                    "b" in data and not _whole(horizon)):
                raise ValueError(data)
            row_id = uuid.UUID(data["i"]) if "i" in data else None
            updated_after = datetime.fromisoformat(data["u"]) if "u" in data else None
            if updated_after is not None:
                if updated_after.tzinfo is None:
                    raise ValueError(data)
                # In UTC, as the API wrote it: PostgreSQL refuses offsets over 15:59.
                updated_after = updated_after.astimezone(UTC)
        except (ValueError, TypeError, AttributeError, OverflowError, binascii.Error):
            raise invalid from None
        return cls(seq=seq, id=row_id, updated_after=updated_after, horizon=horizon)


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**63


@dataclass
class ChangesPage:
    referrals: list[Referral]
    next_since: str
    more: bool


def _committed_horizon() -> int:
    """A change key that every change committed from now on is at or above."""
    sql = (f"SELECT {PG_COMMITTED_HORIZON}" if connection.vendor == "postgresql"
           else SQLITE_COMMITTED_HORIZON)
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]


def _instant(value: datetime) -> datetime:
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    try:
        return value.astimezone(UTC)
    except OverflowError:  # e.g. 9999-12-31T23:00-05:00
        raise DomainError("date_out_of_range", "`updated_after` is out of range.",
                          field="updated_after") from None


def referral_changes(principal, *, since: str | None = None,
                     updated_after: datetime | None = None, limit: int = 50,
                     **list_options) -> ChangesPage:
    """Referrals visible to the principal that changed after the position ``since``
    names (on a first sync: all, or those changed after ``updated_after``), ordered by
    (change_seq, id), with the token for the next call. ``list_options``: referral_list's.

    Why xmin bounds the feed: change_seq is a transaction id, taken at its first write,
    so ids are not commit order; but every transaction below the snapshot's xmin has
    finished, so nothing can still commit behind a cursor that stays below it."""
    if since is not None and updated_after is not None:
        raise DomainError("invalid_sync_request",
                          "Send `updated_after` on the first sync only; afterwards `since`.")
    if since is not None:
        position = SyncPosition.decode(since)
    elif updated_after is not None:
        position = SyncPosition(updated_after=_instant(updated_after),
                               horizon=_committed_horizon())
    else:
        position = SyncPosition()
    limit = max(1, min(limit, settings.API_MAX_PAGE_SIZE))

    queryset = referral_list(principal, **list_options)
    if position.id is None:
        queryset = queryset.filter(change_seq__gte=position.seq)
    else:
        queryset = queryset.filter(
            Q(change_seq__gt=position.seq) | Q(change_seq=position.seq, id__gt=position.id),
            change_seq__gte=position.seq)  # the same rows; lets the index bound the scan
    if position.updated_after is not None:
        queryset = queryset.filter(Q(updated_at__gt=position.updated_after)
                                   | Q(change_seq__gte=position.horizon))
    if connection.vendor == "postgresql":
        # A subquery, so that it is computed once (an InitPlan), not once per row.
        queryset = queryset.filter(change_seq__lt=RawSQL(f"SELECT {PG_COMMITTED_HORIZON}", [],
                                                         output_field=BigIntegerField()))
    rows = list(queryset.order_by("change_seq", "id")[:limit + 1])
    page, more = rows[:limit], len(rows) > limit

    if page:
        last = page[-1]
        next_since = SyncPosition(seq=last.change_seq, id=last.pk,
                                  updated_after=position.updated_after,
                                  horizon=position.horizon).encode()
    else:
        next_since = since if since is not None else position.encode()
    return ChangesPage(referrals=page, next_since=next_since, more=more)


def routing_suggestions(*, principal, service_type: str, language: str | None = None,
                        district: int | None = None, limit: int = 20) -> list[Organization]:
    """Organisations that could take a referral, best first: each offers the service and
    accepts referrals; ranked by language, district, then free capacity. Each result
    carries ``speaks_language``, ``serves_district``, ``has_capacity`` and ``score``."""
    if not ServiceType.objects.filter(code=service_type).exists():
        raise DomainError("unknown_service_type", f"No service type {service_type!r}.",
                          field="service_type")
    district = rules.DISTRICT.clean(district)
    language = rules.ROUTING_LANGUAGE.clean(language) or None
    if language and not Language.objects.filter(code=language).exists():
        raise DomainError("unknown_language", f"No language {language!r}.", field="language")
    false = Value(False, output_field=BooleanField())
    speaks = Exists(Organization.languages.through.objects.filter(
        organization_id=OuterRef("pk"), language__code=language)) if language else false
    serves = Exists(Organization.senate_districts.through.objects.filter(
        organization_id=OuterRef("pk"), senatedistrict__number=district)) if district else false
    has_capacity = Q(capacity_available__isnull=True) | Q(capacity_available__gt=0)
    queryset = (
        organization_list()
        .filter(active=True, accepting_referrals=True, service_types__code=service_type)
        .exclude(pk=principal.organization.pk)
        .annotate(
            speaks_language=speaks,
            serves_district=serves,
            has_capacity=Case(When(has_capacity, then=Value(True)), default=false,
                              output_field=BooleanField()),
        )
        .annotate(score=(
            Case(When(speaks_language=True, then=Value(4)), default=Value(0),
                 output_field=IntegerField())
            + Case(When(serves_district=True, then=Value(2)), default=Value(0),
                   output_field=IntegerField())
            + Case(When(has_capacity=True, then=Value(1)), default=Value(0),
                   output_field=IntegerField())))
        .order_by("-score", F("capacity_available").desc(nulls_last=True), "name")
    )
    return list(queryset[:limit])
