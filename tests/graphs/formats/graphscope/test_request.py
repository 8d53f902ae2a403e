"""GraphScope import requests as every face fills them (graphs.formats.graphscope.request), and
one request sent through each face that takes it getting one answer: the same plan, or the same
message."""

from __future__ import annotations

import copy
import dataclasses

import pytest
import yaml

from jobcenter.core.uploads import upload_root
from jobcenter.graphs.formats.graphscope.request import (
    GraphScopeImportRequest,
    graphscope_import_params,
)
from jobcenter.graphs.plan import ImportPlan, PlanError
from jobcenter.graphs.services import graph_import_plan
from tests.factories.files import shared_data
from tests.factories.graphs import graphscope_graph
from tests.graphs.formats import faces
from tests.graphs.formats.graphscope.test_schema import modern_mapping
from tests.graphs.formats.uploads import FolderStore, Sent

MODERN = shared_data("modern_graph")


def test_a_mapping_sent_whole_is_kept_as_sent():
    sent = modern_mapping()
    assert graphscope_import_params(GraphScopeImportRequest(mapping=sent)) == {
        "format": "graphscope",
        "mapping": sent,
    }
    not_an_object = GraphScopeImportRequest(mapping=[1], location="/x", max_errors=1)
    assert graphscope_import_params(not_an_object)["mapping"] == [1]  # the plan says what


def test_location_and_threshold_go_into_the_mapping():
    sent = {"vertex_mappings": []}
    shaped = graphscope_import_params(
        GraphScopeImportRequest(mapping=sent, location="/data", max_error_percent=2.5)
    )["mapping"]
    assert shaped == {
        "vertex_mappings": [],
        "loading_config": {"data_source": {"scheme": "file", "location": "/data"}},
        "error_threshold": {"max_percent": 2.5},
    }
    assert sent == {"vertex_mappings": []}  # the face's own is left as it was sent
    located = {"loading_config": {"data_source": {"location": "/mine"}}}
    for request, where in (
        (GraphScopeImportRequest(mapping=located, location="/form"), "/form"),  # over it
        (GraphScopeImportRequest(mapping=located, default_location="/cli"), "/mine"),
        (GraphScopeImportRequest(mapping={}, default_location="/cli"), "/cli"),
    ):
        shaped = graphscope_import_params(request)["mapping"]
        assert shaped["loading_config"]["data_source"]["location"] == where
    assert graphscope_import_params(
        GraphScopeImportRequest(mapping={"loading_config": "x"}, location="/data")
    )["mapping"] == {"loading_config": "x"}  # not an object: the plan says so


def test_uploads_are_matched_to_the_inputs_by_file_name(tmp_path):
    mapping = modern_mapping()
    mapping["vertex_mappings"][0]["inputs"] = ["@person.csv"]
    mapping["vertex_mappings"][1]["inputs"] = ["/client/side/software.csv"]
    mapping["edge_mappings"] = []
    store = FolderStore(tmp_path)
    request = GraphScopeImportRequest(
        mapping=mapping, files=[Sent("person.csv", b"p"), Sent("software.csv", b"s")]
    )
    shaped = graphscope_import_params(request, uploads=store)["mapping"]
    inputs = [m["inputs"] for m in shaped["vertex_mappings"]]
    assert inputs == [["1/files_0-person.csv"], ["1/files_1-software.csv"]]
    assert "location" not in shaped["loading_config"]["data_source"]  # read from the roots
    assert (tmp_path / inputs[1][0]).read_bytes() == b"s"


def test_what_only_the_uploads_show_is_refused_naming_the_part(tmp_path):
    store = FolderStore(tmp_path)
    twice = GraphScopeImportRequest(mapping={}, files=[Sent("a.csv"), Sent("dir/a.csv")])
    with pytest.raises(PlanError) as info:
        graphscope_import_params(twice, uploads=store)
    assert (info.value.message, info.value.field) == (
        "two uploaded files are named 'a.csv'",
        "files",
    )
    assert store.calls == []
    missing = GraphScopeImportRequest(mapping=modern_mapping(), files=[Sent("person.csv")])
    with pytest.raises(PlanError) as info:
        graphscope_import_params(missing, uploads=store)
    assert info.value.field == "mapping"
    assert info.value.message == "input 'software.csv' is not among the uploaded files (person.csv)"


# --- one request, every face -------------------------------------------------------------------


def plan_of(outcome: faces.Outcome) -> ImportPlan:
    assert outcome.job is not None, outcome.message
    return graph_import_plan(graph=outcome.job.graph, params=outcome.job.params)


def without_paths(plan: ImportPlan) -> ImportPlan:
    """The plan with its files' paths left out (uploads land in fresh folders each time)."""
    files = tuple(dataclasses.replace(f, path=None, display_path="") for f in plan.files)
    return dataclasses.replace(plan, files=files)


