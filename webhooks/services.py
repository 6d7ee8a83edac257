"""Every write to webhooks: subscriptions (an organisation's own), the outbox
rows that announce events, redeliveries and pings."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from core.errors import DomainError, NotFound
from core.hooks import Change
from core.principal import Principal, require_casework
from core.rules import Items, Text

from . import signing, transport
from .models import (
    SUBSCRIBABLE_EVENTS,
    DeliveryState,
    EventType,
    WebhookDelivery,
    WebhookSubscription,
)
from .queue import enqueue
from .selectors import visible_subscription
from .transport import MAX_URL_LENGTH

MAX_SUBSCRIPTIONS_PER_ORG = 20
SECRET_OVERLAP = timedelta(hours=24)


@dataclass(frozen=True)
class SubscriptionInput:
    url: str
    events: list[str]
    description: str = ""
    active: bool = True


# --- announcing events (called inside the writer's transaction) ---------------

def _body(event_id: uuid.UUID, event_type: str, data: dict, at) -> str:
    return json.dumps({"id": str(event_id), "type": event_type,
                       "occurred_at": at.isoformat().replace("+00:00", "Z"), "data": data},
                      separators=(",", ":"), sort_keys=True)


def _queue_after_commit(deliveries: list[WebhookDelivery]) -> None:
    ids = [d.pk for d in deliveries]
    if ids:
        transaction.on_commit(lambda: enqueue(ids))


def event_announce(*, event_type: str, organization_ids: Iterable[int], data: dict) -> None:
    """Write one delivery per active subscription of these organisations that wants
    the event. Must run inside the transaction of the change it announces, so that
    the event commits (or rolls back) with it; the queue hears of it after commit."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("event_announce must run inside the writer's transaction")
    subscriptions = [s for s in WebhookSubscription.objects.filter(
        organization_id__in=set(organization_ids), active=True).only("id", "events")
        if event_type in s.events]
    if not subscriptions:
        return
    now = timezone.now()
    event_id = uuid.uuid4()
    body = _body(event_id, event_type, data, now)
    deliveries = WebhookDelivery.objects.bulk_create([
        WebhookDelivery(subscription=s, event_id=event_id, event_type=event_type, body=body,
                        created_at=now, next_attempt_at=now, queued_at=now)
        for s in subscriptions])
    _queue_after_commit(deliveries)


def announce_change(change: Change) -> None:
    """The core.hooks listener: announce a change that names an event."""
    if change.event is not None:
        event_announce(event_type=change.event, organization_ids=change.organization_ids,
                       data=change.data)


# --- subscriptions --------------------------------------------------------------

# The input rules of webhook subscriptions (REST and GraphQL only describe them).
URL = Text("url", MAX_URL_LENGTH, required=True)
DESCRIPTION = Text("description", 200)
EVENTS = Items("events", len(SUBSCRIBABLE_EVENTS), min_items=1)


def _clean_url(url: str) -> str:
    url = URL.clean(url)
    try:
        transport.resolve(url)
    except transport.UnsafeTarget as exc:
        raise DomainError(exc.code, exc.detail, field="url") from None
    return url


def _clean_description(description: str) -> str:
    return DESCRIPTION.clean(description)


def _clean_events(events: list[str]) -> list[str]:
    events = list(dict.fromkeys(EVENTS.clean(events)))
    unknown = [e for e in events if e not in SUBSCRIBABLE_EVENTS]
    if unknown:
        raise DomainError("unknown_event_type",
                          f"Unknown event type(s): {', '.join(unknown)}. Known: "
                          f"{', '.join(SUBSCRIBABLE_EVENTS)}.", field="events")
    return sorted(events)


@transaction.atomic
def subscription_create(*, principal: Principal,
                        data: SubscriptionInput) -> tuple[WebhookSubscription, str]:
    """Register an endpoint; returns it with its signing secret, shown only now."""
    require_casework(principal)
    description = _clean_description(data.description)
    events = _clean_events(data.events)
    url = _clean_url(data.url)  # last: it looks the host up
    existing = WebhookSubscription.objects.select_for_update().filter(
        organization=principal.organization)
    if len(existing) >= MAX_SUBSCRIPTIONS_PER_ORG:
        raise DomainError("too_many_webhooks", f"An organisation has at most "
                          f"{MAX_SUBSCRIPTIONS_PER_ORG} webhooks; delete one first.")
    secret = signing.new_secret()
    subscription = WebhookSubscription.objects.create(
        organization=principal.organization, url=url, events=events,
        description=description, active=data.active, secret=secret,
        created_by_user=principal.user, created_by_application=principal.application)
    return subscription, secret


@transaction.atomic
def subscription_update(*, principal: Principal, subscription_id,
                        changes: dict) -> WebhookSubscription:
    """Change url, events, description or active; the secret stays."""
    subscription = visible_subscription(principal, subscription_id, lock=True)
    if "events" in changes:
        subscription.events = _clean_events(changes["events"])
    if "description" in changes:
        subscription.description = _clean_description(changes["description"])
    if "url" in changes:
        subscription.url = _clean_url(changes["url"])  # last: it looks the host up
    if "active" in changes:
        subscription.active = bool(changes["active"])
    subscription.updated_at = timezone.now()
    subscription.save()
    return subscription


@transaction.atomic
def subscription_delete(*, principal: Principal, subscription_id) -> None:
    """Delete an endpoint and its delivery log; nothing more is sent to it."""
    visible_subscription(principal, subscription_id, lock=True).delete()


@transaction.atomic
def subscription_rotate_secret(*, principal: Principal,
                               subscription_id) -> tuple[WebhookSubscription, str]:
    """A new secret; for a day, deliveries carry signatures by the old and the new."""
    subscription = visible_subscription(principal, subscription_id, lock=True)
    now = timezone.now()
    subscription.previous_secret = subscription.secret
    subscription.previous_secret_expires_at = now + SECRET_OVERLAP
    secret = signing.new_secret()
    subscription.secret = secret
    subscription.updated_at = now
    subscription.save()
    return subscription, secret


@transaction.atomic
def subscription_ping(*, principal: Principal, subscription_id) -> WebhookDelivery:
    """Send a webhook.ping event to one endpoint, to test it."""
    subscription = visible_subscription(principal, subscription_id)
    if not subscription.active:
        raise DomainError("webhook_disabled", "This webhook is disabled; activate it first.")
    now = timezone.now()
    event_id = uuid.uuid4()
    delivery = WebhookDelivery.objects.create(
        subscription=subscription, event_id=event_id, event_type=EventType.WEBHOOK_PING,
        body=_body(event_id, EventType.WEBHOOK_PING,
                   {"webhook": {"id": str(subscription.pk)}}, now),
        created_at=now, next_attempt_at=now, queued_at=now)
    _queue_after_commit([delivery])
    return delivery


@transaction.atomic
def delivery_redeliver(*, principal: Principal, subscription_id,
                       delivery_id) -> WebhookDelivery:
    """Send an event again, as a new delivery with the same webhook-id and body."""
    subscription = visible_subscription(principal, subscription_id)
    if not subscription.active:
        raise DomainError("webhook_disabled", "This webhook is disabled; activate it first.")
    original = subscription.deliveries.filter(pk=delivery_id).first()
    if original is None:
        raise NotFound("No delivery with this id for this webhook.")
    now = timezone.now()
    delivery = WebhookDelivery.objects.create(
        subscription=subscription, event_id=original.event_id, event_type=original.event_type,
        body=original.body, state=DeliveryState.PENDING, created_at=now, next_attempt_at=now,
        queued_at=now, redelivery_of=original)
    _queue_after_commit([delivery])
    return delivery
