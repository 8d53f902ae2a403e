"""The official GraphScope Interactive SDK (gs_interactive 0.3, its own virtualenv) against a
live jobcenter with a real worker: nothing mocked."""

from __future__ import annotations

import pytest

from jobcenter.graphs.models import Graph
from jobcenter.jobs.models import Job
from tests.compat.conftest import graph_counts, modern_definition, modern_mapping
from tests.factories.waiting import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

BAD_REQUEST, NOT_FOUND = 14, 4  # what the SDK makes of HTTP 400 and 404


def big_modern_files(directory, *, persons: int, knows: int) -> dict[str, str]:
    """A generated modern-shaped data set, big enough that its import runs for a while."""
    directory.mkdir(parents=True, exist_ok=True)
    person = directory / "person.csv"
    with person.open("w") as fh:
        fh.write("id|name|age\n")
        for i in range(1000, 1000 + persons):
            fh.write(f"{i}|p{i}|{i % 90}\n")
    edges = directory / "person_knows_person.csv"
    with edges.open("w") as fh:
        fh.write("src|dst|weight\n")
        for i in range(knows):
            fh.write(f"{1000 + i % persons}|{1000 + (i * 7 + 1) % persons}|0.5\n")
    return {"person": str(person), "knows": str(edges)}


def big_mapping(files: dict[str, str]) -> dict:
    mapping = modern_mapping()
    mapping["loading_config"]["data_source"].pop("location")
    mapping["vertex_mappings"] = mapping["vertex_mappings"][:1]
    mapping["vertex_mappings"][0]["inputs"] = [files["person"]]
    mapping["edge_mappings"] = mapping["edge_mappings"][:1]
    mapping["edge_mappings"][0]["inputs"] = [files["knows"]]
    return mapping


def ok(reply: dict) -> object:
    assert reply["ok"], reply
    return reply["value"]


def test_sdk_without_anonymous_access_cannot_open_a_session(project, graphscope_sdk):
    reply = graphscope_sdk("connect")
    assert not reply["ok"] and "Failed to get service status" in reply["message"]


def test_sdk_graph_and_bulk_loading_lifecycle(
    anonymous_graphscope, graphscope_sdk, worker_factory, imports_dir
):
    sdk = graphscope_sdk
    assert sdk("connect")["ok"]
    assert ok(sdk("list_graphs")) == [] and ok(sdk("list_jobs")) == []

    # create a graph; list and get it through the SDK's strict models
    created = sdk("create_graph", definition=modern_definition())
    graph_id = ok(created)["graph_id"]
    assert isinstance(graph_id, str)
    graphs = sdk("list_graphs")
    assert graphs["value_type"] == ["GetGraphResponse"]
    assert [g["id"] for g in ok(graphs)] == [graph_id]
    meta = sdk("get_graph", graph_id=graph_id)
    assert meta["value_type"] == "GetGraphResponse" and ok(meta)["name"] == "modern"

    # bulk load modern_graph and poll to the end, as the SDK's own tests do
    worker_factory(JOBCENTER_HEARTBEAT_INTERVAL="0.2")  # a stop lands while it runs
    loaded = sdk("bulk_loading", graph_id=graph_id, mapping=modern_mapping())
    job_id = ok(loaded)["job_id"]
    done = sdk("wait_job", job_id=job_id, timeout=60)
    job = ok(done)
    assert done["value_type"] == "JobStatus"
    assert job["status"] == "SUCCESS", job["log"]
    assert job["type"] == "BULK_LOADING" and job["id"] == job_id
    assert isinstance(job["start_time"], int) and job["end_time"] >= job["start_time"] > 0
    assert "person.csv" in job["log"] and job["detail"]["graph_id"] == graph_id
    assert job["detail"]["failed_lines"] == 0
    assert graph_counts(graph_id) == {
        "vertices": {"person": 4, "software": 2},
        "edges": {"knows": 2, "created": 4},
    }
    listed = sdk("list_jobs")
    assert listed["value_type"] == ["JobStatus"]
    assert [j["id"] for j in ok(listed)] == [job_id]

    # cancelling a finished job: the documented error, the job unchanged
    refused = sdk("cancel_job", job_id=job_id)
    assert (refused["ok"], refused["code"]) == (False, BAD_REQUEST)
    assert '"code":102' in refused["message"].replace(" ", "")
    assert f"Job already SUCCESS: {job_id}" in refused["message"]
    assert ok(sdk("get_job", job_id=job_id))["status"] == "SUCCESS"
    assert Job.objects.get(pk=job_id).status == "succeeded"

    # cancel a running import: it ends CANCELLED and the graph is as it was
    before = graph_counts(graph_id)
    updated_before = ok(sdk("get_graph", graph_id=graph_id))["data_update_time"]
    files = big_modern_files(imports_dir / "big-modern", persons=20_000, knows=4_500_000)
    big = ok(sdk("bulk_loading", graph_id=graph_id, mapping=big_mapping(files)))["job_id"]
    running = ok(sdk("wait_running", job_id=big, timeout=60))
    assert (running["status"], running["end_time"]) == ("RUNNING", 0)  # 0 until it ends
    wait_for(lambda: Job.objects.get(pk=big).lines_done > 0, timeout=60)
    # a second load of the graph waits behind the first; it can be cancelled while it waits
    queued = ok(sdk("bulk_loading", graph_id=graph_id, mapping=modern_mapping()))["job_id"]
    waiting = ok(sdk("get_job", job_id=queued))
    assert (waiting["status"], waiting["end_time"]) == ("WAITING", 0)
    listed = sdk("list_jobs")  # RUNNING, WAITING and SUCCESS jobs, all through strict models
    assert listed["value_type"] == ["JobStatus"] * 3
    assert [j["status"] for j in ok(listed)] == ["WAITING", "RUNNING", "SUCCESS"]
    assert ok(sdk("cancel_job", job_id=queued)) == f"Successfully cancel job: {queued}"
    assert ok(sdk("get_job", job_id=queued))["status"] == "CANCELLED"
    cancelled = sdk("cancel_job", job_id=big)
    assert ok(cancelled) == f"Successfully cancel job: {big}"
    final = ok(sdk("wait_job", job_id=big, timeout=60))
    assert final["status"] == "CANCELLED" and final["end_time"] > 0
    assert Job.objects.get(pk=big).status == "cancelled"
    assert graph_counts(graph_id) == before
    assert ok(sdk("get_graph", graph_id=graph_id))["data_update_time"] == updated_before

    # unknown ids
    for op in ("get_job", "cancel_job"):
        reply = sdk(op, job_id="no-such-job")
        assert (reply["ok"], reply["code"]) == (False, NOT_FOUND)
    for op, args in (
        ("get_graph", {}),
        ("delete_graph", {}),
        ("bulk_loading", {"mapping": modern_mapping()}),
    ):
        reply = sdk(op, graph_id="no-such-graph", **args)
        assert (reply["ok"], reply["code"]) == (False, NOT_FOUND), (op, reply)
        assert '"code":4' in reply["message"].replace(" ", "")

    # a bad mapping is refused with 400 before any job exists
    bad = modern_mapping()
    bad["vertex_mappings"][0]["type_name"] = "ghost"
    reply = sdk("bulk_loading", graph_id=graph_id, mapping=bad)
    assert (reply["ok"], reply["code"]) == (False, BAD_REQUEST)
    assert "ghost" in reply["message"]
    assert Job.objects.count() == 3

    # deleting the graph is a job; the graph disappears from the dialect at once
    assert ok(sdk("delete_graph", graph_id=graph_id))
    assert sdk("get_graph", graph_id=graph_id)["code"] == NOT_FOUND
    wait_for(
        lambda: Job.objects.filter(name="DeleteGraph", status="succeeded").exists(), timeout=30
    )
    assert not Graph.objects.filter(pk=graph_id).exists()
    newest = ok(sdk("list_jobs"))[0]
    assert (newest["type"], newest["status"]) == ("DELETE_GRAPH", "SUCCESS")
    assert ok(sdk("list_graphs")) == []
