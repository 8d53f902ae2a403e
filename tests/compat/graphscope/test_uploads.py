"""``POST /v1/file/upload``: the file belongs to the request's project. Its bulk loading reads it
(the SDK sends the returned path, whatever ``location`` says); another project is told that the
path does not exist, as for a path that exists nowhere."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from jobcenter.jobs.choices import JobStatus
from jobcenter.jobs.models import Job
from jobcenter.jobs.runner import execute_job
from tests.compat.conftest import modern_definition, modern_mapping
from tests.factories.files import shared_data
from tests.factories.projects import project_with_members

pytestmark = pytest.mark.django_db(transaction=True)


def upload_root(project_id: int) -> Path:
    return Path(settings.JOBCENTER_UPLOAD_DIR) / f"project-{project_id}"


def person_mapping(path: str) -> dict:
    mapping = modern_mapping()
    mapping["vertex_mappings"] = mapping["vertex_mappings"][:1]
    mapping["vertex_mappings"][0]["inputs"] = [path]
    mapping["edge_mappings"] = []
    mapping["loading_config"]["data_source"]["location"] = "@/home/me/data"  # as the SDK sends
    return mapping


def upload(api: APIClient, **headers: str):
    person = SimpleUploadedFile(
        "person.csv", shared_data("modern_graph", "person.csv").read_bytes()
    )
    return api.post("/v1/file/upload", {"filestorage": person}, format="multipart", **headers)


def test_an_upload_is_its_projects_only(anonymous_graphscope, operator):
    api = APIClient()
    response = upload(api)
    assert response.status_code == 200, response.content
    path = response.json()["file_path"]

    # bob of beta: the path "does not exist", as a path that exists nowhere
    beta = project_with_members("beta", bob="operator")
    as_bob = {"HTTP_X_AUTH_TOKEN": Token.objects.create(user=beta.members.get()).key}
    theirs = api.post("/v1/graph", modern_definition("theirs"), format="json", **as_bob)
    theirs = theirs.json()["graph_id"]
    answers = []
    for each in (path, path.replace("person.csv", "nobody.csv")):
        refused = api.post(
            f"/v1/graph/{theirs}/dataloading", person_mapping(each), format="json", **as_bob
        )
        assert refused.status_code == 400 and refused.json()["code"] == 2, refused.content
        answers.append(refused.json()["message"].replace(each, "PATH"))
    assert answers[0] == answers[1] and answers[0].endswith("does not exist in the import roots")

    # alpha's own bulk loading reads it (absolute: whatever location the mapping names)
    own = upload_root(anonymous_graphscope.pk)
    assert path.startswith(f"{own}/")
    graph = api.post("/v1/graph", modern_definition(), format="json").json()["graph_id"]
    loading = api.post(f"/v1/graph/{graph}/dataloading", person_mapping(path), format="json")
    assert loading.status_code == 200, loading.content
    job_id = loading.json()["job_id"]
    execute_job(job_id=job_id)
    job = Job.objects.get(pk=job_id)
    assert job.status == JobStatus.SUCCEEDED, job.fail_reason
    assert job.files.get().path == path.removeprefix(f"{own}/")
    assert job.params["uploads"] == [job.files.get().path.split("/")[0]]

    # an upload names its project: one of several must be named
    gamma = project_with_members("gamma", oscar="operator")
    as_oscar = {"HTTP_X_AUTH_TOKEN": Token.objects.create(user=operator).key}
    response = upload(api, **as_oscar)
    assert response.status_code == 400 and "X-Project-Id" in response.json()["message"]
    response = upload(api, HTTP_X_PROJECT_ID="gamma", **as_oscar)
    assert response.status_code == 200
    assert response.json()["file_path"].startswith(f"{upload_root(gamma.pk)}/")
