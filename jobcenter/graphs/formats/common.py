"""What both import dialects share: the error threshold, the failed-record limit, and how a
request's uploaded files reach the import roots (:class:`UploadStore`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from jobcenter.graphs.plan import ErrorThreshold, PlanError


class Upload(Protocol):
    """A file sent with a request (Django's ``UploadedFile`` is one); only its name is read
    here, its bytes are the store's."""

    name: str | None


class UploadStore(Protocol):
    """Where a request's uploads go (the app's project uploads, jobcenter.core.uploads): the
    dialects decide what each file stands for, the store keeps the bytes."""

    def store(self, files: Sequence[Upload], part: str) -> list[str]:
        """Keep ``files`` (sent as ``part``); their paths as an import names them, in order."""
        ...

    def name(self, raw: str) -> str:
        """The name a file called ``raw`` is known by once stored (to match a mapping's
        inputs to uploaded files)."""
        ...


def threshold_request(max_count: int | None, max_percent: float | None) -> dict[str, Any]:
    """``{"max_count": n, "max_percent": p}`` with what was given (empty: no threshold)."""
    return {
        key: value
        for key, value in (("max_count", max_count), ("max_percent", max_percent))
        if value is not None
    }


def error_threshold(value: Any, *, field: str) -> ErrorThreshold:
    """``{"max_count": n, "max_percent": p}`` (either may be left out)."""
    if value is None:
        return ErrorThreshold()
    if not isinstance(value, dict):
        raise PlanError(f"{field} must be an object", field=field)
    unknown = sorted(set(value) - {"max_count", "max_percent"})
    if unknown:
        raise PlanError(f"{field}: unknown field {unknown[0]!r}", field=field)
    count = value.get("max_count")
    if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 0):
        raise PlanError(f"{field}.max_count must be a non-negative integer", field=field)
    percent = value.get("max_percent")
    if percent is not None and (
        isinstance(percent, bool) or not isinstance(percent, int | float) or not 0 <= percent <= 100
    ):
        raise PlanError(f"{field}.max_percent must be a number from 0 to 100", field=field)
    return ErrorThreshold(max_count=count, max_percent=None if percent is None else float(percent))


def max_failed_records(request: dict[str, Any]) -> int:
    value = request.get("max_failed_records", 10_000)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 1_000_000:
        raise PlanError(
            "max_failed_records must be an integer from 0 to 1000000", field="max_failed_records"
        )
    return value
