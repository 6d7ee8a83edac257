"""One FilterSet per resource, used by REST and GraphQL alike."""

import django_filters
from django.contrib.auth import get_user_model
from django.db.models import Case, Exists, IntegerField, OuterRef, Q, When
from django.utils import timezone

from core.filters import BooleanFilter, InstantFilter, IntegerFilter, UUIDFilter

from .models import OPEN_STATUSES, Appointment, Client, Priority, Referral, Status


# A referral's priority as a rank: 0 is the most urgent.
URGENCY = Case(When(priority=Priority.ASAP, then=0), When(priority=Priority.URGENT, then=1),
               default=2, output_field=IntegerField())


class UrgencyOrderingFilter(django_filters.OrderingFilter):
    """The API's orderings, plus ``urgency``: the priority's rank, newest first within
    a priority (REST's cursor pagination orders by the same annotation)."""

    def filter(self, qs, value):
        if value and any(v.lstrip("-") == "urgency" for v in value):
            qs = qs.annotate(urgency=URGENCY)
            if value[0].lstrip("-") == "urgency":
                return qs.order_by(self.get_ordering_value(value[0]), "-created_at")
        return super().filter(qs, value)


class ReferralFilterSet(django_filters.FilterSet):
    # distinct=False: these filter the referral row itself, so no join can repeat it
    # (and DISTINCT costs a sort of every visible row; docs/benchmarks.md).
    status = django_filters.MultipleChoiceFilter(
        choices=Status.choices, distinct=False,
        help_text="Status; repeat to match any of several.")
    service_type = django_filters.CharFilter(field_name="service_type__code",
                                             help_text="Service type code.")
    priority = django_filters.MultipleChoiceFilter(choices=Priority.choices, distinct=False,
                                                   help_text="Priority; repeatable.")
    sender = django_filters.CharFilter(field_name="sending_org__slug",
                                       help_text="Sending organisation slug.")
    receiver = django_filters.CharFilter(field_name="receiving_org__slug",
                                         help_text="Receiving organisation slug.")
    district = IntegerFilter(field_name="district__number",
                             help_text="Client's senate district.")
    client = UUIDFilter(field_name="client_id", help_text="Client id.")
    parent = UUIDFilter(field_name="parent_id", help_text="Parent referral id.")
    created_after = InstantFilter(
        field_name="created_at", lookup_expr="gte", help_text="Created at or after (ISO 8601).")
    created_before = InstantFilter(
        field_name="created_at", lookup_expr="lt", help_text="Created before (ISO 8601).")
    updated_after = InstantFilter(
        field_name="updated_at", lookup_expr="gt",
        help_text="Changed strictly after this instant (ISO 8601): incremental sync.")
    updated_before = InstantFilter(
        field_name="updated_at", lookup_expr="lte", help_text="Changed at or before (ISO 8601).")
    assigned_to = django_filters.CharFilter(
        method="filter_assigned_to",
        help_text="Owned on your organisation's side by this user name, or by you: `me` "
                  "(a signed-in user's token).")
    unassigned = BooleanFilter(
        method="filter_unassigned",
        help_text="Nobody at your organisation owns it yet (true), or somebody does (false).")
    appointment_before = InstantFilter(
        method="filter_appointment_before",
        help_text="Has an appointment still to come before this instant (ISO 8601).")
    overdue = BooleanFilter(
        method="filter_overdue",
        help_text="Open referrals whose needed-by date has passed (true) or not (false).")
    ordering = UrgencyOrderingFilter(
        fields=(("created_at", "created_at"), ("updated_at", "updated_at"),
                ("needed_by", "needed_by"), ("urgency", "urgency")),
        help_text="created_at, updated_at, needed_by or urgency (as soon as possible, then "
                  "urgent, then routine; newest first within each); prefix '-' to reverse. "
                  "Default: -created_at.",
    )

    class Meta:
        model = Referral
        fields = ["status", "service_type", "priority", "sender", "receiver", "district", "client",
                  "parent", "created_after", "created_before", "updated_after",
                  "updated_before", "assigned_to", "unassigned", "appointment_before",
                  "overdue"]

    def filter_appointment_before(self, queryset, name, value):
        if value is None:
            return queryset
        coming = Appointment.objects.filter(referral=OuterRef("pk"), at__gte=timezone.now(),
                                            at__lt=value)
        return queryset.filter(Exists(coming))

    def _principal(self):
        """The caller, as each channel hands it over: the staff app's and GraphQL's
        request.principal, DRF's request.auth."""
        request = self.request
        return getattr(request, "principal", None) or getattr(request, "auth", None)

    def filter_assigned_to(self, queryset, name, value):
        principal = self._principal()
        if not value or principal is None or principal.organization is None:
            return queryset
        if value == "me":
            if principal.user is None:
                return queryset.none()  # an application acting on its own is nobody
            return queryset.owned_by(principal.organization, principal.user)
        user = get_user_model().objects.filter(username=value).first()
        if user is None:
            return queryset.none()
        return queryset.owned_by(principal.organization, user)

    def filter_unassigned(self, queryset, name, value):
        principal = self._principal()
        if value is None or principal is None or principal.organization is None:
            return queryset
        unowned = queryset.unowned(principal.organization)
        return unowned if value else queryset.exclude(pk__in=unowned.values("pk"))

    def filter_overdue(self, queryset, name, value):
        if value is None:
            return queryset
        overdue = Q(needed_by__lt=timezone.localdate(), status__in=OPEN_STATUSES)
        return queryset.filter(overdue) if value else queryset.exclude(overdue)


class ClientFilterSet(django_filters.FilterSet):
    search = django_filters.CharFilter(method="filter_search",
                                       help_text="Case-insensitive match on given or family name.")
    created_after = InstantFilter(field_name="created_at", lookup_expr="gte")
    updated_after = InstantFilter(field_name="updated_at", lookup_expr="gt")

    class Meta:
        model = Client
        fields = ["search", "created_after", "updated_after"]

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(given_name__icontains=value) | Q(family_name__icontains=value))
