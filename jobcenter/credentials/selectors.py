"""Reads about access keys."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from jobcenter.core.errors import NotFound, PermissionDenied
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


def access_key_owner(*, caller: AbstractBaseUser, user_id: str | None) -> AbstractBaseUser:
    """Whose keys ``caller`` means by ``user_id`` (a username or id; none: their own). Only
    superusers may mean someone else (PermissionDenied); NotFound for an unknown user."""
    from jobcenter.projects.selectors import user_get_by_username

    if not user_id or user_id in (caller.get_username(), str(caller.pk)):
        return caller
    if not caller.is_superuser:
        raise PermissionDenied(f"you may manage only your own access keys, not those of {user_id}")
    return user_get_by_username(username=user_id)


def access_key_get(*, user: AbstractBaseUser, access_key: str) -> AccessKey:
    """One of ``user``'s keys (superusers: anyone's), revoked ones included; NotFound for a key
    that does not exist or is someone else's."""
    qs = access_key_list(user=None if user.is_superuser else user)
    key = qs.filter(access_key=access_key).first()
    if key is None:
        raise NotFound(f"access key {access_key} does not exist", field="access_key")
    return key
