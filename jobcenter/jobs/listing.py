"""Job lists that stay cheap at millions of jobs: counts bounded at a limit, pages found along
the list order's index, and the jobs per status of a filtered list."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import QuerySet
from django.db.models.expressions import Col
from django.db.models.lookups import (
    Exact,
    GreaterThan,
    GreaterThanOrEqual,
    LessThan,
    LessThanOrEqual,
)
from django.db.models.sql.where import AND

from jobcenter.jobs.chains import has_dependencies
from jobcenter.jobs.choices import ACTIVE_STATUSES, JobStatus
from jobcenter.jobs.filtersets import NULLABLE_ORDERING_FIELDS
from jobcenter.jobs.models import Job
from jobcenter.jobs.selectors import JOB_ROW_RELATED

# Counts above this are shown as "10,000+": counting further would read every matching row.
COUNT_LIMIT = 10_000


class BoundedCount(int):
    """A number of jobs, exact up to a limit: ``exact`` False means "more than this"."""

    exact: bool

    def __new__(cls, value: int, exact: bool = True) -> BoundedCount:
        obj = super().__new__(cls, value)
        obj.exact = exact
        return obj

    def __str__(self) -> str:
        return f"{int(self):,}" if self.exact else f"{int(self):,}+"

    def __repr__(self) -> str:
        return f"BoundedCount({int(self)}, exact={self.exact})"


def count_bounded(qs: QuerySet, *, limit: int | None = None) -> BoundedCount:
    """How many rows ``qs`` has, reading at most ``limit + 1`` of them (a subquery with LIMIT:
    the count stops there instead of reading every match of a filter at a million jobs)."""
    limit = COUNT_LIMIT if limit is None else limit
    n = qs.select_related(None).order_by().values("pk")[: limit + 1].count()
    return BoundedCount(limit, exact=False) if n > limit else BoundedCount(n)


def job_rows(ids: list[str]) -> list[Job]:
    """The jobs of ``ids``, in that order, with what a list row shows of them (one query;
    ``has_dependencies``: whether it waits for other jobs, jobs.chains)."""
    if not ids:
        return []
    rows = (
        Job.objects.filter(pk__in=ids)
        .select_related(*JOB_ROW_RELATED)
        .annotate(has_dependencies=has_dependencies())
    )
    by_id = {job.pk: job for job in rows}
    return [by_id[pk] for pk in ids if pk in by_id]


# A page whose filters the index of the list's order does not all hold is looked for along
# that index, at most this many ids at a time, keeping those that match (job_page); not past
# WALK_MAX_ROWS (deep offset pages).
WALK_CHUNK = 5_000
WALK_MAX_ROWS = 2_000
# Matches may be bunched far from the start of the list's order (e.g. started in one week
# half a year ago, newest first): after this many chunks (100, 400, 1,600 then 5,000 ids for a
# first page) the matches are sorted instead (at most SORT_LIMIT), or left to the database.
WALK_MAX_CHUNKS = 4
# Up to this many matches, sorting them all is bounded work (a few tens of ms).
SORT_LIMIT = 50_000


@dataclass(frozen=True)
class JobPage:
    rows: list[Job]
    count: BoundedCount | None  # every match, exact up to COUNT_LIMIT (None: not counted)


def _ordered_ids(qs: QuerySet[Job], start: int, stop: int) -> list[str]:
    return list(qs.select_related(None).values_list("pk", flat=True)[start:stop])


# Columns with a (project, column, created_at, id) and a (column, created_at, id) index: one
# value of them, newest (or oldest) first, is a range of that index, read in list order.
EQUALITY_ORDERED = frozenset({"status", "type", "graph_name"})


def _order_name(item: Any) -> str:
    # "-created_at", or OrderBy(F("started_at")) for a column sorted with empty values last
    name = item.lstrip("-") if isinstance(item, str) else getattr(item.expression, "name", "")
    return "id" if name == "pk" else name


def _split_by_index(scope: QuerySet[Job], filtered: QuerySet[Job]) -> tuple[list, list]:
    """The conditions ``filtered`` adds to ``scope``, split in two: those one index holds
    while giving the list's order, and the rest (checked row by row along that index).

    The index part is a range of the column sorted on (created in one week, newest first), or
    one of EQUALITY_ORDERED equal to one value when the list is ordered by that column (or
    not) then creation time and id, with maybe a range of creation time (every sortable column
    has such an index, jobs.models.SORT_INDEXED)."""
    base = scope.query.where.children
    extra = [child for child in filtered.query.where.children if child not in base]
    names = [_order_name(item) for item in filtered.query.order_by]
    equal = {_column(child, (Exact,)) for child in extra} & EQUALITY_ORDERED
    chosen = None
    if names and names[0] in equal:
        chosen, names = names[0], names[1:]
    elif names == ["created_at", "id"]:
        chosen = next((c for c in ("graph_name", "type", "status") if c in equal), None)
    if chosen is not None and names != ["created_at", "id"]:
        chosen, names = None, [_order_name(item) for item in filtered.query.order_by]
    ranged = names[0] if names else None
    implied = {"graph"} if chosen == "graph_name" else set()  # a graph's jobs carry its name
    held, rest = [], []
    for child in extra:
        column = _column(child, (Exact,))
        if (column is not None and column in {chosen} | implied) or (
            _column(child, RANGES) == ranged
        ):
            held.append(child)
        else:
            rest.append(child)
    return held, rest


def _with_conditions(scope: QuerySet[Job], conditions: list) -> QuerySet[Job]:
    qs = scope.all()
    for condition in conditions:
        qs.query.where.add(condition, AND)
    return qs


RANGES = (GreaterThan, GreaterThanOrEqual, LessThan, LessThanOrEqual)


def _column(condition: Any, lookups: tuple[type, ...]) -> str | None:
    """The column ``condition`` compares, if it is one of ``lookups`` on a column."""
    if isinstance(condition, lookups) and isinstance(condition.lhs, Col):
        return condition.lhs.target.name
    return None


def job_page(
    *,
    scope: QuerySet[Job],
    filtered: QuerySet[Job],
    offset: int,
    limit: int,
    count_limit: int | None = None,
    with_count: bool = True,
) -> JobPage:
    """Rows ``offset`` to ``offset + limit`` of ``filtered`` (``scope`` narrowed by the list's
    filters and ordered), and how many there are, with bounded work at millions of jobs.

    A database planner picks one index per query and may pick badly: for "failed jobs of
    graph g3, by progress" it may read every g3 job and sort them, or walk the progress index
    and keep the g3 failures, and its statistics cannot tell which is cheaper. So the choice is
    made here (:func:`_split_by_index` finds the index that gives the list's order and what of
    the filters it holds):

    - that index holds every condition: the database reads the page from it and stops (the
      count is counted apart, if wanted);
    - otherwise a bounded count of the matches (at most ``count_limit + 1`` ids, read through
      whichever index the filters have, in no order) says how rare they are. The page is then
      looked for along that index a chunk of ids at a time, keeping the matches (a few chunks
      when more than ``count_limit`` match; three when fewer do, as a sort of just those is
      then bounded too); failing that, it is a sort of just the matches (an exact count), or
      the database's own plan (matches bunched far along the order, or a deep page).

    ``with_count=False`` (cursor pages): ``count`` may be None.
    """
    count_limit = COUNT_LIMIT if count_limit is None else count_limit
    ordering = filtered.query.order_by
    held, rest = _split_by_index(scope, filtered)
    if not rest:  # one index holds every condition, in list order
        count = count_bounded(filtered, limit=count_limit) if with_count else None
        ids = _ordered_ids(filtered, offset, offset + limit) if count is None or count else []
        return JobPage(rows=job_rows(ids), count=count)
    count = count_bounded(filtered, limit=count_limit)
    if count.exact and offset >= count:
        return JobPage(rows=[], count=count)
    walk = _with_conditions(scope, held).order_by(*ordering)
    if offset + limit <= WALK_MAX_ROWS:
        # Along the index of the list's order, narrowed by what it holds: few chunks when the
        # other conditions are common there; for a few matches, only a short try.
        chunks = WALK_MAX_CHUNKS if not count.exact else 3
        ids = _walk(walk, filtered, offset + limit, chunks)
        if ids is not None:
            return JobPage(rows=job_rows(ids[offset : offset + limit]), count=count)
    # Matches bunched far along the order (e.g. started in one week half a year ago, newest
    # first), or a deep page: a sort of just the matches if they are not too many...
    matched = count if count.exact else count_bounded(filtered, limit=SORT_LIMIT)
    if matched.exact:
        ids = _sorted_matches(filtered, matched, offset, limit)
        return JobPage(rows=job_rows(ids), count=count)
    # ... else the database's own plan.
    return JobPage(rows=job_rows(_ordered_ids(filtered, offset, offset + limit)), count=count)


def _sorted_matches(filtered: QuerySet[Job], n: int, offset: int, limit: int) -> list[str]:
    """Rows ``offset`` to ``offset + limit`` of ``filtered``'s ``n`` matches: the matches are
    read first (their ids and sort keys, through whichever index the filters have, in a
    subquery whose LIMIT keeps the planner from merging it into the sort), then sorted. An
    ``id IN (subquery) ORDER BY ...`` may instead be planned as a walk of the order's index
    probing the subquery's ids, which reads half the table when the matches lie far along it."""
    keys = []
    for item in filtered.query.order_by:
        name = _order_name(item)
        desc = item.startswith("-") if isinstance(item, str) else item.descending
        keys.append((name, desc))
    columns = [name for name, _desc in keys if name != "id"]
    inner = filtered.select_related(None).order_by().values("pk", *columns)[: n + 1]
    sql, params = inner.query.sql_with_params()
    quote = connection.ops.quote_name
    order = ", ".join(
        f"sub.{quote('pk' if name == 'id' else name)} {'DESC' if desc else 'ASC'}"
        + (" NULLS LAST" if name in NULLABLE_ORDERING_FIELDS else "")
        for name, desc in keys
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT sub.{quote('pk')} FROM ({sql}) sub ORDER BY {order} LIMIT %s OFFSET %s",  # noqa: S608
            [*params, limit, offset],
        )
        return [row[0] for row in cursor.fetchall()]


