"""Shared set-up for benchmarks: a throwaway data directory, a migrated job database, and
worker processes."""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# The checkout this file is in, before anything else: the virtualenv may hold an editable
# install of another checkout, whose code would otherwise be measured.
if sys.path[:1] != [str(REPO)]:
    sys.path.insert(0, str(REPO))


def describe_run() -> str:
    """What is measured: the commit (and whether the tree differs from it), the code's path,
    the database, the machine's cores and load."""
    from django.db import connection

    import jobcenter

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True)
        return done.stdout.strip()

    dirty = " (with uncommitted changes)" if git("status", "--porcelain", "--", ".") else ""
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    if connection.vendor == "sqlite":
        version = connection.Database.sqlite_version
    else:
        version = str(connection.pg_version)
    code = Path(jobcenter.__file__).parent
    return (
        f"commit {git('rev-parse', '--short', 'HEAD')}{dirty}, code {code}, database "
        f"{connection.vendor} {version}, {os.cpu_count()} cores, load average (1/5/15 min) {load}"
    )


def import_files(
    files: Mapping[str, str], store: object, root: Path, *, dry_run: bool = False
) -> tuple:
    """``run_import`` of a GES request's ``files`` (paths under ``root``) into ``store``, as an
    import job runs it, with the key index's capacity a worker reads
    (``JOBCENTER_IMPORT_INDEX_CAPACITY``, e.g. 0: keys looked up in the store). Returns the
    summary and the progress (its per-file counts)."""
    from jobcenter.core.paths import RootedResolver
    from jobcenter.graphs.formats.ges import build_import_plan
    from jobcenter.graphs.loader import run_import
    from jobcenter.graphs.plan import ImportProgress

    plan = build_import_plan(dict(files), existing=None, resolve=RootedResolver([root]))
    progress = ImportProgress.for_plan(plan)
    capacity = os.environ.get("JOBCENTER_IMPORT_INDEX_CAPACITY")
    summary = run_import(
        plan,
        store,  # type: ignore[arg-type]
        job_id="j",
        progress=progress,
        commit_gate=lambda s: True,
        dry_run=dry_run,
        **({"index_capacity": int(capacity)} if capacity else {}),
    )
    return summary, progress


def django_in_tempdir(prefix: str, database: str = "sqlite", *, url: str | None = None) -> Path:
    """Point jobcenter at a fresh data dir, set Django up and migrate. Returns the dir.

    ``database``: "sqlite" (the data dir's job database) or "postgres" (a throwaway server
    started as the test suite starts one, tests/pgcluster.py, stopped when this process ends).
    ``url``: the job database is that one instead (benchmarks/_pg.py ``django_on_server``)."""
    data = Path(tempfile.mkdtemp(prefix=prefix))
    # Removed when this process ends (after the exit handlers registered later, such as the
    # throwaway server's stop): a run of import_memory.py left 3.4 GB behind.
    atexit.register(shutil.rmtree, data, ignore_errors=True)
    os.environ["JOBCENTER_DATA_DIR"] = str(data)
    os.environ.setdefault("JOBCENTER_IMPORT_ROOTS", str(data / "imports"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "jobcenter.settings"
    os.environ.pop("DATABASE_URL", None)
    if url is not None:
        os.environ["DATABASE_URL"] = url
    elif database == "postgres":
        from tests.pgcluster import start_cluster

        url = start_cluster()
        os.environ["DATABASE_URL"] = url.rsplit("/", 1)[0] + "/postgres"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return data


def worker_env() -> dict[str, str]:
    """The environment of a worker process: this process's, unbuffered output, and on
    PostgreSQL the job database this process's Django uses."""
    from django.db import connection

    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    if connection.vendor == "postgresql":
        sd = connection.settings_dict
        env["DATABASE_URL"] = f"postgres://{sd['USER']}@{sd['HOST']}:{sd['PORT']}/{sd['NAME']}"
    return env


def start_worker(
    *options: str,
    env: Mapping[str, str] | None = None,
    log: Path | None = None,
    checkout: Path = REPO,
) -> subprocess.Popen:
    """A worker process, ``manage.py db_worker --no-reload`` of ``checkout`` (this one unless
    a benchmark compares another) with ``options``, as ``make run`` and the test suite start
    one. ``env``: this process's environment unless given (output unbuffered either way);
    its output is appended to ``log`` (None: dropped)."""
    command = [sys.executable, str(checkout / "manage.py"), "db_worker", "--no-reload", *options]
    out = subprocess.DEVNULL if log is None else log.open("a")
    try:
        return subprocess.Popen(
            command,
            cwd=checkout,
            env={**(os.environ if env is None else env), "PYTHONUNBUFFERED": "1"},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    finally:
        if log is not None:
            out.close()  # the worker has its own copy of the descriptor


def stop_workers(workers: Iterable[subprocess.Popen], timeout: float = 60) -> None:
    """SIGTERM to every worker at once (each finishes the task it runs), then wait for each."""
    workers = list(workers)
    for worker in workers:
        worker.terminate()
    for worker in workers:
        worker.wait(timeout=timeout)
