"""What a worker does with one delivery: claim it, POST it, record the outcome.

A claim takes a lease on the row (WEBHOOK_LEASE_SECONDS); a worker killed
mid-attempt leaves the lease to expire, and the sweeper hands the row to another
worker. Delivery is therefore at least once: receivers drop repeats by webhook-id."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from . import signing, transport
from .models import DeliveryState, WebhookAttempt, WebhookDelivery

log = logging.getLogger(__name__)

USER_AGENT = "Coalition-Webhooks/1.0"
RETRY_WINDOW = timedelta(hours=24)
FIRST_RETRY = timedelta(minutes=1)
LONGEST_WAIT = timedelta(hours=4)
# A row still unclaimed this long after its window closed (its worker died each time,
# or the queue was down) is given up rather than tried forever.
CLAIM_GRACE = timedelta(hours=1)


def next_attempt_at(*, attempts: int, created_at: datetime, now: datetime) -> datetime | None:
    """After ``attempts`` failed tries: wait 1 min, 2, 4, ... (doubling, at most 4 h),
    with a last try at the end of the 24-hour window; None once the window is over."""
    deadline = created_at + RETRY_WINDOW
    if now >= deadline:
        return None
    wait = min(FIRST_RETRY * 2 ** (attempts - 1), LONGEST_WAIT)
    return min(now + wait, deadline)


def claimable(now: datetime):
    return (WebhookDelivery.objects.filter(state=DeliveryState.PENDING, next_attempt_at__lte=now)
            .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now)))


def _claim(delivery_id) -> tuple[WebhookDelivery, WebhookAttempt] | None:
    now = timezone.now()
    with transaction.atomic():
        delivery = (claimable(now).select_for_update(skip_locked=True, of=("self",))
                    .select_related("subscription").filter(pk=delivery_id).first())
        if delivery is None:
            return None  # done, not due, or another worker holds it
        reason = ("The webhook is disabled." if not delivery.subscription.active
                  else "The retry window is over."
                  if now > delivery.created_at + RETRY_WINDOW + CLAIM_GRACE
                  else None)
        if reason:
            delivery.state = DeliveryState.FAILED
            delivery.last_error = reason
            delivery.lease_until = None
            delivery.save(update_fields=["state", "last_error", "lease_until"])
            return None
        delivery.attempts += 1
        delivery.lease_until = now + timedelta(seconds=settings.WEBHOOK_LEASE_SECONDS)
        delivery.last_attempt_at = now
        delivery.save(update_fields=["attempts", "lease_until", "last_attempt_at"])
        attempt = WebhookAttempt.objects.create(delivery=delivery, number=delivery.attempts,
                                                started_at=now)
    return delivery, attempt


def _record(delivery: WebhookDelivery, attempt: WebhookAttempt,
            result: transport.Result) -> None:
    now = timezone.now()
    with transaction.atomic():
        WebhookAttempt.objects.filter(pk=attempt.pk).update(
            finished_at=now, status_code=result.status_code, error=result.error,
            duration_ms=result.duration_ms)
        changes = {"lease_until": None, "last_status_code": result.status_code,
                   "last_error": result.error}
        if result.ok:
            changes.update(state=DeliveryState.SUCCEEDED, delivered_at=now)
        else:
            retry_at = next_attempt_at(attempts=delivery.attempts,
                                       created_at=delivery.created_at, now=now)
            if retry_at is None:
                changes["state"] = DeliveryState.FAILED
            else:
                changes.update(next_attempt_at=retry_at, queued_at=None)
        # Only if the row is still ours: had the lease run out and another worker
        # claimed it, that worker's outcome stands.
        WebhookDelivery.objects.filter(pk=delivery.pk, attempts=delivery.attempts,
                                       state=DeliveryState.PENDING).update(**changes)


def attempt_delivery(delivery_id) -> str | None:
    """One attempt at one delivery if it is due; returns the state it ends in."""
    claimed = _claim(delivery_id)
    if claimed is None:
        return None
    delivery, attempt = claimed
    result = transport.Result(None, "The attempt failed inside the worker.", 0)
    try:
        headers = signing.signed_headers(
            message_id=str(delivery.event_id), body=delivery.body,
            secrets=delivery.subscription.signing_secrets(), at=timezone.now())
        headers.update({"Content-Type": "application/json", "User-Agent": USER_AGENT})
        result = transport.post(delivery.subscription.url, delivery.body.encode(), headers)
    finally:
        # Whatever happened, the attempt counts and the next one is scheduled (a
        # killed worker is the one case that cannot get here: its lease runs out).
        _record(delivery, attempt, result)
    delivery.refresh_from_db(fields=["state"])
    log.info("webhook %s attempt %d to %s: %s", delivery.pk, attempt.number,
             delivery.subscription_id, result.status_code or result.error)
    return delivery.state
