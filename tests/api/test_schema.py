"""The OpenAPI 3 document at /api/schema/ and its two readers, Swagger UI and ReDoc."""

from __future__ import annotations

import io
import re
import sys

import jsonschema_rs
import pytest
import yaml
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from hypothesis import given, settings
from hypothesis import strategies as st

from jobcenter.api.schema import NO_NUL, NOT_BLANK, SPACE_CLASS

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


def test_the_white_space_of_the_patterns_is_pythons():
    """What str.strip() removes (Django forms, DRF fields and our checks read a value made
    only of it as empty) is exactly the class the text patterns exclude."""
    spaces = {chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()}
    in_class = {
        chr(c) for c in range(sys.maxunicode + 1) if re.fullmatch(f"[{SPACE_CLASS}]", chr(c))
    }
    assert in_class == spaces


@given(st.text())
@settings(max_examples=300, derandomize=True, database=None)
def test_text_patterns_say_what_the_api_reads(text):
    """Python's re (hypothesis generates with it) and the Rust validator schemathesis checks
    with agree with the API's own reading: not blank means strip() leaves something."""
    storable = "\x00" not in text
    for pattern, expected in ((NO_NUL, storable), (NOT_BLANK, storable and bool(text.strip()))):
        assert bool(re.search(pattern, text)) == expected
        validator = jsonschema_rs.validator_for({"type": "string", "pattern": pattern})
        assert validator.is_valid(text) == expected


def test_no_parameter_takes_any_text(document):
    """Every query and path parameter says what it takes: an enum, a format, a pattern or a
    number range (a bare string would let empty values and NUL characters through)."""
    for method, path, op in operations(document):
        for parameter in op.get("parameters", []):
            schema = parameter["schema"]
            schema = schema.get("items", schema)
            described = {"enum", "pattern", "format", "anyOf", "minimum", "$ref"} & set(schema)
            if parameter["name"] == "username":  # any text: one that is nobody's is a 404
                continue
            assert described, (method, path, parameter)
