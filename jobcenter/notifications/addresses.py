"""Where webhooks may point (no requests to arbitrary addresses from the server: SSRF).

A URL's host must match ``JOBCENTER_WEBHOOK_ALLOWED_HOSTS`` (checked when a webhook is saved and
again before every attempt), and every address it resolves to must be a public one, or inside
``JOBCENTER_WEBHOOK_ALLOWED_NETWORKS`` (checked before every attempt; the request then goes to
that very address, so a second DNS answer cannot swap it). docs/security.md "Webhooks".
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from jobcenter.core.errors import InvalidInput

SCHEMES = {"http": 80, "https": 443}


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # lower case, IPv6 without brackets
    port: int
    path: str  # path and query, at least "/"


def parse(url: str) -> Target:
    """The parts of a webhook URL; InvalidInput naming what is wrong."""
    if len(url) > 2000:
        raise InvalidInput("url must be at most 2000 characters", field="url")
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise InvalidInput("url must not contain spaces or control characters", field="url")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidInput(f"url is not a valid URL: {exc}", field="url") from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise InvalidInput("url must start with http:// or https://", field="url")
    host = (parts.hostname or "").lower()
    if not host:
        raise InvalidInput("url has no host", field="url")
    if parts.username is not None or parts.password is not None:
        raise InvalidInput("url must not carry a user name or password", field="url")
    if parts.fragment:
        raise InvalidInput("url must not have a #fragment", field="url")
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return Target(scheme=scheme, host=host, port=port or SCHEMES[scheme], path=path)


def host_allowed(host: str) -> bool:
    """``host`` matches an entry of JOBCENTER_WEBHOOK_ALLOWED_HOSTS: the same name (or address),
    ``.example.com`` (it and its subdomains) or ``*`` (any host; addresses are still checked)."""
    for entry in settings.JOBCENTER_WEBHOOK_ALLOWED_HOSTS:
        entry = entry.strip().lower().strip("[]")
        if entry == "*" or entry == host:
            return True
        if entry.startswith(".") and (host == entry[1:] or host.endswith(entry)):
            return True
    return False


def check_url(url: str) -> Target:
    """A URL a webhook may be saved with; InvalidInput otherwise."""
    target = parse(url)
    if not host_allowed(target.host):
        allowed = settings.JOBCENTER_WEBHOOK_ALLOWED_HOSTS
        hint = (
            "no webhook host is allowed on this server (JOBCENTER_WEBHOOK_ALLOWED_HOSTS is empty)"
            if not allowed
            else "it is not in JOBCENTER_WEBHOOK_ALLOWED_HOSTS"
        )
        raise InvalidInput(f"url host {target.host!r} is refused: {hint}", field="url")
    return target


class Refused(Exception):
    """A delivery may not go to this URL (any more)."""


def _networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [
        ipaddress.ip_network(item.strip(), strict=False)
        for item in settings.JOBCENTER_WEBHOOK_ALLOWED_NETWORKS
        if item.strip()
    ]


def address_allowed(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    mapped = getattr(ip, "ipv4_mapped", None)
    if mapped is not None:
        ip = mapped
    if any(ip in network for network in _networks()):
        return True
    return ip.is_global and not ip.is_multicast


def resolve(target: Target) -> str:
    """The address to connect to: every address the host resolves to must be allowed (a name
    answering both a public and a private address is refused), the first one is used."""
    if not host_allowed(target.host):
        raise Refused(f"host {target.host!r} is not in JOBCENTER_WEBHOOK_ALLOWED_HOSTS")
    try:
        infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise Refused(f"cannot resolve {target.host!r}: {exc}") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise Refused(f"{target.host!r} resolves to no address")
    for address in addresses:
        if not address_allowed(address):
            raise Refused(
                f"{target.host!r} resolves to {address}, a private, loopback or reserved address "
                "outside JOBCENTER_WEBHOOK_ALLOWED_NETWORKS"
            )
    return addresses[0]
