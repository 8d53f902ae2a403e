"""``jobs.models``: a new kind of job needs no migration (``Job.type`` is a ``KindField``)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from jobcenter.jobs.choices import JobType
from jobcenter.jobs.models import Job


def test_job_type_choices_are_not_recorded_by_migrations():
    field = Job._meta.get_field("type")
    assert field.choices == JobType.choices  # labels and validation as before
    name, path, args, kwargs = field.deconstruct()
    assert (name, path, args, kwargs) == (
        "type",
        "django.db.models.CharField",
        [],
        {"max_length": 24},
    )


@pytest.mark.django_db
def test_the_migrations_match_the_models():
    call_command("makemigrations", "--check", "--dry-run", stdout=io.StringIO())
