"""The requests of export jobs: a whole graph, or a job's result."""

from __future__ import annotations

from rest_framework import serializers

from jobcenter.api.serializers.chains import DependsOnSerializer
from jobcenter.api.serializers.fields import TextField


class GraphExportInputSerializer(DependsOnSerializer):
    path = TextField(max_length=1024, help_text="Under the export root.")
    format = serializers.ChoiceField(choices=["ges"], default="ges")


class ResultExportInputSerializer(DependsOnSerializer):
    path = TextField(max_length=1024, help_text="CSV file under the export root.")
