"""Job chains (issue 17): a job waits for the jobs it depends on, is queued when they succeed,
and is cancelled (transitively) when one does not; validation, retries, chain submission, and
the races between endings, cancels and submissions on the real database."""

from __future__ import annotations

import contextlib
import threading

import pytest
from django.db import connection
from django_tasks_db.models import DBTaskResult

from jobcenter.core.errors import InvalidInput, InvalidState, NotFound
from jobcenter.jobs.chains import (
    ChainStep,
    chain_submit,
    dependencies_resolve,
    waiting_for,
)
from jobcenter.jobs.choices import EventKind, JobStatus
from jobcenter.jobs.kinds.algorithm import job_submit_algorithm
from jobcenter.jobs.models import Job, JobDependency, JobEvent
from jobcenter.jobs.services import graph_delete_submit, job_cancel, job_retry
from jobcenter.jobs.transitions import job_claim, job_finish
from tests.factories.graphs import ges_graph
from tests.factories.jobs import job_after, job_end
from tests.factories.projects import project_with_members


@pytest.fixture
def graph(project):
    return ges_graph(project, "movies")


def pagerank(graph, user=None) -> Job:
    return job_submit_algorithm(graph=graph, algorithm="pagerank", user=user)


def tasks_of(job: Job) -> int:
    """Engine tasks queued for ``job``."""
    return sum(
        1
        for args in DBTaskResult.objects.values_list("args_kwargs", flat=True)
        if args["args"] == [job.pk]
    )


def state(job: Job) -> tuple[str, bool]:
    """(status, whether it has a task)."""
    job.refresh_from_db()
    return job.status, bool(job.task_id)


@pytest.mark.django_db
class TestRelease:
    def test_a_dependent_waits_without_a_task_until_its_dependency_succeeds(self, graph, operator):
        first = pagerank(graph, operator)
        second = job_after(graph, first, user=operator)
        assert state(second) == (JobStatus.WAITING, False)
        assert tasks_of(second) == 0
        job_end(first, JobStatus.SUCCEEDED)
        assert state(second) == (JobStatus.WAITING, True)
        assert tasks_of(second) == 1
        assert JobEvent.objects.filter(job=second, kind=EventKind.RELEASED).count() == 1

    def test_it_runs_only_once_every_dependency_succeeded(self, graph, operator):
        a = pagerank(graph, operator)
        b = pagerank(graph, operator)
        after = job_after(graph, a, b, user=operator)
        job_end(a, JobStatus.SUCCEEDED)
        assert state(after) == (JobStatus.WAITING, False)
        job_end(b, JobStatus.SUCCEEDED)
        assert state(after) == (JobStatus.WAITING, True)
        assert tasks_of(after) == 1

    def test_a_dependency_already_succeeded_lets_it_run_at_once(self, graph, operator):
        done = job_end(pagerank(graph, operator), JobStatus.SUCCEEDED)
        after = job_after(graph, done, user=operator)
        assert state(after) == (JobStatus.WAITING, True)
        assert JobDependency.objects.filter(job=after, depends_on=done).exists()

    def test_partial_success_is_accepted_only_when_asked(self, graph, operator):
        dep = pagerank(graph, operator)
        strict = job_after(graph, dep, user=operator)
        lenient = job_after(graph, dep, user=operator, accept_partial=True)
        job_end(dep, JobStatus.PARTIALLY_FAILED)
        assert state(lenient) == (JobStatus.WAITING, True)
        strict.refresh_from_db()
        assert strict.status == JobStatus.CANCELLED
        assert strict.fail_reason == (
            f"dependency job {dep.pk} (algorithm, partially failed) did not succeed"
        )


@pytest.mark.django_db
class TestCascade:
    @pytest.mark.parametrize("ending", [JobStatus.FAILED, JobStatus.CANCELLED])
    def test_a_failed_dependency_cancels_its_dependents_transitively(self, graph, operator, ending):
        first = pagerank(graph, operator)
        second = job_after(graph, first, user=operator)
        third = job_after(graph, second, user=operator)
        job_end(first, ending)
        for job, cause in ((second, first), (third, second)):
            job.refresh_from_db()
            assert job.status == JobStatus.CANCELLED
            assert job.finished_at is not None and not job.task_id
            label = JobStatus(JobStatus.CANCELLED if cause is second else ending).label.lower()
            assert (
                job.fail_reason == f"dependency job {cause.pk} (algorithm, {label}) did not succeed"
            )
            assert JobEvent.objects.filter(job=job, kind=EventKind.FINISHED).count() == 1

    def test_cancelling_a_waiting_dependency_cascades(self, graph, operator):
        first = pagerank(graph, operator)
        second = job_after(graph, first, user=operator)
        job_cancel(job=first, user=operator)
        assert state(second)[0] == JobStatus.CANCELLED

    def test_cancelling_a_waiting_dependent_leaves_its_dependency_alone(self, graph, operator):
        first = pagerank(graph, operator)
        second = job_after(graph, first, user=operator)
        third = job_after(graph, second, user=operator)
        job_cancel(job=second, user=operator)
        assert state(second)[0] == JobStatus.CANCELLED
        assert state(third)[0] == JobStatus.CANCELLED
        assert state(first) == (JobStatus.WAITING, True)
        job_end(first, JobStatus.SUCCEEDED)  # nothing left to release
        assert state(second)[0] == JobStatus.CANCELLED


