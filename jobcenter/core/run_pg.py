"""``make run-pg``: ``make run`` with the jobs and the graph store in a PostgreSQL of its own.

``python -m jobcenter.core.run_pg -- COMMAND...`` (the Makefile passes ``make run WORKERS=2``):

1. the data directory is ``JOBCENTER_DATA_DIR``, else ``var/pg/`` (not ``make run``'s ``var/``:
   graph and result files are named by ids, which two job databases would share); import
   files are still read from ``var/imports/`` unless ``JOBCENTER_IMPORT_ROOTS`` says otherwise;
2. a PostgreSQL server is set up in its ``postgres/`` the first time and started
   (:class:`~jobcenter.core.localpg.LocalPostgres`: its own port on 127.0.0.1, its own socket
   directory, a password kept there), and the ``jobcenter`` database created;
3. COMMAND runs with ``DATABASE_URL`` pointing there, ``JOBCENTER_GRAPH_STORE=postgresql`` (the
   graph store in the same database) and ``JOBCENTER_DATA_DIR``; it migrates and serves;
4. what COMMAND's environment sets is also written to ``env`` in the data directory, for
   ``manage.py`` commands in other shells (``. var/pg/env``);
5. when COMMAND ends, the server is stopped (``pg_ctl stop -m fast``); the next run starts it
   again, with its data.

One run per data directory: a second one, which would stop the server under the first, stops at
once naming the first (:func:`hold_run_lock`). COMMAND is in our process group, so a terminal's
Ctrl-C reaches it directly: we ignore SIGINT, wait for it, and end as it ended (killed by
SIGINT, as ``make`` is: the calling make sees what it sees under ``make run``). SIGTERM and
SIGHUP are passed on to it once. A server left running by a run that was killed (SIGKILL) is
taken over by the next run, and stopped at its end.
"""

from __future__ import annotations

import fcntl
import os
import shlex
import signal
import subprocess
import sys
from pathlib import Path
from types import FrameType

from jobcenter.core.localpg import LocalPostgres, LocalPostgresError

BASE_DIR = Path(__file__).resolve().parents[2]
DATABASE = "jobcenter"
DEFAULT_DATA_DIR = BASE_DIR / "var" / "pg"
SETTINGS_FILE = "env"  # in the data directory: see write_shell_settings


def shown(path: Path) -> str:
    """``path`` relative to the current directory when it is below it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def environment(pg: LocalPostgres, data_dir: Path, *, chosen: bool) -> dict[str, str]:
    """COMMAND's environment: ours, pointed at the server and the data directory."""
    env = {
        **os.environ,
        "DATABASE_URL": pg.url(DATABASE),
        "JOBCENTER_GRAPH_STORE": "postgresql",
        "JOBCENTER_DATA_DIR": str(data_dir),
    }
    env.pop("JOBCENTER_GRAPH_STORE_URL", None)  # the graph store: DATABASE_URL's database
    if chosen and "JOBCENTER_IMPORT_ROOTS" not in env:
        env["JOBCENTER_IMPORT_ROOTS"] = str(BASE_DIR / "var" / "imports")
    return env


# The settings COMMAND's environment gets from us (see :func:`environment`).
SETTINGS = (
    "DATABASE_URL",
    "JOBCENTER_DATA_DIR",
    "JOBCENTER_GRAPH_STORE",
    "JOBCENTER_GRAPH_STORE_URL",
    "JOBCENTER_IMPORT_ROOTS",
)


def write_shell_settings(path: Path, env: dict[str, str]) -> Path:
    """COMMAND's settings as a file a shell sources, so that ``manage.py`` commands in other
    shells reach this server (readable by its owner only: the URL holds the password)."""
    lines = [
        "# make run-pg's settings for manage.py commands in another shell: . " + str(path),
        *(
            f"export {key}={shlex.quote(env[key])}" if key in env else f"unset {key}"
            for key in SETTINGS
        ),
    ]
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write("\n".join(lines) + "\n")
    path.chmod(0o600)
    return path


def hold_run_lock(data_dir: Path) -> tuple[int | None, str]:
    """One ``make run-pg`` per data directory: a second one would share the server and stop
    it when it ends, under the first one's web server and workers. Held (an open file with
    ``flock``) until this process ends, a crash included. Returns the lock's descriptor, or
    None and the process id of the run that holds it."""
    path = data_dir / "run-pg.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)  # not inherited by COMMAND
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(fd, 32).decode(errors="replace").strip() or "?"
        os.close(fd)
        return None, holder
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    return fd, str(os.getpid())


def main(argv: list[str]) -> int:
    if "--" not in argv or not argv[argv.index("--") + 1 :]:
        print("usage: python -m jobcenter.core.run_pg -- COMMAND [ARG...]", file=sys.stderr)
        return 2
    command = argv[argv.index("--") + 1 :]
    chosen = not os.environ.get("JOBCENTER_DATA_DIR")
    data_dir = Path(os.environ.get("JOBCENTER_DATA_DIR") or DEFAULT_DATA_DIR).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    lock, holder = hold_run_lock(data_dir)
    if lock is None:
        print(
            f"make run-pg: already running with the data directory {shown(data_dir)} (process "
            f"{holder}). Stop it first (Ctrl-C in its terminal), or give this one a data "
            "directory of its own: JOBCENTER_DATA_DIR=... make run-pg",
            file=sys.stderr,
        )
        return 1
    pg = LocalPostgres(data_dir / "postgres")
    try:
        if not pg.initialised():
            print(f"Setting up a PostgreSQL server in {shown(pg.base)} (the first time only)...")
            pg.init()
        if not pg.start():
            print("A PostgreSQL server left running by an earlier run: using it.")
        pg.create_database(DATABASE)
    except LocalPostgresError as exc:
        print(f"make run-pg: {exc}", file=sys.stderr)
        return 1
    print(
        f"  PostgreSQL on 127.0.0.1:{pg.port} (database {DATABASE}; its files and log in "
        f"{shown(pg.base)}, password in {shown(pg.password_file)})",
        flush=True,
    )
    env = environment(pg, data_dir, chosen=chosen)
    settings_file = write_shell_settings(data_dir / SETTINGS_FILE, env)
    print(
        f"  Commands in another shell (manage.py jobs ...): . {shown(settings_file)} first",
        flush=True,
    )
    child = subprocess.Popen(command, env=env)

    def pass_on(signum: int, _frame: FrameType | None) -> None:
        signal.signal(signum, signal.SIG_IGN)  # once: a repeat is the same stop
        if child.poll() is None:
            child.send_signal(signum)

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the terminal sent it to the command too
    signal.signal(signal.SIGTERM, pass_on)
    signal.signal(signal.SIGHUP, pass_on)
    try:
        code = child.wait()
    finally:
        pg.stop()
        print("PostgreSQL stopped.", flush=True)
    if code < 0:  # it died of a signal (make does, of the terminal's SIGINT): so do we
        signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
