"""GES import requests as every face fills them (graphs.formats.ges.request), and one request
sent through each face that takes it getting one answer: the same plan, or the same message."""

from __future__ import annotations

import dataclasses

import pytest

from jobcenter.graphs.formats.ges.request import (
    GesImportRequest,
    ges_import_params,
    normalise_request,
)
from jobcenter.graphs.plan import ImportPlan, PlanError
from jobcenter.graphs.services import graph_import_plan
from tests.factories.files import shared_data
from tests.factories.graphs import ges_graph
from tests.graphs.formats import faces
from tests.graphs.formats.uploads import FolderStore, Sent

MOVIE = shared_data("ges_movie")
SCHEMA, VERTICES, EDGES = (str(MOVIE / n) for n in ("schema.xml", "vertex.csv", "edge.csv"))
CAMEL = {"schema_path": "schemaPath", "vertexset_path": "vertexsetPath", "trim_quote": "trimQuote"}
CAMEL |= {"edgeset_path": "edgesetPath"}


def test_service_plane_camel_case_is_normalised():
    body = {
        "schemaPath": "s.xml",
        "edgesetPath": "e/",
        "vertexsetFormat": "csv",
        "parallelEdge": {"action": "ignore", "ignoreLabel": False},
        "trimQuote": "'",
        "offline": True,
    }
    assert normalise_request(body) == {
        "schema_path": "s.xml",
        "edgeset_path": "e/",
        "vertexset_format": "csv",
        "parallel_edge": {"action": "ignore", "ignore_label": False},
        "trim_quote": "'",
        "offline": True,
    }
    assert normalise_request({"parallelEdge": "override"}) == {
        "parallel_edge": {"action": "override"}
    }
    assert normalise_request(["not", "an", "object"]) == ["not", "an", "object"]
    assert GesImportRequest.from_service_plane(body).request == normalise_request(body)


def test_a_request_sent_whole_is_kept_as_sent():
    sent = {"schema_path": None, "delimiter": ";;", "unknown": [1]}  # the plan judges them
    params = ges_import_params(GesImportRequest(request=sent))
    assert params == {"format": "ges", "request": sent}
    assert params["request"] is not sent


def test_named_fields_go_over_the_request():
    request = GesImportRequest(
        request={"delimiter": ";", "offline": True},
        vertexset_path="v.csv",
        delimiter="|",
        trim_quote="",
        parallel_edge="ignore",
        ignore_label=False,
        max_errors=3,
        max_error_percent=5.0,
    )
    assert ges_import_params(request)["request"] == {
        "delimiter": "|",
        "offline": True,
        "vertexset_path": "v.csv",
        "trim_quote": "",
        "parallel_edge": {"action": "ignore", "ignore_label": False},
        "error_threshold": {"max_count": 3, "max_percent": 5.0},
    }
    command_line = GesImportRequest(edgeset_path="e.csv", parallel_edge="override", max_errors=0)
    assert ges_import_params(command_line)["request"] == {
        "edgeset_path": "e.csv",
        "parallel_edge": {"action": "override"},
        "error_threshold": {"max_count": 0},
    }


def test_uploads_stand_for_their_path_keys(tmp_path):
    store = FolderStore(tmp_path)
    request = GesImportRequest(
        request={"delimiter": "|"},
        schema=[Sent("schema.xml", b"<PMML/>")],
        vertices=[Sent("a.csv", b"1"), Sent("b.csv", b"2")],
        edgeset_path="/srv/e.csv",
    )
    shaped = ges_import_params(request, uploads=store)["request"]
    assert shaped == {
        "delimiter": "|",
        "edgeset_path": "/srv/e.csv",
        "schema_path": "1/schema_0-schema.xml",  # one file: named directly
        "vertexset_path": "2",  # several: the folder holding them
    }
    assert (tmp_path / "2" / "vertices_1-b.csv").read_bytes() == b"2"
    assert store.calls == ["schema", "vertices"]


@pytest.mark.parametrize(
    ("request_", "field", "message"),
    [
        (GesImportRequest(schema=[Sent("a.xml"), Sent("b.xml")]), "schema", "upload at most one schema file"),
        (GesImportRequest(request={"vertexset_path": "v/"}, vertices=[Sent("v.csv")]), "vertices", "give either vertices files or vertexset_path, not both"),
        (GesImportRequest(edgeset_path="e.csv", edges=[Sent("e.csv")]), "edges", "give either edges files or edgeset_path, not both"),
    ],
)  # fmt: skip
def test_what_only_the_uploads_show_is_refused_naming_the_part(tmp_path, request_, field, message):
    store = FolderStore(tmp_path)
    with pytest.raises(PlanError) as info:
        ges_import_params(request_, uploads=store)
    assert (info.value.message, info.value.field) == (message, field)
    assert store.calls == []  # refused before any file was stored


# --- one request, every face -------------------------------------------------------------------


