"""The one way the tests check an error answer, in each channel."""

from __future__ import annotations

import json

from core.errors import CODES

PROBLEM = "application/problem+json"
PROBLEM_KEYS = {"type", "title", "status", "detail", "code"}


def assert_problem(response, status: int, code: str) -> dict:
    """A REST refusal: problem+json with the status and code, the code registered with
    that status, a type naming it and a detail for people."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM, response["Content-Type"]
    body = json.loads(response.content)
    assert PROBLEM_KEYS <= body.keys(), body
    assert (body["status"], body["code"]) == (status, code), body
    assert body["type"].endswith(code)
    assert body["detail"]
    assert CODES[code].status == status, f"{code} is registered as {CODES[code].status}"
    return body


def assert_graphql_error(response, code: str, status: int = 200) -> dict:
    """A GraphQL refusal: a resolver's comes with HTTP 200 and no data, a document that
    fails validation with 400; the first error carries the code."""
    assert response.status_code == status, response.content
    body = response.json()
    assert body.get("data") in (None, {}) or all(v is None for v in body["data"].values())
    error = body["errors"][0]
    assert error["extensions"]["code"] == code, body["errors"]
    return error
