"""Unsaved jobs and files for the GES wire's tests (the wire renders what it is given)."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial

from jobcenter.jobs.models import JobFile
from tests.factories.jobs import unsaved_job

T0 = datetime(2018, 11, 27, 21, 39, 0, 250000, tzinfo=UTC)
T1 = datetime(2018, 11, 27, 21, 39, 56, tzinfo=UTC)


#: an import job of project alpha as the GES wire is given it (not saved)
make_job = partial(
    unsaved_job,
    id="ff80808167f09aaa0167f19b35ec0305",
    graph_name="GES_UI_AUTO",
    created_at=T0,
    finished_at=T1,
    request={"edgesetPath": "e.csv"},
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
