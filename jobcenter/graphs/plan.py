"""The contract between job execution and the import engine.

A dialect (``formats/ges/``, ``formats/graphscope/``) turns a request into an
:class:`ImportPlan`; the one loader (``loader.py``) executes a plan against a graph store and
reports through an :class:`ImportProgress` that the job runner reads from its heartbeat thread.
Nothing here imports Django: the loader runs the same in a worker, a benchmark or a unit test.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

from jobcenter.core.errors import PlanError  # noqa: F401  (its importers name it from here too)

if TYPE_CHECKING:
    from jobcenter.graphs.schema import GraphSchema


FileRole = Literal["schema", "vertex", "edge"]
ParallelEdge = Literal["allow", "ignore", "override"]
ImportMode = Literal["append", "init", "overwrite"]


class FileStatus(StrEnum):
    SUCCESS = "success"
    PART_FAILED = "partFailed"
    FAILED = "failed"


class Reason(StrEnum):
    """Machine codes for a failed line; the message says the specifics."""

    COLUMN_COUNT = "column_count"
    BAD_TYPE = "bad_type"
    NOT_IN_ENUM = "not_in_enum"
    TOO_LONG = "too_long"
    UNKNOWN_LABEL = "unknown_label"
    MISSING_VERTEX = "missing_vertex"
    DUPLICATE_ID = "duplicate_id"
    DUPLICATE_EDGE = "duplicate_edge"
    BAD_DATE = "bad_date"
    ENCODING = "encoding"
    MALFORMED = "malformed"
    EMPTY_ID = "empty_id"


class ImportStopped(Exception):
    """Raised inside the loader when ``should_stop`` turned true; the store was rolled back."""


class ImportAborted(Exception):
    """The error threshold was crossed; the store was rolled back. ``str()`` is the reason."""


@dataclass(frozen=True)
class CsvOptions:
    delimiter: str = ","
    quotechar: str | None = '"'  # None: quoting off
    doublequote: bool = True
    escapechar: str | None = None
    header_row: bool = False
    encoding: str = "utf-8"


@dataclass(frozen=True)
class ColumnMapping:
    """Column ``index`` (0-based) of the file feeds ``property`` of the label."""

    index: int
    property: str


@dataclass(frozen=True)
class FileSpec:
    """One input file. ``layout`` says how a line maps onto the graph.

    - ``schema``: the schema file itself (counted as one file; lines = labels).
    - ``ges_vertex``: ``id,label,props...`` (properties in schema order).
    - ``ges_edge``: ``source,target,label,props...``.
    - ``mapped_vertex``: GraphScope: every line is a vertex of ``label``; ``columns`` map to
      properties; the label's primary key property gives the id.
    - ``mapped_edge``: GraphScope: every line is an edge of ``label`` from ``source_label`` to
      ``target_label``; ``source_column``/``target_column`` hold the endpoint primary keys.
    """

    role: FileRole
    path: Path
    layout: Literal["schema", "ges_vertex", "ges_edge", "mapped_vertex", "mapped_edge"]
    csv: CsvOptions = field(default_factory=CsvOptions)
    label: str | None = None
    source_label: str | None = None
    target_label: str | None = None
    columns: tuple[ColumnMapping, ...] = ()
    source_column: int = 0
    target_column: int = 1
    display_path: str | None = None  # what the user wrote, for reports
    # layout ``schema`` only: the labels this schema file defines (its "lines" in the report).
    schema_labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class ErrorThreshold:
    max_count: int | None = None  # abort when failed lines exceed this
    max_percent: float | None = None  # abort when failed/processed exceeds this (checked per chunk)


@dataclass(frozen=True)
class ImportPlan:
    schema: GraphSchema  # the effective schema after this import (existing merged with new)
    files: tuple[FileSpec, ...]
    parallel_edge: ParallelEdge = "allow"
    ignore_label: bool = True  # parallel-edge identity: True = <src,dst>, False = <src,dst,label>
    mode: ImportMode = "append"
    threshold: ErrorThreshold = field(default_factory=ErrorThreshold)
    max_failed_records: int = 10_000  # failed-line records kept per file (all are counted)


@dataclass(frozen=True)
class FailedLine:
    file_index: int
    line_number: int  # 1-based physical line number in the file
    reason: Reason
    message: str
    raw: str  # truncated by the loader to RAW_LINE_LIMIT characters


RAW_LINE_LIMIT = 1000


@dataclass
class FileProgress:
    """Counters for one file. Written by the loader thread, read by the heartbeat thread."""

    role: FileRole = "vertex"
    total_lines: int = 0  # data lines (header excluded); known after the pre-pass
    successful_lines: int = 0
    failed_lines: int = 0
    # Lines counted in successful_lines that changed nothing: duplicate edges dropped under
    # parallel_edge=ignore (GES does not count those as failures).
    ignored_lines: int = 0
    bytes_read: int = 0
    bytes_total: int = 0
    # Failed lines by reason (every one, unlike the failed-line records kept).
    reasons: Counter[str] = field(default_factory=Counter)
    status: FileStatus | None = None  # set when the file is finished
    cause: str = ""
    log: str = ""
    started: float | None = None  # time.time()
    finished: float | None = None


@dataclass
class ImportProgress:
    """Shared, lock-light progress state of one import.

    The loader only increments counters and appends failed lines; the runner's heartbeat
    thread snapshots the counters and drains ``failed`` (a thread-safe deque).
    """

    files: list[FileProgress]
    failed: deque[FailedLine] = field(default_factory=deque)
    stop: threading.Event = field(default_factory=threading.Event)
    current_file: int = 0
    phase: str = ""  # what the import is doing now ("reading files", "loading graph"...)
    # A ceiling on data lines judged a second (0: none), so that an import leaves room on a
    # shared store; kept by :meth:`pace` between batches.
    max_lines_per_second: int = 0
    _paced_from: tuple[float, int] | None = field(default=None, repr=False)

    @classmethod
    def for_plan(cls, plan: ImportPlan) -> ImportProgress:
        return cls(files=[FileProgress(role=spec.role) for spec in plan.files])

    def pace(self) -> None:
        """Between batches: when the import is ahead of ``max_lines_per_second``, wait until
        it is not (a stop ends the wait at once; the caller checks ``stop`` next)."""
        if self.max_lines_per_second <= 0:
            return
        now, done = time.monotonic(), self.lines_done
        if self._paced_from is None:
            self._paced_from = (now, done)
            return
        since, first = self._paced_from
        ahead = (done - first) / self.max_lines_per_second - (now - since)
        if ahead > 0:
            self.stop.wait(ahead)

    @property
    def data_files(self) -> list[FileProgress]:
        """Vertex and edge files: the schema's labels are not lines of data."""
        return [f for f in self.files if f.role != "schema"]

    @property
    def lines_done(self) -> int:
        return sum(f.successful_lines + f.failed_lines for f in self.data_files)

    @property
    def lines_total(self) -> int:
        return sum(f.total_lines for f in self.data_files)

    @property
    def bytes_done(self) -> int:
        return sum(f.bytes_read for f in self.files)

    @property
    def bytes_total(self) -> int:
        return sum(f.bytes_total for f in self.files)


