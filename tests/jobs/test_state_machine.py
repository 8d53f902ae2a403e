"""Transitions of the job state machine, and races between them on the real database."""

from __future__ import annotations

import contextlib
import threading

import pytest
from django.db import connection

from jobcenter.core.errors import InvalidState, PermissionDenied
from jobcenter.graphs.choices import GraphStatus
from jobcenter.graphs.models import Graph
from jobcenter.jobs.choices import EventKind, JobStatus
from jobcenter.jobs.models import Job, JobEvent
from jobcenter.jobs.services import graph_delete_submit, job_cancel, job_retry_many
from jobcenter.jobs.transitions import (
    job_claim,
    job_commit_gate,
    job_finish,
    job_heartbeat,
    job_recover_stale,
)
from tests.factories.graphs import ges_graph
from tests.factories.jobs import ges_movie_import, make_job


@pytest.mark.django_db
class TestTransitions:
    def test_waiting_job_cancels_at_once(self, project, operator):
        job = make_job(project)
        job = job_cancel(job=job, user=operator)
        assert job.status == JobStatus.CANCELLED
        assert job.finished_at is not None
        assert job.cancel_requested_by == operator
        # the worker that later receives the task does nothing
        assert job_claim(job_id=job.pk, worker_id="w1") is None
        assert Job.objects.get(pk=job.pk).status == JobStatus.CANCELLED

    def test_second_delivery_is_a_no_op(self, project):
        job = make_job(project)
        assert job_claim(job_id=job.pk, worker_id="w1") is not None
        assert job_claim(job_id=job.pk, worker_id="w2") is None
        job.refresh_from_db()
        assert (job.status, job.worker_id, job.attempt) == (JobStatus.RUNNING, "w1", 1)

    def test_running_job_goes_through_cancelling(self, project, operator):
        job = make_job(project)
        job_claim(job_id=job.pk, worker_id="w1")
        assert job_cancel(job=job, user=operator).status == JobStatus.CANCELLING
        beat = job_heartbeat(
            job_id=job.pk,
            worker_id="w1",
            progress=5,
            lines_done=1,
            lines_total=20,
            lines_per_second=1.0,
        )
        assert beat == "cancel"
        assert not job_commit_gate(job_id=job.pk, worker_id="w1")
        assert job_finish(job_id=job.pk, worker_id="w1", status=JobStatus.CANCELLED)
        assert Job.objects.get(pk=job.pk).status == JobStatus.CANCELLED

    def test_finished_job_cannot_be_cancelled(self, project, operator):
        job = make_job(project)
        job_claim(job_id=job.pk, worker_id="w1")
        job_finish(job_id=job.pk, worker_id="w1", status=JobStatus.SUCCEEDED)
        with pytest.raises(InvalidState, match="already finished"):
            job_cancel(job=job, user=operator)
        assert Job.objects.get(pk=job.pk).status == JobStatus.SUCCEEDED

    def test_waiting_graph_deletion_cannot_be_cancelled(self, project, operator):
        """Cancelling it would leave the graph marked as being deleted for ever."""
        graph = ges_graph(project, "doomed")
        job = graph_delete_submit(graph=graph, user=operator)
        with pytest.raises(InvalidState, match="cannot be cancelled"):
            job_cancel(job=job, user=operator)
        assert Job.objects.get(pk=job.pk).status == JobStatus.WAITING
        assert Graph.objects.get(pk=graph.pk).status == GraphStatus.DELETING

    def test_viewer_cannot_cancel(self, project, viewer):
        job = make_job(project)
        with pytest.raises(PermissionDenied):
            job_cancel(job=job, user=viewer)
        assert Job.objects.get(pk=job.pk).status == JobStatus.WAITING

    def test_other_worker_cannot_finish_or_beat(self, project):
        job = make_job(project)
        job_claim(job_id=job.pk, worker_id="w1")
        assert not job_finish(job_id=job.pk, worker_id="w2", status=JobStatus.SUCCEEDED)
        beat = job_heartbeat(
            job_id=job.pk,
            worker_id="w2",
            progress=0,
            lines_done=0,
            lines_total=0,
            lines_per_second=0,
        )
        assert beat == "lost"

    def test_stale_running_job_is_failed_as_worker_lost(self, project):
        job = make_job(project)
        job_claim(job_id=job.pk, worker_id="w1")
        Job.objects.filter(pk=job.pk).update(heartbeat_at=job.created_at.replace(year=2000))
        assert job_recover_stale(stale_after=30) == [job.pk]
        job.refresh_from_db()
        assert (job.status, job.fail_reason) == (JobStatus.FAILED, "worker lost")
        # the late worker can no longer write anything
        assert not job_finish(job_id=job.pk, worker_id="w1", status=JobStatus.SUCCEEDED)

    def test_fresh_heartbeat_is_left_alone(self, project):
        job = make_job(project)
        job_claim(job_id=job.pk, worker_id="w1")
        assert job_recover_stale(stale_after=30) == []
        assert Job.objects.get(pk=job.pk).status == JobStatus.RUNNING


