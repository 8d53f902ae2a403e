from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from tests.factories.projects import project_with_members, user_create

REPO = Path(__file__).resolve().parent.parent

pytest_plugins = ["tests.hang_guard"]


@pytest.fixture(autouse=True)
def _no_graph_held_between_tests() -> Iterator[None]:
    """Graphs this process keeps in memory for algorithm jobs do not outlive a test."""
    yield
    from jobcenter.graphs.resident import RESIDENT

    RESIDENT.clear()


@pytest.fixture(autouse=True, scope="session")
def _no_kept_graph_store_connections(django_db_setup) -> Iterator[None]:
    """The PostgreSQL graph store's kept connections end before the test database is dropped
    (torn down before ``django_db_setup``, which it depends on)."""
    yield
    from jobcenter.graphs.stores.postgresql import close_kept_connections

    close_kept_connections()


@pytest.fixture(autouse=True)
def _sqlite_store_when_marked(request: pytest.FixtureRequest) -> None:
    """Tests marked ``sqlite_store`` are about the SQLite store's files: they run on it
    whatever ``JOBCENTER_GRAPH_STORE`` the pass uses."""
    if request.node.get_closest_marker("sqlite_store"):
        request.getfixturevalue("settings").JOBCENTER_GRAPH_STORE = "sqlite"


@pytest.fixture
def admin_user(db):
    return user_create("root", superuser=True)


@pytest.fixture
def project(db):
    """Project alpha with an operator, a viewer; ``outsider`` belongs to no project."""
    project = project_with_members("alpha", oscar="operator", vera="viewer")
    user_create("outsider")
    return project


@pytest.fixture
def operator(project):
    return project.members.get(username="oscar")


@pytest.fixture
def viewer(project):
    return project.members.get(username="vera")


class WorkerProcess:
    """A real ``manage.py db_worker`` process on the test database."""

    def __init__(self, *, interval: float = 0.1, **env: str) -> None:
        self.interval = interval
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "JOBCENTER_TEST_WORKER": "1",
            "JOBCENTER_DATA_DIR": str(settings.DATA_DIR),
            "PYTHONUNBUFFERED": "1",
            **env,
        }
        self.log = Path(settings.DATA_DIR) / f"worker-{os.getpid()}-{id(self)}.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> WorkerProcess:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                str(REPO / "manage.py"),
                "db_worker",
                "--interval",
                str(self.interval),
                "--no-startup-delay",
                "--no-reload",
                "-v",
                "2",
            ],
            cwd=REPO,
            env=self.env,
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
        )
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self, timeout: float = 20) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def output(self) -> str:
        return self.log.read_text() if self.log.exists() else ""


@pytest.fixture
def worker_factory(transactional_db) -> Iterator:
    started: list[WorkerProcess] = []

    def start(*, interval: float = 0.1, **env: str) -> WorkerProcess:
        worker = WorkerProcess(interval=interval, **env).start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture
def imports_dir() -> Iterator[Path]:
    """The import root tests write their files to; what a test wrote is removed after it."""
    path = Path(settings.IMPORTS_DIR)
    path.mkdir(parents=True, exist_ok=True)
    before = set(path.iterdir())
    yield path
    for entry in set(path.iterdir()) - before:
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)


@pytest.fixture(autouse=True)
def _graph_stores_removed_after_committing_tests(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test that commits (a transactional one: real workers, servers) has the graph stores of
    its graphs removed after it, before its database is emptied: a pass loads some ten
    gigabytes through such tests, more than a CI machine's temporary directory may hold.
    (The other tests write small graphs; their stores stay until the pass ends.)"""
    marker = request.node.get_closest_marker("django_db")
    if not (
        {"transactional_db", "live_server"} & set(request.fixturenames)
        or (marker is not None and marker.kwargs.get("transaction"))
    ):
        yield
        return
    request.getfixturevalue("transactional_db")  # torn down after this fixture
    yield
    from jobcenter.graphs.models import Graph
    from jobcenter.graphs.stores.factory import store_delete

    for graph in Graph.objects.all():
        store_delete(graph)


# -- graph store invariants after every test (tests/graphs/invariants.py) ------------------------


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "sqlite_store: run on the SQLite graph store whatever JOBCENTER_GRAPH_STORE says (the "
        "test is about its files)",
    )
    config.addinivalue_line(
        "markers",
        "unchecked_stores(reason): do not check the graph store invariants after this test "
        "(it writes stores by hand on purpose)",
    )


def _store_dirs(item: pytest.Item) -> list[Path]:
    dirs = [Path(settings.JOBCENTER_GRAPH_DIR), *map(Path, settings.JOBCENTER_EXPORT_ROOTS)]
    tmp = getattr(item, "funcargs", {}).get("tmp_path")
    return [d for d in (*dirs, *([tmp] if tmp else [])) if d.is_dir()]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item):
    from tests.graphs.invariants import signatures

    item.stash[_STORES_BEFORE] = signatures(_store_dirs(item))
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    """When a test has passed, every graph store it created or changed must hold the store
    invariants: no dangling edge, rows equal to the committed counts, and (when the test can
    reach the job database) the same counts in the jobs' rows."""
    result = yield
    if item.get_closest_marker("unchecked_stores"):
        return result
    from tests.graphs import invariants

    before = item.stash.get(_STORES_BEFORE, {})
    paths = invariants.changed(before, invariants.signatures(_store_dirs(item)))
    fixtures = set(getattr(item, "fixturenames", ()))
    with_db = bool({"db", "transactional_db", "live_server"} & fixtures) or (
        item.get_closest_marker("django_db") is not None
    )
    graph_dir = Path(settings.JOBCENTER_GRAPH_DIR)
    for path in paths:
        in_graph_dir = path.parent == graph_dir
        if not (in_graph_dir and path.suffix == ".sqlite3") and not invariants.is_graph_store(path):
            continue
        facts = invariants.check_store(path)
        if with_db:
            invariants.check_jobs(facts, graph_id=path.stem if in_graph_dir else None)
    if with_db and settings.JOBCENTER_GRAPH_STORE == "postgresql":
        _check_postgresql_stores(invariants)
    return result


def _check_postgresql_stores(invariants) -> None:
    """The same invariants for the PostgreSQL stores of the graphs the test left."""
    from jobcenter.graphs.models import Graph
    from jobcenter.graphs.stores.factory import graph_store_url
    from jobcenter.graphs.stores.postgresql import PostgresStore, schema_name

    url = graph_store_url()
    for graph_id in Graph.objects.values_list("pk", flat=True):
        if PostgresStore.exists((url, schema_name(graph_id))):
            facts = invariants.check_postgresql_store(url, schema_name(graph_id))
            invariants.check_jobs(facts, graph_id=graph_id)


_STORES_BEFORE = pytest.StashKey[dict]()
