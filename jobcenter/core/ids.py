"""Opaque, time-ordered string ids."""

from __future__ import annotations

import secrets
import socket
import time


def new_id() -> str:
    """32 hex characters: 12 of milliseconds since the epoch, 20 random.

    Time-ordered, so ids sort by creation and an id prefix narrows to a time window; opaque to
    clients, who must treat them as strings.
    """
    return f"{int(time.time() * 1000):012x}{secrets.token_hex(10)}"


def worker_id_for(pid: int) -> str:
    """The id a worker process (``pid`` on this host) writes into the jobs it runs; ``manage.py
    serve`` names the workers it saw die by it."""
    return f"{socket.gethostname()}:{pid}"
