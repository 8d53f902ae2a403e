"""The job serializer builds its output directly (for speed); it must be exactly what DRF's
field-by-field rendering of the declared fields gives, for every state."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from rest_framework import serializers

from jobcenter.api.serializers.jobs import JobDetailSerializer, JobSerializer
from jobcenter.jobs.models import Job
from jobcenter.jobs.selectors import job_files, job_list
from tests.factories.jobs import ges_movie_import, make_job

pytestmark = pytest.mark.django_db


def drf_rendering(serializer: serializers.Serializer, job: Job) -> dict:
    return serializers.Serializer.to_representation(serializer, job)


@pytest.mark.parametrize("zone", ["UTC", "Asia/Tokyo", "America/Caracas"])
def test_the_fast_job_rendering_is_drfs(jobs, project, operator, zone):
    retried = make_job(project, None, submitted_by=operator, retry_of=jobs["failed"])
    Job.objects.filter(pk=retried.pk).update(result={"lines_failed": 2, "files": [{"a": 1}]})
    rows = list(job_list(user=None))
    assert {j.status for j in rows} >= set(jobs)
    with timezone.override(zone):
        for job in rows:
            fast = JobSerializer(job).data
            assert fast == drf_rendering(JobSerializer(), job), job.status
            assert list(fast) == list(JobSerializer().fields)  # same keys, same order
            job.file_rows = list(job_files(job=job))
            detail = JobDetailSerializer(job).data
            assert detail == drf_rendering(JobDetailSerializer(), job)
            totals = ["successful_lines", "failed_lines", "failed_lines_kept", "committed_lines"]
            chain = ["depends_on", "accept_partial", "dependents", "waiting_for"]  # issue 17
            assert list(detail) == [*fast, "request", "phase", *totals, "files", *chain]


def test_a_job_fresh_from_a_service_renders_the_same(graph, operator):
    new = ges_movie_import(graph, user=operator)  # enum values, not yet reloaded
    new.started_at = timezone.now().astimezone(ZoneInfo("Asia/Tokyo"))  # not UTC in memory
    assert JobSerializer(new).data == drf_rendering(JobSerializer(), new)
    assert JobSerializer(new).data["status"] == "waiting"
