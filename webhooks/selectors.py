"""Reads of webhooks: an organisation sees its own subscriptions and their logs."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from core.errors import NotFound
from core.principal import Principal

from .models import WebhookAttempt, WebhookDelivery, WebhookSubscription


def subscription_list(principal: Principal) -> QuerySet[WebhookSubscription]:
    if principal is None or principal.is_funder:
        return WebhookSubscription.objects.none()
    return WebhookSubscription.objects.filter(organization=principal.organization)


def visible_subscription(principal: Principal, subscription_id, *,
                         lock: bool = False) -> WebhookSubscription:
    """The principal's own subscription, or NotFound (another organisation's looks the
    same as none). ``lock``: SELECT ... FOR UPDATE, for the services that change it."""
    queryset = subscription_list(principal).select_related("organization")
    if lock:
        queryset = queryset.select_for_update(of=("self",))
    subscription = queryset.filter(pk=subscription_id).first()
    if subscription is None:
        raise NotFound("No webhook with this id belongs to your organisation.")
    return subscription


def delivery_list(principal: Principal, subscription: WebhookSubscription | None = None,
                  *, with_attempts: bool = True) -> QuerySet[WebhookDelivery]:
    """Deliveries of the principal's own subscriptions (of one, if given)."""
    queryset = WebhookDelivery.objects.filter(subscription__in=subscription_list(principal))
    if subscription is not None:
        queryset = queryset.filter(subscription=subscription)
    if with_attempts:
        queryset = queryset.prefetch_related(
            Prefetch("attempt_log", queryset=WebhookAttempt.objects.order_by("number")))
    return queryset
