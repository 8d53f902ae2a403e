"""The one graph FilterSet (REST API; the dashboard may share it)."""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet

from jobcenter.graphs.choices import GraphDialect, GraphStatus
from jobcenter.graphs.models import Graph


class GraphFilterSet(django_filters.FilterSet):
    project = django_filters.CharFilter(field_name="project__name", label="Project name")
    name = django_filters.CharFilter(field_name="name", label="Graph name (exact)")
    dialect = django_filters.ChoiceFilter(choices=GraphDialect.choices)
    status = django_filters.ChoiceFilter(choices=GraphStatus.choices)
    q = django_filters.CharFilter(method="filter_text", label="Search name and description")

    class Meta:
        model = Graph
        fields: list[str] = []

    def filter_text(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return qs
        return qs.filter(Q(name__icontains=value) | Q(description__icontains=value))
