"""The signature of a delivery (docs/notifications.md "Verifying a delivery").

``Jobcenter-Signature: v1=<hex>`` where ``<hex>`` is HMAC-SHA256, keyed by the webhook's secret,
of ``<Jobcenter-Timestamp>.<raw body>``. The timestamp (Unix seconds) is signed too, so a
receiver can refuse a replayed delivery by its age.
"""

from __future__ import annotations

import hashlib
import hmac

DELIVERY_HEADER = "Jobcenter-Delivery"
EVENT_HEADER = "Jobcenter-Event"
TIMESTAMP_HEADER = "Jobcenter-Timestamp"
SIGNATURE_HEADER = "Jobcenter-Signature"
SCHEME = "v1"


def sign(*, secret: str, timestamp: int, body: bytes) -> str:
    """The ``Jobcenter-Signature`` header's value."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"{SCHEME}={mac.hexdigest()}"


def verify(
    *, secret: str, timestamp: str, body: bytes, signature: str, now: float, tolerance: float = 300
) -> bool:
    """What a receiver does (here for the tests and the docs' example): the signature matches
    and the timestamp is within ``tolerance`` seconds of ``now``."""
    try:
        when = int(timestamp)
    except ValueError:
        return False
    if abs(now - when) > tolerance:
        return False
    expected = sign(secret=secret, timestamp=when, body=body)
    return any(hmac.compare_digest(expected, part.strip()) for part in signature.split(","))
