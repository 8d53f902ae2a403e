"""Access keys: created for a user with the secret shown once, stored encrypted, revocable."""

from __future__ import annotations

import io
import json
import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import override_settings

from jobcenter.core.errors import InvalidInput, InvalidState
from jobcenter.credentials.crypto import SecretUnreadable, decrypt_secret
from jobcenter.credentials.models import AccessKey
from jobcenter.credentials.selectors import access_key_list, access_key_resolve
from jobcenter.credentials.services import (
    MAX_ACTIVE_KEYS_PER_USER,
    access_key_create,
    access_key_reencrypt_all,
    access_key_revoke,
)
from tests.factories.projects import user_create

pytestmark = pytest.mark.django_db


def test_create_returns_the_secret_once_and_stores_it_encrypted(operator):
    key, secret = access_key_create(user=operator, description="laptop")
    assert re.fullmatch(r"[A-Z0-9]{20}", key.access_key)
    assert len(secret) == 40 and secret.isalnum()
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM credentials_accesskey")
        rows = cursor.fetchall()
    assert secret not in repr(rows)  # nowhere in the table, in any column
    assert key.secret_encrypted != secret and decrypt_secret(key.secret_encrypted) == secret
    resolved = access_key_resolve(access_key=key.access_key)
    assert resolved is not None and resolved.secret == secret and resolved.key.user == operator


def test_revoked_keys_and_inactive_users_do_not_resolve(operator):
    key, _ = access_key_create(user=operator)
    access_key_revoke(key=key, by=operator)
    assert access_key_resolve(access_key=key.access_key) is None
    with pytest.raises(InvalidState, match="already revoked"):
        access_key_revoke(key=key)
    other, _ = access_key_create(user=operator)
    operator.is_active = False
    operator.save()
    assert access_key_resolve(access_key=other.access_key) is None
    with pytest.raises(InvalidInput, match="not active"):
        access_key_create(user=operator)


def test_active_keys_per_user_are_capped(operator):
    for _ in range(MAX_ACTIVE_KEYS_PER_USER):
        access_key_create(user=operator)
    with pytest.raises(InvalidState, match="revoke one first"):
        access_key_create(user=operator)
    access_key_revoke(key=AccessKey.objects.filter(user=operator).first())
    access_key_create(user=operator)


def test_secret_key_rotation_with_fallbacks(operator, settings):
    key, secret = access_key_create(user=operator)
    old = settings.SECRET_KEY
    with override_settings(SECRET_KEY="a-new-secret-key-" + "x" * 40):
        with pytest.raises(SecretUnreadable):
            decrypt_secret(key.secret_encrypted)
        assert access_key_resolve(access_key=key.access_key) is None
        with override_settings(SECRET_KEY_FALLBACKS=[old]):
            assert access_key_resolve(access_key=key.access_key).secret == secret
            assert access_key_reencrypt_all() == 1
        # re-encrypted under the new key: readable without the fallback
        assert access_key_resolve(access_key=key.access_key).secret == secret


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("access_keys", *args, stdout=out)
    return out.getvalue()


def test_management_command_create_list_revoke(operator):
    created = json.loads(run("create", "--user", "oscar", "--description", "ci", "--json"))
    assert created["user"] == "oscar" and len(created["secret_key"]) == 40
    listed = json.loads(run("list", "--json"))
    assert [k["access_key"] for k in listed] == [created["access_key"]]
    assert "secret" not in json.dumps(listed)
    assert "Revoked" in run("revoke", created["access_key"])
    assert json.loads(run("list", "--user", "oscar", "--json"))[0]["revoked_at"]
    with pytest.raises(CommandError, match="already revoked"):
        run("revoke", created["access_key"])
    with pytest.raises(CommandError, match="does not exist"):
        run("create", "--user", "nobody")
    text = run("create", "--user", "oscar")
    assert "secret key:" in text and "shown only now" in text


def test_admin_creates_shows_secret_once_and_revokes(client, operator):
    root = user_create("root", superuser=True)
    client.force_login(root)
    response = client.post(
        "/admin/credentials/accesskey/add/",
        {"user": operator.pk, "description": "from admin"},
        follow=True,
    )
    assert response.status_code == 200
    key = AccessKey.objects.get()
    messages = [str(m) for m in response.context["messages"]]
    secret = access_key_resolve(access_key=key.access_key).secret
    assert any(secret in m and key.access_key in m for m in messages)
    page = client.get(f"/admin/credentials/accesskey/{key.pk}/change/").content.decode()
    assert secret not in page and key.secret_encrypted not in page
    response = client.post(
        "/admin/credentials/accesskey/",
        {"action": "revoke_selected", "_selected_action": [key.pk]},
        follow=True,
    )
    assert response.status_code == 200
    key.refresh_from_db()
    assert key.revoked_at is not None and key.revoked_by == root
    assert list(access_key_list(user=operator)) == [key]
