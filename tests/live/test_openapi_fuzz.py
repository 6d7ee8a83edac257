"""Schemathesis against the live server's OpenAPI document, with real tokens.

Every operation, reads and writes (the Idempotency-Key and If-Match headers are
in the document), positive and negative data, then stateful sequences that
follow the document's links, under every check schemathesis has (``--checks
all``): no server error; every response matches the document (status codes,
content types, headers, schemas); input the document refuses is refused, and input
it allows is accepted unless a rule the document cannot state refuses it (the codes
of core.errors.BEYOND_THE_DOCUMENT, applied by tests/live/openapi_hooks.py); a
missing required header is refused; authentication is never ignored. Bounded by
examples per operation, with a fixed seed.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import requests

from .server import BASE_DIR, schemathesis_command

pytestmark = pytest.mark.live

CHECKS = "all"
# A missing required header is refused with one of these: schemathesis's own list, and
# 428 Precondition Required (RFC 6585), the answer to a write without If-Match.
MISSING_HEADER_STATUSES = [400, 401, 403, 406, 415, 422, 428]
SEED = 20170301
RUN_TIMEOUT = 480  # seconds; the longer run takes about a minute and a half on a quiet machine


def write_config(server, token: str, path: Path) -> Path:
    """Real organisation slugs and service types for the parameters that name them,
    so that most generated writes get past 'no such organisation' to the code
    behind it."""
    headers = {"Authorization": f"Bearer {token}"}
    organizations = requests.get(f"{server.url}/api/v1/organizations/?page_size=100",
                                 headers=headers, timeout=30).json()["results"]
    service_types = requests.get(f"{server.url}/api/v1/service-types/",
                                 headers=headers, timeout=30).json()
    if isinstance(service_types, dict):
        service_types = service_types["results"]
    dictionaries = {
        "organizations": sorted(o["slug"] for o in organizations),
        "service_types": sorted(s["code"] for s in service_types),
        "fiscal_years": ["2016-17", "2017-18"],
    }
    bindings = {
        "body.receiving_org": "organizations", "body.shared_with": "organizations",
        "body.service_type": "service_types", "query.service_type": "service_types",
        "query.org": "organizations", "query.fiscal_year": "fiscal_years",
    }
    lines = []
    for name, values in dictionaries.items():
        lines += [f"[dictionaries.{name}]", f"values = {json.dumps(values)}", ""]
    lines += ["[checks.missing_required_header]",
              f"expected-statuses = {json.dumps(MISSING_HEADER_STATUSES)}", ""]
    lines.append("[parameters]")
    lines += [f'"{key}" = {{ dictionary = "{name}", probability = 0.7 }}'
              for key, name in bindings.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def failures_of(output: str, limit: int = 20000) -> str:
    """The run's errors and failures, then its summary."""
    start = min((output.find(h) for h in ("=== ERRORS", "=== FAILURES") if h in output),
                default=0)
    end = output.find("=== WARNINGS", start)
    details = output[start:end if end > start else None]
    summary = output[output.find("=== SUMMARY"):] if "=== SUMMARY" in output else ""
    return details[:limit] + "\n" + summary


@pytest.mark.parametrize(("client_id", "phases", "max_examples"), [
    # A partner (a district office that sends referrals), through every phase. The
    # coverage phase (boundary and invalid values for each parameter) is a fixed
    # ~1,500 requests, whoever asks.
    ("demo-peralta-office", "examples,coverage,fuzzing,stateful", 15),
    # A coalition admin sees every referral, and the audit trail.
    ("demo-coalition-admin", "fuzzing,stateful", 10),
])
def test_schemathesis_finds_no_server_error_and_no_schema_mismatch(
        api_server, tmp_path, client_id, phases, max_examples):
    token = api_server.token(client_id)
    config = write_config(api_server, token, tmp_path / "schemathesis.toml")
    log_offset = api_server.log_offset()
    command = [
        schemathesis_command(), "--config-file", str(config), "--no-color",
        "run", f"{api_server.url}/api/schema/",
        "--header", f"Authorization: Bearer {token}",
        "--checks", CHECKS,
        "--phases", phases,
        "--max-examples", str(max_examples),
        "--seed", str(SEED),
        "--generation-database", "none",
        "--workers", "1",  # with more, Hypothesis's ast.parse calls race on CPython 3.11
        "--request-timeout", "30",
        "--output-truncate", "true",
    ]
    try:
        result = subprocess.run(
            command, cwd=tmp_path, capture_output=True, text=True, timeout=RUN_TIMEOUT,
            env={**os.environ, "SCHEMATHESIS_HOOKS": "tests.live.openapi_hooks",
                 "PYTHONPATH": str(BASE_DIR)})
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"schemathesis ran over {RUN_TIMEOUT}s:\n{(exc.stdout or '')[-4000:]}")
    output = result.stdout + result.stderr
    (tmp_path / "schemathesis.out").write_text(output)
    assert result.returncode == 0, f"schemathesis failed ({client_id}):\n{failures_of(output)}"
    assert "Tested: 0" not in output, output
    # 503s are in the document, so schemathesis accepts them: the log tells a real
    # outage from bad input that made the database fail.
    failures = api_server.failures_since(log_offset, extra=("database unavailable",))
    assert not failures, "\n".join(failures[:20])
