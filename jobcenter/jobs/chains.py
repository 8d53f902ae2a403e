"""Job chains: a job that depends on other jobs (``JobDependency``) stays ``waiting`` with no
engine task until every job it depends on has ended in an accepted state (succeeded; also
partially failed when the job accepts it). Then the ending that met its last dependency queues
it, in the ending's own transaction. If a dependency ends otherwise (failed, cancelled, or
partially failed unaccepted), the dependent ends ``cancelled`` with a reason naming that job,
and so do the jobs depending on it, transitively, in the same transaction.

How a submit service learns of dependencies without every kind's signature changing: the face
resolves them (:func:`dependencies_resolve`) and submits inside :func:`waiting_for`;
``jobs.submit.submit_graph_job`` records them (:func:`dependencies_record`) in the job's
creating transaction and queues the job only when nothing is left to wait for. A submit
service that does not go through it (deleting a graph) leaves them unused, and
:func:`waiting_for` refuses the whole submission.

Races: the transactions that look at a job's dependents and act on them take a lock named by
that job (:func:`jobs_lock`, a PostgreSQL advisory lock; on SQLite every write transaction is
IMMEDIATE, i.e. serialised, and nothing more is needed): an ending takes its job's lock after
its own status change and each dependent's before deciding for it; a submission takes the lock
of each job it depends on before reading their statuses. Locks are always taken in creation
order, and a job is created after the jobs it depends on, so no two transactions wait for each
other. Every state change is a conditional update. So a dependency ending while its dependent is
submitted or cancelled, or two dependencies ending at once on two workers, end in one right
state, and a dependent is queued exactly once.

Submission side and worker side both use this module; it imports neither of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from jobcenter.core.errors import InvalidInput, InvalidState, NotFound, ServiceError
from jobcenter.jobs.choices import EventKind, JobStatus
from jobcenter.jobs.dispatch import dispatch, record_event
from jobcenter.jobs.models import ID_LENGTH, Job, JobDependency

# Most dependencies one job may name (a chain request's steps are bounded too).
MAX_DEPENDENCIES = 100
MAX_CHAIN_STEPS = 100
# A waiting job's task_id while its release is being written (one transaction).
_RELEASING = "releasing"


def accepted(status: str, accept_partial: bool) -> bool:
    """Whether a dependency that ended ``status`` lets its dependent run."""
    return status == JobStatus.SUCCEEDED or (
        accept_partial and status == JobStatus.PARTIALLY_FAILED
    )


def _refuses(status: str, accept_partial: bool) -> bool:
    """Whether a dependency that ended ``status`` cancels its dependent."""
    return status in (JobStatus.FAILED, JobStatus.CANCELLED) or (
        status == JobStatus.PARTIALLY_FAILED and not accept_partial
    )


def _label(status: str) -> str:
    return JobStatus(status).label.lower()


def describe(job_id: str, type: str, status: str) -> str:
    """``job <id> (<type>, <status>)``: how reasons and messages name a dependency."""
    return f"job {job_id} ({type}, {_label(status)})"


def has_dependencies() -> Exists:
    """``has_dependencies``: an annotation telling a job that depends on others (lists mark
    the rows that wait for some without a query of their own)."""
    return Exists(JobDependency.objects.filter(job_id=OuterRef("pk")))


def _lock_key(job_id: str) -> int:
    """A job's advisory lock key: its id's 128 bits folded into a signed 64-bit number."""
    try:
        value = int(job_id, 16)
    except ValueError:
        value = int.from_bytes(job_id.encode()[:32].ljust(32, b"\0")[:16], "big")
    folded = (value >> 64) ^ (value & (2**64 - 1))
    return folded - 2**64 if folded >= 2**63 else folded


def jobs_lock(job_ids: Sequence[str]) -> None:
    """Take the locks of ``job_ids`` (given in creation order), held until the transaction
    ends. PostgreSQL: one transaction-level advisory lock per job. SQLite: nothing to do, its
    write transactions are IMMEDIATE, one at a time."""
    if connection.vendor != "postgresql" or not job_ids:
        return
    with connection.cursor() as cursor:
        for job_id in job_ids:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_lock_key(job_id)])


# --- dependencies named at submission -------------------------------------------------------


@dataclass
class Dependencies:
    """The jobs a job about to be submitted depends on (same project, checked)."""

    project_id: Any
    ids: list[str]
    accept_partial: bool = False
    used: bool = False


_PENDING: ContextVar[Dependencies | None] = ContextVar("jobcenter_job_dependencies", default=None)


def dependencies_resolve(
    *, project: Any, ids: Sequence[Any], accept_partial: bool = False, field: str = "depends_on"
) -> Dependencies:
    """The dependencies named by ``ids`` (job ids in ``project``). An id that names no job of
    the project is "not found" (a job of another project is not told apart from none)."""
    if len(ids) > MAX_DEPENDENCIES:
        raise InvalidInput(f"at most {MAX_DEPENDENCIES} dependencies", field=field)
    wanted: list[str] = []
    for value in ids:
        if not isinstance(value, str) or not value.strip():
            raise InvalidInput(f"{value!r} is not a job id", field=field)
        if value not in wanted:
            wanted.append(value)
    found = set(
        Job.objects.filter(
            pk__in=[v for v in wanted if len(v) <= ID_LENGTH], project=project
        ).values_list("pk", flat=True)
    )
    for value in wanted:
        if value not in found:
            raise NotFound(f"job {value[:64]!r} does not exist", field=field)
    return Dependencies(project_id=project.pk, ids=wanted, accept_partial=accept_partial)


@contextmanager
def waiting_for(dependencies: Dependencies | None) -> Iterator[None]:
    """Submit inside this block: the job the submit service creates depends on
    ``dependencies`` (``None`` or no ids: a plain submission). One transaction: a submit
    service that could not take them (the job kind cannot wait) is refused and nothing stays."""
    if dependencies is None or not dependencies.ids:
        yield
        return
    token = _PENDING.set(dependencies)
    try:
        with transaction.atomic():
            yield
            if not dependencies.used:
                raise InvalidInput(
                    "this kind of job cannot wait for other jobs", field="depends_on"
                )
    finally:
        _PENDING.reset(token)


def will_wait_for(job_id: str) -> bool:
    """Whether the job being submitted names ``job_id`` among its dependencies (a result
    export waits for the job whose result it exports)."""
    pending = _PENDING.get()
    return pending is not None and not pending.used and job_id in pending.ids


def dependencies_record(job: Job) -> bool:
    """Called by ``submit_graph_job`` in the transaction creating ``job``: record the
    dependencies named by :func:`waiting_for`, if any. Returns True when the job must wait
    (not be queued now). A dependency that already ended failed, cancelled or (unless
    accepted) partially failed is refused: the job would be cancelled at once."""
    pending = _PENDING.get()
    if pending is None or pending.used or not pending.ids:
        return False
    pending.used = True
    if job.project_id != pending.project_id:
        raise NotFound(f"job {pending.ids[0]!r} does not exist", field="depends_on")
    order = Job.objects.filter(pk__in=pending.ids, project_id=job.project_id).order_by(
        "created_at", "pk"
    )
    jobs_lock(list(order.values_list("pk", flat=True)))
    rows = {
        pk: (type, status)
        for pk, type, status in Job.objects.filter(
            pk__in=pending.ids, project_id=job.project_id
        ).values_list("pk", "type", "status")
    }
    waits = False
    for dep in pending.ids:
        if dep not in rows:  # purged meanwhile
            raise NotFound(f"job {dep!r} does not exist", field="depends_on")
        type, status = rows[dep]
        if _refuses(status, pending.accept_partial):
            hint = (
                " (accept_partial lets a job run after a partially failed one)"
                if status == JobStatus.PARTIALLY_FAILED
                else ""
            )
            raise InvalidState(
                f"{describe(dep, type, status)} has already ended: a job cannot wait for it{hint}",
                field="depends_on",
            )
        waits = waits or not accepted(status, pending.accept_partial)
    JobDependency.objects.bulk_create(
        [
            JobDependency(job_id=job.pk, depends_on_id=dep, accept_partial=pending.accept_partial)
            for dep in pending.ids
        ]
    )
    return waits


def retry_dependencies(job: Job) -> Dependencies | None:
    """What a retry of ``job`` depends on: the same jobs, except that a dependency that did not
    end in an accepted state and was retried since is replaced by its newest retry (so that
    "retry the failed import, then retry the cancelled pagerank" chains again). A dependency
    still failed or cancelled makes the retry refused (by :func:`dependencies_record`)."""
    links = list(job.dependency_links.select_related("depends_on"))
    if not links:
        return None
    partial = links[0].accept_partial
    ids: list[str] = []
    for link in links:
        dep = link.depends_on
        seen = {dep.pk}
        while not accepted(dep.status, partial):
            newer = dep.retries.order_by("-created_at", "-id").first()
            if newer is None or newer.pk in seen:
                break
            dep = newer
            seen.add(dep.pk)
        ids.append(dep.pk)
    return Dependencies(project_id=job.project_id, ids=ids, accept_partial=partial)


# --- endings --------------------------------------------------------------------------------


def dependents_lock(job_id: str) -> None:
    """Called first in the transaction that ended ``job_id``: take its lock and, when the
    ending may cancel its dependents (any other status than succeeded), the locks of every job
    waiting for it, transitively, in creation order. (A cascade that took them as it went would
    take them in the order of the chain, not of creation, and could wait for a submission that
    waits for it.) A dependent added meanwhile is newer than all of them: taken last, in order."""
    jobs_lock([job_id])
    status = Job.objects.filter(pk=job_id).values_list("status", flat=True).first()
    if status in (None, JobStatus.SUCCEEDED):
        return
    found: dict[str, Any] = {}
    frontier = [job_id]
    while frontier:
        rows = JobDependency.objects.filter(
            depends_on_id__in=frontier, job__status=JobStatus.WAITING
        ).values_list("job_id", "job__created_at")
        frontier = [pk for pk, _ in rows if pk not in found]
        found.update(rows)
    jobs_lock([pk for pk, _ in sorted(found.items(), key=lambda item: (item[1], item[0]))])


def dependents_settle(job_id: str) -> list[str]:
    """Called in the transaction that ended ``job_id``, after its status change: queue each
    dependent whose dependencies are now all met, or cancel each waiting dependent if this
    ending does not satisfy it. Returns the ids of the dependents cancelled (their own endings
    still to be processed by the caller: transitively, without recursion)."""
    jobs_lock([job_id])  # a submission adding a dependent has committed, or will see the end
    links = list(
        JobDependency.objects.filter(depends_on_id=job_id)
        .order_by("job__created_at", "job_id")
        .values_list("job_id", "accept_partial")
    )
    if not links:
        return []
    type, status = Job.objects.filter(pk=job_id).values_list("type", "status").get()
    cancelled: list[str] = []
    for dependent, accept_partial in links:
        # Its other dependencies' endings decide for it one at a time, each seeing the others.
        jobs_lock([dependent])
        if accepted(status, accept_partial):
            _release_if_ready(dependent)
        elif _refuses(status, accept_partial):
            reason = f"dependency {describe(job_id, type, status)} did not succeed"
            if Job.objects.filter(pk=dependent, status=JobStatus.WAITING).update(
                status=JobStatus.CANCELLED,
                finished_at=timezone.now(),
                cancellable=False,
                fail_reason=reason,
                phase="",
            ):
                record_event(dependent, EventKind.FINISHED, message=reason)
                cancelled.append(dependent)
    return cancelled


def _unmet(job_id: str) -> Q:
    return Q(job_id=job_id) & ~(
        Q(depends_on__status=JobStatus.SUCCEEDED)
        | Q(accept_partial=True, depends_on__status=JobStatus.PARTIALLY_FAILED)
    )


def _release_if_ready(job_id: str) -> bool:
    """Queue a waiting, not yet queued job whose dependencies are all met (once: the
    conditional update on its empty task id decides)."""
    if JobDependency.objects.filter(_unmet(job_id)).exists():
        return False
    if not Job.objects.filter(pk=job_id, status=JobStatus.WAITING, task_id="").update(
        task_id=_RELEASING
    ):
        return False  # cancelled, or queued already
    dispatch(Job.objects.get(pk=job_id))
    record_event(job_id, EventKind.RELEASED, message="the jobs it depends on have ended")
    return True


# --- chains submitted in one request --------------------------------------------------------


@dataclass
class ChainStep:
    """One job of a chain: how the face submits it (given the jobs created so far, by step
    index), and what it depends on: earlier or later steps by index, existing jobs by id."""

    submit: Callable[[Mapping[int, Job]], Job]
    depends_on: list[int | str] = field(default_factory=list)
    accept_partial: bool = False


def _step_order(steps: Sequence[ChainStep]) -> list[int]:
    """The steps in an order where each comes after the steps it depends on; a step naming
    itself, a step that does not exist, or a cycle is refused, naming the steps."""
    after: dict[int, set[int]] = {}
    for index, step in enumerate(steps):
        after[index] = set()
        for ref in step.depends_on:
            if isinstance(ref, bool) or not isinstance(ref, int | str):
                raise InvalidInput(
                    f"{ref!r} is neither a step index nor a job id",
                    field=f"steps.{index}.depends_on",
                )
            if isinstance(ref, int):
                if ref == index:
                    raise InvalidInput(
                        f"step {index} cannot depend on itself", field=f"steps.{index}.depends_on"
                    )
                if not 0 <= ref < len(steps):
                    raise InvalidInput(
                        f"there is no step {ref} (steps are numbered from 0 to {len(steps) - 1})",
                        field=f"steps.{index}.depends_on",
                    )
                after[index].add(ref)
    order: list[int] = []
    ready = [i for i in range(len(steps)) if not after[i]]
    left = {i: set(deps) for i, deps in after.items() if deps}
    while ready:
        current = ready.pop(0)
        order.append(current)
        for index in sorted(left):
            left[index].discard(current)
            if not left[index]:
                del left[index]
                ready.append(index)
    if left:
        cycle = ", ".join(str(i) for i in sorted(left))
        raise InvalidInput(
            f"steps {cycle} depend on each other in a cycle",
            field=f"steps.{min(left)}.depends_on",
        )
    return order


def chain_submit(*, project: Any, steps: Sequence[ChainStep]) -> list[Job]:
    """Submit every step as a job of ``project``, each waiting for what it depends on; all or
    nothing (one transaction: an error in any step leaves no job). Errors name the step
    (``steps.<index>.<field>``). Returns the jobs in step order."""
    if not steps:
        raise InvalidInput("a chain needs at least one step", field="steps")
    if len(steps) > MAX_CHAIN_STEPS:
        raise InvalidInput(f"a chain has at most {MAX_CHAIN_STEPS} steps", field="steps")
    order = _step_order(steps)
    existing: dict[int, Dependencies] = {}
    for index, step in enumerate(steps):
        ids = [ref for ref in step.depends_on if isinstance(ref, str)]
        try:
            existing[index] = dependencies_resolve(
                project=project, ids=ids, accept_partial=step.accept_partial
            )
        except ServiceError as exc:
            raise _in_step(exc, index) from None
    created: dict[int, Job] = {}
    with transaction.atomic():
        # Every existing job the chain waits for, locked at once in creation order: the steps
        # lock them again one by one (a no-op) after the chain's own, newer jobs.
        named = {job_id for deps in existing.values() for job_id in deps.ids}
        jobs_lock(
            list(
                Job.objects.filter(pk__in=named, project=project)
                .order_by("created_at", "pk")
                .values_list("pk", flat=True)
            )
        )
        for index in order:
            step = steps[index]
            deps = existing[index]
            deps.ids += [created[ref].pk for ref in step.depends_on if isinstance(ref, int)]
            try:
                with waiting_for(deps):
                    created[index] = step.submit(created)
            except ServiceError as exc:
                raise _in_step(exc, index) from None
    return [created[index] for index in range(len(steps))]


def _in_step(exc: ServiceError, index: int) -> ServiceError:
    """``exc`` with its field (or the step itself) named inside ``steps.<index>``."""
    prefix = f"steps.{index}"
    errors = {f"{prefix}.{name}": messages for name, messages in exc.errors.items()}
    name = f"{prefix}.{exc.field}" if exc.field else prefix
    if not errors:
        errors = {name: [exc.message]}
    return type(exc)(exc.message, field=name, errors=errors, code=exc.code)
