"""Errors: problem+json under every API path (never an HTML page or a traceback),
and GraphQL errors with stable codes."""

from __future__ import annotations

from unittest import mock

import json

import pytest
from django.core.exceptions import RequestDataTooBig
from django.db import OperationalError
from django.http import Http404, HttpResponse
from django.test import Client, RequestFactory, override_settings

from core.problems import APIErrorMiddleware
from tests.conftest import APIClient
from tests.assertions import assert_problem



@pytest.fixture
def token(make_app, make_token):
    return make_token(make_app("camba-legal"))


def failing_client(token: str) -> APIClient:
    """A client that returns the server's 500 instead of raising the view's exception."""
    return APIClient(token, raise_request_exception=False)


# --- unknown addresses --------------------------------------------------------

UNKNOWN_API_PATHS = ["/api/v1/no-such-resource/", "/api/v2/organizations/", "/api/",
                     "/o/no-such-endpoint/", "/graphql/extra/"]


@pytest.mark.parametrize("debug", [False, True], ids=["production", "debug"])
@pytest.mark.parametrize("path", UNKNOWN_API_PATHS)
def test_an_unknown_api_path_is_404_problem_never_html(token, path, debug):
    with override_settings(DEBUG=debug):
        response = APIClient(token).get(path)

    body = assert_problem(response, 404, "not_found")
    assert body["instance"] == path
    assert b"<html" not in response.content.lower()


def test_an_unknown_api_path_is_404_even_without_a_token(db):
    assert_problem(Client().get("/api/v1/nothing-here/"), 404, "not_found")


