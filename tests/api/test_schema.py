"""The OpenAPI 3 document at /api/schema/ and its two readers, Swagger UI and ReDoc."""

from __future__ import annotations

import io
import re

import pytest
import yaml
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

pytestmark = pytest.mark.django_db

PUBLIC = {("GET", "/api/health/"), ("POST", "/api/v1/auth/token/")}


@pytest.fixture
def document(api) -> dict:
    response = api.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def operations(document: dict):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield method.upper(), path, operation


def test_yaml_and_json_forms(api, document):
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"] == "jobcenter API"
    as_yaml = api.get("/api/schema/")
    assert as_yaml["Content-Type"].startswith("application/vnd.oai.openapi")
    assert yaml.safe_load(as_yaml.content) == document


def test_the_document_is_valid_openapi_without_generator_warnings(db):
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=io.StringIO())


def api_routes() -> set[str]:
    """Every URL pattern under /api/v1/ (as OpenAPI paths), read from the URL configuration."""
    routes: set[str] = set()

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            text = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, text)
            elif isinstance(pattern, URLPattern) and text.startswith("api/v1/"):
                routes.add("/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", text))

    walk(get_resolver().url_patterns, "")
    return routes


def test_every_endpoint_is_described(document):
    documented = {path for _, path, _ in operations(document)}
    assert api_routes() <= documented
    assert "/api/health/" in documented
    ids = [op["operationId"] for _, _, op in operations(document)]
    assert len(ids) == len(set(ids)) >= 25


def test_every_operation_has_text_responses_errors_and_security(document):
    schemas = document["components"]["schemas"]
    assert set(schemas["Error"]["properties"]) == {"code", "message", "errors"}
    for method, path, op in operations(document):
        label = f"{method} {path}"
        assert op.get("summary"), label
        assert op.get("tags"), label
        responses = op["responses"]
        assert any(code.startswith("2") for code in responses), label
        for code, response in responses.items():
            assert response.get("description"), (label, code)
            if code.startswith("4"):
                ref = next(iter(response["content"].values()))["schema"]["$ref"]
                assert ref == "#/components/schemas/Error", (label, code)
        if path != "/api/health/":
            assert "400" in responses, label  # unknown query parameters are refused
        for parameter in op.get("parameters", []):
            assert parameter.get("description") or parameter["in"] == "path", (label, parameter)
        if (method, path) in PUBLIC:
            assert op.get("security") in (None, [], [{}]), label
        else:
            assert "401" in responses, label
            schemes = {name for requirement in op["security"] for name in requirement}
            assert {"tokenAuth", "bearerAuth", "xAuthToken", "cookieAuth"} <= schemes, label
    security = document["components"]["securitySchemes"]
    assert security["xAuthToken"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-Auth-Token",
        "description": "The same token, GES style: `X-Auth-Token: <key>`",
    }


def test_job_list_parameters_come_from_the_shared_filterset(document):
    op = document["paths"]["/api/v1/jobs/"]["get"]
    names = {p["name"] for p in op["parameters"]}
    assert names == {
        "status",
        "type",
        "graph",
        "project",
        "submitted_by",
        "id",
        "q",
        "created_after",
        "created_before",
        "started_after",
        "started_before",
        "finished_after",
        "finished_before",
        "ordering",
        "limit",
        "offset",
        "cursor",
    }
    status = next(p for p in op["parameters"] if p["name"] == "status")
    assert status["schema"]["items"]["enum"][:2] == ["waiting", "running"]
    limit = next(p for p in op["parameters"] if p["name"] == "limit")
    assert (limit["schema"]["minimum"], limit["schema"]["maximum"]) == (1, 500)


@pytest.mark.parametrize("page", ["/api/schema/swagger-ui/", "/api/schema/redoc/"])
def test_swagger_ui_and_redoc_use_only_vendored_assets(operator, page):
    browser = Client()
    browser.force_login(operator)
    response = browser.get(page)
    assert response.status_code == 200
    html = response.content.decode()
    assert "http://" not in html and "https://" not in html  # no CDN, no web fonts
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', html)
    assert assets
    for asset in assets:
        assert finders.find(asset.removeprefix("/static/")), asset
    assert "/api/schema/" in html
    if "swagger" in page:  # its settings are in its script (not inline: see docs/security.md)
        script = browser.get(page, {"script": ""}).content.decode()
        assert '"validatorUrl": null' in script  # the bundle would call validator.swagger.io
