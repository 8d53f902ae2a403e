"""Numbers and spans of time for people, shared by the templates (as filters of
templatetags/dashboard.py) and the charts (jobcenter.dashboard.charts)."""

from __future__ import annotations

from typing import Any


def num(value: Any) -> str:
    """1234567 -> 1,234,567 (the dashboard is English-only); a count known only to exceed
    its value (jobs.listing.BoundedCount) -> 10,000+."""
    try:
        text = f"{int(value):,}"
    except (TypeError, ValueError):
        return ""
    return text if getattr(value, "exact", True) else f"{text}+"


def rate(value: Any) -> str:
    """Lines per second, short: 950/s, 12.3k/s, 1.2M/s."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return ""
    if number >= 1_000_000:
        return f"{number / 1_000_000:.1f}M/s"
    if number >= 10_000:
        return f"{number / 1000:.0f}k/s"
    if number >= 1000:
        return f"{number / 1000:.1f}k/s"
    return f"{number:.0f}/s"


def seconds(value: Any) -> str:
    """A span of seconds for people: 45s, 3m 05s, 2h 10m, 3d 4h."""
    if value is None or value == "":
        return ""
    total = round(float(value))
    if total < 60:
        return f"{total}s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h {minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h"
