"""Small formatting helpers for the dashboard templates."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import cache
from typing import Any

from django import template
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from jobcenter.dashboard.formatting import num, rate, seconds
from jobcenter.jobs.choices import FILE_SKIPPED, JobStatus
from jobcenter.jobs.models import SHORT_ID_LENGTH  # searched through its own index
from jobcenter.jobs.registry import kind_of
from jobcenter.jobs.selectors import file_status, job_seconds_remaining

register = template.Library()
register.filter(num)
register.filter(rate)
register.filter(seconds)


STATUS_TONES = {
    JobStatus.WAITING: "neutral",
    JobStatus.RUNNING: "info",
    JobStatus.CANCELLING: "warn",
    JobStatus.SUCCEEDED: "ok",
    JobStatus.PARTIALLY_FAILED: "warn",
    JobStatus.FAILED: "bad",
    JobStatus.CANCELLED: "muted",
}
FILE_STATUS_TONES = {"success": "ok", "partFailed": "warn", "failed": "bad"}


@register.filter
def short_id(value: str) -> str:
    """Ids start with their creation time, so jobs submitted together share a prefix: the
    tail is what tells them apart."""
    value = str(value or "")
    return value[-SHORT_ID_LENGTH:]


@register.filter
def tone(status: str) -> str:
    return STATUS_TONES.get(status, "neutral")


@register.filter
def file_tone(status: str) -> str:
    return FILE_STATUS_TONES.get(status, "neutral")


@register.filter
def pct(value: Any) -> int:
    """A progress value (0-100) as a whole percent that only reaches 100 when it is 100."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0
    return max(0, min(100, int(number)))


@register.filter
def ratio_pct(part: Any, whole: Any) -> float:
    try:
        part, whole = float(part), float(whole)
    except (TypeError, ValueError):
        return 0.0
    return round(100.0 * part / whole, 2) if whole > 0 else 0.0


@register.filter
def duration(job: Any) -> str:
    """How long the job ran (or has been running)."""
    started = getattr(job, "started_at", None)
    if started is None:
        return ""
    end = getattr(job, "finished_at", None) or timezone.now()
    return seconds(max(0.0, (end - started).total_seconds()))


@register.filter
def filesize(value: Any) -> str:
    try:
        size = float(value)
    except (TypeError, ValueError):
        return ""
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return ""


