"""Signing in for a token."""

from __future__ import annotations

from rest_framework import serializers

from jobcenter.api.serializers.fields import TextField


class TokenInputSerializer(serializers.Serializer):
    username = TextField(max_length=150)
    password = TextField(max_length=4096, style={"input_type": "password"})


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Send it as `Authorization: Token <token>`.")
    username = serializers.CharField()
