"""The job database as an operator's command meets it: a command stops with one clear line that
names the database when it cannot be reached or is not migrated, instead of a traceback from
its first query ("no such table: auth_user" on a data directory never served, a refused
connection when ``make run-pg``'s server is stopped)."""

from __future__ import annotations

import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.migrations.executor import MigrationExecutor

from jobcenter.core.run_pg import DEFAULT_DATA_DIR, SETTINGS_FILE


def database_name(alias: str = DEFAULT_DB_ALIAS) -> str:
    """Where the database is, without its password: a SQLite file, or host:port/name."""
    conf = connections[alias].settings_dict
    if connections[alias].vendor == "sqlite":
        return str(conf["NAME"])
    host = conf.get("HOST") or "local socket"
    port = f":{conf['PORT']}" if conf.get("PORT") else ""
    return f"{host}{port}/{conf.get('NAME')}"


def require_migrated_database(alias: str = DEFAULT_DB_ALIAS) -> None:
    """Raise :class:`CommandError` unless the database answers and has every migration."""
    connection = connections[alias]
    where = f"the job database ({database_name(alias)})"
    try:
        executor = MigrationExecutor(connection)
        missing = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        ask = "" if connection.vendor == "sqlite" else " Is its server running?"
        raise CommandError(f"{where} cannot be reached: {reason}.{ask}") from exc
    if missing:
        hint = ""
        default = connection.vendor == "sqlite" and not os.environ.get("DATABASE_URL")
        run_pg_settings = DEFAULT_DATA_DIR / SETTINGS_FILE  # (written by make run-pg)
        if default and run_pg_settings.exists():
            hint = f" For the server make run-pg runs, first run: . {run_pg_settings}"
        raise CommandError(
            f"{where} is not set up: {len(missing)} migrations are not applied. make run "
            "applies them when it starts (or run: .venv/bin/python manage.py migrate)." + hint
        )


class DatabaseCommand(BaseCommand):
    """A management command that reads or writes the job database (checked before it runs)."""

    def execute(self, *args: Any, **options: Any) -> Any:
        require_migrated_database()
        return super().execute(*args, **options)
