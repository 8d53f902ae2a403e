"""``compat.ges.wire.statuses``: job and file statuses as both planes name them, and the
per-file accounting they show."""

from __future__ import annotations

from django.contrib.auth.models import User

from jobcenter.compat.ges.wire import management, service, statuses
from jobcenter.jobs.choices import JobStatus
from jobcenter.jobs.models import JobFile
from tests.compat.ges.wire.conftest import import_files, make_job


def test_status_maps_of_both_planes():
    assert {s: statuses.MGMT_STATUS[s] for s in JobStatus.values} == {
        "waiting": "pending",
        "running": "running",
        "cancelling": "running",
        "succeeded": "success",
        "partially_failed": "partiallyFailed",
        "failed": "failed",
        "cancelled": "failed",
    }
    assert {s: statuses.SERVICE_STATUS[s] for s in JobStatus.values} == {
        "waiting": "pending",
        "running": "running",
        "cancelling": "running",
        "succeeded": "success",
        "partially_failed": "success",
        "failed": "failed",
        "cancelled": "cancelled",
    }
    # every filter value selects exactly the statuses shown with that name (or "pending")
    for value, selected in statuses.MGMT_STATUS_FILTER.items():
        shown = {statuses.MGMT_STATUS[s] for s in selected}
        assert shown == ({"pending"} if value in ("waiting", "pending") else {value})


def test_an_import_that_did_not_commit_claims_no_line_imported_on_either_plane():
    """Issue 13: a cancelled import whose vertex file was read to the end: nothing was stored,
    so every entry is failed with 0 successful lines; what passed validation is kept in the
    added ``validated_lines``; the file never finished says why it was not imported."""
    job = make_job(JobStatus.CANCELLED, cancel_requested_by=User(username="oscar"))
    schema, vertex, edge = (management.mgmt_file_entry(job, f) for f in import_files())
    assert (schema["status"], schema["successful_lines"], schema["validated_lines"]) == (
        "failed",
        0,
        4,
    )
    assert schema["cause"] == "not imported: cancelled by oscar"
    assert vertex == {
        "path": "ges/vertex.csv",
        "log": None,
        "status": "failed",
        "cause": "4 lines failed; not imported: cancelled by oscar",
        "total_lines": 10,
        "failed_lines": 4,
        "successful_lines": 0,
        "validated_lines": 6,
    }
    assert (edge["status"], edge["cause"]) == ("failed", "not imported: cancelled by oscar")
    edges, vertices, schemas = service.service_files(job, import_files())
    entry = vertices["vertexFiles"][0]
    assert (entry["status"], entry["successfulLines"], entry["validatedLines"]) == (
        "failed",
        0,
        6,
    )
    assert schemas["schemaFiles"][0]["successfulLabels"] == 0
    assert edges["edgeFiles"][0]["status"] == "failed"


def test_the_file_an_abort_happened_in_keeps_its_own_cause():
    reason = "import aborted: 6 failed lines exceed the error threshold of 5"
    job = make_job(JobStatus.FAILED, fail_reason=reason)
    aborted = JobFile(index=1, role="vertex", path="v.csv", status="failed", cause=reason,
                      total_lines=6, successful_lines=0, failed_lines=6)  # fmt: skip
    entry = management.mgmt_file_entry(job, aborted)
    assert (entry["status"], entry["cause"], entry["successful_lines"]) == ("failed", reason, 0)


def test_while_an_import_runs_its_counts_are_the_lines_accepted_so_far():
    job = make_job(JobStatus.RUNNING)
    vertex = management.mgmt_file_entry(job, import_files()[1])
    assert (vertex["status"], vertex["successful_lines"], vertex["validated_lines"]) == (
        "partFailed",
        6,
        6,
    )
    assert management.mgmt_file_entry(job, import_files()[2])["status"] is None  # not finished yet
