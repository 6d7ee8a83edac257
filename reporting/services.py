"""Writes for reporting: service events (workshops, forums, clinics)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date

from django.db import transaction
from django.utils import timezone

from core.errors import DomainError, NotFound
from core.rules import Items, Range, Text
from orgs.models import Language, OrganizationKind, SenateDistrict, ServiceType

from .models import ServiceEvent, ServiceEventKind


@dataclass(frozen=True)
class ServiceEventInput:
    kind: str
    title: str
    date: date
    attendance: int
    service_type: str = "know-your-rights"
    district: int | None = None
    languages: list[str] = field(default_factory=list)


# The input rules of service events (REST and GraphQL only describe them).
TITLE = Text("title", 200, required=True)
ATTENDANCE = Range("attendance", 0, 1_000_000)
DISTRICT = Range("district", 1, 63, code="unknown_district")
LANGUAGES = Items("languages", 20)
DISTRICT_DEFAULT = "Senate district; a district office's events default to its own district."


def _resolve(data: dict) -> dict:
    values = dict(data)
    if "kind" in values and values["kind"] not in ServiceEventKind.values:
        raise DomainError("invalid_kind", f"kind is one of: {', '.join(ServiceEventKind.values)}.",
                          field="kind")
    if "attendance" in values:
        if values["attendance"] is None:
            raise DomainError("required", "Attendance is a count, 0 or more.",
                              field="attendance")
        ATTENDANCE.clean(values["attendance"])
    if "title" in values:
        values["title"] = TITLE.clean(values["title"])
    if "date" in values and values["date"] > timezone.localdate():
        raise DomainError("date_out_of_range", "Record events that have happened.", field="date")
    if "service_type" in values:
        service = ServiceType.objects.filter(code=values["service_type"]).first()
        if service is None:
            raise DomainError("unknown_service_type", f"No service type {values['service_type']!r}.",
                              field="service_type")
        values["service_type"] = service
    if "district" in values and values["district"] is not None:
        district = SenateDistrict.objects.filter(
            number=DISTRICT.clean(values["district"])).first()
        if district is None:
            raise DomainError("unknown_district", "A senate district is 1 to 63.", field="district")
        values["district"] = district
    if "languages" in values:
        codes = set(LANGUAGES.clean(values["languages"]))
        languages = list(Language.objects.filter(code__in=codes))
        if len(languages) != len(codes):
            unknown = codes - {lang.code for lang in languages}
            raise DomainError("unknown_language", f"Unknown language(s): {', '.join(sorted(unknown))}.",
                              field="languages")
        values["languages"] = languages
    return values


def _require_organiser(principal):
    if principal.is_funder:
        raise DomainError("not_an_organiser", "Funders do not record service events.")


def _home_district(organization):
    """A district office's own district, where its events happen unless it says
    otherwise; None for an office of several districts and for everyone else."""
    if organization.kind != OrganizationKind.DISTRICT_OFFICE:
        return None
    districts = list(organization.senate_districts.all()[:2])
    return districts[0] if len(districts) == 1 else None


@transaction.atomic
def service_event_create(*, principal, data: ServiceEventInput) -> ServiceEvent:
    _require_organiser(principal)
    values = _resolve({f.name: getattr(data, f.name) for f in fields(data)})
    languages = values.pop("languages")
    organization = principal.organization
    if values.get("district") is None:
        values["district"] = _home_district(organization)
    values["campaign"] = ServiceEvent.campaign_of(values["date"], values["title"])
    event = ServiceEvent.objects.create(organization=organization,
                                        created_by_application=principal.application, **values)
    event.languages.set(languages)
    return event


def _own_event(principal, event_id) -> ServiceEvent:
    event = (ServiceEvent.objects.select_for_update()
             .filter(pk=event_id, organization=principal.organization).first())
    if event is None:
        raise NotFound("No service event with this id belongs to your organisation.")
    return event


@transaction.atomic
def service_event_update(*, principal, event_id, changes: dict) -> ServiceEvent:
    """Change an event the principal's organisation recorded."""
    event = _own_event(principal, event_id)
    values = _resolve(changes)
    languages = values.pop("languages", None)
    for name, value in values.items():
        setattr(event, name, value)
    event.campaign = ServiceEvent.campaign_of(event.date, event.title)
    event.updated_at = timezone.now()
    event.save()
    if languages is not None:
        event.languages.set(languages)
    return event


@transaction.atomic
def service_event_delete(*, principal, event_id) -> None:
    _own_event(principal, event_id).delete()