@register.filter
def pretty_json(value: Any) -> str:
    try:
        return json.dumps(value, indent=2, sort_keys=False, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return str(value)


def _utc(value: datetime) -> datetime:
    if timezone.is_naive(value):
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def ago(seconds: float) -> str:
    """How long ago, for people: just now, 40 s ago, 3 min ago, 5 h ago, 2 days ago, 3 months
    ago (dashboard.js keeps it current with the same rules)."""
    if seconds < 0:
        return "just now" if seconds > -60 else f"in {ago(-seconds).removesuffix(' ago')}"
    total = int(seconds)
    if total < 5:
        return "just now"
    if total < 60:
        return f"{total} s ago"
    minutes = total // 60
    if minutes < 60:
        return f"{minutes} min ago"
    hours = minutes // 60
    if hours < 24:
        return f"{hours} h ago"
    days = hours // 24
    if days < 45:
        return f"{days} day{'' if days == 1 else 's'} ago"
    if days < 730:
        months = days // 30
        return f"{months} month{'' if months == 1 else 's'} ago"
    return f"{days // 365} years ago"


def zone_label(moment: datetime) -> str:
    """``JST (UTC+09:00)``, or ``UTC+05:45`` where the zone has no abbreviation."""
    offset = moment.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "+" if minutes >= 0 else "-"
    utc = f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    name = moment.tzname() or ""
    if not name or name[0] in "+-" or name == "UTC":
        return utc if name != "UTC" else "UTC"
    return f"{name} ({utc})"


@register.simple_tag
def when(value: datetime | None, style: str = "short", who: str = "") -> SafeString | str:
    """A moment in the user's time zone (activated from the browser's, see
    jobcenter/dashboard/timezones.py) with how long ago it was: ``Nov 22, 18:24:02`` over
    ``3 min ago`` (``short``, for tables, ``who`` after it) or ``Nov 22, 2026, 18:24:02 (3 min
    ago)`` (``long``). The ``<time>`` element carries the UTC moment and, as its title, the full
    local time with its zone; the hint carries the moment for dashboard.js to keep current."""
    if value is None:
        return mark_safe('<span class="dim" aria-label="not yet">—</span>')
    moment = _utc(value)
    local = timezone.localtime(moment)
    now = timezone.localtime(timezone.now())
    day = f"{MONTHS[local.month - 1]} {local.day}"
    if style == "long" or local.year != now.year:
        day = f"{day}, {local.year}"
    stamp = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    time_html = format_html(
        '<time datetime="{}" title="{} {}">{}, {}</time>',
        stamp,
        local.strftime("%Y-%m-%d %H:%M:%S"),
        zone_label(local),
        day,
        local.strftime("%H:%M:%S"),
    )
    hint = format_html(
        '<span class="ago" data-ago="{}">{}</span>',
        stamp,
        ago((now - local).total_seconds()),
    )
    if style == "long":
        return format_html('{} <span class="dim">({})</span>', time_html, hint)
    if who:
        return format_html('{}<small class="when-sub">{} · {}</small>', time_html, hint, who)
    return format_html('{}<small class="when-sub">{}</small>', time_html, hint)


@register.simple_tag
def zone_name() -> str:
    """The name of the time zone the page's times are shown in (``Asia/Tokyo``)."""
    return timezone.get_current_timezone_name()


@register.simple_tag(takes_context=True)
def zone_note(context: template.Context) -> str:
    """The zone the page's times are in, said once a page: ``Times are in Asia/Tokyo (JST,
    UTC+09:00), the time zone of this browser.``"""
    label = zone_label(timezone.localtime(timezone.now()))
    name = timezone.get_current_timezone_name()
    if label != name:
        name = f"{name} ({label.replace(' (', ', ').rstrip(')')})"
    request = context.get("request")
    if getattr(request, "browser_time_zone", None):
        return f"Times are in {name}, the time zone of this browser."
    return f"Times are in {name}."


@register.filter
def epoch(value: datetime | None) -> str:
    return str(int(_utc(value).timestamp())) if value else ""


@register.simple_tag
def query(base: str, **changes: Any) -> str:
    """``base`` (a query string) with some parameters replaced, as ``?...``.

    An empty or None value removes the parameter; the page is dropped unless it is given, so a
    new sort or filter starts on the first page.
    """
    data = QueryDict(base, mutable=True)
    data.pop("page", None)
    for name, value in changes.items():
        data.pop(name, None)
        if value not in (None, "") and not (name == "page" and str(value) == "1"):
            data[name] = str(value)
    encoded = data.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.filter
def can_cancel(job: Any) -> bool:
    """Whether the job is in a state a cancel request can still change (the user's role is
    checked separately, and again by the service)."""
    return bool(getattr(job, "cancellable", False)) and job.status in (
        JobStatus.WAITING,
        JobStatus.RUNNING,
    )


@register.filter
def file_state(file: Any, job: Any) -> str:
    """What a file of an import is doing: its final status, skipped (the job ended before the
    file was finished: jobs.selectors.file_status), else loading or waiting."""
    if file.status:
        return file.get_status_display()
    if file_status(job, file) == FILE_SKIPPED:
        return "Skipped"
    if file.started_at and not file.finished_at:
        return "Loading"
    return "Waiting"


SORT_ICONS = {"ascending": "▲", "descending": "▼", "": "↕"}


@register.simple_tag
def sort_header(listing: Any, name: str, label: str) -> SafeString:
    """A column header of the job list that sorts by ``name`` (a second click reverses)."""
    state = listing.sort.get(name) or {"next": name, "aria": ""}
    url = reverse("dashboard:job_list") + query(listing.query, ordering=state["next"])
    aria = state["aria"]
    direction = {"ascending": "descending", "descending": "ascending"}.get(aria, "")
    hint = f"Sort by {label.lower()}" + (f", {direction}" if direction else "")
    return format_html(
        '<th scope="col"{}><a class="sort" href="{}" hx-get="{}" title="{}">{}'
        '<span class="sort-icon" aria-hidden="true">{}</span></a></th>',
        format_html(' aria-sort="{}"', aria) if aria else "",
        url,
        url,
        hint,
        label,
        SORT_ICONS[aria],
    )


@register.filter
def remaining(job: Any) -> float | None:
    """Seconds a running job still needs at its recent line rate (None: unknown)."""
    return job_seconds_remaining(job)


@register.filter
def basename(path: Any) -> str:
    text = str(path or "").rstrip("/")
    return text.rsplit("/", 1)[-1] or text


@register.filter
def tens(value: Any) -> int:
    """A percentage rounded down to a multiple of ten (what screen readers are told)."""
    return pct(value) // 10 * 10


@cache
def _url_pattern(name: str) -> str:
    return reverse(name, args=["__id__"])


@register.filter
def job_url(job_id: str, action: str = "") -> str:
    """``/jobs/<id>/`` or ``/jobs/<id>/<action>/``: reverse() once, not for every row of a list
    (it is a noticeable part of rendering fifty rows)."""
    name = f"dashboard:job_{action}" if action else "dashboard:job_detail"
    return _url_pattern(name).replace("__id__", str(job_id))


# --- analytics jobs (issue 6) -----------------------------------------------------------------


def _compact(value: Any) -> str:
    """12345 -> 12.3k (for the narrow progress column of the list)."""
    number = int(value or 0)
    if number >= 1_000_000:
        return f"{number / 1_000_000:.1f}M"
    if number >= 10_000:
        return f"{number / 1000:.0f}k"
    if number >= 1000:
        return f"{number / 1000:.1f}k"
    return str(number)


@register.filter
def progress_text(job: Any, style: str = "long") -> str:
    """What a job's counters mean, in its kind's words (``Kind.progress_text``: lines for
    imports, an algorithm's phase with edges read or rows written, rows for queries and
    exports, pages for backups...), else its phase as the worker stored it. ``short`` is the
    job list's compact form."""
    short = style == "short"
    n = _compact if short else num
    kind = kind_of(job.type)
    words = kind.progress_text
    if kind.loads_files:
        return words(job, short, n) if words else ""
    if job.status not in (JobStatus.RUNNING, JobStatus.CANCELLING):
        result = job.result if isinstance(job.result, dict) else {}
        if job.status == JobStatus.SUCCEEDED and "total" in result:
            rows = result["total"]
            return f"{n(rows)} result row{'' if rows == 1 else 's'}"
        return ""
    text = words(job, short, n) if words else ""
    phase = getattr(job, "phase", "")
    if not text and phase:  # any other kind (start graph...): its phase, as its worker stored it
        if short:
            return f"{phase} {n(job.lines_done)}/{n(job.lines_total)}" if job.lines_total else phase
        text = phase[:1].upper() + phase[1:]
        return (
            f"{text}: {num(job.lines_done)} of {num(job.lines_total)}" if job.lines_total else text
        )
    return text


@register.filter
def kind(job: Any, trait: str) -> Any:
    """What the job's kind says of ``trait`` (a field of jobs.registry.Kind), e.g.
    ``job|kind:"loads_files"``."""
    return getattr(kind_of(getattr(job, "type", "")), trait)


@register.filter
def job_named(job: Any) -> str:
    """What the job's parameters name it by, for a kind that has such a parameter (an
    algorithm's name); else nothing."""
    named_by = kind_of(job.type).named_by
    params = job.params if isinstance(job.params, dict) else {}
    return str(params[named_by]) if named_by and params.get(named_by) else ""


@register.filter
def job_subtitle(job: Any) -> str:
    """The second line of a job in the list: the algorithm's name, else the job's name."""
    return job_named(job) or job.name


@register.filter
def on_graph(job: Any) -> str:
    """``into`` for jobs that load files into their graph (imports), ``on`` for the others."""
    return "into" if kind_of(job.type).loads_files else "on"


@register.filter
def cell(value: Any) -> str:
    """A result value for a table cell: floats short, lists joined, nothing as a dash."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return str(value)
        return f"{value:.6g}"
    if isinstance(value, list | tuple | set):
        return "; ".join(cell(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


@register.filter
def full_value(value: Any) -> str:
    """The whole value (for a cell's title when :func:`cell` shortened it)."""
    if isinstance(value, float):
        return repr(value)
    return cell(value)
