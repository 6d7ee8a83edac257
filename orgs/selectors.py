"""Reads of the directory, shaped for the APIs (prefetches in one place)."""

from django.db.models import Prefetch, QuerySet

from .models import Language, Organization, SenateDistrict, ServiceType


def organization_list() -> QuerySet[Organization]:
    return Organization.objects.prefetch_related(
        Prefetch("senate_districts", queryset=SenateDistrict.objects.order_by("number")),
        Prefetch("languages", queryset=Language.objects.order_by("code")),
        Prefetch("service_types", queryset=ServiceType.objects.order_by("code")),
    )


def service_type_list() -> QuerySet[ServiceType]:
    return ServiceType.objects.order_by("code")
