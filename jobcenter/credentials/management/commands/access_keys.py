"""``manage.py access_keys``: create, list and revoke the AK/SK pairs that sign GES requests."""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError, CommandParser

from jobcenter.core.database import DatabaseCommand
from jobcenter.core.errors import ServiceError
from jobcenter.credentials.models import AccessKey
from jobcenter.credentials.selectors import access_key_list
from jobcenter.credentials.services import (
    access_key_create,
    access_key_reencrypt_all,
    access_key_revoke,
)


def _iso(value: Any) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def key_dict(key: AccessKey) -> dict[str, Any]:
    return {
        "access_key": key.access_key,
        "user": key.user.get_username(),
        "description": key.description,
        "created_at": _iso(key.created_at),
        "last_used_at": _iso(key.last_used_at),
        "revoked_at": _iso(key.revoked_at),
    }


class Command(DatabaseCommand):
    help = "Manage access keys (AK/SK) for signed GES API requests."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a key pair; the secret is printed once")
        create.add_argument("--user", required=True)
        create.add_argument("--description", default="")
        create.add_argument("--json", action="store_true")
        lst = sub.add_parser("list", help="list keys (never their secrets)")
        lst.add_argument("--user")
        lst.add_argument("--json", action="store_true")
        revoke = sub.add_parser("revoke", help="revoke a key")
        revoke.add_argument("access_key")
        sub.add_parser(
            "reencrypt",
            help="re-encrypt stored secrets under the current SECRET_KEY (after rotating it "
            "with the old one in SECRET_KEY_FALLBACKS)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, "do_" + options["action"])(options)
        except ServiceError as exc:
            raise CommandError(exc.message) from exc

    def _user(self, username: str) -> Any:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"user {username!r} does not exist")
        return user

    def do_create(self, options: dict) -> None:
        key, secret = access_key_create(
            user=self._user(options["user"]), description=options["description"]
        )
        if options["json"]:
            self.stdout.write(json.dumps({**key_dict(key), "secret_key": secret}, indent=2))
            return
        self.stdout.write(
            f"access key: {key.access_key}\nsecret key: {secret}\n"
            "The secret key is shown only now; store it safely."
        )

    def do_list(self, options: dict) -> None:
        user = self._user(options["user"]) if options["user"] else None
        keys = [key_dict(k) for k in access_key_list(user=user)]
        if options["json"]:
            self.stdout.write(json.dumps(keys, indent=2))
            return
        for k in keys:
            state = f"revoked {k['revoked_at']}" if k["revoked_at"] else "active"
            self.stdout.write(
                f"{k['access_key']}  {k['user']}  {state}  created {k['created_at']}  "
                f"last used {k['last_used_at'] or 'never'}  {k['description']}"
            )

    def do_revoke(self, options: dict) -> None:
        key = AccessKey.objects.filter(access_key=options["access_key"]).first()
        if key is None:
            raise CommandError(f"access key {options['access_key']!r} does not exist")
        access_key_revoke(key=key)
        self.stdout.write(f"Revoked {key.access_key}.")

    def do_reencrypt(self, options: dict) -> None:
        self.stdout.write(f"Re-encrypted {access_key_reencrypt_all()} secret key(s).")
