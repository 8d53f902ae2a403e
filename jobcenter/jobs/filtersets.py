"""The one job FilterSet, shared by the REST API and the dashboard."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import django_filters
from django import forms
from django.db.models import F, Q, QuerySet, Value
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from jobcenter.jobs.choices import JobStatus, JobType
from jobcenter.jobs.models import (
    ID_LENGTH,
    SHORT_ID_LENGTH,
    Job,
    SearchKey,
    reason_key_expression,
    short_id_expression,
)

ORDERING_FIELDS = (
    "created_at",
    "started_at",
    "finished_at",
    "status",
    "type",
    "name",
    "graph_name",
    "progress",
    "id",
)
# Columns that may be empty; they sort after every value in both directions (NULLS LAST), the
# same on SQLite and PostgreSQL, whose native NULL placement differs.
NULLABLE_ORDERING_FIELDS = frozenset({"started_at", "finished_at"})


def nulls_last(ordering: list[str]) -> list[Any]:
    """``["-started_at", "id"]`` -> order_by() arguments with NULLs last for nullable columns."""
    result: list[Any] = []
    for item in ordering:
        name = item.lstrip("-")
        if name in NULLABLE_ORDERING_FIELDS:
            expr = F(name)
            result.append(
                expr.desc(nulls_last=True) if item.startswith("-") else expr.asc(nulls_last=True)
            )
        else:
            result.append(item)
    return result


_HEX = frozenset("0123456789abcdef")
# Above every character a search key can hold: "starts with p" is the range [p, p + _TOP).
_TOP = "\U0010ffff"


def _is_hex(value: str) -> bool:
    return bool(value) and set(value) <= _HEX


def id_prefix_q(value: str) -> Q:
    """Ids starting with ``value`` (lower-case hex) as a range of the primary key's index:
    ``LIKE 'abc%'`` is not index-driven on SQLite (case-insensitive LIKE, binary index)."""
    if not _is_hex(value) or len(value) > ID_LENGTH:
        return Q(pk__in=[])
    if len(value) == ID_LENGTH:
        return Q(pk=value)
    return Q(pk__gte=value, pk__lt=value + "g")  # "g" sorts after every hex digit


def short_id_prefix_q(value: str) -> Q:
    """Jobs whose short id (the last 8 characters the dashboard shows) starts with ``value``,
    as a range of the ``job_short_id`` expression index."""
    if not _is_hex(value) or len(value) > SHORT_ID_LENGTH:
        return Q(pk__in=[])
    return Q(_short_id__gte=value, _short_id__lt=value + "g")


def with_search_keys(qs: QuerySet) -> QuerySet:
    """``qs`` with the expressions the search compares (not selected, only filtered on)."""
    return qs.alias(
        _short_id=short_id_expression(),
        _name_key=SearchKey("name"),
        _graph_key=SearchKey("graph_name"),
        _reason_key=reason_key_expression(),
    )


def _starts_with(alias: str, value: str) -> Q:
    return Q(**{f"{alias}__gte": SearchKey(Value(value))}) & Q(
        **{f"{alias}__lt": SearchKey(Value(value + _TOP))}
    )


class MomentField(forms.Field):
    """An ISO 8601 date or datetime (with or without offset; naive means UTC).

    Cleans to ``(moment, is_date)`` so a bound can treat a date as the whole day.
    """

    default_error_messages = {
        "invalid": "Enter an ISO 8601 date or datetime, e.g. 2026-11-22 or 2026-11-22T10:00:00Z.",
    }

    def to_python(self, value: Any) -> tuple[datetime, bool] | None:
        if value in (None, ""):
            return None
        text = str(value).strip()
        try:
            day = parse_date(text) if len(text) == 10 else None
            moment = None if day else parse_datetime(text)
        except ValueError:
            day = moment = None
        if day is not None:
            return datetime.combine(day, time.min, tzinfo=UTC), True
        if moment is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        if timezone.is_naive(moment):
            moment = moment.replace(tzinfo=UTC)
        try:
            moment = moment.astimezone(UTC)
        except OverflowError:  # e.g. 0001-01-01T00:00:00+05:00, before year 1 in UTC: a valid
            # moment all the same, beyond every stored time, so the bound is the last one.
            moment = datetime.min if moment.year == 1 else datetime.max
            moment = moment.replace(tzinfo=UTC)
        return moment, False


class MomentFilter(django_filters.Filter):
    """``<field>_after`` / ``<field>_before`` bounds; a date means the whole UTC day."""

    field_class = MomentField

    def __init__(self, *args: Any, bound: str, **kwargs: Any) -> None:
        self.bound = bound
        super().__init__(*args, **kwargs)

    def filter(self, qs: QuerySet, value: tuple[datetime, bool] | None) -> QuerySet:
        if not value:
            return qs
        moment, is_date = value
        if self.bound == "after":
            return qs.filter(**{f"{self.field_name}__gte": moment})
        if is_date:
            if moment.date() == date.max:  # the whole last day: no upper bound at all
                return qs.filter(**{f"{self.field_name}__isnull": False})
            return qs.filter(**{f"{self.field_name}__lt": moment + timedelta(days=1)})
        return qs.filter(**{f"{self.field_name}__lte": moment})


class MultiValueField(forms.MultipleChoiceField):
    """Accepts ``?status=a&status=b`` and ``?status=a,b``."""

    def to_python(self, value: Any) -> list[str]:
        items: list[str] = []
        for item in super().to_python(value):
            items.extend(part.strip() for part in item.split(",") if part.strip())
        return items


class MultiChoiceFilter(django_filters.MultipleChoiceFilter):
    """A column matching any of several values. No DISTINCT (django-filter's default for
    multiple choices, meant for to-many joins): our filtered columns are the job's own, and a
    DISTINCT over whole rows makes SQLite sort every matching job (seconds at a million)."""

    field_class = MultiValueField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("distinct", False)
        super().__init__(*args, **kwargs)


class JobFilterSet(django_filters.FilterSet):
    status = MultiChoiceFilter(choices=JobStatus.choices)
    type = MultiChoiceFilter(choices=JobType.choices)
    graph = django_filters.CharFilter(method="filter_graph", label="Graph name or id")
    project = django_filters.CharFilter(field_name="project__name", label="Project name")
    submitted_by = django_filters.CharFilter(
        field_name="submitted_by__username", label="Submitted by (username)"
    )
    id = django_filters.CharFilter(method="filter_id", label="Job id or id prefix")
    q = django_filters.CharFilter(
        method="filter_text", label="Start of the id, short id, name, graph or fail reason"
    )
    created_after = MomentFilter(field_name="created_at", bound="after")
    created_before = MomentFilter(field_name="created_at", bound="before")
    started_after = MomentFilter(field_name="started_at", bound="after")
    started_before = MomentFilter(field_name="started_at", bound="before")
    finished_after = MomentFilter(field_name="finished_at", bound="after")
    finished_before = MomentFilter(field_name="finished_at", bound="before")
    ordering = django_filters.OrderingFilter(fields=ORDERING_FIELDS)

    class Meta:
        model = Job
        fields: list[str] = []

    def filter_graph(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        # A name matches graph_name (index job_project_graph). The id of an existing graph
        # matches its jobs, which all carry its name (set at submission; graphs are never
        # renamed): saying so keeps the graph_name index usable, where an OR of two columns
        # makes the database merge two index scans and sort them.
        from jobcenter.graphs.models import Graph

        if len(value) == ID_LENGTH and _is_hex(value):
            graph = Graph.objects.filter(pk=value).values_list("name", flat=True).first()
            if graph is not None:
                return qs.filter(graph_name=graph, graph_id=value)
        return qs.filter(graph_name=value)

    def filter_id(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return qs.filter(id_prefix_q(value.strip().lower()))

    def filter_text(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        """Jobs whose id or short id starts with the text, or whose name, graph name or fail
        reason (its first 100 characters) starts with it, whatever the case. Every part is a
        range of an index, so a search costs the same at a million jobs as at a hundred."""
        value = value.strip()
        if not value:
            return qs
        if "\x00" in value:
            return qs.none()
        key = value.lower()
        match = (
            _starts_with("_name_key", value)
            | _starts_with("_graph_key", value)
            | _starts_with("_reason_key", value)
        )
        if _is_hex(key):
            match |= id_prefix_q(key) | short_id_prefix_q(key)
        return with_search_keys(qs).filter(match)

    @property
    def qs(self) -> QuerySet:
        qs = super().qs
        # A stable order whatever the user sorts by: ties are broken by creation time, then
        # id, in the direction of the last sort key; every sortable column has a (project,
        # column, created_at, id) index that gives this order as it is read (SORT_INDEXED).
        ordering = list(qs.query.order_by) or ["-created_at"]
        names = [field.lstrip("-") for field in ordering]
        if not any(name in ("id", "pk") for name in names):
            desc = "-" if ordering[-1].startswith("-") else ""
            if "created_at" not in names:
                ordering.append(f"{desc}created_at")
            ordering.append(f"{desc}id")
        return qs.order_by(*nulls_last(ordering))
