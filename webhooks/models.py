"""Webhook subscriptions and their outbox.

A change to a referral writes one WebhookDelivery per interested subscription
in the same transaction as the change (through core.hooks, heard by webhooks.services.announce_change), so an
event exists if and only if its change committed. Celery workers then deliver
the rows (webhooks.delivery); each try is logged as a WebhookAttempt."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from core import hooks
from core.fields import EncryptedCharField
from orgs.models import OAuthApplication, Organization


class EventType(models.TextChoices):
    REFERRAL_CREATED = hooks.REFERRAL_CREATED, "A referral to or from your organisation was made"
    REFERRAL_STATUS_CHANGED = hooks.REFERRAL_STATUS_CHANGED, "A referral changed status"
    REFERRAL_NOTE_ADDED = hooks.REFERRAL_NOTE_ADDED, "A note was added to a referral"
    REFERRAL_OUTCOME_ADDED = (hooks.REFERRAL_OUTCOME_ADDED,
                              "An outcome was recorded after a referral closed")
    REFERRAL_CHAIN_CHANGED = (hooks.REFERRAL_CHAIN_CHANGED,
                              "Another referral of a chain you are on changed status, or the "
                              "chain grew")
    CLIENT_ERASED = hooks.CLIENT_ERASED, "A client's personal data was erased"
    WEBHOOK_PING = "webhook.ping", "A test event, sent on request"


# What a subscription may ask for; pings go to the one subscription pinged.
SUBSCRIBABLE_EVENTS = tuple(value for value in EventType.values
                            if value != EventType.WEBHOOK_PING)


class WebhookSubscription(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE,
                                     related_name="webhook_subscriptions")
    url = models.URLField(max_length=2000)
    events = models.JSONField(default=list, help_text="Event types delivered here.")
    description = models.CharField(max_length=200, blank=True)
    active = models.BooleanField(default=True)
    # Standard Webhooks secrets (whsec_...), encrypted at rest with FIELD_ENCRYPTION_KEYS.
    secret = EncryptedCharField(max_length=100)
    # After a rotation the old secret keeps signing (a second signature) for a day.
    previous_secret = EncryptedCharField(max_length=100, null=True, blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    created_by_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                        on_delete=models.SET_NULL, related_name="+")
    created_by_application = models.ForeignKey(OAuthApplication, null=True, blank=True,
                                               on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "active"])]

    def __str__(self) -> str:
        return f"Webhook {self.id} → {self.url}"

    def signing_secrets(self, now=None) -> list[str]:
        now = now or timezone.now()
        secrets = [self.secret]
        if self.previous_secret and self.previous_secret_expires_at \
                and self.previous_secret_expires_at > now:
            secrets.append(self.previous_secret)
        return secrets


class DeliveryState(models.TextChoices):
    PENDING = "pending", "Waiting for its next attempt"
    SUCCEEDED = "succeeded", "The endpoint answered 2xx"
    FAILED = "failed", "Gave up: no 2xx within the retry window, or the webhook was disabled"


class WebhookDelivery(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE,
                                     related_name="deliveries")
    # The event's id: the webhook-id header, the same for every subscription and every
    # redelivery of one event, so receivers can drop duplicates.
    event_id = models.UUIDField(default=uuid.uuid4)
    event_type = models.CharField(max_length=40, choices=EventType.choices)
    # The exact bytes signed and sent (ids and the event, never client data).
    body = models.TextField()
    state = models.CharField(max_length=10, choices=DeliveryState.choices,
                             default=DeliveryState.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # Set when handed to the task queue; the sweeper re-queues rows whose message
    # may have been lost (broker down at commit time, worker killed).
    queued_at = models.DateTimeField(null=True, blank=True)
    # A worker holds the row until then; a killed worker's row is claimable after it.
    lease_until = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    redelivery_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="redeliveries")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["subscription", "-created_at"]),
            models.Index(fields=["state", "next_attempt_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.subscription_id} ({self.state})"


class WebhookAttempt(models.Model):
    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE,
                                 related_name="attempt_log")
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    # Null finished_at: the worker stopped mid-attempt (killed); the delivery was retried.
    finished_at = models.DateTimeField(null=True, blank=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["number"]
        constraints = [models.UniqueConstraint(fields=["delivery", "number"],
                                               name="webhook_attempt_number_unique")]
