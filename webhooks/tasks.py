"""Celery tasks. Messages carry a delivery id only; the row says what to send."""

from celery import shared_task
from django.db import DatabaseError

from . import delivery, queue


# A database hiccup retries the task within a minute; beyond that the sweeper has it.
@shared_task(name=queue.DELIVER_TASK, ignore_result=True, acks_late=True,
             reject_on_worker_lost=True, autoretry_for=(DatabaseError,), retry_backoff=2,
             retry_backoff_max=60, max_retries=5)
def deliver(delivery_id: str) -> None:
    delivery.attempt_delivery(delivery_id)


@shared_task(name="webhooks.sweep", ignore_result=True)
def sweep() -> None:
    queue.sweep()
