"""Unsaved jobs and files for the GES wire's tests (the wire renders what it is given)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from jobcenter.jobs.choices import JobType
from jobcenter.jobs.models import Job, JobFile
from jobcenter.projects.models import Project

T0 = datetime(2018, 11, 27, 21, 39, 0, 250000, tzinfo=UTC)
T1 = datetime(2018, 11, 27, 21, 39, 56, tzinfo=UTC)


def make_job(status: str, job_type: str = JobType.IMPORT, **extra: Any) -> Job:
    terminal = status in ("succeeded", "partially_failed", "failed", "cancelled")
    return Job(
        id="ff80808167f09aaa0167f19b35ec0305",
        type=job_type,
        name=extra.pop("name", "ImportGraph"),
        project=Project(name="alpha"),
        graph_name="GES_UI_AUTO",
        status=status,
        created_at=T0,
        finished_at=T1 if terminal else None,
        progress=extra.pop("progress", 100.0 if terminal else 37.9),
        request=extra.pop("request", {"edgesetPath": "e.csv"}),
        **extra,
    )


def import_files() -> list[JobFile]:
    return [
        JobFile(index=0, role="schema", path="ges/schema.xml", status="success", total_lines=4,
                successful_lines=4, failed_lines=0, started_at=T0, finished_at=T0),
        JobFile(index=1, role="vertex", path="ges/vertex.csv", status="partFailed",
                total_lines=10, successful_lines=6, failed_lines=4, cause="4 lines failed",
                started_at=T0, finished_at=T1),
        JobFile(index=2, role="edge", path="ges/edge.csv", status="", total_lines=9),
    ]  # fmt: skip
