"""Projects (with your role) and their members."""

from __future__ import annotations

from rest_framework import serializers

from jobcenter.api.serializers.fields import (
    SlugTextField,
    TextField,
    UtcDateTimeField,
    WholeNumberField,
)
from jobcenter.projects.choices import Role


class ProjectSerializer(serializers.Serializer):
    name = serializers.SlugField(read_only=True)
    description = serializers.CharField(read_only=True)
    created_at = UtcDateTimeField(read_only=True)
    role = serializers.ChoiceField(
        choices=Role.choices, read_only=True, help_text="Your role in the project."
    )
    result_retention_days = serializers.IntegerField(
        read_only=True,
        allow_null=True,
        help_text="Days results of finished jobs are kept (0: for ever); null: the default.",
    )
    effective_result_retention_days = serializers.IntegerField(
        read_only=True, help_text="The retention that applies (the project's or the default)."
    )


class ProjectUpdateSerializer(serializers.Serializer):
    description = TextField(required=False, allow_blank=True, max_length=4000)
    result_retention_days = WholeNumberField(
        required=False,
        allow_null=True,
        min_value=0,
        max_value=36_500,
        help_text="Days results of finished jobs are kept (0: for ever); null: the default.",
    )


class ProjectCreateSerializer(serializers.Serializer):
    name = SlugTextField(max_length=64)
    description = TextField(required=False, allow_blank=True, max_length=4000)


class MemberSerializer(serializers.Serializer):
    username = serializers.CharField(source="user.username", read_only=True)
    role = serializers.ChoiceField(choices=Role.choices, read_only=True)
    created_at = UtcDateTimeField(read_only=True, help_text="When they joined.")


class MemberInputSerializer(serializers.Serializer):
    username = TextField(max_length=150)
    role = serializers.ChoiceField(choices=Role.choices)
