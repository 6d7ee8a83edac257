"""One FilterSet per directory resource, used by REST and GraphQL alike."""

import django_filters
from django.db.models import Q

from core.filters import BooleanFilter, IntegerFilter

from .models import Organization, OrganizationKind, ServiceType


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
    accepting_referrals = BooleanFilter(
        help_text="Whether it currently accepts referrals."
    )
    active = BooleanFilter(help_text="Whether it is active in the coalition.")
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
