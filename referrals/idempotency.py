"""Idempotency-Key handling for POSTs that create (IETF
draft-ietf-httpapi-idempotency-key-header): same key and body replays the first
response; same key with another body is 422; a key still being processed is 409.
Keys belong to one OAuth application and are kept at least 24 hours."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from core.errors import DomainError

from .models import IdempotencyRecord

KEY_TTL = timedelta(hours=24)
# An in-flight key whose request died (e.g. a killed worker) is released after this.
IN_FLIGHT_LEASE = timedelta(seconds=60)
MAX_KEY_LENGTH = 255
# The header's value, of printable ASCII: an sf-string ("...", one character or more
# inside; the quotes are not part of the key) or a bare key, which cannot begin with a
# quote. The OpenAPI document declares this pattern and MAX_KEY_LENGTH; parse_key
# checks them.
KEY_PATTERN = r'^("[ -~]+"|[!#-~][ -~]*)$'


def parse_key(raw: str | None) -> str:
    """The key from an Idempotency-Key header value (an sf-string; quotes optional)."""
    if raw is None or not raw.strip():
        raise DomainError("idempotency_key_missing",
                          "Send an Idempotency-Key header (e.g. a UUID) with every create.")
    value = raw.strip()
    if len(value) > MAX_KEY_LENGTH or not re.fullmatch(KEY_PATTERN, value):
        raise DomainError("idempotency_key_invalid",
                          f"An Idempotency-Key is 1 to {MAX_KEY_LENGTH} printable ASCII "
                          'characters, quoted ("...") or not.')
    return value[1:-1] if value.startswith('"') else value


def fingerprint(channel: str, payload) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{channel}\n{canonical}".encode()).hexdigest()


def begin(application, key: str, digest: str) -> tuple[IdempotencyRecord, bool]:
    """Claim ``key`` for this request. Returns (record, is_new); a completed record
    (is_new False) is to be replayed. Raises 422 or 409 as the draft says."""
    now = timezone.now()
    try:
        with transaction.atomic():
            IdempotencyRecord.objects.filter(application=application, key=key,
                                             expires_at__lte=now).delete()
            record = IdempotencyRecord.objects.create(
                application=application, key=key, fingerprint=digest,
                created_at=now, expires_at=now + KEY_TTL)
            return record, True
    except IntegrityError:
        pass
    record = IdempotencyRecord.objects.get(application=application, key=key)
    if record.fingerprint != digest:
        raise DomainError("idempotency_key_reused",
                          "This Idempotency-Key was used with a different request body. "
                          "Use a new key for a new request.")
    if record.state == IdempotencyRecord.IN_FLIGHT:
        if record.created_at > now - IN_FLIGHT_LEASE:
            raise DomainError("idempotency_key_in_flight",
                              "A request with this Idempotency-Key is still being processed; "
                              "retry shortly.", headers={"Retry-After": "1"})
        # The first request died mid-way; this one takes the key over.
        claimed = IdempotencyRecord.objects.filter(
            pk=record.pk, state=IdempotencyRecord.IN_FLIGHT, created_at=record.created_at,
        ).update(created_at=now)
        if claimed != 1:
            raise DomainError("idempotency_key_in_flight",
                              "A request with this Idempotency-Key is still being processed; "
                              "retry shortly.", headers={"Retry-After": "1"})
        record.created_at = now
        return record, True
    return record, False


def complete(record: IdempotencyRecord, *, status: int, body, resource_id) -> None:
    """Store the response; call inside the transaction that made the resource."""
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        state=IdempotencyRecord.COMPLETED, response_status=status, response_body=body,
        resource_id=resource_id)


def release(record: IdempotencyRecord) -> None:
    """Forget a key whose request failed, so the client may retry with it."""
    IdempotencyRecord.objects.filter(pk=record.pk, state=IdempotencyRecord.IN_FLIGHT).delete()


def run(application, key: str, digest: str, perform):
    """Run ``perform()`` once per (application, key). ``perform`` returns
    (status, body, resource_id). Returns (status, body, resource_id, replayed)."""
    record, is_new = begin(application, key, digest)
    if not is_new:
        return record.response_status, record.response_body, record.resource_id, True
    try:
        with transaction.atomic():
            status, body, resource_id = perform()
            complete(record, status=status, body=body, resource_id=resource_id)
    except BaseException:
        release(record)
        raise
    return status, body, resource_id, False


def purge_expired() -> int:
    deleted, _ = IdempotencyRecord.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted
