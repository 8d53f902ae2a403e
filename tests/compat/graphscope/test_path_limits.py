"""GraphScope's bulk loading with input paths of 200 to 5000 bytes (multi-byte UTF-8), absolute
and relative to ``data_source.location``: what the file system takes loads, the rest is code 2
(INVALID_ARGUMENT) naming the input, never a 500 or a server path."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from jobcenter.jobs.choices import JobStatus
from jobcenter.jobs.models import Job
from jobcenter.jobs.runner import execute_job
from tests.compat.conftest import modern_definition, modern_mapping
from tests.factories.files import shared_data
from tests.names import FITS, SIZES, name_of

pytestmark = pytest.mark.django_db(transaction=True)


def person_mapping(inputs: list[str], location: str | None) -> dict:
    mapping = modern_mapping()
    mapping["vertex_mappings"] = mapping["vertex_mappings"][:1]  # person
    mapping["vertex_mappings"][0]["inputs"] = inputs
    mapping["edge_mappings"] = []
    if location is None:
        del mapping["loading_config"]["data_source"]["location"]
    else:
        mapping["loading_config"]["data_source"]["location"] = location
    return mapping


@pytest.mark.parametrize("size", SIZES)
def test_bulk_loading_inputs(anonymous_graphscope, imports_dir, size):
    api = APIClient()
    graph_id = api.post("/v1/graph", modern_definition(), format="json").json()["graph_id"]
    name = name_of(size, suffix=".csv")
    if size in FITS:
        (imports_dir / name).write_bytes(shared_data("modern_graph", "person.csv").read_bytes())
    mappings = [
        person_mapping([str(imports_dir / name)], None),
        person_mapping([name], None),
        person_mapping([name], str(imports_dir)),
        person_mapping(["person.csv"], f"{imports_dir}/{name}"),
    ]
    for i, mapping in enumerate(mappings):
        response = api.post(f"/v1/graph/{graph_id}/dataloading", mapping, format="json")
        if size not in FITS:
            assert response.status_code == 400, response.content
            body = response.json()
            assert body["code"] == 2 and f"{size} bytes" in body["message"], body
            assert str(imports_dir) not in body["message"]
            assert len(body["message"]) < 600
            continue
        if i == 3:  # the location is a file here, not a folder
            assert response.status_code == 400 and "not a directory" in response.json()["message"]
            continue
        assert response.status_code == 200, response.content
        execute_job(job_id=response.json()["job_id"])
        job = Job.objects.get(pk=response.json()["job_id"])
        assert job.status == JobStatus.SUCCEEDED, job.fail_reason
        assert job.files.get().path == name  # relative to its import root
