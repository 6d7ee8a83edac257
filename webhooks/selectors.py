"""Reads of webhooks: an organisation sees its own subscriptions and their logs."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from orgs.auth import Principal

from .models import WebhookAttempt, WebhookDelivery, WebhookSubscription


def subscription_list(principal: Principal) -> QuerySet[WebhookSubscription]:
    if principal is None or principal.organization.kind == "funder":
        return WebhookSubscription.objects.none()
    return WebhookSubscription.objects.filter(organization=principal.organization)


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
