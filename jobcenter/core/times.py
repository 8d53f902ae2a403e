"""Times as every face writes them: UTC ISO 8601 with a ``Z``."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_iso(value: datetime | None) -> str | None:
    """``2026-11-22T10:00:00.123456Z``; None for None."""
    if value is None:
        return None
    text = value.astimezone(UTC).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text
