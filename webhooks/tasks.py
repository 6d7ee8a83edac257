"""Celery tasks. Messages carry a delivery id only; the row says what to send."""

from celery import shared_task

from . import delivery, queue


@shared_task(name="webhooks.deliver", ignore_result=True, acks_late=True,
             reject_on_worker_lost=True)
def deliver(delivery_id: str) -> None:
    delivery.attempt_delivery(delivery_id)


@shared_task(name="webhooks.sweep", ignore_result=True)
def sweep() -> None:
    queue.sweep()
