"""The temporary names a worker writes next to an export or backup target."""

from __future__ import annotations

import os

import pytest

from jobcenter.jobs.work import staging_name
from tests.names import name_of


@pytest.mark.parametrize("size", [10, 200, 255])
def test_staging_names_are_bounded_whatever_the_target(size):
    """The worker writes next to the target under a temporary name: it must fit wherever the
    target fits, with room for SQLite's -journal beside a backup being written."""
    job_id = "0" * 32
    for name in (name_of(size), "é" * (size // 2)):
        staging = staging_name(name, job_id)
        assert len(os.fsencode(staging + "-journal")) <= 255
        assert staging.startswith(".") and staging.endswith(f".{job_id}.part")
        staging.encode("utf-8")  # a character is never cut in half
