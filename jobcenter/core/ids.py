"""Opaque, time-ordered string ids."""

from __future__ import annotations

import secrets
import time


def new_id() -> str:
    """32 hex characters: 12 of milliseconds since the epoch, 20 random.

    Time-ordered, so ids sort by creation and an id prefix narrows to a time window; opaque to
    clients, who must treat them as strings.
    """
    return f"{int(time.time() * 1000):012x}{secrets.token_hex(10)}"