def plan_of(outcome: faces.Outcome) -> ImportPlan:
    assert outcome.job is not None, outcome.message
    return graph_import_plan(graph=outcome.job.graph, params=outcome.job.params)


def without_paths(plan: ImportPlan) -> ImportPlan:
    """The plan with its files' paths left out (uploads land in fresh folders each time)."""
    files = tuple(dataclasses.replace(f, path=None, display_path="") for f in plan.files)
    return dataclasses.replace(plan, files=files)


@pytest.mark.django_db
def test_every_face_makes_the_same_plan_of_the_same_request(project, operator, admin_user):
    graph = ges_graph(project)
    snake = {"schema_path": SCHEMA, "vertexset_path": VERTICES, "edgeset_path": EDGES}
    snake |= {"delimiter": ",", "trim_quote": "'", "parallel_edge": {"action": "ignore"}}
    camel = {"schemaPath": SCHEMA, "vertexsetPath": VERTICES, "edgesetPath": EDGES}
    camel |= {"delimiter": ",", "trimQuote": "'", "parallelEdge": "ignore"}
    form = {"format": "ges", "source": "server", "parallel_edge": "ignore", "ignore_label": "on"}
    form |= {"schema_path": SCHEMA, "vertexset_path": VERTICES, "edgeset_path": EDGES}
    form |= {"delimiter": ",", "trim_quote": "'"}
    command = ["--format", "ges", "--schema", SCHEMA, "--vertices", VERTICES, "--edges", EDGES]
    command += ["--delimiter", ",", "--trim-quote", "'", "--parallel-edge", "ignore"]
    plans = {
        "api": plan_of(faces.api(operator, graph, {"format": "ges", "request": snake})),
        "dashboard": plan_of(faces.dashboard(operator, graph, form)),
        "cli": plan_of(faces.cli(graph, *command)),
        "ges v2": plan_of(faces.ges_management_plane(operator, graph, snake)),
        "ges v1": plan_of(faces.ges_service_plane(operator, graph, camel)),
    }
    api = plans.pop("api")
    assert [f.path.name for f in api.files] == ["schema.xml", "vertex.csv", "edge.csv"]
    assert (api.parallel_edge, api.files[1].csv.quotechar) == ("ignore", "'")
    assert plans == dict.fromkeys(plans, api)


@pytest.mark.django_db
def test_every_face_makes_the_same_plan_of_the_same_uploads(project, operator):
    graph = ges_graph(project)
    schema = Sent("schema.xml", (MOVIE / "schema.xml").read_bytes())
    vertices = Sent("vertex.csv", (MOVIE / "vertex.csv").read_bytes())
    api = faces.api(
        operator,
        graph,
        {"format": "ges", "schema": faces.upload(schema), "vertices": faces.upload(vertices)},
        multipart=True,
    )
    form = {"format": "ges", "source": "upload", "delimiter": ",", "trim_quote": '"'}
    form |= {"ignore_label": "on"}
    files = {"schema_file": faces.upload(schema), "vertex_files": faces.upload(vertices)}
    dashboard = faces.dashboard(operator, graph, form, files)
    assert [f.role for f in plan_of(api).files] == ["schema", "vertex"]
    assert without_paths(plan_of(api)) == without_paths(plan_of(dashboard))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("snake", "command", "field", "message"),
    [
        ({"schema_path": SCHEMA, "vertexset_path": "/etc/passwd"}, ["--schema", SCHEMA, "--vertices", "/etc/passwd"],
         "vertexset_path", "vertexset_path: file '/etc/passwd' does not exist in the import roots"),
        ({"schema_path": SCHEMA, "vertexset_path": VERTICES, "delimiter": "|", "trim_quote": "|"},
         ["--schema", SCHEMA, "--vertices", VERTICES, "--delimiter", "|", "--trim-quote", "|"],
         "trim_quote", "trim_quote and delimiter must differ"),
        ({"edgeset_path": EDGES}, ["--edges", EDGES],
         "schema_path", "the graph has no schema yet: give schema_path with the import"),
    ],
)  # fmt: skip
def test_every_face_refuses_the_same_bad_request_with_the_same_message(
    project, operator, admin_user, snake, command, field, message
):
    graph = ges_graph(project)
    camel = {CAMEL.get(k, k): v for k, v in snake.items()}
    form = {"format": "ges", "source": "server", "delimiter": ",", "trim_quote": '"'} | snake
    answers = {
        "api": faces.api(operator, graph, {"format": "ges", "request": snake}),
        "dashboard": faces.dashboard(operator, graph, form),
        "cli": faces.cli(graph, "--format", "ges", *command),
        "ges v2": faces.ges_management_plane(operator, graph, snake),
        "ges v1": faces.ges_service_plane(operator, graph, camel),
    }
    assert {face: answer.message for face, answer in answers.items()} == dict.fromkeys(
        answers, message
    )
    assert answers["api"].field == answers["dashboard"].field == field
    assert graph.jobs.count() == 0
