"""The sender: a thread of every worker (``manage.py db_worker``) that posts due deliveries.

Each attempt: the delivery is claimed by a conditional update (two workers never send it at the
same time; one whose sender died is taken again after its lease), the URL is checked again and
resolved (``addresses``), the body is POSTed to that address with its signature, no redirect
followed, within JOBCENTER_WEBHOOK_TIMEOUT; then the outcome is recorded (status code, latency,
next attempt). A worker killed between the POST and the record sends it again: deliveries are at
least once, and the receiver drops repeats by their ``Jobcenter-Delivery`` id.
"""

from __future__ import annotations

import http.client
import logging
import socket
import ssl
import threading
import time

from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone

from jobcenter.credentials.crypto import SecretUnreadable
from jobcenter.notifications import addresses, signing
from jobcenter.notifications.selectors import deliveries_due, delivery_for_sending
from jobcenter.notifications.services import (
    WAKE,
    deliveries_expire,
    delivery_claim,
    delivery_record,
)

logger = logging.getLogger("jobcenter.notifications")

USER_AGENT = "jobcenter-webhooks/1"
BATCH = 100


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the address already checked, whatever DNS says now (Host stays the name)."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def post(*, url: str, body: bytes, headers: dict[str, str]) -> int:
    """POST ``body`` to ``url`` (checked); returns the status code. Raises addresses.Refused
    or OSError/HTTPException."""
    target = addresses.parse(url)
    address = addresses.resolve(target)
    cls = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    conn = cls(target.host, target.port, address, settings.JOBCENTER_WEBHOOK_TIMEOUT)
    try:
        conn.request("POST", target.path, body=body, headers=headers)
        response = conn.getresponse()
        response.read(64 * 1024)  # a little of the answer, then hang up
        return response.status
    finally:
        conn.close()


def send_one(delivery_id: str, attempts: int) -> str | None:
    """One attempt of one due delivery; returns its new status (None: not ours to send)."""
    if not delivery_claim(delivery_id=delivery_id, attempts=attempts, now=timezone.now()):
        return None
    attempt = attempts + 1
    try:
        found = delivery_for_sending(delivery_id)
    except SecretUnreadable as exc:
        return delivery_record(
            delivery_id=delivery_id,
            attempt=attempt,
            ok=False,
            status_code=None,
            latency_ms=None,
            error=str(exc),
        )
    if found is None:
        return None
    delivery, secret = found
    body = delivery.body.encode()
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        signing.DELIVERY_HEADER: delivery.pk,
        signing.EVENT_HEADER: delivery.event,
        signing.TIMESTAMP_HEADER: str(timestamp),
        signing.SIGNATURE_HEADER: signing.sign(secret=secret, timestamp=timestamp, body=body),
    }
    started = time.perf_counter()
    code: int | None = None
    error = ""
    try:
        code = post(url=delivery.webhook.url, body=body, headers=headers)
        if not 200 <= code < 300:
            error = f"HTTP {code}" + (" (redirects are not followed)" if 300 <= code < 400 else "")
    except addresses.Refused as exc:
        error = f"refused: {exc}"
    except (OSError, http.client.HTTPException) as exc:
        error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    latency = (time.perf_counter() - started) * 1000
    ok = not error
    status = delivery_record(
        delivery_id=delivery_id,
        attempt=attempt,
        ok=ok,
        status_code=code,
        latency_ms=latency if code is not None else None,
        error=error,
    )
    log = logger.info if ok else logger.warning
    log(
        "webhook delivery %s (%s) attempt %d: %s in %.0f ms%s",
        delivery_id,
        delivery.event,
        attempt,
        code if code is not None else "no answer",
        latency,
        f": {error}" if error else "",
    )
    return status


def send_due(limit: int = BATCH) -> int:
    """One pass: the deliveries due now (at most ``limit``). Returns how many were tried."""
    tried = 0
    for delivery_id, attempts in deliveries_due(now=timezone.now(), limit=limit):
        if send_one(delivery_id, attempts) is not None:
            tried += 1
    return tried


def send_forever(stop: threading.Event, interval: float | None = None) -> None:
    """The worker's sender thread: a pass, then (when nothing was due) a wait of ``interval``
    (JOBCENTER_WEBHOOK_POLL_INTERVAL) or until this process queues a delivery. Every
    JOBCENTER_PURGE_INTERVAL it also trims the delivery log (:func:`deliveries_expire`)."""
    interval = settings.JOBCENTER_WEBHOOK_POLL_INTERVAL if interval is None else interval
    last_expiry = 0.0
    try:
        while not stop.is_set():
            tried = 0
            try:
                close_old_connections()
                WAKE.clear()
                tried = send_due()
                if time.monotonic() - last_expiry >= settings.JOBCENTER_PURGE_INTERVAL:
                    last_expiry = time.monotonic()
                    if removed := deliveries_expire():
                        logger.info("webhook log: removed %d old deliveries", removed)
            except Exception:
                logger.exception("webhook sender pass failed")
            if not tried:
                WAKE.wait(interval)
    finally:
        connection.close()
