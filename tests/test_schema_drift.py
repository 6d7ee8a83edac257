"""The committed API descriptions match the code, and the docs pages work offline."""

from __future__ import annotations

import difflib
import io
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client

BASE_DIR = Path(__file__).resolve().parent.parent
SCHEMA_DIR = BASE_DIR / "schema"


def assert_same(committed: Path, generated: Path, what: str):
    want, got = committed.read_text(), generated.read_text()
    if want != got:
        diff = "".join(list(difflib.unified_diff(
            want.splitlines(keepends=True), got.splitlines(keepends=True),
            fromfile=f"committed {committed.name}", tofile="generated from the code"))[:60])
        pytest.fail(f"{what} has drifted from the code: run `make schema` and commit "
                    f"{committed.relative_to(BASE_DIR)}.\n{diff}", pytrace=False)


def test_the_committed_graphql_schema_matches_the_code(tmp_path):
    out = tmp_path / "schema.graphql"

    call_command("graphql_schema", schema="schema.schema.schema", out=str(out),
                 stdout=io.StringIO())

    assert_same(SCHEMA_DIR / "schema.graphql", out, "schema/schema.graphql")


def test_the_committed_openapi_document_matches_the_code(tmp_path):
    out = tmp_path / "openapi.yaml"

    # --fail-on-warn: any drf-spectacular warning or validation error fails here too.
    call_command("spectacular", validate=True, fail_on_warn=True, file=str(out),
                 stdout=io.StringIO())

    assert_same(SCHEMA_DIR / "openapi.yaml", out, "schema/openapi.yaml")


# --- the served schema --------------------------------------------------------


@pytest.fixture
def openapi(db):
    response = Client().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def test_the_document_is_valid_openapi_3(openapi):
    from openapi_spec_validator import validate

    validate(openapi)  # raises on any violation of the OpenAPI 3.0 specification


def test_every_problem_code_in_the_document_is_registered(openapi):
    from core.errors import CODES

    listed = {code for path in openapi["paths"].values() for operation in path.values()
              if isinstance(operation, dict)
              for response in operation.get("responses", {}).values()
              for code in response.get("x-problem-codes", ())}
    assert "version_mismatch" in listed and listed <= CODES.keys()
    code = openapi["components"]["schemas"]["Problem"]["properties"]["code"]
    enum = openapi["components"]["schemas"][code["allOf"][0]["$ref"].rsplit("/", 1)[-1]]
    assert set(enum["enum"]) == set(CODES)


def test_the_schema_describes_oauth2_with_both_flows(openapi):
    scheme = openapi["components"]["securitySchemes"]["oauth2"]

    assert scheme["type"] == "oauth2"
    flows = scheme["flows"]
    assert set(flows) == {"clientCredentials", "authorizationCode"}
    assert flows["clientCredentials"]["tokenUrl"] == "/o/token/"
    assert flows["authorizationCode"]["authorizationUrl"] == "/o/authorize/"
    assert flows["authorizationCode"]["tokenUrl"] == "/o/token/"
    for flow in flows.values():
        assert set(flow["scopes"]) == {"orgs:read", "referrals:read", "referrals:write",
                                       "reports:read", "webhooks:manage", "admin"}


def test_operations_state_their_scope_and_problem_responses(openapi):
    operation = openapi["paths"]["/api/v1/organizations/"]["get"]

    assert operation["security"] == [{"oauth2": ["orgs:read"]}]
    for status in ("400", "401", "403"):
        content = operation["responses"][status]["content"]
        assert "application/problem+json" in content
    assert "404" in openapi["paths"]["/api/v1/organizations/{slug}/"]["get"]["responses"]


def test_the_schema_lists_the_directory_filters(openapi):
    operation = openapi["paths"]["/api/v1/organizations/"]["get"]
    parameters = {parameter["name"] for parameter in operation["parameters"]}

    assert {"kind", "district", "language", "service_type", "accepting_referrals", "active",
            "search", "ordering", "page", "page_size"} <= parameters


# --- the docs pages -----------------------------------------------------------


class AssetCollector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.scripts: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and attrs.get("src"):
            self.scripts.append(attrs["src"])
        elif tag == "link" and attrs.get("href"):
            self.links.append(attrs["href"])


def assets(path: str) -> AssetCollector:
    response = Client().get(path)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    collector = AssetCollector()
    collector.feed(response.content.decode())
    return collector


EXTERNAL = re.compile(r"^(https?:)?//", re.IGNORECASE)
DOCS_PAGES = ["/api/docs/", "/api/redoc/"]


@pytest.mark.parametrize("path", DOCS_PAGES)
def test_docs_pages_load_their_scripts_from_our_static_files(db, path):
    page = assets(path)

    assert page.scripts
    for src in page.scripts:
        assert not EXTERNAL.match(src), f"{path} loads a script from a CDN: {src}"
        assert src.startswith("/static/")


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_docs_pages_link_no_external_stylesheets(db, path):
    for href in assets(path).links:
        assert not EXTERNAL.match(href), f"{path} links an external resource: {href}"


@pytest.mark.parametrize("path", DOCS_PAGES)
def test_the_static_assets_of_the_docs_pages_are_served(db, path):
    page = assets(path)
    local = [url for url in page.scripts + page.links if url.startswith("/static/")]
    assert local

    for url in local:
        response = Client().get(url)
        assert response.status_code == 200, url
        body = b"".join(response.streaming_content) if response.streaming else response.content
        response.close()
        assert body, url
