"""Encryption at rest for access-key secrets.

Signature checks (SDK-HMAC-SHA256) need the secret itself, so it cannot be hashed like a
password; it is encrypted with Fernet (AES-128-CBC + HMAC-SHA256) under a key derived from
SECRET_KEY by HKDF-SHA256. SECRET_KEY_FALLBACKS keep old secrets readable after a key rotation;
``manage.py access_keys reencrypt`` then rewrites them under the current key.
"""

from __future__ import annotations

import base64
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

_SALT = b"jobcenter.credentials"
_INFO = b"access-key secrets v1"


def _derive(secret: str) -> Fernet:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=_INFO)
    return Fernet(base64.urlsafe_b64encode(hkdf.derive(secret.encode())))


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([_derive(key) for key in keys])


def _current() -> MultiFernet:
    return _fernet((settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", ())))


class SecretUnreadable(Exception):
    """The stored secret was encrypted under a key that is no longer configured."""


def encrypt_secret(plaintext: str) -> str:
    return _current().encrypt(plaintext.encode()).decode()


def decrypt_secret(token: str) -> str:
    try:
        return _current().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise SecretUnreadable("the secret key was encrypted under another SECRET_KEY") from exc


def reencrypt_secret(token: str) -> str:
    """The same secret encrypted under the current SECRET_KEY."""
    try:
        return _current().rotate(token.encode()).decode()
    except InvalidToken as exc:
        raise SecretUnreadable("the secret key was encrypted under another SECRET_KEY") from exc
