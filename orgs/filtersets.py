"""One FilterSet per directory resource, used by REST and GraphQL alike."""

from datetime import UTC

import django_filters
from django import forms
from django.db.models import Q
from django_filters.fields import IsoDateTimeField

from .models import Organization, OrganizationKind, ServiceType


class IntegerFilter(django_filters.NumberFilter):
    """A whole-number filter (NumberFilter takes decimals)."""

    field_class = forms.IntegerField


class UTCIsoDateTimeField(IsoDateTimeField):
    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return None
        try:
            return value.astimezone(UTC)
        except OverflowError:  # e.g. 9999-12-31T23:00-05:00
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


class InstantFilter(django_filters.IsoDateTimeFilter):
    """An ISO 8601 instant, compared in UTC. Python takes UTC offsets up to 23:59 but
    PostgreSQL refuses those over 15:59 (a 500); in UTC any offset is fine."""

    field_class = UTCIsoDateTimeField


class OrganizationFilterSet(django_filters.FilterSet):
    kind = django_filters.MultipleChoiceFilter(
        choices=OrganizationKind.choices,
        help_text="Organisation kind; repeat the parameter to match any of several.",
    )
    district = IntegerFilter(
        field_name="senate_districts__number",
        help_text="Serves this New York State Senate district (1-63).",
    )
    language = django_filters.CharFilter(
        field_name="languages__code", help_text="Speaks this language (ISO 639 code, e.g. 'es')."
    )
    service_type = django_filters.CharFilter(
        field_name="service_types__code", help_text="Offers this service type (its code)."
    )
    accepting_referrals = django_filters.BooleanFilter(
        help_text="Whether it currently accepts referrals."
    )
    active = django_filters.BooleanFilter(help_text="Whether it is active in the coalition.")
    search = django_filters.CharFilter(
        method="filter_search", help_text="Case-insensitive match on name or slug."
    )
    ordering = django_filters.OrderingFilter(
        fields=(("name", "name"), ("slug", "slug"), ("kind", "kind"),
                ("created_at", "created_at")),
        help_text="Sort by name, slug, kind or created_at; prefix '-' to reverse.",
    )

    class Meta:
        model = Organization
        fields = ["kind", "district", "language", "service_type", "accepting_referrals",
                  "active", "search"]

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(slug__icontains=value))

    @property
    def qs(self):
        # Joins through districts, languages and services can repeat an organisation.
        queryset = super().qs
        if self.is_bound and any(
            self.form.cleaned_data.get(name) not in (None, "")
            for name in ("district", "language", "service_type")
        ):
            queryset = queryset.distinct()
        return queryset


class ServiceTypeFilterSet(django_filters.FilterSet):
    search = django_filters.CharFilter(method="filter_search",
                                       help_text="Case-insensitive match on code or name.")

    class Meta:
        model = ServiceType
        fields = ["search"]

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(code__icontains=value) | Q(name__icontains=value))
