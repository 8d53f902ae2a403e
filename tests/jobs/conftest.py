"""What the tests of ``jobs/`` share."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.factories.files import shared_data
from tests.factories.projects import user_create
from tests.jobs.test_commands import run


@pytest.fixture
def submit_import(project) -> Callable[..., dict]:
    """``manage.py jobs submit-import`` of the GES movies sample (schema and vertices) into the
    graph ``movies`` of a project (alpha unless named; created if missing), as the superuser
    root, with ``extra`` options; returns the job as ``--json`` prints it."""
    user_create("root", superuser=True)
    movie = shared_data("ges_movie")

    def submit(*extra: str, project: str = "alpha") -> dict:
        return run(
            "submit-import",
            "--project",
            project,
            "--graph",
            "movies",
            "--create-graph",
            "--format",
            "ges",
            "--schema",
            str(movie / "schema.xml"),
            "--vertices",
            str(movie / "vertex.csv"),
            *extra,
        )

    return submit
