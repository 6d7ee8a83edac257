"""The one hook between the services and the apps above them.

A service that changes client data calls ``record_change`` inside its own
transaction. The audit trail and the webhook outbox listen (they register in
their AppConfig.ready), so both commit or roll back with the change, and the
domain apps never import the apps that sit above them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction

# What was done (audit.models.Action takes these values).
CREATE = "create"
UPDATE = "update"
ERASE = "erase"

# Events announced to webhooks (webhooks.models.EventType takes these values).
REFERRAL_CREATED = "referral.created"
REFERRAL_STATUS_CHANGED = "referral.status_changed"
REFERRAL_NOTE_ADDED = "referral.note_added"
REFERRAL_CHAIN_CHANGED = "referral.chain_changed"
REFERRAL_OUTCOME_ADDED = "referral.outcome_added"
CLIENT_ERASED = "client.erased"


@dataclass(frozen=True)
class Change:
    """One write: who made it, to which objects, through which service, and the
    event (if any) the organisations in ``organization_ids`` hear of it by."""

    principal: object
    action: str
    object_type: str
    object_ids: tuple
    operation: str
    event: str | None = None
    organization_ids: frozenset = frozenset()
    data: dict = field(default_factory=dict)


Listener = Callable[[Change], None]
_listeners: list[Listener] = []


def listen(listener: Listener) -> Listener:
    """Register a listener (once, however often an app is readied)."""
    if listener not in _listeners:
        _listeners.append(listener)
    return listener


def listeners() -> tuple[Listener, ...]:
    return tuple(_listeners)


def record_change(change: Change) -> None:
    """Tell every listener, inside the writer's transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("record_change must run inside the writer's transaction")
    for listener in _listeners:
        listener(change)
