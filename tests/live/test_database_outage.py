"""PostgreSQL goes away under a running server, then comes back.

The server reaches its database through a proxy this test controls. While the
proxy is cut, every request (REST reads and writes, GraphQL, token requests) is
answered within seconds with 503 problem+json and Retry-After, never a 500 or an
HTML page. Once the proxy forwards again the same server process recovers by
itself. No write acknowledged before the outage is lost, and a write that failed
during it, retried with the same Idempotency-Key, makes exactly one referral.
"""

from __future__ import annotations

import uuid

import dj_database_url
import psycopg
import pytest
import requests

from .proxy import TCPProxy
from .server import DATABASE_URL, LiveServer, database_url, wait_until

pytestmark = pytest.mark.live

CONNECT_TIMEOUT = 2  # seconds (DB_CONNECT_TIMEOUT); libpq's minimum
OUTAGE_ANSWER_SECONDS = CONNECT_TIMEOUT + 6  # a 503 within this, even when unreachable
RECOVERY_SECONDS = 15
GRAPHQL_QUERY = "{ referrals(first: 5) { edges { node { id status } } } }"
GRAPHQL_MUTATION = (
    "mutation($in: CreateReferralInput!, $key: String!) { "
    "createReferral(input: $in, idempotencyKey: $key) { replayed referral { id } } }")


@pytest.fixture(scope="module")
def proxy():
    config = dj_database_url.parse(DATABASE_URL)
    proxy = TCPProxy(config["HOST"] or "127.0.0.1", int(config["PORT"] or 5432))
    proxy.start()
    yield proxy
    proxy.stop()


@pytest.fixture(scope="module")
def server(live_database, proxy, tmp_path_factory):
    server = LiveServer(
        database_url(live_database, host="127.0.0.1", port=proxy.port),
        log_dir=tmp_path_factory.mktemp("outage-server"),
        env={"DB_CONNECT_TIMEOUT": str(CONNECT_TIMEOUT), "DB_CONN_MAX_AGE": "60"},
        workers=2, threads=2)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def office(server):
    token = server.token("demo-peralta-office")
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    session.base = server.url
    return session


@pytest.fixture
def direct(live_database):
    """A connection to the module's database that bypasses the proxy."""
    config = dj_database_url.parse(DATABASE_URL)
    with psycopg.connect(dbname=live_database, user=config["USER"] or "postgres",
                         password=config["PASSWORD"] or None,
                         host=config["HOST"] or "127.0.0.1", port=config["PORT"] or 5432,
                         autocommit=True) as conn:
        yield conn


def referral_body(marker: str) -> dict:
    return {"client": {"given_name": "Ana", "family_name": f"Outage {marker}",
                       "preferred_languages": ["es"]},
            "consent": {"method": "verbal"}, "receiving_org": "camba-legal",
            "service_type": "asylum", "priority": "urgent",
            "intake_channel": "district-office", "summary": f"outage test {marker}"}


def create_referral(office, marker: str, key: str, timeout: float = 30) -> requests.Response:
    return office.post(f"{office.base}/api/v1/referrals/", json=referral_body(marker),
                       headers={"Idempotency-Key": key}, timeout=timeout)


def graphql(office, query: str, variables: dict | None = None) -> requests.Response:
    return office.post(f"{office.base}/graphql/", json={"query": query, "variables": variables},
                       timeout=OUTAGE_ANSWER_SECONDS + 10)


def assert_unavailable(response: requests.Response) -> None:
    assert response.status_code == 503, (response.status_code, response.text[:500])
    assert response.headers["Content-Type"].startswith("application/problem+json"), \
        response.headers["Content-Type"]
    assert int(response.headers["Retry-After"]) > 0
    body = response.json()
    assert (body["status"], body["code"]) == (503, "service_unavailable"), body
    assert response.elapsed.total_seconds() < OUTAGE_ANSWER_SECONDS, response.elapsed