@pytest.mark.django_db
class TestValidation:
    def test_an_unknown_id_is_not_found(self, graph):
        with pytest.raises(NotFound) as caught:
            dependencies_resolve(project=graph.project, ids=["0" * 32])
        assert caught.value.message == f"job {'0' * 32!r} does not exist"
        assert caught.value.field == "depends_on"

    def test_a_job_of_another_project_is_not_found_either(self, graph):
        other = project_with_members("beta", olga="operator")
        theirs = pagerank(ges_graph(other, "theirs"))
        with pytest.raises(NotFound, match="does not exist"):
            dependencies_resolve(project=graph.project, ids=[theirs.pk])

    @pytest.mark.parametrize("bad", [[""], [7], [None], ["x" * 300]])
    def test_what_is_not_a_job_id_is_refused(self, graph, bad):
        with pytest.raises((InvalidInput, NotFound)):
            dependencies_resolve(project=graph.project, ids=bad)

    @pytest.mark.parametrize(
        "ending", [JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.PARTIALLY_FAILED]
    )
    def test_a_dependency_that_already_failed_is_refused_and_nothing_is_created(
        self, graph, operator, ending
    ):
        failed = job_end(pagerank(graph, operator), ending)
        before = Job.objects.count()
        with pytest.raises(InvalidState) as caught:
            job_after(graph, failed, user=operator)
        label = JobStatus(ending).label.lower()
        assert caught.value.message.startswith(
            f"job {failed.pk} (algorithm, {label}) has already ended: a job cannot wait for it"
        )
        assert Job.objects.count() == before

    def test_a_partially_failed_dependency_is_fine_when_accepted(self, graph, operator):
        partial = job_end(pagerank(graph, operator), JobStatus.PARTIALLY_FAILED)
        after = job_after(graph, partial, user=operator, accept_partial=True)
        assert state(after) == (JobStatus.WAITING, True)

    def test_a_kind_that_cannot_wait_is_refused_whole(self, graph, operator):
        first = pagerank(graph, operator)
        before = Job.objects.count()
        deps = dependencies_resolve(project=graph.project, ids=[first.pk])
        with pytest.raises(InvalidInput, match="cannot wait for other jobs"), waiting_for(deps):
            graph_delete_submit(graph=graph, user=operator)
        assert Job.objects.count() == before
        graph.refresh_from_db()
        assert graph.status == "ready"  # the deletion's mark was rolled back too


@pytest.mark.django_db
class TestRetry:
    def test_a_retry_waits_for_the_retry_of_its_failed_dependency(self, graph, operator):
        first = pagerank(graph, operator)
        second = job_after(graph, first, user=operator)
        job_end(first, JobStatus.FAILED)
        second.refresh_from_db()
        with pytest.raises(InvalidState, match=f"job {first.pk} .* has already ended"):
            job_retry(job=second, user=operator)
        first_again = job_retry(job=first, user=operator)
        second_again = job_retry(job=second, user=operator)
        assert list(second_again.dependency_links.values_list("depends_on", flat=True)) == [
            first_again.pk
        ]
        assert state(second_again) == (JobStatus.WAITING, False)
        job_end(first_again, JobStatus.SUCCEEDED)
        assert state(second_again) == (JobStatus.WAITING, True)

    def test_a_retry_after_a_succeeded_dependency_runs_at_once(self, graph, operator):
        first = job_end(pagerank(graph, operator), JobStatus.SUCCEEDED)
        second = job_end(job_after(graph, first, user=operator), JobStatus.FAILED)
        again = job_retry(job=second, user=operator)
        assert state(again) == (JobStatus.WAITING, True)
        assert list(again.dependency_links.values_list("depends_on", flat=True)) == [first.pk]


def _close(graph, operator):
    return lambda created: pagerank(graph, operator)


