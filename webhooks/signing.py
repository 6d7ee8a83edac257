"""Signatures in the Standard Webhooks format (https://www.standardwebhooks.com/):
``webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">``, so a
receiver can verify with the `standardwebhooks` library in any language, and
reject replays by the timestamp (5 minutes' tolerance) and the id."""

from __future__ import annotations

import base64
import secrets as random
from datetime import UTC, datetime

from standardwebhooks.webhooks import Webhook

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(random.token_bytes(32)).decode()


def signed_headers(*, message_id: str, body: str, secrets: list[str],
                   at: datetime) -> dict[str, str]:
    """The three Standard Webhooks headers, with one signature per secret in use."""
    at = at.astimezone(UTC)
    signatures = " ".join(Webhook(secret).sign(message_id, at, body) for secret in secrets)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signatures,
    }