def _run_threads(*targets) -> list[BaseException]:
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(targets))

    def wrap(fn):
        def run():
            try:
                barrier.wait()
                fn()
            except BaseException as exc:  # collected and re-raised by the test
                errors.append(exc)
            finally:
                connection.close()

        return run

    threads = [threading.Thread(target=wrap(t)) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return errors


@pytest.mark.django_db(transaction=True)
def test_cancel_races_completion_without_wrong_or_double_transition(project, operator):
    """Cancel and the worker's finish race 60 times; every run ends in exactly one terminal
    state that matches who won the commit gate, with exactly one 'finished' event."""
    outcomes = {"cancelled": 0, "succeeded": 0}
    for _ in range(60):
        job = make_job(project)
        job_claim(job_id=job.pk, worker_id="w1")
        gate: dict[str, bool] = {}

        def cancel(job=job):
            with contextlib.suppress(InvalidState):
                job_cancel(job=Job.objects.get(pk=job.pk), user=operator)

        def complete(job=job, gate=gate):
            gate["won"] = job_commit_gate(job_id=job.pk, worker_id="w1")
            status = JobStatus.SUCCEEDED if gate["won"] else JobStatus.CANCELLED
            assert job_finish(job_id=job.pk, worker_id="w1", status=status)

        errors = _run_threads(cancel, complete)
        assert not errors, errors
        job.refresh_from_db()
        expected = JobStatus.SUCCEEDED if gate["won"] else JobStatus.CANCELLED
        assert job.status == expected
        assert JobEvent.objects.filter(job=job, kind=EventKind.FINISHED).count() == 1
        outcomes[job.status] += 1
    assert sum(outcomes.values()) == 60


@pytest.mark.django_db(transaction=True)
def test_cancel_races_claim_of_waiting_job(project, operator):
    """A waiting job is either cancelled before any worker runs it, or claimed and then
    cancelling; never both claimed and cancelled."""
    for _ in range(60):
        job = make_job(project)
        claimed: dict[str, object] = {}

        def cancel(job=job):
            with contextlib.suppress(InvalidState):
                job_cancel(job=Job.objects.get(pk=job.pk), user=operator)

        def claim(job=job, claimed=claimed):
            claimed["job"] = job_claim(job_id=job.pk, worker_id="w1")

        assert not _run_threads(cancel, claim)
        job.refresh_from_db()
        if claimed["job"] is None:
            assert job.status == JobStatus.CANCELLED and job.started_at is None
        else:
            assert job.status == JobStatus.CANCELLING and job.worker_id == "w1"


@pytest.mark.django_db(transaction=True)
def test_two_bulk_retries_at_once_retry_each_job_once(project, operator):
    """Two users send "retry every failed job" at the same moment, 15 times over: each failed
    job gets exactly one retry, and the other request names it as already retried."""
    graph = ges_graph(project, "movies")
    for round_no in range(15):
        failed = []
        for _ in range(3):
            job = ges_movie_import(graph, user=operator)
            job_claim(job_id=job.pk, worker_id="w1")
            job_finish(job_id=job.pk, worker_id="w1", status=JobStatus.FAILED, fail_reason="x")
            failed.append(job.pk)
        results: list = []

        def bulk(failed=failed, results=results):
            jobs = Job.objects.filter(pk__in=failed)
            results.append(job_retry_many(jobs=jobs, user=operator))

        assert not _run_threads(bulk, bulk)
        for pk in failed:
            assert Job.objects.filter(retry_of_id=pk).count() == 1, f"round {round_no}"
        retried = sorted(r["id"] for result in results for r in result.retried)
        skipped = sorted(n["id"] for result in results for n in result.not_retried)
        assert retried == skipped == sorted(failed)