def sent_through_every_face(graph, operator, mapping: dict, tmp_path, *command: str) -> dict:
    """The mapping (its inputs under MODERN) through each face that takes a mapping of files
    on the server: the API, the dashboard (the location in its own field), the command line
    (a file next to the data: the inputs are read from the mapping's folder) and GraphScope's
    dataloading."""
    located = copy.deepcopy(mapping)
    located.setdefault("loading_config", {}).setdefault("data_source", {})["location"] = str(MODERN)
    unlocated = copy.deepcopy(located)
    del unlocated["loading_config"]["data_source"]["location"]
    form = {"format": "graphscope", "source": "server", "location": str(MODERN)}
    form["mapping_text"] = yaml.safe_dump(unlocated)
    mapping_file = tmp_path / "bulk_load.yaml"
    mapping_file.write_text(yaml.safe_dump(located))
    return {
        "api": faces.api(operator, graph, {"format": "graphscope", "mapping": located}),
        "dashboard": faces.dashboard(operator, graph, form),
        "cli": faces.cli(graph, "--format", "graphscope", "--mapping", str(mapping_file), *command),
        "dataloading": faces.graphscope_dataloading(graph, located),
    }


@pytest.fixture
def every_face(settings, project, operator, admin_user, tmp_path):
    settings.JOBCENTER_GRAPHSCOPE_ANONYMOUS_PROJECT = project.name
    graph = graphscope_graph(project)
    return lambda mapping, *command: sent_through_every_face(
        graph, operator, mapping, tmp_path, *command
    )


@pytest.mark.django_db
def test_every_face_makes_the_same_plan_of_the_same_request(every_face):
    plans = {face: plan_of(outcome) for face, outcome in every_face(modern_mapping()).items()}
    api = plans.pop("api")
    assert len(api.files) == 4 and api.files[0].path.parent == MODERN
    assert plans == dict.fromkeys(plans, api)


@pytest.mark.django_db
def test_the_command_lines_threshold_is_the_mappings(every_face):
    mapping = modern_mapping() | {"error_threshold": {"max_count": 2, "max_percent": 50}}
    answers = every_face(mapping)
    from_the_mapping = plan_of(answers["api"])
    by_options = every_face(modern_mapping(), "--max-errors", "2", "--max-error-percent", "50")
    assert plan_of(by_options["cli"]) == from_the_mapping
    assert from_the_mapping.threshold.max_count == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"vertex_mappings": [{"type_name": "ghost", "inputs": ["person.csv"]}]}, "vertex_mappings",
         "vertex_mappings[0].type_name 'ghost' is not a vertex type of the graph (person, software)"),
        ({"loading_config": {"import_option": "merge"}}, "loading_config",
         "loading_config.import_option must be init or overwrite, not 'merge'"),
        ({"extra": 1}, "extra", "unknown field 'extra'"),
    ],
)  # fmt: skip
def test_every_face_refuses_the_same_bad_request_with_the_same_message(
    every_face, change, field, message
):
    mapping = modern_mapping()
    for key, value in change.items():
        if isinstance(value, dict) and isinstance(mapping.get(key), dict):
            mapping[key] = {**mapping[key], **value}
        else:
            mapping[key] = value
    answers = every_face(mapping)
    assert {face: answer.message for face, answer in answers.items()} == dict.fromkeys(
        answers, message
    )
    assert answers["api"].field == field


@pytest.mark.django_db
def test_api_and_dashboard_take_the_same_uploads(project, operator):
    graph = graphscope_graph(project)
    mapping = modern_mapping()
    del mapping["loading_config"]["data_source"]["location"]
    names = ("person.csv", "software.csv", "person_knows_person.csv", "person_created_software.csv")
    sent = [Sent(name, (MODERN / name).read_bytes()) for name in names]
    api = faces.api(
        operator,
        graph,
        {
            "format": "graphscope",
            "mapping": yaml.safe_dump(mapping),
            "files": [faces.upload(s) for s in sent],
        },
        multipart=True,
    )
    form = {"format": "graphscope", "source": "upload", "mapping_text": yaml.safe_dump(mapping)}
    dashboard = faces.dashboard(
        operator, graph, form, {"data_files": [faces.upload(s) for s in sent]}
    )
    assert without_paths(plan_of(api)) == without_paths(plan_of(dashboard))
    # the same refusal, and no file left behind
    before = sorted(upload_root(project.pk).rglob("*"))
    refused = {
        "api": faces.api(
            operator,
            graph,
            {
                "format": "graphscope",
                "mapping": yaml.safe_dump(mapping),
                "files": [faces.upload(sent[0])],
            },
            multipart=True,
        ),
        "dashboard": faces.dashboard(
            operator, graph, form, {"data_files": [faces.upload(sent[0])]}
        ),
    }
    message = "input 'software.csv' is not among the uploaded files (person.csv)"
    assert {face: answer.message for face, answer in refused.items()} == dict.fromkeys(
        refused, message
    )
    assert (refused["api"].field, refused["dashboard"].field) == ("mapping", "mapping_text")
    assert sorted(upload_root(project.pk).rglob("*")) == before
