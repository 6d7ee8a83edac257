"""One FilterSet per webhook resource, used by REST and GraphQL alike."""

import django_filters

from core.filters import BooleanFilter, InstantFilter, UUIDFilter

from .models import DeliveryState, EventType, WebhookDelivery, WebhookSubscription


class WebhookSubscriptionFilterSet(django_filters.FilterSet):
    active = BooleanFilter(help_text="Enabled (true) or disabled (false).")

    class Meta:
        model = WebhookSubscription
        fields = ["active"]


class WebhookDeliveryFilterSet(django_filters.FilterSet):
    state = django_filters.MultipleChoiceFilter(
        choices=DeliveryState.choices, distinct=False,
        help_text="pending, succeeded or failed; repeat to match several.")
    event_type = django_filters.MultipleChoiceFilter(
        choices=EventType.choices, distinct=False, help_text="Event type; repeatable.")
    event_id = UUIDFilter(help_text="The event's id (the webhook-id header).")
    created_after = InstantFilter(field_name="created_at", lookup_expr="gte",
                                  help_text="Created at or after (ISO 8601).")
    created_before = InstantFilter(field_name="created_at", lookup_expr="lt",
                                   help_text="Created before (ISO 8601).")

    class Meta:
        model = WebhookDelivery
        fields = ["state", "event_type", "event_id", "created_after", "created_before"]
