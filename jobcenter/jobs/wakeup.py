"""Waking idle workers when a task is queued, instead of letting them find it at their next poll.

A worker with nothing to do used to sleep ``--interval`` (1 s) between looks at the queue, so a
job submitted to an idle worker waited half a second on average before it started. Now:

- PostgreSQL: the transaction that queues a task sends ``NOTIFY jobcenter_tasks`` (delivered at
  its commit, so no worker wakes before the task is visible); an idle worker ``LISTEN``s on a
  connection of its own and looks at the queue as soon as a notification arrives.
- SQLite (one machine): nothing is sent. An idle worker watches ``PRAGMA data_version`` on a
  connection of its own: it changes whenever another connection commits to the database, costs
  a few microseconds and takes no lock, and the worker looks at the queue when it changes.

Either way the worker still looks at least once per ``--interval``: a lost notification (or a
broken listening connection, which is reopened at the next wait) costs at most that.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from typing import Any, Protocol

from django.db import DEFAULT_DB_ALIAS, connections

logger = logging.getLogger("jobcenter.jobs")

CHANNEL = "jobcenter_tasks"
# How often an idle SQLite worker looks at data_version.
SQLITE_POLL = 0.01
# How long an idle PostgreSQL worker's wait for a notification lasts before it looks at its
# stop flag again (a notification ends the wait at once).
PG_STOP_LOOK = 0.25


def announce(using: str = DEFAULT_DB_ALIAS) -> None:
    """Tell idle workers a task was queued (PostgreSQL; SQLite workers notice by themselves).

    Called in the queueing transaction: PostgreSQL delivers the notification at its commit,
    and drops it with a rollback.
    """
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"NOTIFY {CHANNEL}")


class Doorbell(Protocol):
    def mark(self) -> Any:
        """Call before looking at the queue; pass the answer to :meth:`wait`."""

    def wait(self, mark: Any, timeout: float, stop: threading.Event | None = None) -> bool:
        """Wait until something may have been queued since ``mark``, at most ``timeout``
        seconds (less once ``stop`` is set); True if woken before the timeout."""

    def close(self) -> None: ...


class SqliteDoorbell:
    """Watches ``PRAGMA data_version`` of the job database on a connection of its own."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.db: sqlite3.Connection | None = None

    def _version(self) -> int | None:
        try:
            if self.db is None:
                self.db = sqlite3.connect(self.path, timeout=1, check_same_thread=False)
            return self.db.execute("PRAGMA data_version").fetchone()[0]
        except sqlite3.Error:
            logger.warning("cannot watch %s for new tasks; polling instead", self.path)
            self.close()
            return None

    def mark(self) -> int | None:
        return self._version()

    def wait(self, mark: Any, timeout: float, stop: threading.Event | None = None) -> bool:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or (stop is not None and stop.is_set()):
                return False
            time.sleep(min(SQLITE_POLL, left))
            version = self._version()
            if version is None:  # no connection: sleep out the interval, as before
                time.sleep(max(0.0, deadline - time.monotonic()))
                return False
            if version != mark:
                return True

    def close(self) -> None:
        if self.db is not None:
            self.db.close()
            self.db = None


class PostgresDoorbell:
    """``LISTEN``s on a connection of its own, opened with the job database's settings."""

    def __init__(self, using: str = DEFAULT_DB_ALIAS) -> None:
        self.using = using
        self.db: Any = None
        self.pending = False

    def _listening(self) -> Any:
        if self.db is None:
            wrapper = connections[self.using]
            db = wrapper.get_new_connection(wrapper.get_connection_params())
            db.autocommit = True
            db.execute(f"LISTEN {CHANNEL}")
            self.db = db
        return self.db

    def _receive(self, timeout: float) -> bool:
        """Wait up to ``timeout`` for a notification; True if one (or more) came."""
        import psycopg

        try:
            return any(True for _ in self._listening().notifies(timeout=timeout, stop_after=1))
        except psycopg.Error:
            logger.warning("the connection listening for new tasks broke; it is reopened")
            self.close()
            time.sleep(timeout)
            return False

    def mark(self) -> None:
        # Notifications that came while the worker was busy: the queue is looked at now anyway.
        self._receive(0)

    def wait(self, mark: Any, timeout: float, stop: threading.Event | None = None) -> bool:
        # A signal does not end the driver's wait (it resumes after the handler), so the wait
        # goes in slices, and a stop is seen within one instead of after the whole interval.
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or (stop is not None and stop.is_set()):
                return False
            if self._receive(min(PG_STOP_LOOK, left) if stop is not None else left):
                return True

    def close(self) -> None:
        if self.db is not None:
            try:
                self.db.close()
            finally:
                self.db = None


def doorbell_for(using: str = DEFAULT_DB_ALIAS) -> Doorbell:
    connection = connections[using]
    if connection.vendor == "postgresql":
        return PostgresDoorbell(using)
    return SqliteDoorbell(str(connection.settings_dict["NAME"]))
