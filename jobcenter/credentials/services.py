"""Writes for access keys: create (the secret is returned once), revoke, re-encrypt."""

from __future__ import annotations

import secrets
import string
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from jobcenter.core.errors import InvalidInput, InvalidState
from jobcenter.credentials.crypto import encrypt_secret, reencrypt_secret
from jobcenter.credentials.models import AccessKey

# Like Huawei Cloud's: a 20-character access key, a 40-character secret key.
ACCESS_KEY_LENGTH = 20
SECRET_KEY_LENGTH = 40
MAX_ACTIVE_KEYS_PER_USER = 5
# last_used_at is refreshed at most this often (a signed request must not always write).
TOUCH_EVERY = timedelta(minutes=1)

_AK_ALPHABET = string.ascii_uppercase + string.digits
_SK_ALPHABET = string.ascii_letters + string.digits


def _random(alphabet: str, length: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def access_key_create(*, user: AbstractBaseUser, description: str = "") -> tuple[AccessKey, str]:
    """A new key pair for ``user``. Returns the key and its secret, which is never shown again."""
    if not user.is_active:
        raise InvalidInput(f"user {user.get_username()} is not active", field="user")
    if len(description) > 200:
        raise InvalidInput("description must be at most 200 characters", field="description")
    active = AccessKey.objects.filter(user=user, revoked_at__isnull=True).count()
    if active >= MAX_ACTIVE_KEYS_PER_USER:
        raise InvalidState(
            f"user {user.get_username()} already has {active} active access keys; revoke one first",
            field="user",
        )
    secret = _random(_SK_ALPHABET, SECRET_KEY_LENGTH)
    for _ in range(5):
        try:
            with transaction.atomic():
                key = AccessKey.objects.create(
                    user=user,
                    access_key=_random(_AK_ALPHABET, ACCESS_KEY_LENGTH),
                    secret_encrypted=encrypt_secret(secret),
                    description=description,
                )
            return key, secret
        except IntegrityError:  # an access key collision; astronomically unlikely
            continue
    raise RuntimeError("could not generate a unique access key")


def access_key_revoke(*, key: AccessKey, by: AbstractBaseUser | None = None) -> AccessKey:
    """Revoke a key: requests signed with it are refused from now on."""
    now = timezone.now()
    if not AccessKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(
        revoked_at=now, revoked_by=by
    ):
        raise InvalidState(f"access key {key.access_key} is already revoked")
    key.refresh_from_db()
    return key


def access_key_touch(*, key: AccessKey) -> None:
    """Record that the key was used (at most once per TOUCH_EVERY)."""
    now = timezone.now()
    AccessKey.objects.filter(pk=key.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - TOUCH_EVERY)
    ).update(last_used_at=now)


def access_key_reencrypt_all() -> int:
    """Re-encrypt every stored secret under the current SECRET_KEY (after a rotation that put
    the old key in SECRET_KEY_FALLBACKS). Returns the number of keys rewritten."""
    count = 0
    for key in AccessKey.objects.filter(revoked_at__isnull=True).only("pk", "secret_encrypted"):
        AccessKey.objects.filter(pk=key.pk).update(
            secret_encrypted=reencrypt_secret(key.secret_encrypted)
        )
        count += 1
    return count