def _walk(
    walk: QuerySet[Job], filtered: QuerySet[Job], wanted: int, chunks: int
) -> list[str] | None:
    """The first ``wanted`` ids of ``filtered`` in the order of ``walk`` (which holds every
    match), reading ``walk``'s ids a chunk at a time (2, 8, 32 times ``wanted``... up to
    WALK_CHUNK) and keeping those ``filtered`` has; None when ``chunks`` chunks were not enough."""
    matches: list[str] = []
    start, size = 0, min(WALK_CHUNK, 2 * wanted)
    for _chunk in range(chunks):
        chunk = _ordered_ids(walk, start, start + size)
        kept = set(filtered.order_by().filter(pk__in=chunk).values_list("pk", flat=True))
        matches.extend(pk for pk in chunk if pk in kept)
        if len(matches) >= wanted or len(chunk) < size:
            return matches
        start, size = start + size, min(WALK_CHUNK, 4 * size)
    return None


# --- jobs per status (the dashboard's status filter) -------------------------------------------


@dataclass(frozen=True)
class StatusCounts:
    """Jobs per status (None: not counted, see :func:`job_status_counts`) and in all."""

    by_status: dict[str, BoundedCount | None]
    total: BoundedCount


# Conditions a (project, status, ...) index pair counts per status from the index alone.
_STATUS_COUNTED_EQUAL = frozenset({"graph_name", "type"})


