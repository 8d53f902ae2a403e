"""An algorithm job's request (its parameters are checked by the service)."""

from __future__ import annotations

from rest_framework import serializers

from jobcenter.api.serializers.chains import DependsOnSerializer
from jobcenter.api.serializers.fields import ObjectField
from jobcenter.graphs.algorithms import ALGORITHMS


class AlgorithmInputSerializer(DependsOnSerializer):
    algorithm = serializers.ChoiceField(choices=list(ALGORITHMS))
    parameters = ObjectField(required=False, default=dict)
