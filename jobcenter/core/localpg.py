"""A PostgreSQL server of our own on this machine, from Debian's ``postgresql`` package.

``initdb`` and ``pg_ctl`` on one directory (``base``): the cluster in ``base/data``, its Unix
socket in ``base/socket``, its log in ``base/server.log``; it listens on 127.0.0.1 on a port of
its own (a free one, kept in ``data/jobcenter.conf`` and reused while it stays free). No root is
needed; as root the server runs as the ``postgres`` user (initdb refuses root), so ``base`` must
be reachable by that user. ``make run-pg`` (:mod:`jobcenter.core.run_pg`) keeps one under the
data directory; the test suite (tests/pgcluster.py) and the benchmarks start throwaway ones.

No Django here: it runs before settings exist (they need the server's address).
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
import secrets
import shutil
import socket
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

SERVER_USER = "postgres"  # the superuser, and the account the server runs as under root
CONF = "jobcenter.conf"  # our settings, included from postgresql.conf
SOCKET_PATH_MAX = 107  # bytes of a Unix socket path (sun_path) on Linux


class LocalPostgresError(RuntimeError):
    """The server could not be set up or started; the message says why and what to do."""


def bindir() -> Path:
    """The newest installed server's binaries (Debian keeps them out of PATH)."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[4]))
    for candidate in reversed(candidates):
        if Path(candidate, "initdb").exists():
            return Path(candidate)
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    raise LocalPostgresError(
        "PostgreSQL server binaries (initdb, pg_ctl) not found: install Debian's postgresql "
        "package (sudo apt-get install postgresql; make run-pg and make test do it as root)"
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@dataclass
class LocalPostgres:
    """One server under ``base``.

    ``password``: TCP logins need a password (generated once, kept in ``base/password``,
    readable by its owner only; logins over the socket in ``base``, closed to other users, need
    none); False: anyone on this machine may log in (a throwaway server). ``durable``: False
    turns fsync, synchronous commit and full-page writes off (a throwaway server: fast, lost in
    a crash). ``settings``: more server settings.
    """

    base: Path
    password: bool = True
    durable: bool = True
    settings: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.base = Path(self.base).resolve()
        self.bin = bindir()
        self.as_server = ["runuser", "-u", SERVER_USER, "--"] if os.geteuid() == 0 else []

    @property
    def data(self) -> Path:
        return self.base / "data"

    @property
    def socket_dir(self) -> Path:
        return self.base / "socket"

    @property
    def log(self) -> Path:
        return self.base / "server.log"

    @property
    def password_file(self) -> Path:
        return self.base / "password"

    def _run(self, *argv: str) -> subprocess.CompletedProcess:
        return subprocess.run([*self.as_server, *argv], capture_output=True, text=True, cwd="/")

    def _own(self, path: Path) -> None:
        """Under root: hand ``path`` to the server's user."""
        if self.as_server:
            shutil.chown(path, user=SERVER_USER, group=SERVER_USER)

    # -- the cluster ---------------------------------------------------------------------------

    def initialised(self) -> bool:
        return (self.data / "PG_VERSION").exists()

    def init(self) -> bool:
        """Create the cluster unless it exists; True if it was created now."""
        if self.initialised():
            return False
        self.base.mkdir(parents=True, exist_ok=True)
        self.base.chmod(0o700)
        self.socket_dir.mkdir(exist_ok=True)
        self._own(self.base)
        self._own(self.socket_dir)
        if self.as_server and self._run("test", "-w", str(self.base)).returncode != 0:
            raise LocalPostgresError(
                f"the {SERVER_USER} user (who runs the server when you are root) cannot write "
                f"{self.base}: a directory above it is closed to other users (chmod o+x it), "
                "or run this as a regular user"
            )
        auth = ["-A", "trust"]
        if self.password:
            self.password_file.write_text(secrets.token_urlsafe(24) + "\n")
            self.password_file.chmod(0o600)
            self._own(self.password_file)
            auth = [
                "--auth-local=trust",  # the socket's directory is closed to other users
                "--auth-host=scram-sha-256",
                f"--pwfile={self.password_file}",
            ]
        done = self._run(
            str(self.bin / "initdb"),
            "-D",
            str(self.data),
            "-U",
            SERVER_USER,
            "-E",
            "UTF8",
            *auth,
            *([] if self.durable else ["--no-sync"]),
        )
        if done.returncode != 0:
            shutil.rmtree(self.data, ignore_errors=True)
            raise LocalPostgresError(f"initdb failed:\n{done.stdout}{done.stderr}")
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(f"\n# jobcenter: port, addresses and more\ninclude_if_exists = '{CONF}'\n")
        return True

    def running(self) -> bool:
        done = self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "status")
        return done.returncode == 0

    def configured_port(self) -> int | None:
        try:
            text = (self.data / CONF).read_text()
        except OSError:
            return None
        found = re.search(r"^port = (\d+)$", text, re.M)
        return int(found.group(1)) if found else None

    @property
    def port(self) -> int:
        """The running server's port (postmaster.pid's fourth line), else the configured one."""
        with contextlib.suppress(OSError, IndexError, ValueError):
            return int((self.data / "postmaster.pid").read_text().splitlines()[3])
        port = self.configured_port()
        if port is None:
            raise LocalPostgresError(f"no port configured in {self.data / CONF}")
        return port

    def _configure(self, port: int) -> None:
        sockets = str(self.socket_dir)
        if len(f"{sockets}/.s.PGSQL.{port}".encode()) > SOCKET_PATH_MAX:
            sockets = ""  # too deep for a socket: TCP only
        lines = {
            "port": str(port),
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": f"'{sockets}'",
            "max_connections": "200",
        }
        if not self.durable:
            lines |= {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}
        lines |= self.settings
        path = self.data / CONF
        path.write_text("".join(f"{key} = {value}\n" for key, value in lines.items()))
        self._own(path)

    def start(self) -> bool:
        """Start the server unless it runs already; True if it was started now. Its port is
        the configured one while that is free, else a new free one."""
        if self.running():
            return False
        port = self.configured_port()
        if port is None or not port_free(port):
            port = free_port()
        self._configure(port)
        done = self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-w",
            "-t",
            "60",
            "start",
        )
        if done.returncode != 0:
            tail = ""
            with contextlib.suppress(OSError):
                tail = "".join(self.log.read_text().splitlines(keepends=True)[-20:])
            raise LocalPostgresError(
                f"the PostgreSQL server in {self.data} did not start:\n"
                f"{done.stdout}{done.stderr}{tail}"
            )
        return True

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``fast``: open transactions are rolled back; ``immediate``: no
        shutdown checkpoint, as after a crash)."""
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    # -- databases -------------------------------------------------------------------------------

    def url(self, database: str = "postgres") -> str:
        """A ``DATABASE_URL`` for ``database`` on this server (over TCP)."""
        login = SERVER_USER
        if self.password:
            login += ":" + self.password_file.read_text().strip()
        return f"postgres://{login}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> bool:
        """Create database ``name`` unless it exists; True if it was created now."""
        import psycopg

        if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
            raise LocalPostgresError(f"not a plain database name: {name!r}")
        with psycopg.connect(self.url(), autocommit=True) as conn:
            found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if found:
                return False
            conn.execute(f"CREATE DATABASE {name}")
        return True

    def server_pids(self) -> list[int]:
        """The postmaster and its children (backends, checkpointer, ...), while it runs."""
        try:
            postmaster = int((self.data / "postmaster.pid").read_text().split()[0])
        except (OSError, IndexError, ValueError):
            return []
        pids = [postmaster]
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, IndexError, ValueError):
                if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == postmaster:
                    pids.append(int(stat.parent.name))
        return pids
