"""Handing deliveries to the task queue (Celery), and finding the ones to hand over.

The outbox rows are the truth; a queue message only says "look at this row".
A message lost to a broker outage or a killed worker costs a delay, never an
event: the sweeper re-queues every due row whose last hand-over is stale."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import current_app
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from .delivery import claimable

log = logging.getLogger(__name__)

SWEEP_BATCH = 500
DELIVER_TASK = "webhooks.deliver"


def enqueue(delivery_ids: list) -> None:
    """Queue deliveries now (called after commit). A broker that is down is logged,
    not raised: the write already committed and the sweeper will queue them.
    Sent by task name (tasks.py defines it), so this module need not import tasks."""
    for delivery_id in delivery_ids:
        try:
            current_app.send_task(DELIVER_TASK, args=[str(delivery_id)], retry=False)
        except Exception as exc:  # kombu raises several types for an unreachable broker
            log.warning("could not queue webhook delivery %s (%s); the sweeper will",
                        delivery_id, exc)
            return


def sweep() -> int:
    """Queue due deliveries that no queued message is known to cover."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.WEBHOOK_REQUEUE_SECONDS)
    due = (claimable(now).filter(Q(queued_at__isnull=True) | Q(queued_at__lt=stale))
           .order_by("next_attempt_at").values_list("pk", flat=True)[:SWEEP_BATCH])
    ids = list(due)
    if ids:
        from .models import WebhookDelivery

        WebhookDelivery.objects.filter(pk__in=ids).update(queued_at=now)
        enqueue(ids)
    return len(ids)
