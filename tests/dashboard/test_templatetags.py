"""Formatting helpers of the dashboard's templates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

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


def test_when_renders_utc_for_the_script_to_localise():
    moment = datetime(2026, 11, 22, 10, 0, 5, tzinfo=UTC)
    html = tags.when(moment, "long")
    assert html == (
        '<time datetime="2026-11-22T10:00:05Z" data-local="long">2026-11-22 10:00:05 UTC</time>'
    )
    assert 'aria-label="not yet"' in tags.when(None)


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
