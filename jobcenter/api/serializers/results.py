"""A page of a job's result."""

from __future__ import annotations

from rest_framework import serializers


class ResultPageSerializer(serializers.Serializer):
    """One page of a job's result. ``kind`` says what the rows are (``vertices``, ``edges``,
    or other ``rows``), ``columns`` their keys; ``outputs`` holds the summary figures."""

    job = serializers.CharField()
    kind = serializers.ChoiceField(choices=["vertices", "edges", "rows"])
    columns = serializers.ListField(child=serializers.CharField())
    outputs = serializers.DictField()
    total = serializers.IntegerField(help_text="Rows in the whole result.")
    offset = serializers.IntegerField()
    limit = serializers.IntegerField()
    rows = serializers.ListField(child=serializers.DictField())