def test_pages_outside_the_api_keep_htmls_404(db):
    response = Client().get("/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


# --- failures inside a view ---------------------------------------------------


@pytest.mark.parametrize("debug", [False, True], ids=["production", "debug"])
def test_an_unhandled_exception_is_500_problem_without_details(token, debug, caplog):
    with override_settings(DEBUG=debug), mock.patch(
            "orgs.api.views.organization_list",
            side_effect=RuntimeError("kaboom: secret internals")):
        response = failing_client(token).get("/api/v1/organizations/")

    assert_problem(response, 500, "server_error")
    assert b"kaboom" not in response.content
    assert b"Traceback" not in response.content
    assert "kaboom: secret internals" in caplog.text  # but it is logged for us


def test_a_database_outage_is_503_with_retry_after(token):
    with mock.patch("orgs.api.views.organization_list",
                    side_effect=OperationalError("could not connect to server")):
        response = failing_client(token).get("/api/v1/organizations/")

    body = assert_problem(response, 503, "service_unavailable")
    assert int(response["Retry-After"]) > 0
    assert "connect" not in body["detail"]


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_an_oversized_graphql_body_is_refused_as_the_clients_error(token):
    response = APIClient(token).graphql("{ serviceTypes { code } }" + " " * 2000)

    # Refused from Content-Length, before the body is read or parsed.
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "payload_too_large"


def test_an_oversized_graphql_document_is_refused(token):
    query = "{ serviceTypes { code } }" + " " * 25000
    response = APIClient(token).graphql(query)
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "payload_too_large"


class TestMiddleware:
    """APIErrorMiddleware on its own: it rewrites API failures and leaves the rest."""

    factory = RequestFactory()

    def html(self, status):
        return lambda request: HttpResponse("<html><body>Oops</body></html>", status=status,
                                            content_type="text/html")

    @pytest.mark.parametrize("status, code", [(404, "not_found"), (500, "server_error")])
    def test_html_error_pages_under_api_paths_become_problems(self, status, code):
        middleware = APIErrorMiddleware(self.html(status))

        response = middleware(self.factory.get("/api/v1/whatever/"))

        assert_problem(response, status, code)

    def test_html_under_other_paths_is_left_alone(self):
        middleware = APIErrorMiddleware(self.html(500))

        response = middleware(self.factory.get("/admin/whatever/"))

        assert response["Content-Type"] == "text/html"
        assert response.content == b"<html><body>Oops</body></html>"

    def test_exceptions_under_other_paths_are_left_to_django(self):
        middleware = APIErrorMiddleware(self.html(200))

        assert middleware.process_exception(self.factory.get("/admin/"), RuntimeError()) is None

    @pytest.mark.parametrize("exception, status, code", [
        (Http404("gone"), 404, "not_found"),
        (OperationalError("db down"), 503, "service_unavailable"),
        (RequestDataTooBig(), 413, "payload_too_large"),
        (KeyError("bug"), 500, "server_error"),
    ])
    def test_exceptions_under_api_paths_become_problems(self, exception, status, code):
        middleware = APIErrorMiddleware(self.html(200))

        response = middleware.process_exception(self.factory.get("/graphql/"), exception)

        assert_problem(response, status, code)


# --- GraphQL errors -----------------------------------------------------------


def graphql_error(response) -> dict:
    return response.json()["errors"][0]


def test_a_graphql_syntax_error_is_400_syntax_error(token):
    response = APIClient(token).graphql("{ organizations( { slug } }")

    assert response.status_code == 400
    assert graphql_error(response)["extensions"]["code"] == "syntax_error"


def test_an_unknown_graphql_field_is_400_validation_error(token):
    response = APIClient(token).graphql("{ organizations { edges { node { password } } } }")

    assert response.status_code == 400
    error = graphql_error(response)
    assert error["extensions"]["code"] == "validation_error"
    assert "password" in error["message"]


def test_a_body_that_is_not_json_is_400(token):
    response = APIClient(token).post("/graphql/", "{not json", content_type="application/json")

    assert response.status_code == 400
    assert graphql_error(response)["extensions"]["code"] == "bad_request"


SHALLOW = "{ serviceTypes { code } }"
DEPTH_4 = "{ organizations { edges { node { slug } } } }"


def test_the_default_depth_limit_is_10(settings):
    assert settings.GRAPHQL_MAX_DEPTH == 10


def test_queries_deeper_than_graphql_max_depth_are_refused(token, settings):
    client = APIClient(token)
    assert "errors" not in client.graphql(DEPTH_4).json()  # fine at the default limit

    settings.GRAPHQL_MAX_DEPTH = 2
    shallow = client.graphql(SHALLOW)
    response = client.graphql(DEPTH_4)

    assert "errors" not in shallow.json()
    assert response.status_code == 400
    assert "data" not in response.json()  # refused before anything ran
    error = graphql_error(response)
    assert error["extensions"]["code"] in {"validation_error", "query_too_deep"}
    assert "2" in error["message"]


def test_introspection_can_be_switched_off(token, settings):
    settings.GRAPHQL_INTROSPECTION = False

    response = APIClient(token).graphql("{ __schema { types { name } } }")

    assert response.status_code == 400
    assert graphql_error(response)["extensions"]["code"] == "validation_error"


def test_a_resolver_bug_is_masked_outside_debug(token, settings, caplog):
    settings.DEBUG = False
    with mock.patch("orgs.graphql.schema.service_type_list",
                    side_effect=RuntimeError("kaboom: secret internals")):
        response = APIClient(token).graphql("{ serviceTypes { code } }")

    error = graphql_error(response)
    assert error["extensions"]["code"] == "internal_error"
    assert "kaboom" not in response.content.decode()
    assert "Traceback" not in response.content.decode()
    assert "kaboom: secret internals" in caplog.text


def test_a_resolver_bug_is_shown_in_debug(token, settings):
    settings.DEBUG = True
    with mock.patch("orgs.graphql.schema.service_type_list", side_effect=RuntimeError("kaboom")):
        response = APIClient(token).graphql("{ serviceTypes { code } }")

    error = graphql_error(response)
    assert error["extensions"]["code"] == "internal_error"
    assert "kaboom" in error["message"]


# --- the one registry ---------------------------------------------------------------

SOURCE_PACKAGES = ("core", "orgs", "referrals", "reporting", "audit", "webhooks", "schema",
                   "config")
RAISERS = {"DomainError", "CoalitionError", "NotFound", "problem_response", "problem"}


def codes_in_source() -> dict[str, str]:
    """Every code literal given to an error constructor in the code base, and where."""
    import ast
    from pathlib import Path

    from django.conf import settings

    found = {}
    for package in SOURCE_PACKAGES:
        for path in (Path(settings.BASE_DIR) / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if not isinstance(node, ast.Call):
                    continue
                name = getattr(node.func, "id", getattr(node.func, "attr", None))
                if name not in RAISERS:
                    continue
                literals = [kw.value for kw in node.keywords if kw.arg == "code"]
                if name == "DomainError" and node.args:
                    literals.append(node.args[0])
                if name in ("problem_response", "problem") and len(node.args) > 1:
                    literals.append(node.args[1])
                for literal in literals:
                    if isinstance(literal, ast.Constant) and isinstance(literal.value, str):
                        found[literal.value] = f"{path.relative_to(settings.BASE_DIR)}:{node.lineno}"
    return found


def test_every_code_the_code_base_raises_is_registered():
    from core.errors import CODES

    used = codes_in_source()

    assert len(used) > 40  # the scan sees the services' codes
    assert {code: where for code, where in used.items() if code not in CODES} == {}


def test_docs_errors_md_is_generated_from_the_registry():
    from pathlib import Path

    from django.conf import settings

    from core.errors import CODES, errors_markdown

    committed = (Path(settings.BASE_DIR) / "docs" / "errors.md").read_text()

    assert committed == errors_markdown(), "run `make schema` to regenerate docs/errors.md"
    for code, entry in CODES.items():
        assert f"| `{code}` | {entry.status} |" in committed


def test_a_json_null_body_is_validation_error_with_a_registered_code(token):
    response = APIClient(token).generic(
        "POST", "/api/v1/clients/", "null", content_type="application/json",
        headers={"Authorization": f"Bearer {token}"})

    body = assert_problem(response, 400, "validation_error")
    assert body["errors"][0]["code"] == "null"  # DRF's own reason, inside errors[]