@dataclass(frozen=True)
class ImportSummary:
    """What a finished import did; also stored in the graph store with the commit. The graph
    holds ``vertices_added - vertices_removed`` (and the same for edges) more rows after it:
    ``*_removed`` count what ``init``/``overwrite`` cleared and edges replaced by ``override``."""

    vertices_added: int
    edges_added: int
    lines_total: int
    lines_failed: int
    files: tuple[dict, ...]  # per file: status, cause, total/successful/failed lines
    vertices_removed: int = 0
    edges_removed: int = 0

    def to_dict(self) -> dict:
        return {
            "vertices_added": self.vertices_added,
            "edges_added": self.edges_added,
            "vertices_removed": self.vertices_removed,
            "edges_removed": self.edges_removed,
            "lines_total": self.lines_total,
            "lines_failed": self.lines_failed,
            "files": [dict(f) for f in self.files],
        }

    @classmethod
    def from_dict(cls, data: dict) -> ImportSummary:
        return cls(
            vertices_added=int(data["vertices_added"]),
            edges_added=int(data["edges_added"]),
            lines_total=int(data["lines_total"]),
            lines_failed=int(data["lines_failed"]),
            files=tuple(dict(f) for f in data.get("files", ())),
            vertices_removed=int(data.get("vertices_removed", 0)),
            edges_removed=int(data.get("edges_removed", 0)),
        )


class PathResolver(Protocol):
    """Turns a user-written path into readable files under the configured roots.

    ``base`` is a directory that relative paths are taken from (itself checked against the
    roots). With ``allow_dir`` a directory yields its regular files, sorted by name. Raises
    :class:`PlanError` (without ``field``; the caller adds it) for a path outside the roots, a
    symlink escaping them, or a missing/unreadable file.
    """

    def __call__(
        self, raw: str, *, base: str | None = None, allow_dir: bool = False
    ) -> list[Path]: ...