def count_by_summary(direct, marker: str) -> int:
    return direct.execute("SELECT count(*) FROM referrals_referral WHERE summary = %s",
                          [f"outage test {marker}"]).fetchone()[0]


@pytest.mark.parametrize("how", ["stopped", "unreachable"])
def test_an_outage_is_503_then_the_api_recovers_and_keeps_every_acknowledged_write(
        server, proxy, office, direct, how):
    log_offset = server.log_offset()
    pid = server.process.pid
    run = uuid.uuid4().hex[:8]

    # Acknowledged writes, and enough reads that every worker thread holds a connection.
    acknowledged = {}
    for n in range(6):
        marker = f"{run}-before-{n}"
        response = create_referral(office, marker, key=f"{run}-before-{n}")
        assert response.status_code == 201, response.text
        acknowledged[marker] = response.json()["id"]
    for _ in range(8):
        assert office.get(f"{office.base}/api/v1/referrals/", timeout=30).status_code == 200
    assert proxy.connections > 0

    proxy.cut(how)
    try:
        outage_key = f"{run}-during"
        answers = []
        # More requests than server threads, so each finds its connection gone (when
        # unreachable, each waits out the connect timeout: one round is enough).
        for _ in range(3 if how == "stopped" else 1):
            answers += [
                office.get(f"{office.base}/api/v1/referrals/", timeout=30),
                office.get(f"{office.base}/api/v1/referrals/{acknowledged[f'{run}-before-0']}/",
                           timeout=30),
                create_referral(office, f"{run}-during", key=outage_key),
                graphql(office, GRAPHQL_QUERY),
                graphql(office, GRAPHQL_MUTATION, {
                    "key": f"{run}-gql-during",
                    "in": {"client": {"givenName": "Rahim", "familyName": "Uddin"},
                           "consent": {"method": "WRITTEN"}, "receivingOrg": "camba-legal",
                           "serviceType": "removal-defense", "intakeChannel": "DISTRICT_OFFICE",
                           "summary": f"outage test {run}-gql-during"}}),
                requests.post(f"{server.url}/o/token/", data={"grant_type": "client_credentials"},
                              auth=("demo-camba", "demo-camba-secret"), timeout=30),
            ]
        for response in answers:
            assert_unavailable(response)
    finally:
        proxy.restore()

    # The same process recovers by itself, within seconds.
    recovered = wait_until(
        lambda: office.get(f"{office.base}/api/v1/referrals/", timeout=30).status_code == 200,
        timeout=RECOVERY_SECONDS, interval=0.25)
    assert recovered, server.log_tail()
    for _ in range(8):  # every worker thread, not just the first to reconnect
        assert office.get(f"{office.base}/api/v1/referrals/", timeout=30).status_code == 200
    assert graphql(office, GRAPHQL_QUERY).json()["data"]["referrals"]["edges"]
    assert server.process.poll() is None and server.process.pid == pid

    # Nothing acknowledged was lost.
    for marker, referral_id in acknowledged.items():
        response = office.get(f"{office.base}/api/v1/referrals/{referral_id}/", timeout=30)
        assert response.status_code == 200, (marker, response.text)
        assert count_by_summary(direct, marker) == 1

    # Nothing refused during the outage was written; retried, it is written once.
    assert count_by_summary(direct, f"{run}-during") == 0
    assert count_by_summary(direct, f"{run}-gql-during") == 0
    first = create_referral(office, f"{run}-during", key=outage_key)
    assert first.status_code == 201, first.text
    again = create_referral(office, f"{run}-during", key=outage_key)
    assert again.status_code == 201, again.text
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json()["id"] == first.json()["id"]
    assert count_by_summary(direct, f"{run}-during") == 1

    # The log shows an outage, and no server error.
    log = server.log_since(log_offset)
    assert "database unavailable" in log
    assert not server.failures_since(log_offset), log[-5000:]
