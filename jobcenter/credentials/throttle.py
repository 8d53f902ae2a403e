"""Throttling of password guesses, per user name and per client address.

Counts live in the job database (``LoginFailureCount``), so a limit holds across gunicorn
workers, threads and processes. An attempt is counted *before* its password is checked, by one
conditional UPDATE per scope that refuses to count past the limit, and a right password gives
its count back. So concurrent guesses can never get more password checks than the limit (no
check-then-act race), and what stays counted is failures only.

Windows are fixed: one starts with the first failure counted for a user name (or an address)
and lasts ``JOBCENTER_LOGIN_FAILURE_WINDOW`` seconds. Once a scope holds its limit of failures,
every attempt for it is refused (``TooManyAttempts``, with ``retry_after`` = the seconds left in
the window) without checking a password, the right one included. Nothing resets a count early:
a successful login only gives back its own attempt, so logging in to one's own account does not
clear the address count that other user names' failures built up. docs/security.md has the
settings and the reasons.
"""

from __future__ import annotations

import ipaddress
import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Case, F, Q, Value, When
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import salted_hmac

from jobcenter.core.errors import TooManyAttempts
from jobcenter.credentials.models import LoginFailureCount

logger = logging.getLogger("jobcenter.security")

Scope = LoginFailureCount.Scope
_SALT = "jobcenter.credentials.throttle"


@dataclass(frozen=True)
class Attempt:
    """An attempt being checked: the counts it took, ``(scope, key, window_start)`` each,
    and what it was about (for the log)."""

    taken: tuple[tuple[str, str, datetime], ...]
    username: str
    address: str | None


def client_address(request: HttpRequest) -> str | None:
    """The client's address: ``REMOTE_ADDR``, or behind ``JOBCENTER_PROXY_COUNT`` reverse
    proxies the address the outermost of them saw (from ``X-Forwarded-For``, read from the
    right: entries further left are whatever the client sent). IPv6 addresses count per /64,
    the block one host usually holds."""
    address = request.META.get("REMOTE_ADDR") or None
    proxies = settings.JOBCENTER_PROXY_COUNT
    if proxies > 0:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if forwarded:
            address = forwarded[-proxies] if len(forwarded) >= proxies else forwarded[0]
    if address is None:
        return None
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:100]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network(((int(ip) >> 64) << 64, 64)))
    return str(ip)


def _key(scope: str, value: str) -> str:
    raw = f"{scope}:{value}".encode("utf-8", "surrogatepass")
    return salted_hmac(_SALT, raw, algorithm="sha256").hexdigest()


def _window() -> timedelta:
    return timedelta(seconds=settings.JOBCENTER_LOGIN_FAILURE_WINDOW)


def _take(scope: str, key: str, limit: int, now: datetime) -> datetime | None:
    """Count one attempt for ``key``; the start of the window it counts in, or None when the
    key is at its limit (nothing counted)."""
    rows = LoginFailureCount.objects.filter(scope=scope, key=key)
    current = Q(window_start__gt=now - _window())
    for _ in range(5):
        # One statement: a count in a window that is over restarts at 1 in a new one.
        counted = rows.filter(~current | Q(failures__lt=limit)).update(
            failures=Case(When(current, then=F("failures") + 1), default=Value(1)),
            window_start=Case(When(current, then=F("window_start")), default=Value(now)),
        )
        if counted:
            return rows.values_list("window_start", flat=True).get()
        if rows.exists():
            return None
        try:
            with transaction.atomic():
                LoginFailureCount.objects.create(scope=scope, key=key, window_start=now, failures=1)
        except IntegrityError:
            continue  # a concurrent attempt made the row first: count on it
        # Rows of windows long over are not needed any more (a returning key restarts anyway).
        LoginFailureCount.objects.filter(window_start__lte=now - _window()).delete()
        return now
    raise RuntimeError(f"could not count a login attempt for {scope} {key[:12]}")


def _retry_after(scope: str, key: str, now: datetime) -> int:
    start = LoginFailureCount.objects.filter(scope=scope, key=key).values_list(
        "window_start", flat=True
    )
    ends = start.get() + _window()
    return max(1, math.ceil((ends - now).total_seconds()))


def _wait_text(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def _limits(username: str, address: str | None) -> list[tuple[str, str, int]]:
    scopes = [(Scope.USER.value, username, settings.JOBCENTER_LOGIN_MAX_FAILURES_PER_USER)]
    if address is not None:
        scopes.append(
            (Scope.ADDRESS.value, address, settings.JOBCENTER_LOGIN_MAX_FAILURES_PER_ADDRESS)
        )
    return [(scope, value, limit) for scope, value, limit in scopes if limit > 0]


def login_attempt_start(*, username: str, address: str | None) -> Attempt:
    """Count an attempt to log in as ``username`` from ``address`` (None: not known), before
    its password is checked; ``TooManyAttempts`` when the user name or the address is locked
    out (then nothing is counted)."""
    now = timezone.now()
    taken: list[tuple[str, str, datetime]] = []
    with transaction.atomic():  # both scopes counted, or neither
        for scope, value, limit in _limits(username, address):
            key = _key(scope, value)
            start = _take(scope, key, limit, now)
            if start is None:
                wait = _retry_after(scope, key, now)
                raise TooManyAttempts(
                    "too many failed logins for this user name or from this address: "
                    f"try again in {_wait_text(wait)}",
                    retry_after=wait,
                )
            taken.append((scope, key, start))
    return Attempt(taken=tuple(taken), username=username, address=address)


def login_attempt_end(attempt: Attempt, *, succeeded: bool) -> None:
    """After the password check: a success gives its counts back; a failure stays counted
    (and the one that reaches a limit is logged)."""
    if succeeded:
        for scope, key, start in attempt.taken:
            LoginFailureCount.objects.filter(
                scope=scope, key=key, window_start=start, failures__gt=0
            ).update(failures=F("failures") - 1)
        return
    limits = {scope: limit for scope, _, limit in _limits(attempt.username, attempt.address)}
    for scope, key, start in attempt.taken:
        reached = LoginFailureCount.objects.filter(
            scope=scope, key=key, window_start=start, failures=limits.get(scope, 0)
        ).exists()
        if reached:
            logger.warning(
                "login locked out: %d failed logins %s in %d s (user name %r, address %s)",
                limits[scope],
                "for this user name" if scope == Scope.USER else "from this address",
                settings.JOBCENTER_LOGIN_FAILURE_WINDOW,
                attempt.username[:150],
                attempt.address or "unknown",
            )


def login_lockout(request: HttpRequest | None) -> TooManyAttempts | None:
    """The lockout that refused an ``authenticate()`` call made with this request, if any
    (the authentication backend leaves it there: see backends.py)."""
    return getattr(request, "login_lockout", None) if request is not None else None