@pytest.mark.django_db
class TestChainSubmit:
    def test_steps_wait_for_earlier_steps_and_existing_jobs(self, graph, operator):
        existing = pagerank(graph, operator)
        jobs = chain_submit(
            project=graph.project,
            steps=[
                ChainStep(submit=_close(graph, operator), depends_on=[existing.pk]),
                ChainStep(submit=_close(graph, operator), depends_on=[0]),
                ChainStep(submit=_close(graph, operator)),
            ],
        )
        assert [state(job) for job in jobs] == [
            (JobStatus.WAITING, False),
            (JobStatus.WAITING, False),
            (JobStatus.WAITING, True),
        ]
        assert list(jobs[1].dependency_links.values_list("depends_on", flat=True)) == [jobs[0].pk]

    def test_a_step_may_name_a_later_step(self, graph, operator):
        jobs = chain_submit(
            project=graph.project,
            steps=[
                ChainStep(submit=_close(graph, operator), depends_on=[1]),
                ChainStep(submit=_close(graph, operator)),
            ],
        )
        assert list(jobs[0].dependency_links.values_list("depends_on", flat=True)) == [jobs[1].pk]

    @pytest.mark.parametrize(
        ("refs", "message", "field"),
        [
            (
                [[1], [2], [0]],
                "steps 0, 1, 2 depend on each other in a cycle",
                "steps.0.depends_on",
            ),
            ([[], [1], []], "step 1 cannot depend on itself", "steps.1.depends_on"),
            (
                [[], [3], []],
                "there is no step 3 (steps are numbered from 0 to 2)",
                "steps.1.depends_on",
            ),
            (
                [[], [], [-1]],
                "there is no step -1 (steps are numbered from 0 to 2)",
                "steps.2.depends_on",
            ),
            ([[], [], [True]], "True is neither a step index nor a job id", "steps.2.depends_on"),
            ([[], ["0" * 32], []], f"job {'0' * 32!r} does not exist", "steps.1.depends_on"),
        ],
    )
    def test_bad_references_are_refused_before_anything_is_created(
        self, graph, operator, refs, message, field
    ):
        steps = [ChainStep(submit=_close(graph, operator), depends_on=r) for r in refs]
        with pytest.raises((InvalidInput, NotFound)) as caught:
            chain_submit(project=graph.project, steps=steps)
        assert (caught.value.message, caught.value.field) == (message, field)
        assert not Job.objects.exists()

    def test_a_step_that_fails_leaves_no_job_of_the_chain(self, graph, operator):
        def bad(created):
            raise InvalidInput("parameter [x] is invalid!", field="x")

        steps = [
            ChainStep(submit=_close(graph, operator)),
            ChainStep(submit=_close(graph, operator), depends_on=[0]),
            ChainStep(submit=bad, depends_on=[1]),
        ]
        with pytest.raises(InvalidInput) as caught:
            chain_submit(project=graph.project, steps=steps)
        assert caught.value.field == "steps.2.x"
        assert caught.value.errors == {"steps.2.x": ["parameter [x] is invalid!"]}
        assert not Job.objects.exists() and not JobDependency.objects.exists()
        assert not DBTaskResult.objects.exists()


# --- races ------------------------------------------------------------------------------------


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


def _finish(job: Job, status: JobStatus, worker: str):
    def run():
        assert job_finish(job_id=job.pk, worker_id=worker, status=status)

    return run


