"""A query job's request."""

from __future__ import annotations

from rest_framework import serializers

from jobcenter.api.serializers.chains import DependsOnSerializer
from jobcenter.api.serializers.fields import ObjectField, TextField, WholeNumberField


class QueryInputSerializer(DependsOnSerializer):
    """A filtered query; the fields are checked against the graph's schema by the service."""

    target = serializers.ChoiceField(choices=["vertices", "edges"], default="vertices")
    labels = serializers.ListField(child=TextField(), required=False, default=list)
    filters = serializers.ListField(child=ObjectField(), required=False, default=list)
    sort = serializers.ListField(child=ObjectField(), required=False, default=list)
    offset = WholeNumberField(required=False, default=0)
    limit = WholeNumberField(required=False, allow_null=True, default=None)
