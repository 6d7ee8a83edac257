"""What one request is doing: its channel, operation and request id, and the
client-data objects it returned. Any layer notes a read here (``note_read``);
audit writes the whole request's reads in one INSERT when it ends."""

from __future__ import annotations

import contextvars
import uuid
from dataclasses import dataclass, field

_current: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar(
    "request_context", default=None)


@dataclass
class RequestContext:
    channel: str
    operation: str
    request_id: uuid.UUID = field(default_factory=uuid.uuid4)
    reads: dict[str, set[str]] = field(default_factory=dict)


def begin(channel: str, operation: str) -> contextvars.Token:
    return _current.set(RequestContext(channel=channel, operation=operation))


def end(token: contextvars.Token) -> RequestContext | None:
    context = _current.get()
    _current.reset(token)
    return context


def current() -> RequestContext | None:
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
