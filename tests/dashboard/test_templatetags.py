"""Formatting helpers of the dashboard's templates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from jobcenter.dashboard.templatetags import dashboard as tags


def test_short_id_is_the_random_tail():
    assert tags.short_id("01a2091440840ecbe9645b8f91450ba4") == "91450ba4"
    assert tags.short_id(None) == ""


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0, "0/s"),
        (950.4, "950/s"),
        (1234, "1.2k/s"),
        (152_000, "152k/s"),
        (2_500_000, "2.5M/s"),
        ("x", ""),
    ],
)
def test_rate(value, text):
    assert tags.rate(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [(None, ""), (4.4, "4s"), (65, "1m 05s"), (7800, "2h 10m"), (3 * 86400 + 4 * 3600, "3d 4h")],
)
def test_seconds(value, text):
    assert tags.seconds(value) == text


def test_pct_and_tens_never_round_up_to_done():
    assert tags.pct(99.9) == 99 and tags.pct(100) == 100 and tags.pct(-3) == 0
    assert tags.pct("nan?") == 0 and tags.tens(59.9) == 50


def test_query_replaces_parameters_and_drops_the_page():
    base = "status=running&status=waiting&page=3&project=alpha"
    assert tags.query(base, ordering="-status") == (
        "?status=running&status=waiting&project=alpha&ordering=-status"
    )
    assert tags.query(base, page=2).endswith("&page=2")
    assert "page" not in tags.query(base, page=1)
    assert tags.query("q=a", q="") == "?"


def test_sort_header_reflects_the_current_order():
    listing = SimpleNamespace(
        query="project=alpha&ordering=status",
        sort={"status": {"next": "-status", "aria": "ascending"}},
    )
    html = tags.sort_header(listing, "status", "Status")
    assert 'aria-sort="ascending"' in html and "ordering=-status" in html and "▲" in html
    other = tags.sort_header(listing, "type", "Type")
    assert "aria-sort" not in other and "ordering=type" in other


def test_when_shows_date_and_time_in_the_active_zone_with_how_long_ago():
    now = timezone.now().replace(microsecond=0)
    moment = now - timedelta(minutes=3, seconds=10)
    tokyo = ZoneInfo("Asia/Tokyo")
    local = moment.astimezone(tokyo)
    day = f"{tags.MONTHS[local.month - 1]} {local.day}"
    if local.year != timezone.localtime(now, tokyo).year:
        day += f", {local.year}"
    with timezone.override(tokyo):
        html = tags.when(moment)
        long = tags.when(moment, "long")
        old = tags.when(datetime(2020, 2, 29, 23, 30, 0, tzinfo=UTC))
        with_who = tags.when(moment, "short", "oscar")
    stamp = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert html == (
        f'<time datetime="{stamp}" title="{local:%Y-%m-%d %H:%M:%S} JST (UTC+09:00)">'
        f"{day}, {local:%H:%M:%S}</time>"
        f'<small class="when-sub"><span class="ago" data-ago="{stamp}">3 min ago</span></small>'
    )
    # the job page: always the year, the hint after it
    assert f"{tags.MONTHS[local.month - 1]} {local.day}, {local.year}, {local:%H:%M:%S}" in long
    assert long.endswith("3 min ago</span>)</span>")
    # another year: the year is said; the date is Tokyo's (already March 1st there)
    assert ">Mar 1, 2020, 08:30:00</time>" in old and "years ago" in old
    assert 'title="2020-03-01 08:30:00 JST (UTC+09:00)"' in old
    assert "3 min ago</span> · oscar</small>" in with_who
    assert 'aria-label="not yet"' in tags.when(None)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (-30, "just now"),
        (-7200, "in 2 h"),
        (0, "just now"),
        (4.9, "just now"),
        (42, "42 s ago"),
        (60, "1 min ago"),
        (3599, "59 min ago"),
        (3600, "1 h ago"),
        (86_399, "23 h ago"),
        (86_400, "1 day ago"),
        (44 * 86_400, "44 days ago"),
        (45 * 86_400, "1 month ago"),
        (400 * 86_400, "13 months ago"),
        (800 * 86_400, "2 years ago"),
    ],
)
def test_ago(seconds, text):
    assert tags.ago(seconds) == text


@pytest.mark.parametrize(
    ("zone", "label"),
    [
        ("Asia/Tokyo", "JST (UTC+09:00)"),
        ("Asia/Kathmandu", "UTC+05:45"),  # no abbreviation: the offset alone
        ("America/St_Johns", "NST (UTC-03:30)"),
        ("UTC", "UTC"),
    ],
)
def test_zone_label_names_the_offset(zone, label):
    assert tags.zone_label(datetime(2026, 1, 1, tzinfo=ZoneInfo(zone))) == label


def test_duration_of_running_and_finished_jobs():
    start = datetime(2026, 1, 1, tzinfo=UTC)
    assert (
        tags.duration(SimpleNamespace(started_at=start, finished_at=start + timedelta(seconds=75)))
        == "1m 15s"
    )
    assert tags.duration(SimpleNamespace(started_at=None, finished_at=None)) == ""


def test_can_cancel_follows_state_and_cancellable_flag():
    job = SimpleNamespace(status="running", cancellable=True)
    assert tags.can_cancel(job)
    assert not tags.can_cancel(SimpleNamespace(status="running", cancellable=False))
    assert not tags.can_cancel(SimpleNamespace(status="cancelling", cancellable=True))
    assert tags.can_cancel(SimpleNamespace(status="waiting", cancellable=True))


def test_job_url():
    assert tags.job_url("abc") == "/jobs/abc/"
    assert tags.job_url("abc", "cancel") == "/jobs/abc/cancel/"


def test_filesize_and_basename():
    assert tags.filesize(512) == "512 B" and tags.filesize(2048) == "2.0 KB"
    assert tags.basename("/data/a/vertex.csv") == "vertex.csv" and tags.basename("/x/") == "x"
