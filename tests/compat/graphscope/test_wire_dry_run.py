"""A dry run on GraphScope's wire (issue 17): its free-form ``detail`` is the one place that can
say so; the SDK's strict models still accept the job, and nothing counts as committed."""

from __future__ import annotations

from jobcenter.compat.graphscope import wire
from jobcenter.jobs.choices import JobStatus
from jobcenter.jobs.models import JobFile
from tests.compat.graphscope.test_wire import make_job, sdk_errors

RESULT = {"vertices_added": 4, "edges_added": 0, "lines_total": 4, "lines_failed": 0}


def test_a_dry_run_says_so_in_detail_only():
    files = [
        JobFile(index=0, role="vertex", path="/data/person.csv", status="success",
                total_lines=4, successful_lines=4, failed_lines=0),
    ]  # fmt: skip
    dry = wire.job_status(
        make_job(JobStatus.SUCCEEDED, dry_run=True, result=RESULT), files=files, events=[]
    )
    real = wire.job_status(make_job(JobStatus.SUCCEEDED, result=RESULT), files=files, events=[])
    assert dry["detail"]["dry_run"] is True and "dry_run" not in real["detail"]
    assert (dry["detail"]["committed_lines"], real["detail"]["committed_lines"]) == (0, 4)
    assert set(dry) == set(real)
    assert sdk_errors("JobStatus", [dry]) == [None]