def _status_countable(scope: QuerySet[Job], filtered: QuerySet[Job]) -> bool:
    """Whether ``filtered`` adds to ``scope`` nothing, one graph name or type
    (job_graph_status, job_type_status), or a range of creation time (job_project_status)."""
    base = scope.query.where.children
    extra = [child for child in filtered.query.where.children if child not in base]
    equal = [_column(child, (Exact,)) for child in extra]
    ranges = [_column(child, RANGES) for child in extra]
    if all(column == "created_at" for column in ranges) and not any(equal):
        return True
    return len(extra) == 1 and equal[0] in _STATUS_COUNTED_EQUAL


def job_status_counts(
    *, scope: QuerySet[Job], filtered: QuerySet[Job], limit: int | None = None
) -> StatusCounts:
    """Number of jobs per status in ``filtered`` (``scope`` narrowed by filters other than
    the status), each exact up to ``limit``, with bounded work at millions of jobs:

    - one query reads at most ``limit + 1`` matching jobs; when that is all of them, every
      count is exact from it (a filter matching few jobs, whatever it is);
    - otherwise the total is "more than ``limit``"; the waiting, running and cancelling jobs
      (few, whatever the table's size) are counted exactly among the scope's active jobs;
      the finished ones are counted per status when an index counts them alone (no filter, a
      graph, a type, a creation date range: :func:`_status_countable`), and are left
      uncounted (None) otherwise: a search matching 60,000 failed jobs would otherwise read
      all 60,000 again for each of the other statuses to find that none of them matches.
    """
    limit = COUNT_LIMIT if limit is None else limit
    sample = filtered.select_related(None).order_by().values("status")[: limit + 1]
    try:
        sql, params = sample.query.sql_with_params()
    except EmptyResultSet:  # e.g. a search that can match nothing
        return StatusCounts(
            {status: BoundedCount(0) for status in JobStatus.values}, BoundedCount(0)
        )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT status, COUNT(*) FROM ({sql}) sample GROUP BY status", params)  # noqa: S608
        counts = dict(cursor.fetchall())
    if sum(counts.values()) <= limit:
        by_status = {status: BoundedCount(counts.get(status, 0)) for status in JobStatus.values}
        return StatusCounts(by_status, BoundedCount(sum(counts.values())))
    by_status: dict[str, BoundedCount | None] = {}
    active = list(
        scope.filter(status__in=ACTIVE_STATUSES)
        .order_by()
        .values_list("pk", flat=True)[: limit + 1]
    )
    if len(active) <= limit:
        found = Counter(filtered.filter(pk__in=active).order_by().values_list("status", flat=True))
        by_status.update({status: BoundedCount(found.get(status, 0)) for status in ACTIVE_STATUSES})
    countable = _status_countable(scope, filtered)
    for status in JobStatus.values:
        if status not in by_status:
            by_status[status] = (
                count_bounded(filtered.filter(status=status), limit=limit) if countable else None
            )
    return StatusCounts(by_status, BoundedCount(limit, exact=False))


def counts_total(counts: Iterable[BoundedCount | None]) -> BoundedCount | None:
    """The sum of bounded counts (inexact when any part is); None when a part is unknown."""
    parts = list(counts)
    if any(part is None for part in parts):
        return None
    return BoundedCount(sum(parts), exact=all(part.exact for part in parts))
