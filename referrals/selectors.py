"""Reads that span relations: referral lists shaped for the APIs, and routing."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import (
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

from config.errors import DomainError, NotFound
from orgs.models import Language, Organization, SenateDistrict, ServiceType
from orgs.selectors import organization_list

from .models import Client, Consent, Referral, ReferralEvent, ReferralNote, ReferralOutcome


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
        .select_related("client", "client__primary_language", "sending_org", "receiving_org",
                        "service_type", "district")
        .prefetch_related(
            Prefetch("outcomes", queryset=ReferralOutcome.objects.order_by("id")),
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
    if principal.is_coalition_admin or client.created_by_org_id == org.pk:
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


def referral_notes(principal, referral_id) -> QuerySet[ReferralNote]:
    referral = visible_referral(principal, referral_id)
    return ReferralNote.objects.filter(referral=referral).select_related(
        "author_org", "author_user").order_by("created_at", "id")


def routing_suggestions(*, principal, service_type: str, language: str | None = None,
                        district: int | None = None, limit: int = 20) -> list[Organization]:
    """Organisations that could take a referral, best first: each offers the service and
    accepts referrals; ranked by language, district, then free capacity. Each result
    carries ``speaks_language``, ``serves_district``, ``has_capacity`` and ``score``."""
    if not ServiceType.objects.filter(code=service_type).exists():
        raise DomainError("unknown_service_type", f"No service type {service_type!r}.",
                          field="service_type")
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
