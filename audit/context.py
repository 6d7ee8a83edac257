"""Writes the audit trail: a write inside the service's transaction (a listener
on core.hooks), and a request's reads in one INSERT when it ends (the reads are
collected in core.context)."""

from __future__ import annotations

import logging
import uuid

from django.db import DatabaseError, transaction

from core import context as request_context
from core.context import RequestContext
from core.hooks import Change

from .models import Action, AuditRecord, Channel

logger = logging.getLogger(__name__)


def _principal_fields(principal, user=None) -> dict:
    return {
        "organization": principal.organization if principal else None,
        "user": principal.user if principal else user,
        "application": principal.application if principal else None,
    }


def record_write(change: Change) -> None:
    """Audit a write inside the service's transaction (it rolls back with it)."""
    context = request_context.current()
    operation = f"{context.operation} -> {change.operation}" if context else change.operation
    AuditRecord.objects.bulk_create([
        AuditRecord(channel=context.channel if context else Channel.SYSTEM,
                    request_id=context.request_id if context else uuid.uuid4(),
                    operation=operation[:200], action=Action(change.action),
                    object_type=change.object_type, object_id=str(object_id),
                    **_principal_fields(change.principal))
        for object_id in change.object_ids])


def flush_reads(principal, context: RequestContext, user=None) -> None:
    """Write the reads a request collected, in one statement; ``user`` names the reader
    when there is no principal (a signed-in admin page)."""
    rows = [
        AuditRecord(channel=context.channel, request_id=context.request_id,
                    operation=context.operation, action=Action.READ, object_type=object_type,
                    object_id=object_id, **_principal_fields(principal, user))
        for object_type, ids in sorted(context.reads.items()) for object_id in sorted(ids)
    ]
    if not rows:
        return
    try:
        with transaction.atomic():
            AuditRecord.objects.bulk_create(rows, batch_size=1000)
    except DatabaseError:
        logger.exception("could not write %d audit record(s) for request %s", len(rows),
                         context.request_id)
        raise