@pytest.mark.django_db(transaction=True)
def test_two_dependencies_ending_at_once_queue_their_dependent_exactly_once(graph, operator):
    """Two workers finish the two jobs a third waits for at the same moment, 40 times: the
    third is queued once (one task, one 'released' event), never twice, never not at all."""
    for _ in range(40):
        a = pagerank(graph, operator)
        b = pagerank(graph, operator)
        after = job_after(graph, a, b, user=operator)
        job_claim(job_id=a.pk, worker_id="w1")
        job_claim(job_id=b.pk, worker_id="w2")
        errors = _run_threads(
            _finish(a, JobStatus.SUCCEEDED, "w1"), _finish(b, JobStatus.SUCCEEDED, "w2")
        )
        assert not errors, errors
        assert state(after) == (JobStatus.WAITING, True)
        assert tasks_of(after) == 1
        assert JobEvent.objects.filter(job=after, kind=EventKind.RELEASED).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_dependency_failing_while_the_other_succeeds_cancels_once(graph, operator):
    """One dependency fails while the other succeeds, at once, 40 times: the dependent ends
    cancelled, with no task and one 'finished' event."""
    for _ in range(40):
        a = pagerank(graph, operator)
        b = pagerank(graph, operator)
        after = job_after(graph, a, b, user=operator)
        job_claim(job_id=a.pk, worker_id="w1")
        job_claim(job_id=b.pk, worker_id="w2")
        errors = _run_threads(
            _finish(a, JobStatus.SUCCEEDED, "w1"), _finish(b, JobStatus.FAILED, "w2")
        )
        assert not errors, errors
        assert state(after) == (JobStatus.CANCELLED, False)
        assert tasks_of(after) == 0
        assert JobEvent.objects.filter(job=after, kind=EventKind.FINISHED).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_dependency_ending_races_a_cancel_of_its_dependent(graph, operator):
    """The dependency succeeds while a user cancels the dependent, 40 times: the dependent ends
    cancelled (its task, if it got one, claims nothing), with one 'finished' event."""
    released = 0
    for _ in range(40):
        dep = pagerank(graph, operator)
        after = job_after(graph, dep, user=operator)
        job_claim(job_id=dep.pk, worker_id="w1")

        def cancel(after=after):
            with contextlib.suppress(InvalidState):
                job_cancel(job=Job.objects.get(pk=after.pk), user=operator)

        errors = _run_threads(_finish(dep, JobStatus.SUCCEEDED, "w1"), cancel)
        assert not errors, errors
        status, queued = state(after)
        assert status == JobStatus.CANCELLED
        released += queued
        assert tasks_of(after) == int(queued)
        assert job_claim(job_id=after.pk, worker_id="w2") is None
        assert JobEvent.objects.filter(job=after, kind=EventKind.FINISHED).count() == 1
    assert 0 <= released <= 40


@pytest.mark.django_db(transaction=True)
def test_a_dependency_ending_races_the_submission_of_its_dependent(graph, operator):
    """A job is submitted to wait for one that a worker is finishing at that moment, 40 times:
    either the submission sees it ended (and queues the job at once) or the ending sees the
    new job (and queues it): never a job left waiting for ever."""
    for _ in range(40):
        dep = pagerank(graph, operator)
        job_claim(job_id=dep.pk, worker_id="w1")
        made: dict[str, Job] = {}

        def submit(dep=dep, made=made):
            made["job"] = job_after(graph, dep, user=operator)

        errors = _run_threads(_finish(dep, JobStatus.SUCCEEDED, "w1"), submit)
        assert not errors, errors
        assert state(made["job"]) == (JobStatus.WAITING, True)
        assert tasks_of(made["job"]) == 1


@pytest.mark.django_db(transaction=True)
def test_a_failing_dependency_races_the_submission_of_its_dependent(graph, operator):
    """The same with a dependency that fails: the submission is refused, or the new job is
    cancelled by the ending; never left waiting."""
    for _ in range(40):
        dep = pagerank(graph, operator)
        job_claim(job_id=dep.pk, worker_id="w1")
        made: dict[str, Job] = {}

        def submit(dep=dep, made=made):
            with contextlib.suppress(InvalidState):
                made["job"] = job_after(graph, dep, user=operator)

        errors = _run_threads(_finish(dep, JobStatus.FAILED, "w1"), submit)
        assert not errors, errors
        if "job" in made:
            assert state(made["job"]) == (JobStatus.CANCELLED, False)
        assert not Job.objects.filter(status=JobStatus.WAITING, task_id="").exists()


@pytest.mark.django_db(transaction=True)
def test_a_cascade_races_a_submission_waiting_for_two_of_its_jobs(graph, operator):
    """A failing job cancels two branches (J1 -> Ka, J2 -> Kb, Kb created before Ka) while a
    new job is submitted to wait for Ka and Kb, 30 times: no deadlock, and the new job is either
    refused (they had ended) or cancelled with them; never left waiting."""
    for _ in range(30):
        dep = pagerank(graph, operator)
        j1 = job_after(graph, dep, user=operator)
        j2 = job_after(graph, dep, user=operator)
        kb = job_after(graph, j2, user=operator)
        ka = job_after(graph, j1, user=operator)
        job_claim(job_id=dep.pk, worker_id="w1")
        made: dict[str, Job] = {}

        def submit(ka=ka, kb=kb, made=made):
            with contextlib.suppress(InvalidState):
                made["job"] = job_after(graph, kb, ka, user=operator)

        errors = _run_threads(_finish(dep, JobStatus.FAILED, "w1"), submit)
        assert not errors, errors
        for job in (j1, j2, ka, kb):
            assert state(job) == (JobStatus.CANCELLED, False)
        if "job" in made:
            assert state(made["job"]) == (JobStatus.CANCELLED, False)
        assert not Job.objects.filter(status=JobStatus.WAITING, task_id="").exists()
