"""Hostile GraphQL against the live /graphql/: malformed syntax, unknown fields,
wrong types, 2,000 aliases, 200 levels of nesting, fragment cycles, huge strings,
bodies that are not JSON, mutations over GET, batches. Each is the client's error
(4xx, JSON, with a stable code), answered fast, and leaves nothing in the server's
error log. Then schemathesis and a seeded mutation fuzz throw well-formed and
almost-well-formed documents at it: never a server error, never internal_error.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from .server import schemathesis_command

pytestmark = pytest.mark.live

BASE_DIR = Path(__file__).resolve().parents[2]
MAX_SECONDS = 5.0  # per request, allowing for a loaded CI machine; most take milliseconds
UUID = "6f1c2b7e-0000-4000-8000-000000000000"
ORGS = "{ organizations { edges { node { slug } } } }"


@dataclass(frozen=True)
class Request:
    name: str
    body: bytes | None = None
    content_type: str | None = "application/json"
    method: str = "POST"
    params: dict = field(default_factory=dict)
    token: bool = True


def post(name: str, query, **extra) -> Request:
    return Request(name, json.dumps({"query": query, **extra}).encode())


def raw(name: str, body: str | bytes, content_type: str | None = "application/json") -> Request:
    return Request(name, body.encode() if isinstance(body, str) else body, content_type)


def nested(open_: str, close: str, levels: int, inner: str) -> str:
    return open_ * levels + inner + close * levels


def aliases(count: int, field_: str = "__typename") -> str:
    return "{ " + " ".join(f"a{i}: {field_}" for i in range(count)) + " }"


VAR_FIRST = "query($n: Int) { organizations(first: $n) { edges { node { slug } } } }"

HOSTILE = [
    # --- malformed syntax
    post("unclosed-brace", "{ organizations { edges { node { slug } }"),
    post("braces-backwards", "}}}{{{"),
    post("stray-punctuator", "{ organizations(first: @) { edges { node { slug } } } }"),
    post("unterminated-string", '{ organization(slug: "camba) { slug } }'),
    post("bad-escape", '{ organization(slug: "\\x41") { slug } }'),
    post("lone-surrogate", '{ organization(slug: "\ud800") { slug } }'),
    post("empty-document", ""),
    post("only-whitespace", " \n\t "),
    post("only-a-comment", "# nothing to see"),
    post("nul-byte-in-document", "{ __typename \x00 }"),
    # --- unknown fields, arguments, types, directives
    post("unknown-root-field", "{ nope }"),
    post("unknown-nested-field", "{ organizations { edges { node { slug secret } } } }"),
    post("unknown-argument", "{ organizations(colour: 1) { edges { node { slug } } } }"),
    post("unknown-fragment-type", "{ ... on Nope { __typename } }"),
    post("unknown-directive", "{ __typename @nope }"),
    post("unknown-variable-type", "query($x: Nope) { __typename }"),
    post("subscription", "subscription { organizations { edges { node { slug } } } }"),
    post("introspection-disabled", "{ __schema { types { name } } }"),
    post("mutation-unknown-field", "mutation { dropEverything }"),
    # --- wrong argument types, literal and in variables
    post("string-for-int", '{ organizations(first: "ten") { edges { node { slug } } } }'),
    post("int-for-uuid", "{ referral(id: 123) { id } }"),
    post("malformed-uuid", '{ referral(id: "not-a-uuid") { id } }'),
    post("object-for-list", "{ organizations(kind: {a: 1}) { edges { node { slug } } } }"),
    post("bool-for-int", "{ organizations(district: true) { edges { node { slug } } } }"),
    post("int-out-of-32-bits", "{ organizations(first: 99999999999) { edges { node { slug } } } }"),
    post("bad-enum", f'mutation {{ transitionReferral(id: "{UUID}", expectedVersion: 1, to: NOPE)'
                     " { referral { id } } }"),
    post("impossible-date", '{ referrals(createdAfter: "2020-13-45") { edges { node { id } } } }'),
    post("missing-required-argument", "{ referral { id } }"),
    post("var-string-for-int", VAR_FIRST, variables={"n": "abc"}),
    post("var-float-for-int", VAR_FIRST, variables={"n": 1.5}),
    post("var-int-over-32-bits", VAR_FIRST, variables={"n": 2 ** 40}),
    post("var-nested-lists", "query($k: [String]) { organizations(kind: $k) "
                             "{ edges { node { slug } } } }", variables={"k": [[[["x"]]]]}),
    post("var-malformed-uuid", "query($id: UUID!) { referral(id: $id) { id } }",
         variables={"id": "abc"}),
    post("var-required-missing", "query($id: UUID!) { referral(id: $id) { id } }"),
    post("var-null-for-non-null", "query($id: UUID!) { referral(id: $id) { id } }",
         variables={"id": None}),
    post("var-undefined", "{ organizations(first: $n) { edges { node { slug } } } }"),
    post("var-input-object-wrong-shape",
         "mutation($in: CreateReferralInput!) { createReferral(idempotencyKey: \"k\", "
         "input: $in) { replayed } }", variables={"in": {"receivingOrg": ["x"], "extra": 1}}),
    # --- 2,000 aliases (and the limit just under the document size limit)
    post("2000-aliases", aliases(2000)),
    post("2000-aliases-of-a-list", aliases(2000, "organizations { edges { node { slug } } }")),
    post("1400-aliases-under-size-limit", aliases(1400)),
    post("aliases-multiplied-by-fragments",
         "{ " + "...F " * 80 + "} fragment F on Query { " +
         " ".join(f"a{i}: __typename" for i in range(25)) + " }"),
    # --- deep nesting
    post("200-levels-of-selections", nested("{ a ", "}", 200, "{ b }")),
    post("200-levels-of-inline-fragments", nested("{ ... on Query ", "}", 200, "{ __typename }")),
    post("200-levels-of-list-literal",
         "{ organizations(kind: " + nested("[", "]", 200, '"x"') + ") "
         "{ edges { node { slug } } } }"),
    post("200-levels-of-object-literal",
         "{ organizations(kind: " + nested("{a: ", "}", 200, "1") + ") "
         "{ edges { node { slug } } } }"),
    post("too-deep-for-the-depth-limit",
         "{ referrals { edges { node { sendingOrg { serviceTypes { code } } "
         + nested("client { ", "}", 12, "id") + " } } } }"),
    raw("json-nested-100000-deep-variables",
        '{"query": "{ __typename }", "variables": ' + nested("[", "]", 100_000, "") + "}"),
    raw("json-nested-100000-deep-body", nested('{"a":', "}", 100_000, "1")),
    # --- fragment cycles and fragment abuse
    post("fragment-self-cycle", "{ ...A } fragment A on Query { ...A }"),
    post("fragment-two-cycle", "{ organizations { ...A } } "
                               "fragment A on OrganizationConnection { ...B } "
                               "fragment B on OrganizationConnection { ...A }"),
    post("fragment-300-chain-cycle",
         "{ ...F0 } " + " ".join(f"fragment F{i} on Query {{ ...F{(i + 1) % 300} }}"
                                 for i in range(300))),
    post("fragment-undefined", "{ ...Nope }"),
    post("fragment-duplicate-name", "{ ...A } fragment A on Query { __typename } "
                                    "fragment A on Query { __typename }"),
    post("fragment-unused", "{ __typename } fragment A on Query { __typename }"),
    # --- huge strings
    post("1mb-string-literal", '{ organization(slug: "' + "x" * 1_000_000 + '") { slug } }'),
    post("19kb-string-literal-in-unknown-argument",
         '{ organizations(nope: "' + "x" * 19_000 + '") { edges { node { slug } } } }'),
    post("200kb-string-variable-of-wrong-type", VAR_FIRST, variables={"n": "x" * 200_000}),
    raw("2mb-body", b'{"query": "{ __typename }", "pad": "' + b"x" * 2_000_000 + b'"}'),
    Request("get-query-string-over-the-limit", None, None, "GET",
            {"query": "{ organization(slug: \"" + "x" * 30_000 + "\") { slug } }"}),
    # --- bodies that are not a GraphQL request in JSON
    raw("not-json", "hello"),
    raw("truncated-json", '{"query": "{ __typename }"'),
    raw("invalid-utf8", b'{"query": "\xff\xfe{ __typename }"}'),
    raw("json-null", "null"),
    raw("json-string", '"{ __typename }"'),
    raw("json-number", "123"),
    raw("json-true", "true"),
    raw("empty-body", ""),
    raw("query-is-a-number", '{"query": 123}'),
    raw("query-is-an-object", '{"query": {"a": 1}}'),
    raw("query-is-null", '{"query": null}'),
    raw("variables-not-json", '{"query": "{ __typename }", "variables": "{oops"}'),
    raw("variables-a-list", '{"query": "{ __typename }", "variables": [1, 2]}'),
    raw("variables-a-number", '{"query": "{ __typename }", "variables": 5}'),
    raw("operation-name-a-number", '{"query": "query A { __typename }", "operationName": 5}'),
    post("operation-name-unknown", "query A { __typename }", operationName="Z"),
    post("operation-name-missing", "query A { __typename } query B { __typename }"),
    raw("plain-text", "{ __typename", "text/plain"),
    raw("xml", "<query>{ __typename }</query>", "application/xml"),
    raw("binary", bytes(range(256)) * 4, "application/octet-stream"),
    raw("multipart-without-boundary", "--x\r\n\r\n", "multipart/form-data"),
    raw("form-with-500-fields", "&".join(f"f{i}=1" for i in range(500)),
        "application/x-www-form-urlencoded"),
    raw("no-content-type", b'{"query": "{ __typename"}', None),
    # --- GET with mutations, batches, other methods, no credentials
    Request("get-mutation", None, None, "GET",
            {"query": f'mutation {{ addReferralNote(id: "{UUID}", text: "x") '
                      "{ note { id } } }"}),
    Request("get-mutation-by-operation-name", None, None, "GET",
            {"query": "query Q { __typename } mutation M { deleteServiceEvent"
                      f'(id: "{UUID}") {{ ok }} }}', "operationName": "M"}),
    Request("get-without-query", None, None, "GET"),
    raw("batch-of-one", '[{"query": "{ __typename }"}]'),
    raw("batch-empty", "[]"),
    raw("batch-of-1000", json.dumps([{"query": "{ __typename }"}] * 1000)),
    raw("batch-of-garbage", "[1, null, \"x\"]"),
    Request("put", json.dumps({"query": "{ __typename }"}).encode(), method="PUT"),
    Request("delete", None, None, "DELETE"),
    Request("patch", json.dumps({"query": "{ __typename }"}).encode(), method="PATCH"),
    Request("no-token", json.dumps({"query": ORGS}).encode(), token=False),
]


def send(server, request: Request, token: str) -> tuple[requests.Response, float]:
    headers = {}
    if request.token:
        headers["Authorization"] = f"Bearer {token}"
    if request.content_type:
        headers["Content-Type"] = request.content_type
    started = time.monotonic()
    response = requests.request(request.method, f"{server.url}/graphql/", data=request.body,
                                params=request.params or None, headers=headers, timeout=30)
    return response, time.monotonic() - started


def error_codes(response: requests.Response) -> list:
    """Codes of a GraphQL error response, or of a problem+json document."""
    body = response.json()  # never HTML, never a traceback
    if isinstance(body, dict) and "code" in body:
        return [body["code"]]
    return [(error.get("extensions") or {}).get("code") for error in body.get("errors") or []]


@pytest.fixture(scope="module")
def token(api_server):
    return api_server.token("demo-peralta-office")


@pytest.mark.parametrize("request_", HOSTILE, ids=lambda r: r.name)
def test_hostile_graphql_is_the_clients_error(api_server, token, request_):
    log_offset = api_server.log_offset()
    response, elapsed = send(api_server, request_, token)

    assert 400 <= response.status_code < 500, (response.status_code, response.text[:500])
    codes = error_codes(response)
    assert codes and None not in codes, response.text[:500]
    assert not {"internal_error", "server_error"} & set(codes), response.text[:500]
    assert elapsed < MAX_SECONDS, f"{elapsed:.2f}s"
    assert not api_server.failures_since(log_offset), api_server.log_since(log_offset)[-3000:]


# Well-formed documents whose values are odd: field errors in a 200 are allowed (the
# GraphQL convention), as long as they carry the client's code.
ODD_VALUES = [
    post("nul-in-string-argument", '{ organization(slug: "a\\u0000b") { slug } }'),
    post("nul-in-variable", "query($s: String!) { organization(slug: $s) { slug } }",
         variables={"s": "a\x00b"}),
    post("nul-in-mutation-input",
         "mutation($in: ClientInput!) { createClient(input: $in) { client { id } } }",
         variables={"in": {"givenName": "A\x00", "familyName": "B"}}),
    post("node-id-not-base64", '{ node(id: "%%%") { id } }'),
    post("node-id-empty", '{ node(id: "") { id } }'),
    post("node-id-unknown-type", '{ node(id: "Tm9wZTox") { id } }'),        # Nope:1
    post("node-id-non-node-type", '{ node(id: "UXVlcnk6MQ==") { id } }'),   # Query:1
    post("node-id-malformed-pk", '{ node(id: "T3JnYW5pemF0aW9uOmFiYw==") { id } }'),  # :abc
    post("node-id-pk-out-of-range",
         '{ node(id: "T3JnYW5pemF0aW9uOjk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5") { id } }'),
    post("undecodable-cursor-with-offset",
         '{ organizations(offset: 5, after: "5Ò", first: 5) { edges { node { slug } } } }'),
    post("cursor-not-ours", '{ referrals(after: "bm9wZQ==") { edges { node { id } } } }'),
    post("negative-first", "{ organizations(first: -1) { edges { node { slug } } } }"),
    post("first-over-the-page-limit", "{ organizations(first: 1000) { edges { node { slug } } } }"),
    post("utc-offset-postgres-refuses",
         '{ referrals(createdAfter: "2020-01-01T00:00:00+23:59") { edges { node { id } } } }'),
    post("datetime-overflowing-utc",
         '{ referrals(createdAfter: "9999-12-31T23:59:59-23:59") { edges { node { id } } } }'),
    post("consent-in-year-479",
         "mutation($in: CreateReferralInput!) { createReferral(idempotencyKey: \"odd-479\", "
         "input: $in) { referral { id } } }",
         variables={"in": {"client": {"givenName": "A", "familyName": "B"},
                           "consent": {"method": "VERBAL",
                                       "capturedAt": "0479-05-07T04:48:55+00:00"},
                           "receivingOrg": "camba-legal", "serviceType": "asylum",
                           "intakeChannel": "HOTLINE"}}),
    post("consent-with-offset-23-59",
         "mutation($in: CreateReferralInput!) { createReferral(idempotencyKey: \"odd-2359\", "
         "input: $in) { referral { id } } }",
         variables={"in": {"client": {"givenName": "A", "familyName": "B"},
                           "consent": {"method": "VERBAL",
                                       "capturedAt": "2017-05-07T04:48:55+23:59"},
                           "receivingOrg": "camba-legal", "serviceType": "asylum",
                           "intakeChannel": "HOTLINE"}}),
    post("consent-without-offset",
         "mutation($in: CreateReferralInput!) { createReferral(idempotencyKey: \"odd-naive\", "
         "input: $in) { referral { id } } }",
         variables={"in": {"client": {"givenName": "A", "familyName": "B"},
                           "consent": {"method": "VERBAL", "capturedAt": "2017-05-07T04:48:55"},
                           "receivingOrg": "camba-legal", "serviceType": "asylum",
                           "intakeChannel": "HOTLINE"}}),
]


@pytest.mark.parametrize("request_", ODD_VALUES, ids=lambda r: r.name)
def test_odd_values_never_fail_the_server(api_server, token, request_):
    log_offset = api_server.log_offset()
    response, elapsed = send(api_server, request_, token)

    assert response.status_code < 500, (response.status_code, response.text[:500])
    codes = error_codes(response)
    assert None not in codes and "internal_error" not in codes, response.text[:500]
    assert elapsed < MAX_SECONDS, f"{elapsed:.2f}s"
    assert not api_server.failures_since(log_offset), api_server.log_since(log_offset)[-3000:]


SEEDS = [
    ORGS,
    '{ organizations(first: 3, kind: ["legal_nonprofit"], language: "es") '
    "{ pageInfo { endCursor hasNextPage } edges { cursor node { id slug name languages } } } }",
    '{ referrals(first: 5, status: ["requested"], createdAfter: "2017-01-01T00:00:00Z") '
    "{ edges { node { id status priority sendingOrg { slug } client { givenName } } } } }",
    '{ serviceNumbers(dimensions: [SERVICE_TYPE], fiscalYear: "2017-18") { rows { values } } }',
    'mutation { addReferralNote(id: "' + UUID + '", text: "hello") { note { id text } } }',
    'query Q($id: UUID!) { referral(id: $id) { id events { kind } } }',
]
PUNCTUATION = list('{}()[]:$@!.,"\\#=|&') + [" ", "\n", "...", "\\u0000", "ab", "9"]


def mutate(document: str, rng: random.Random) -> str:
    for _ in range(rng.randint(1, 4)):
        at = rng.randrange(len(document) + 1)
        action = rng.choice(("insert", "delete", "duplicate", "replace"))
        if action == "insert":
            document = document[:at] + rng.choice(PUNCTUATION) + document[at:]
        elif action == "delete":
            document = document[:at] + document[at + rng.randint(1, 8):]
        elif action == "duplicate":
            document = document[:at] + document[at:at + rng.randint(1, 30)] * 2 + \
                document[at + 30:]
        else:
            document = document[:at] + rng.choice(PUNCTUATION) + document[at + 1:]
    return document


def test_mutated_documents_never_fail_the_server(api_server, token):
    """300 documents a few random edits away from valid ones (fixed seed)."""
    rng = random.Random(20170301)
    log_offset = api_server.log_offset()
    session = requests.Session()
    session.headers.update({"Authorization": f"Bearer {token}"})
    problems = []
    for _ in range(300):
        document = mutate(rng.choice(SEEDS), rng)
        variables = rng.choice([None, {"id": UUID}, {"id": "x"}, {"n": 1}])
        started = time.monotonic()
        response = session.post(f"{api_server.url}/graphql/", timeout=30,
                                json={"query": document, "variables": variables})
        elapsed = time.monotonic() - started
        codes = error_codes(response)
        if (response.status_code >= 500 or None in codes or "internal_error" in codes
                or elapsed > MAX_SECONDS):
            problems.append((response.status_code, f"{elapsed:.2f}s", document,
                             response.text[:300]))
    assert not problems, "\n".join(map(repr, problems[:10]))
    assert not api_server.failures_since(log_offset), api_server.log_since(log_offset)[-3000:]


def test_schemathesis_graphql_finds_no_internal_error(api_server, token, tmp_path):
    """Well-formed queries and mutations generated from the committed SDL
    (introspection is off): no 5xx, and every error carries the client's code."""
    log_offset = api_server.log_offset()
    result = subprocess.run(
        [schemathesis_command(), "--no-color",
         "run", str(BASE_DIR / "schema" / "schema.graphql"),
         "--url", f"{api_server.url}/graphql/",
         "--header", f"Authorization: Bearer {token}",
         "--checks", "graphql_no_internal_error",
         "--max-examples", "25", "--seed", "20170301", "--generation-database", "none",
         "--request-timeout", "30", "--output-truncate", "true"],
        cwd=tmp_path, capture_output=True, text=True, timeout=180,
        env={**os.environ, "SCHEMATHESIS_HOOKS": "tests.live.schemathesis_hooks",
             "PYTHONPATH": str(BASE_DIR)})
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-15000:]
    assert not api_server.failures_since(log_offset), api_server.log_since(log_offset)[-3000:]
