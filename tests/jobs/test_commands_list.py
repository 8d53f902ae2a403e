"""``manage.py jobs list``: the REST API's job list filters (the one JobFilterSet) and its CSV,
over jobs of real imports run to their end, on both databases."""

from __future__ import annotations

import argparse
import io
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from django.core.management import call_command, load_command_class
from django.core.management.base import CommandError
from rest_framework.test import APIClient

from jobcenter.jobs.filtersets import JobFilterSet
from jobcenter.jobs.models import Job
from jobcenter.jobs.runner import execute_job
from jobcenter.jobs.services import job_cancel, job_submit_algorithm
from tests.factories.graphs import ges_graph
from tests.factories.jobs import ges_movie_import
from tests.factories.projects import project_with_members, user_create

pytestmark = pytest.mark.django_db(transaction=True)


def jobs_cli(*args: str) -> str:
    out = io.StringIO()
    call_command("jobs", "list", *args, stdout=out)
    return out.getvalue()


def flags(params: dict[str, Any]) -> list[str]:
    """API query parameters as jobs list options (``--name=value``: a value may start with -)."""
    args: list[str] = []
    for name, value in params.items():
        for item in value if isinstance(value, list) else [value]:
            args.append(f"--{name.replace('_', '-')}={item}")
    return args


def at(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=UTC)


@pytest.fixture
def history(project, operator) -> dict[str, Any]:
    """Jobs of real imports (run in this process by the real runner) in two graphs of alpha
    and one of beta, by two users, in several states and types, created on 1 to 6 March."""
    root = user_create("root", superuser=True)
    movies, films = ges_graph(project, "movies"), ges_graph(project, "films")
    beta = project_with_members("beta", bob="operator")
    secret = ges_graph(beta, "secret")
    jobs: dict[str, Job] = {}
    jobs["first"] = ges_movie_import(movies, operator)  # partially failed: 8 bad lines
    jobs["again"] = ges_movie_import(movies, root)  # every vertex again: duplicates
    jobs["aborted"] = ges_movie_import(films, operator, error_threshold={"max_count": 1})
    jobs["beta"] = ges_movie_import(secret, beta.members.get(username="bob"))
    for job in jobs.values():
        execute_job(job_id=job.pk)
    jobs["cancelled"] = job_cancel(job=ges_movie_import(films, operator), user=operator)
    jobs["pagerank"] = job_submit_algorithm(graph=movies, algorithm="pagerank", user=operator)
    for day, job in enumerate(jobs.values(), start=1):
        Job.objects.filter(pk=job.pk).update(created_at=at(day))
    jobs = {name: Job.objects.get(pk=job.pk) for name, job in jobs.items()}
    assert {job.status for job in jobs.values()} == {
        "partially_failed",
        "failed",
        "cancelled",
        "waiting",
    }
    api = APIClient()
    api.force_authenticate(root)
    return {"jobs": jobs, "api": api, "movies": movies}


def test_every_filter_of_the_api_is_an_option():
    parser = load_command_class("jobcenter.jobs", "jobs").create_parser("manage.py", "jobs")
    (subparsers,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    options = set(subparsers.choices["list"]._option_string_actions)
    assert {f"--{name.replace('_', '-')}" for name in JobFilterSet.base_filters} <= options


def test_the_same_jobs_as_the_api_in_the_same_order(history):
    jobs, api = history["jobs"], history["api"]
    cases: list[dict[str, Any]] = [
        {},
        {"graph": "movies"},
        {"graph": history["movies"].pk},
        {"type": "algorithm"},
        {"type": ["import"], "status": ["failed", "cancelled"]},
        {"status": "partially_failed,waiting"},
        {"project": "beta"},
        {"submitted_by": "oscar"},
        {"created_after": "2026-03-02", "created_before": "2026-03-04"},
        {"created_after": "2026-03-03T10:00:00+00:00"},
        {"started_after": "2026-01-01", "finished_before": "2999-01-01"},
        {"finished_after": "2999-01-01"},
        {"q": "import"},
        {"q": jobs["again"].pk[-8:-3]},  # the start of the short id the dashboard shows
        {"id": jobs["beta"].pk[:12]},
        {"ordering": "-finished_at"},
        {"ordering": "graph_name,-created_at", "type": "import"},
    ]
    for params in cases:
        expected = [
            job["id"]
            for job in api.get("/api/v1/jobs/", {**params, "limit": 100}).json()["results"]
        ]
        listed = json.loads(jobs_cli(*flags(params), "--limit", "100", "--json"))
        assert [job["id"] for job in listed] == expected, params
        assert expected or params.get("finished_after"), params  # the cases match something
        text = jobs_cli(*flags(params), "--limit", "100")
        assert [line.split()[0] for line in text.splitlines() if line[:1] != " "] == (
            expected or ["no"]
        )
    assert len(json.loads(jobs_cli("--json"))) == len(jobs)
    assert jobs_cli("--search", jobs["pagerank"].pk[-8:]).startswith(jobs["pagerank"].pk)


def test_csv_is_the_apis_jobs_csv(history):
    api = history["api"]
    downloads = {}
    for params in ({}, {"graph": "movies", "ordering": "created_at"}, {"status": "cancelled"}):
        response = api.get("/api/v1/jobs.csv", params)
        assert response.status_code == 200
        downloads[str(params)] = b"".join(response.streaming_content).decode()
        assert jobs_cli(*flags(params), "--csv") == downloads[str(params)], params
    every = downloads["{}"].splitlines()
    assert len(every) == 1 + len(history["jobs"])  # all of them, not the text's 50 or a page
    # --limit, when given, cuts it.
    assert jobs_cli("--csv", "--limit", "2").splitlines() == every[:3]


def test_limit_says_when_more_match(history):
    text = jobs_cli("--limit", "2")
    assert text.rstrip().endswith("(more jobs match: --limit to see more, --csv writes every one)")
    assert "more jobs match" not in jobs_cli("--limit", "6")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--status", "sleeping"], "--status: Select a valid choice. sleeping is not one of"),
        (["--type", "nap"], "--type: Select a valid choice. nap is not one of"),
        (["--created-after", "yesterday"], "--created-after: Enter an ISO 8601 date"),
        (["--finished-before", "2026-02-30"], "--finished-before: Enter an ISO 8601 date"),
        (["--ordering", "colour"], "--ordering: Select a valid choice. colour is not one of"),
        (["--limit", "0"], "--limit must be 1 or more"),
    ],
)
def test_bad_filters_name_the_option(history, args, message):
    with pytest.raises(CommandError) as info:
        jobs_cli(*args)
    assert str(info.value).startswith(message), str(info.value)
