"""One import request sent through each face that takes it, over its own wire: the native API
(JSON, multipart), the dashboard's form, ``manage.py jobs submit-import``, GES's service and
management planes, GraphScope's ``dataloading``. Each answer is an :class:`Outcome`: the job it
queued, or the message it refused the request with (as that face shows it)."""

from __future__ import annotations

import html
import io
import json
import re
from dataclasses import dataclass
from typing import Any

from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from jobcenter.graphs.models import Graph
from jobcenter.jobs.models import Job


@dataclass
class Outcome:
    job: Job | None = None
    message: str | None = None
    field: str | None = None  # where the face put the message, in its own names


def _token_client(user: Any, header: str) -> APIClient:
    client = APIClient()
    key = Token.objects.get_or_create(user=user)[0].key
    client.credentials(**{header: f"Token {key}" if header == "HTTP_AUTHORIZATION" else key})
    return client


def api(user: Any, graph: Graph, body: dict[str, Any], *, multipart: bool = False) -> Outcome:
    """``POST /api/v1/graphs/{id}/import/``."""
    client = _token_client(user, "HTTP_AUTHORIZATION")
    response = client.post(
        f"/api/v1/graphs/{graph.pk}/import/", body, format="multipart" if multipart else "json"
    )
    if response.status_code == 201:
        return Outcome(job=Job.objects.get(pk=response.json()["id"]))
    errors = response.json()["errors"]
    assert len(errors) == 1, errors
    ((field, messages),) = errors.items()
    return Outcome(message=messages[0], field=field)


def dashboard(
    user: Any, graph: Graph, data: dict[str, Any], files: dict[str, Any] | None = None
) -> Outcome:
    """The import form (``/imports/new/``) posted as a browser posts it."""
    client = Client()
    client.force_login(user)
    response = client.post(
        "/imports/new/", {"graph": graph.pk, "parallel_edge": "allow", **data, **(files or {})}
    )
    if response.status_code == 302:
        return Outcome(job=Job.objects.get(pk=response["Location"].strip("/").split("/")[-1]))
    assert response.status_code == 422, response.status_code
    page = response.content.decode()
    found = re.findall(r'id="id_(\w+)_error"><p>(.*?)</p>', page)
    if not found:  # an error of the form as a whole
        found = re.findall(r"not started.</strong> ()(.*?) </p>", page)
    assert len(found) == 1, found
    ((field, message),) = found
    return Outcome(message=html.unescape(message), field=field or None)


def cli(graph: Graph, *args: str) -> Outcome:
    """``manage.py jobs submit-import --project ... --graph ...`` (as the first superuser)."""
    out = io.StringIO()
    options = ["--project", graph.project.name, "--graph", graph.name, *args, "--json"]
    try:
        call_command("jobs", "submit-import", *options, stdout=out)
    except CommandError as exc:
        return Outcome(message=str(exc))
    return Outcome(job=Job.objects.get(pk=json.loads(out.getvalue())["id"]))


def ges_service_plane(user: Any, graph: Graph, body: dict[str, Any]) -> Outcome:
    """``POST /ges/v1.0/{project}/graphs/{graph}/action?action_id=import-graph`` (camelCase)."""
    response = _token_client(user, "HTTP_X_AUTH_TOKEN").post(
        f"/ges/v1.0/{graph.project.name}/graphs/{graph.name}/action?action_id=import-graph",
        body,
        format="json",
    )
    data = response.json()
    if response.status_code == 200:
        return Outcome(job=Job.objects.get(pk=data["jobId"]))
    return Outcome(message=data["errorMessage"])


def ges_management_plane(user: Any, graph: Graph, body: dict[str, Any]) -> Outcome:
    """``POST /v2/{project}/graphs/{graph}/import-graph`` (snake_case)."""
    response = _token_client(user, "HTTP_X_AUTH_TOKEN").post(
        f"/v2/{graph.project.name}/graphs/{graph.name}/import-graph", body, format="json"
    )
    data = response.json()
    if response.status_code == 200:
        return Outcome(job=Job.objects.get(pk=data["job_id"]))
    return Outcome(message=data["error_msg"])


def graphscope_dataloading(graph: Graph, mapping: dict[str, Any]) -> Outcome:
    """``POST /v1/graph/{id}/dataloading`` (anonymous access must serve the graph's project)."""
    response = APIClient().post(f"/v1/graph/{graph.pk}/dataloading", mapping, format="json")
    data = response.json()
    if response.status_code == 200:
        return Outcome(job=Job.objects.get(pk=data["job_id"]))
    return Outcome(message=data["message"])


def upload(sent: Any) -> Any:
    """A file as the test client sends it in a multipart body."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(sent.name, sent.data)
