"""The job kinds, by type: what the jobs core knows of a kind without importing it.

Each module of :mod:`jobcenter.jobs.kinds` describes its kind with a :class:`Kind` and calls
:func:`register` when it is imported; the app's ``ready()`` imports that package, so a worker
and a web process both see every kind. This module imports none of them: the core (runner,
retries, warming) asks the registry, and a new kind is one new module.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jobcenter.jobs.models import Job

#: how a face writes a count (e.g. "1,234", or "1.2k" in a narrow column)
Number = Callable[[Any], str]


logger = logging.getLogger("jobcenter.jobs")


def _never(job: Job) -> bool:
    return False


def _not_refused(job: Job) -> str | None:
    return None


@dataclass(frozen=True)
class Kind:
    """One kind of job.

    - ``type``: the value stored in ``Job.type``.
    - ``handler(job=, worker_id=)``: what a worker does with a claimed job; it ends the job
      through :mod:`jobcenter.jobs.transitions` and stores its phase as it moves.
    - ``retry(job, user)``: the same request submitted again (checked again), linked to ``job``.
    - ``retry_refused(job)``: why ``job`` cannot be retried, or ``None`` when it can (by
      default every job of the kind can be).
    - ``cancellable``: whether a running job of this kind can be cancelled (stored on the job
      at submission).
    - ``writes_graph(job)``: whether a job that ended well changed its graph's data (the worker
      then loads the new data into memory).
    - ``phases``: the phases its handler stores on the job (``Job.phase``), in order.
    - ``result``: what its result is, in a sentence (docs and the registry's listing).
    - ``between_jobs(idle=)``: what every worker does before each job (``idle=False``: quick)
      and while it waits for one (``idle=True``) to keep in step with this kind's jobs run by
      other workers (start and close graph: the graphs held in memory); ``None``: nothing.
    - ``computes``: its handler computes on graphs held in memory (``Control.compute``): an
      idle worker's standby child (graphs/compute.py) is kept for its jobs, and ended before
      the jobs of other kinds (it shares the worker's memory copy-on-write).

    What the faces ask of a kind instead of switching on its type (``Job.kind``):

    - ``loads_files``: its jobs load input files into their graph: they have per-file
      counters (``JobFile``), failed lines, line totals and a lines-per-second rate, and what
      they loaded is kept only if they end well.
    - ``result_rows``: its result is rows in a result file, read by pages (a result table,
      the CSV download, a dialect's result page).
    - ``named_by``: the parameter (in ``Job.params``) that names what a job does, shown next
      to its type (an algorithm's name); empty: the job's own name.
    - ``progress_text(job, short, number)``: what a running job's counters mean, in words
      (``short``: a list's compact form; counts written by ``number``); that of a kind that
      ``loads_files``, at any status. ``None`` or empty: the job's phase is shown.
    """

    type: str
    handler: Callable[..., None]
    retry: Callable[..., Job]
    retry_refused: Callable[[Job], str | None] = _not_refused
    cancellable: bool = True
    writes_graph: Callable[[Job], bool] = _never
    phases: tuple[str, ...] = ()
    result: str = ""
    between_jobs: Callable[..., None] | None = None
    computes: bool = False
    loads_files: bool = False
    result_rows: bool = False
    named_by: str = ""
    progress_text: Callable[[Job, bool, Number], str] | None = None


def _unregistered(**kwargs: object) -> Job:
    raise LookupError("no module registered this kind of job")


#: what a job of a type no module registered is (e.g. its module was removed): no traits
UNREGISTERED = Kind(type="", handler=_unregistered, retry=_unregistered, cancellable=False)


_KINDS: dict[str, Kind] = {}


def register(kind: Kind) -> Kind:
    """Add ``kind`` (a module registering twice, e.g. reloaded, replaces its entry)."""
    _KINDS[str(kind.type)] = kind
    return kind


def unregister(type: str) -> None:
    """Remove a kind (tests that define a kind of their own)."""
    _KINDS.pop(str(type), None)


def kind_for(type: str) -> Kind | None:
    """The kind of jobs of ``type``; ``None`` for a type no module registered."""
    return _KINDS.get(str(type))


def kind_of(type: str) -> Kind:
    """What the faces ask of a job of ``type``: its kind, or :data:`UNREGISTERED`."""
    return _KINDS.get(str(type), UNREGISTERED)


def kinds() -> list[Kind]:
    """Every registered kind, in registration order."""
    return list(_KINDS.values())


def between_jobs(*, idle: bool) -> None:
    """Run every kind's ``between_jobs`` hook; a failing hook is logged, never raised (the
    worker goes on with its jobs)."""
    for kind in kinds():
        if kind.between_jobs is None:
            continue
        try:
            kind.between_jobs(idle=idle)
        except Exception:
            logger.exception("between-jobs hook of kind %s failed", kind.type)
