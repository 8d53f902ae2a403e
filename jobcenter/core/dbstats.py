"""Query planner statistics for SQLite.

SQLite plans a query with the statistics ANALYZE gathers; without them it guesses, and on a
table of a million jobs a wrong guess reads and sorts every row of a project where an index
would have stopped after fifty. SQLite never gathers them by itself (PostgreSQL's autovacuum
does), so the worker refreshes them: for a table that has none yet (or an index without them),
or that has grown ``GROWTH`` times since they were gathered. Growth is judged from the table's
largest rowid, which costs one index lookup.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.db import connection
from django.db.models import Model

logger = logging.getLogger("jobcenter.core")

MIN_ROWS = 1_000  # below this, any plan is fast
GROWTH = 4


def _rows_now(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT max(rowid) FROM {connection.ops.quote_name(table)}")  # noqa: S608
        return int(cursor.fetchone()[0] or 0)


def _rows_analysed(table: str) -> int | None:
    """Rows the table had when last analysed; None when it never was, or when one of its
    indexes has no statistics (e.g. added by a migration since)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")
        if not cursor.fetchone()[0]:
            return None
        cursor.execute("SELECT idx, stat FROM sqlite_stat1 WHERE tbl = %s", [table])
        stats = {idx: stat for idx, stat in cursor.fetchall() if idx and stat}
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = %s", [table]
        )
        indexes = {row[0] for row in cursor.fetchall()}
    if not stats or indexes - set(stats):
        return None
    return max(int(stat.split()[0]) for stat in stats.values())


def database_statistics_refresh(*, models: Iterable[type[Model]]) -> list[str]:
    """ANALYZE the tables of ``models`` whose statistics are missing or stale (SQLite only);
    returns the tables analysed."""
    if connection.vendor != "sqlite":
        return []
    analysed = []
    for model in models:
        table = model._meta.db_table
        now = _rows_now(table)
        if now < MIN_ROWS:
            continue  # too small for statistics to matter; spares the look at sqlite_stat1
        before = _rows_analysed(table)
        if before is not None and now < GROWTH * max(before, 1):
            continue
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")
        analysed.append(table)
    if analysed:
        logger.info("refreshed query planner statistics of %s", ", ".join(analysed))
    return analysed
