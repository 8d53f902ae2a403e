"""``manage.py jobs`` as an operator uses it."""

from __future__ import annotations

import io
import json
import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from jobcenter.graphs.models import Graph
from jobcenter.jobs.models import Job, JobEvent, JobFile
from tests.factories.files import shared_data
from tests.factories.projects import user_create


def run(*args: str) -> dict | list:
    out = io.StringIO()
    call_command("jobs", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


@pytest.mark.django_db
def test_submit_list_show_cancel_ges(submit_import):
    job = submit_import("--edges", str(shared_data("ges_movie", "edge.csv")))
    assert job["status"] == "waiting" and job["submitted_by"] == "root"
    assert [f["role"] for f in job["files"]] == ["schema", "vertex", "edge"]
    listed = run("list", "--project", "alpha")
    assert [j["id"] for j in listed] == [job["id"]]
    shown = run("show", job["id"])
    assert shown["files"][1]["path"].endswith("vertex.csv")
    assert [(f["status"], f["committed_lines"]) for f in shown["files"]] == [(None, None)] * 3
    cancelled = run("cancel", job["id"])
    assert cancelled["status"] == "cancelled" and cancelled["cancel_requested_by"] == "root"
    with pytest.raises(CommandError, match="already finished"):
        run("cancel", job["id"])
    # issue 13: files it never reached are skipped, and nothing was committed
    shown = run("show", job["id"])
    assert [(f["status"], f["committed_lines"]) for f in shown["files"]] == [("skipped", 0)] * 3
    out = io.StringIO()
    call_command("jobs", "show", job["id"], stdout=out)
    assert "skipped  total=0 valid=0 failed=0 committed=0" in out.getvalue()


@pytest.mark.django_db
def test_submit_graphscope_with_mapping(project):
    modern = shared_data("modern_graph")
    job = run(
        "submit-import",
        "--project",
        "alpha",
        "--graph",
        "modern",
        "--create-graph",
        "--format",
        "graphscope",
        "--graph-definition",
        str(modern / "graph.yaml"),
        "--mapping",
        str(modern / "bulk_load.yaml"),
    )
    assert len(job["files"]) == 4
    assert Job.objects.get(pk=job["id"]).params["format"] == "graphscope"


@pytest.mark.django_db
def test_paths_outside_roots_are_refused_and_nothing_is_written(project, tmp_path):
    outside = tmp_path / "v.csv"
    outside.write_text("a,user\n")
    with pytest.raises(CommandError, match="does not exist in the import roots"):
        run(
            "submit-import",
            "--project",
            "alpha",
            "--graph",
            "g",
            "--create-graph",
            "--format",
            "ges",
            "--schema",
            str(shared_data("ges_movie", "schema.xml")),
            "--vertices",
            str(outside),
        )
    assert Job.objects.count() == 0
    assert not Graph.objects.filter(name="g").exists()


@pytest.mark.django_db
def test_unknown_job_is_a_clear_error(project):
    with pytest.raises(CommandError, match="does not exist"):
        run("show", "nope")


MOVIE = shared_data("ges_movie")
MODERN = shared_data("modern_graph")
REFUSED_AFTER_THE_GRAPH = {
    "bad schema": ("ges", ["--schema", str(MOVIE / "vertex.csv")], "not well-formed XML"),
    "missing file": (
        "ges",
        ["--schema", str(MOVIE / "schema.xml"), "--vertices", str(MOVIE / "nope.csv")],
        "does not exist in the import roots",
    ),
    "no schema": ("ges", ["--vertices", str(MOVIE / "vertex.csv")], "has no schema yet"),
    "bad mapping": (
        "graphscope",
        ["--graph-definition", str(MODERN / "graph.yaml"), "--mapping", str(MOVIE / "schema.xml")],
        "--mapping file",
    ),
    "bad threshold": (
        "ges",
        ["--schema", str(MOVIE / "schema.xml"), "--max-error-percent", "200"],
        "error_threshold",
    ),
}


@pytest.mark.django_db(transaction=True)  # real commits: what a refusal leaves is what stays
@pytest.mark.parametrize("case", list(REFUSED_AFTER_THE_GRAPH))
def test_create_graph_creates_both_or_neither(project, case):
    """--create-graph makes the graph before the import is checked; when the import is then
    refused, the graph is not left behind (nor a job, a file or an event)."""
    user_create("root", superuser=True)
    fmt, args, message = REFUSED_AFTER_THE_GRAPH[case]
    command = ["submit-import", "--project", "alpha", "--graph", "g", "--create-graph"]
    with pytest.raises(CommandError, match=re.escape(message)):
        run(*command, "--format", fmt, *args)
    assert not Graph.objects.exists() and not Job.objects.exists()
    assert not JobFile.objects.exists() and not JobEvent.objects.exists()
    created = run(*command, "--format", "ges", "--schema", str(MOVIE / "schema.xml"))
    assert Graph.objects.get().name == "g" and Job.objects.get().pk == created["id"]
