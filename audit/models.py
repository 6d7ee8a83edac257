"""The audit trail: one row per client-data object read or written, by whom,
for which organisation, when and through which operation. Append-only: the
application never updates or deletes a row (database triggers refuse it)."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from core import hooks
from orgs.models import OAuthApplication, Organization


class Action(models.TextChoices):
    READ = "read", "Read"
    CREATE = hooks.CREATE, "Create"
    UPDATE = hooks.UPDATE, "Update"
    ERASE = hooks.ERASE, "Erase"
    EXPORT = "export", "Export"


class Channel(models.TextChoices):
    REST = "rest", "REST"
    GRAPHQL = "graphql", "GraphQL"
    SYSTEM = "system", "System"
    WEB = "web", "Staff web app"
    ADMIN = "admin", "Django admin"


class AuditRecord(models.Model):
    at = models.DateTimeField(default=timezone.now)
    request_id = models.UUIDField(default=uuid.uuid4,
                                  help_text="Groups the rows written for one request.")
    organization = models.ForeignKey(Organization, null=True, on_delete=models.PROTECT,
                                     related_name="+")
    # PROTECT: the trail is never rewritten, so whoever appears in it stays
    # (deactivate a user, revoke an application's tokens, instead of deleting).
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT,
                             related_name="+", db_constraint=False)
    application = models.ForeignKey(OAuthApplication, null=True, on_delete=models.PROTECT,
                                    related_name="+", db_constraint=False)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    operation = models.CharField(max_length=200,
                                 help_text='E.g. "GET /api/v1/referrals/{pk}/" or '
                                           '"query referrals" or "referral_transition".')
    action = models.CharField(max_length=10, choices=Action.choices)
    object_type = models.CharField(max_length=20)
    object_id = models.CharField(max_length=64)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["object_type", "object_id", "at"]),
            models.Index(fields=["organization", "at"]),
            models.Index(fields=["at", "id"]),
        ]

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise RuntimeError("Audit records are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError("Audit records are append-only.")
