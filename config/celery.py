"""The Celery application: the task queue that delivers webhooks.

Run a worker with `celery -A config worker -B` (``-B`` embeds the scheduler that
sweeps the outbox; in production run `celery -A config beat` once, separately)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("coalition")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
