"""A property index as listed, and an index job's request."""

from __future__ import annotations

from rest_framework import serializers

from jobcenter.api.serializers.chains import DependsOnSerializer
from jobcenter.api.serializers.fields import TextField


class IndexSerializer(serializers.Serializer):
    name = serializers.CharField()
    target = serializers.ChoiceField(choices=["vertices", "edges"])
    label = serializers.CharField()
    property = serializers.CharField(allow_null=True)


class IndexInputSerializer(DependsOnSerializer):
    target = serializers.ChoiceField(choices=["vertices", "edges"], default="vertices")
    label = TextField(max_length=256)
    property = TextField(max_length=256)
