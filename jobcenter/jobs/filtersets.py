"""The one job FilterSet, shared by the REST API and the dashboard."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import django_filters
from django import forms
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from jobcenter.jobs.choices import JobStatus, JobType
from jobcenter.jobs.models import Job

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
    q = django_filters.CharFilter(method="filter_text", label="Search name, graph, fail reason")
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
        return qs.filter(Q(graph_name=value) | Q(graph_id=value))

    def filter_id(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return qs.filter(pk__startswith=value.strip().lower())

    def filter_text(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return qs
        return qs.filter(
            Q(name__icontains=value)
            | Q(graph_name__icontains=value)
            | Q(fail_reason__icontains=value)
            | Q(pk__startswith=value.lower())
        )

    @property
    def qs(self) -> QuerySet:
        qs = super().qs
        # A stable order whatever the user sorts by: ties broken by id (time-ordered).
        ordering = list(qs.query.order_by) or ["-created_at"]
        if not any(field.lstrip("-") in ("id", "pk") for field in ordering):
            tie = "-id" if ordering[-1].startswith("-") else "id"
            ordering.append(tie)
        return qs.order_by(*nulls_last(ordering))
