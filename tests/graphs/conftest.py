"""Helpers for the graph layer's tests: plans from real files, run into a real store."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from jobcenter.core.paths import RootedResolver
from jobcenter.graphs.formats import ges, graphscope
from jobcenter.graphs.loader import run_import
from jobcenter.graphs.plan import FileProgress, ImportPlan, ImportProgress, ImportSummary
from jobcenter.graphs.schema import GraphSchema
from jobcenter.graphs.stores.base import GraphStore
from jobcenter.graphs.stores.sqlite import SqliteStore
from tests.factories.files import shared_data

MOVIE_SCHEMA = """<?xml version="1.0"?>
<PMML version="3.0" xmlns="http://www.dmg.org/PMML-3-0"><labels>
  <label name="user"><properties>
    <property name="Name" cardinality="single" dataType="string"/>
    <property name="Age" cardinality="single" dataType="int"/>
  </properties></label>
  <label name="rate"><properties>
    <property name="Score" cardinality="single" dataType="double"/>
  </properties></label>
  <label name="friends"></label>
</labels></PMML>
"""


class Run:
    """One import: its progress (counters, failed lines) and its summary or error."""

    def __init__(self, plan: ImportPlan) -> None:
        self.plan = plan
        self.progress = ImportProgress.for_plan(plan)
        self.summary: ImportSummary | None = None

    @property
    def files(self) -> list[FileProgress]:
        return self.progress.files

    def failed(self) -> list[tuple[int, int, str]]:
        """(file index, line number, reason) of every kept failed line, in file order."""
        return sorted((f.file_index, f.line_number, str(f.reason)) for f in self.progress.failed)

    def messages(self) -> dict[int, str]:
        return {f.line_number: f.message for f in self.progress.failed}


class Workspace:
    """A directory under the import roots, a graph store (of ``backend``), and ways to import
    into it."""

    def __init__(self, root: Path, backend: str = "sqlite") -> None:
        self.root = root
        self.resolve = RootedResolver([root, shared_data()])
        self.backend = backend
        self.store = new_store(backend, root)
        self.schema: GraphSchema | None = None
        self.runs = 0

    def write(self, name: str, text: str | bytes) -> str:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text)
        return str(path)

    def ges_plan(self, **request: Any) -> ImportPlan:
        return ges.build_import_plan(request, existing=self.schema, resolve=self.resolve)

    def graphscope_plan(self, mapping: dict[str, Any]) -> ImportPlan:
        assert self.schema is not None
        return graphscope.build_import_plan(mapping, schema=self.schema, resolve=self.resolve)

    def run(self, plan: ImportPlan, *, job_id: str | None = None, **options: Any) -> Run:
        """Import ``plan``; the graph's schema follows a committed import, as in the app."""
        self.runs += 1
        job_id = job_id or f"job{self.runs}"
        run = Run(plan)
        run.summary = run_import(plan, self.store, job_id=job_id, progress=run.progress, **options)
        self.schema = plan.schema
        return run

    def attempt(self, plan: ImportPlan, **options: Any) -> tuple[Run, BaseException]:
        """Import ``plan`` expecting it to raise; returns the run and the exception."""
        run = Run(plan)
        with pytest.raises(Exception) as info:
            run_import(plan, self.store, job_id="job", progress=run.progress, **options)
        return run, info.value

    def ges_movie(self) -> Run:
        movie = shared_data("ges_movie")
        return self.run(
            self.ges_plan(
                schema_path=str(movie / "schema.xml"),
                vertexset_path=str(movie / "vertex.csv"),
                edgeset_path=str(movie / "edge.csv"),
            )
        )


def new_store(backend: str, root: Path) -> GraphStore:
    """A new, empty store of ``backend``: a file under ``root``, or a schema of its own on the
    tests' PostgreSQL server (removed by :func:`drop_store`)."""
    if backend == "sqlite":
        return SqliteStore(root / "graph.sqlite3")
    from jobcenter.graphs.stores.postgresql import PostgresStore
    from tests.pgcluster import graph_store_server

    return PostgresStore(graph_store_server(), f"g_{uuid.uuid4().hex}", create=True)


def drop_store(store: GraphStore) -> None:
    store.close()
    if not isinstance(store, SqliteStore):
        type(store).delete((store.conninfo, store.schema))  # type: ignore[attr-defined]


@pytest.fixture
def store_backend() -> str:
    """The backend of ``workspace``'s store: SQLite unless a test module asks for both
    (``both_stores``)."""
    return "sqlite"


both_stores = pytest.fixture(params=["sqlite", "postgresql"], name="store_backend")(
    lambda request: request.param
)


@pytest.fixture
def workspace(tmp_path: Path, store_backend: str) -> Workspace:
    space = Workspace(tmp_path, store_backend)
    yield space
    drop_store(space.store)


@pytest.fixture
def small_graph(workspace: Workspace) -> Callable[..., Run]:
    """``small_graph(vertices=..., edges=..., **request)``: a GES import of the MOVIE_SCHEMA
    labels with the given file contents."""

    def make(vertices: str | bytes | None = None, edges: str | bytes | None = None, **request):
        request.setdefault("schema_path", workspace.write("schema.xml", MOVIE_SCHEMA))
        if vertices is not None:
            request["vertexset_path"] = workspace.write("v.csv", vertices)
        if edges is not None:
            request["edgeset_path"] = workspace.write("e.csv", edges)
        return workspace.ges_plan(**request)

    return make
