"""Reads about access keys."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from jobcenter.credentials.crypto import SecretUnreadable, decrypt_secret
from jobcenter.credentials.models import AccessKey


def access_key_list(*, user: AbstractBaseUser | None = None) -> QuerySet[AccessKey]:
    """Keys of ``user`` (``None``: every key, for operators), newest first."""
    qs = AccessKey.objects.select_related("user", "revoked_by")
    return qs.filter(user=user) if user is not None else qs


@dataclass(frozen=True)
class ResolvedKey:
    key: AccessKey
    secret: str


def access_key_resolve(*, access_key: str) -> ResolvedKey | None:
    """The active key with this access key id, its owner active, and its secret; else None."""
    key = (
        AccessKey.objects.select_related("user")
        .filter(access_key=access_key, revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if key is None:
        return None
    try:
        return ResolvedKey(key=key, secret=decrypt_secret(key.secret_encrypted))
    except SecretUnreadable:
        return None
