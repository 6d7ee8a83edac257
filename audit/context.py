"""Collects what one request read, so that the whole request is audited in
one INSERT, however many objects it returned."""

from __future__ import annotations

import contextvars
import logging
import uuid
from dataclasses import dataclass, field

from django.db import DatabaseError, transaction

from .models import Action, AuditRecord, Channel

logger = logging.getLogger(__name__)

_current: contextvars.ContextVar[AuditContext | None] = contextvars.ContextVar(
    "audit_context", default=None)


@dataclass
class AuditContext:
    channel: str
    operation: str
    request_id: uuid.UUID = field(default_factory=uuid.uuid4)
    reads: dict[str, set[str]] = field(default_factory=dict)


def begin(channel: str, operation: str) -> contextvars.Token:
    return _current.set(AuditContext(channel=channel, operation=operation))


def end(token: contextvars.Token) -> AuditContext | None:
    context = _current.get()
    _current.reset(token)
    return context


def current() -> AuditContext | None:
    return _current.get()


def set_operation(operation: str) -> None:
    context = _current.get()
    if context is not None:
        context.operation = operation[:200]


def note_root_field(operation_type: str, field_name: str) -> None:
    """GraphQL: name the operation after its root fields, e.g. "query referrals,client"."""
    context = _current.get()
    if context is None:
        return
    prefix = f"{operation_type} "
    if not context.operation.startswith(prefix):
        context.operation = prefix + field_name
    elif field_name not in context.operation[len(prefix):].split(","):
        context.operation = f"{context.operation},{field_name}"[:200]


def note_read(object_type: str, object_id) -> None:
    """Remember that this request returned an object of client data."""
    context = _current.get()
    if context is not None and object_id is not None:
        context.reads.setdefault(object_type, set()).add(str(object_id))


def _principal_fields(principal) -> dict:
    return {
        "organization": principal.organization if principal else None,
        "user": principal.user if principal else None,
        "application": principal.application if principal else None,
    }


def record_write(principal, action: str, object_type: str, object_ids, operation: str) -> None:
    """Audit a write inside the service's transaction (it rolls back with it)."""
    context = _current.get()
    AuditRecord.objects.bulk_create([
        AuditRecord(channel=context.channel if context else Channel.SYSTEM,
                    request_id=context.request_id if context else uuid.uuid4(),
                    operation=(f"{context.operation} -> {operation}" if context else operation)[:200],
                    action=action, object_type=object_type, object_id=str(object_id),
                    **_principal_fields(principal))
        for object_id in object_ids])


def flush_reads(principal, context: AuditContext) -> None:
    """Write the reads a request collected, in one statement."""
    rows = [
        AuditRecord(channel=context.channel, request_id=context.request_id,
                    operation=context.operation, action=Action.READ, object_type=object_type,
                    object_id=object_id, **_principal_fields(principal))
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
