"""GraphScope's wire: every status and job type we have renders as something the SDK's strict
models accept (checked with the SDK itself), with the exact types upstream emits."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from rest_framework.exceptions import AuthenticationFailed, ParseError

from jobcenter.compat.graphscope import wire
from jobcenter.core.errors import Conflict, InvalidInput, InvalidState, NotFound
from jobcenter.jobs.choices import JobStatus, JobType
from jobcenter.jobs.models import FailedLine, JobEvent, JobFile
from tests.compat.sdk_process import sdk_python
from tests.factories.jobs import unsaved_job

VALIDATE = Path(__file__).resolve().parent.parent / "sdk" / "graphscope_validate.py"
T0 = datetime(2026, 11, 22, 10, 0, 0, 123456, tzinfo=UTC)
T1 = datetime(2026, 11, 22, 10, 0, 4, 567000, tzinfo=UTC)


def sdk_errors(model: str, items: list[dict[str, Any]]) -> list[str | None]:
    done = subprocess.run(
        [str(sdk_python("graphscope")), str(VALIDATE)],
        input=json.dumps({"model": model, "items": items}),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


#: an import job of project alpha as the GraphScope wire is given it (not saved)
make_job = partial(
    unsaved_job,
    id="0193f0a1b2c3d4e5f60718293a4b5c6d",
    graph_id="0193f0a1000000000000000000000001",
    graph_name="modern",
    created_at=T0,
    finished_at=T1,
    progress=42.5,
)


def test_every_status_maps_into_the_sdk_enum_with_exact_types():
    jobs = [make_job(status) for status in JobStatus.values]
    jobs.append(make_job(JobStatus.SUCCEEDED, JobType.GRAPH_OPERATION, name="DeleteGraph"))
    rendered = [wire.job_status(job, files=[], events=[]) for job in jobs]
    assert sdk_errors("JobStatus", rendered) == [None] * len(rendered)
    by_status = {job.status: r for job, r in zip(jobs[:-1], rendered, strict=False)}
    assert {s: r["status"] for s, r in by_status.items()} == {
        "waiting": "WAITING",
        "running": "RUNNING",
        "cancelling": "RUNNING",
        "succeeded": "SUCCESS",
        "partially_failed": "SUCCESS",
        "failed": "FAILED",
        "cancelled": "CANCELLED",
    }
    done = by_status["succeeded"]
    assert done["id"] == "0193f0a1b2c3d4e5f60718293a4b5c6d"
    assert done["type"] == "BULK_LOADING"
    assert done["start_time"] == 1795341600123 and type(done["start_time"]) is int
    assert done["end_time"] == 1795341604567 and type(done["end_time"]) is int
    assert by_status["running"]["end_time"] == 0  # as upstream, while running
    assert isinstance(done["log"], str) and isinstance(done["detail"], dict)
    assert done["detail"]["graph_id"] == "0193f0a1000000000000000000000001"
    assert by_status["cancelling"]["detail"]["job_status"] == "cancelling"
    assert rendered[-1]["type"] == "DELETE_GRAPH"


def test_log_holds_timeline_files_and_failed_lines():
    job = make_job(JobStatus.PARTIALLY_FAILED, fail_reason="1 of 4 lines failed")
    job.result = {"files": []}  # committed: the job keeps the import's summary
    files = [
        JobFile(
            pk=7,
            index=0,
            role="vertex",
            path="/data/person.csv",
            status="partFailed",
            total_lines=4,
            successful_lines=3,
            failed_lines=1,
        )
    ]
    events = [JobEvent(kind="submitted", at=T0), JobEvent(kind="finished", at=T1, message="x")]
    failed = [FailedLine(file_id=7, line_number=3, reason="bad_type", message="age: not an int")]
    rendered = wire.job_status(job, files=files, events=events, failed=failed, failed_more=5)
    assert rendered["log"].splitlines() == [
        "2026-11-22 10:00:00 submitted",
        "2026-11-22 10:00:04 finished: x",
        "reason: 1 of 4 lines failed",
        "vertex file /data/person.csv: partFailed, 4 lines: 3 valid, 1 failed, 3 committed",
        "/data/person.csv:3: bad_type: age: not an int",
        "... 5 more failed lines",
    ]
    detail = rendered["detail"]
    assert (detail["failed_lines"], detail["successful_lines"], detail["committed_lines"]) == (
        1,
        3,
        3,
    )
    assert rendered["status"] == "SUCCESS"


def test_an_import_that_did_not_commit_says_so_in_its_log_and_detail():
    """Issue 13: a cancelled import claims no line loaded; a file it never reached is skipped
    (one rule on every face, docs/compat.md)."""
    job = make_job(JobStatus.CANCELLED)
    files = [
        JobFile(index=0, role="vertex", path="/data/person.csv", status="success",
                total_lines=4, successful_lines=4, failed_lines=0),
        JobFile(index=1, role="edge", path="/data/knows.csv", status="", total_lines=9),
    ]  # fmt: skip
    rendered = wire.job_status(job, files=files, events=[])
    assert rendered["log"].splitlines()[-2:] == [
        "vertex file /data/person.csv: success, 4 lines: 4 valid, 0 failed, 0 committed",
        "edge file /data/knows.csv: skipped, 9 lines: 0 valid, 0 failed, 0 committed",
    ]
    assert (rendered["detail"]["successful_lines"], rendered["detail"]["committed_lines"]) == (
        4,
        0,
    )
    running = wire.job_status(make_job(JobStatus.RUNNING), files=files, events=[])
    assert running["log"].splitlines()[-1] == (
        "edge file /data/knows.csv: pending, 9 lines: 0 valid, 0 failed, committed at the end"
    )
    assert running["detail"]["committed_lines"] is None


def test_errors_have_upstream_codes_and_sdk_friendly_http_statuses():
    def render(exc: Exception) -> tuple[int, dict]:
        response = wire.error_response(exc)
        return response.status_code, response.data

    assert render(NotFound("job 9 does not exist")) == (
        404,
        {"code": 4, "message": "job 9 does not exist"},
    )
    assert render(Conflict("exists"))[0:2] == (400, {"code": 5, "message": "exists"})
    assert render(InvalidState("finished")) == (400, {"code": 102, "message": "finished"})
    assert render(InvalidInput("bad", field="schema"))[1]["code"] == 101
    assert render(InvalidInput("bad", field="inputs"))[1]["code"] == 2
    assert render(AuthenticationFailed("no"))[0] == 403
    assert render(ParseError("x"))[0:1] == (400,)
    status, body = render(RuntimeError("boom"))
    assert status == 500 and body["code"] == 103
    job = make_job(JobStatus.SUCCEEDED)
    assert render(wire.cancel_finished(job)) == (
        400,
        {"code": 102, "message": f"Job already SUCCESS: {job.pk}"},
    )


@pytest.mark.parametrize("port", [8000, 65535])
def test_service_status_is_what_the_sdk_session_needs(port):
    body = wire.service_status(port=port)
    assert sdk_errors("ServiceStatus", [body]) == [None]
    assert body["hqps_port"] == port


def test_start_and_close_graph_jobs_are_listed_with_their_own_type():
    # GraphScope Interactive has no job-making start or stop (its /v1/service/start is a
    # synchronous switch of the served graph): its job list shows them by their type
    for job_type, name in (
        (JobType.START_GRAPH, "StartGraph"),
        (JobType.CLOSE_GRAPH, "CloseGraph"),
    ):
        shown = wire.job_status(
            make_job(JobStatus.SUCCEEDED, job_type, name=name), files=[], events=[]
        )
        assert shown["type"] == str(job_type).upper()
