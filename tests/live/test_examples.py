"""examples/ runs: the partner client and the GraphQL example against a live server.

The scripts run as a partner would run them (subprocesses, configured by environment
variables); the token cache and signature checks are also driven in-process, where
the test can look inside. Webhooks go end to end: a server and a Celery worker on
Redis deliver to `partner_client.py listen`, which must print the event once and turn
away forged requests.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from standardwebhooks.webhooks import Webhook

from .server import LiveServer, database_url, stop_process, wait_until
from .worker import REDIS_URL, CeleryWorker, purge_queue, queue_env, redis_reachable

pytestmark = pytest.mark.live

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
PARTNER_CLIENT = EXAMPLES / "partner_client.py"
GRAPHQL_EXAMPLE = EXAMPLES / "graphql_example.py"
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
CAMBA = "camba-legal"


def load_partner_client():
    spec = importlib.util.spec_from_file_location("partner_client", PARTNER_CLIENT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


partner_client = load_partner_client()


def example_env(server: LiveServer, **extra) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("COALITION_")}
    return {**env, "COALITION_URL": server.url, "COALITION_CLIENT_ID": "demo-camba",
            "COALITION_CLIENT_SECRET": "demo-camba-secret", **extra}


def run(server: LiveServer, script: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(script), *args], env=example_env(server),
                          cwd=cwd, capture_output=True, text=True, timeout=120)


def sync_lines(server: LiveServer, state: Path) -> list[str]:
    result = run(server, PARTNER_CLIENT, "sync", "--state", str(state), cwd=state.parent)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def line_ids(lines: list[str]) -> list[str]:
    return [re.search(UUID, line).group(0) for line in lines]


def create_referral(server: LiveServer, marker: str) -> str:
    """The district office refers a new client to CAMBA (plain requests)."""
    response = requests.post(
        f"{server.url}/api/v1/referrals/",
        headers={"Authorization": f"Bearer {server.token('demo-peralta-office')}",
                 "Idempotency-Key": str(uuid.uuid4())},
        json={"client": {"given_name": "Ana", "family_name": f"Example {marker}",
                         "preferred_languages": ["es"]},
              "consent": {"method": "verbal"}, "receiving_org": CAMBA,
              "service_type": "asylum", "priority": "urgent",
              "intake_channel": "district-office", "summary": f"examples test {marker}"},
        timeout=30)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def camba_get(server: LiveServer, path: str, **params) -> requests.Response:
    response = requests.get(f"{server.url}{path}", params=params, timeout=30,
                            headers={"Authorization": f"Bearer {server.token('demo-camba')}"})
    assert response.status_code == 200, response.text
    return response


def camba_referrals(server: LiveServer, **filters) -> list[dict]:
    """Every referral CAMBA can see (matching filters), through the paginated list."""
    referrals, url = [], f"{server.url}/api/v1/referrals/"
    params = {"page_size": 100, **filters}
    while url:
        page = requests.get(url, params=params, timeout=30,
                            headers={"Authorization": f"Bearer {server.token('demo-camba')}"})
        assert page.status_code == 200, page.text
        referrals += page.json()["results"]
        url, params = page.json()["next"], None
    return referrals


# --- sync, accept, GraphQL ---------------------------------------------------------------


def test_sync_prints_each_change_once_and_accept_accepts(api_server, tmp_path):
    state = tmp_path / "sync.json"

    # First sync: every referral CAMBA sends or receives; NEW on those waiting for it.
    lines = sync_lines(api_server, state)
    visible = camba_referrals(api_server)
    assert sorted(line_ids(lines)) == sorted(r["id"] for r in visible)
    waiting = {r["id"] for r in visible if r["receiving_org"] == CAMBA
               and r["status"] == "requested"}
    assert waiting, "the demo data has referrals waiting for CAMBA"
    assert set(line_ids([line for line in lines if line.startswith("NEW ")])) == waiting
    assert json.loads(state.read_text())["since"]

    # From the saved position: nothing new.
    assert sync_lines(api_server, state) == []

    # Another organisation refers a client to CAMBA: exactly that one, marked NEW. (The
    # feed only shows what every running transaction on the database server is past,
    # so a transaction open elsewhere can hold it back briefly.)
    referral_id = create_referral(api_server, "sync")
    lines = wait_until(lambda: sync_lines(api_server, state), timeout=30, interval=0.5)
    assert len(lines) == 1, lines
    assert lines[0].split()[:3] == ["NEW", referral_id, "requested"]

    # accept moves it to accepted.
    result = run(api_server, PARTNER_CLIENT, "accept", referral_id, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [referral_id, "accepted", "v2"]
    referral = camba_get(api_server, f"/api/v1/referrals/{referral_id}/")
    assert referral.json()["status"] == "accepted"
    assert referral.headers["ETag"] == '"2"'

    # The next sync shows the change, no longer NEW.
    lines = wait_until(lambda: sync_lines(api_server, state), timeout=30, interval=0.5)
    assert [line.split()[:2] for line in lines] == [[referral_id, "accepted"]]

    # Accepting it again is an invalid transition: the problem's code, exit status 1.
    result = run(api_server, PARTNER_CLIENT, "accept", referral_id, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout == ""
    assert "409" in result.stderr and "invalid_transition" in result.stderr


def test_accept_retries_once_when_the_referral_changed_meanwhile(api_server, monkeypatch):
    referral_id = create_referral(api_server, "412")
    client = partner_client.CoalitionClient(api_server.url, "demo-camba", "demo-camba-secret")
    real_request = client.request
    stale = {"done": False}

    def request(method, path, **kwargs):
        if method == "POST" and not stale["done"]:
            stale["done"] = True  # as if someone else wrote between our read and write
            kwargs["headers"] = {**kwargs.get("headers", {}), "If-Match": '"0"'}
        return real_request(method, path, **kwargs)

    monkeypatch.setattr(client, "request", request)
    referral = client.accept(referral_id)
    assert stale["done"]
    assert (referral["id"], referral["status"], referral["version"]) == (
        referral_id, "accepted", 2)


def test_graphql_example_accepts_a_waiting_referral(api_server, tmp_path):
    waiting = {r["id"] for r in camba_referrals(api_server, receiver=CAMBA,
                                                   status="requested")}
    assert waiting

    result = run(api_server, GRAPHQL_EXAMPLE, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    listed = set(line_ids([line for line in result.stdout.splitlines()
                           if line.startswith("  ")]))
    assert listed and listed <= waiting
    accepted = re.search(rf"^Accepted ({UUID}): ACCEPTED v2 ", result.stdout, re.M)
    assert accepted, result.stdout
    referral_id = accepted.group(1)
    assert referral_id in waiting
    assert camba_get(api_server, f"/api/v1/referrals/{referral_id}/").json()["status"] \
        == "accepted"

    # A referral id given on the command line: that one. Again: invalid_transition.
    other = sorted(waiting - {referral_id})[0]
    result = run(api_server, GRAPHQL_EXAMPLE, other, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"Accepted {other}: ACCEPTED v2 " in result.stdout
    result = run(api_server, GRAPHQL_EXAMPLE, other, cwd=tmp_path)
    assert result.returncode == 1
    assert "invalid_transition" in result.stderr


# --- the token cache ----------------------------------------------------------------------


def test_the_client_keeps_its_token_and_renews_it(api_server, tmp_path):
    client = partner_client.CoalitionClient(api_server.url, "demo-camba", "demo-camba-secret")
    for _ in range(3):
        client.request("GET", "/api/v1/referrals/", params={"page_size": 1})
    list(client.sync(tmp_path / "sync.json"))
    assert client.tokens_fetched == 1

    # Expired (or within a minute of it): a new token before the call.
    client.expires_at = time.time() - 1
    client.request("GET", "/api/v1/referrals/", params={"page_size": 1})
    assert client.tokens_fetched == 2
    client.expires_at = time.time() + 30
    client.request("GET", "/api/v1/referrals/", params={"page_size": 1})
    assert client.tokens_fetched == 3

    # Revoked while the client still thinks it good: the 401 gets a new token, once.
    revoked = requests.post(f"{api_server.url}/o/revoke_token/", data={"token": client.token},
                            auth=("demo-camba", "demo-camba-secret"), timeout=30)
    assert revoked.status_code == 200, revoked.text
    old = client.token
    client.request("GET", "/api/v1/referrals/", params={"page_size": 1})
    assert client.tokens_fetched == 4 and client.token != old
    client.request("GET", "/api/v1/referrals/", params={"page_size": 1})
    assert client.tokens_fetched == 4

    # Wrong credentials: an ApiError with OAuth's code, no retry loop.
    wrong = partner_client.CoalitionClient(api_server.url, "demo-camba", "wrong")
    with pytest.raises(partner_client.ApiError) as error:
        wrong.request("GET", "/api/v1/referrals/")
    assert (error.value.status, error.value.code) == (401, "invalid_client")


def test_verify_webhook_accepts_only_a_good_signature():
    secret = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"id":"e1","type":"webhook.ping","occurred_at":"x","data":{"webhook":{"id":"w"}}}'
    headers = signed(secret, "msg_1", body)
    assert partner_client.verify_webhook(secret, body, headers)["type"] == "webhook.ping"

    other_secret = "whsec_" + "C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
    broken = [
        (body + b" ", headers),                                     # body changed
        (body, signed(other_secret, "msg_1", body)),                # someone else's secret
        (body, {**headers, "webhook-id": "msg_2"}),                 # id changed
        (body, {**headers, "webhook-signature": "v1,a,b"}),         # malformed signature
        (body, {**headers, "webhook-signature": "v1,%%%"}),         # not base64
        (body, {k: v for k, v in headers.items() if k != "webhook-signature"}),
        (body, signed(secret, "msg_1", body, at=time.time() - 600)),  # too old
        (b"\xff", signed(secret, "msg_1", b"\xff")),                 # not UTF-8
    ]
    for bad_body, bad_headers in broken:
        with pytest.raises(partner_client.InvalidWebhook):
            partner_client.verify_webhook(secret, bad_body, bad_headers)


def signed(secret: str, message_id: str, body: bytes, at: float | None = None) -> dict:
    moment = datetime.fromtimestamp(at if at is not None else time.time(), UTC)
    return {"webhook-id": message_id, "webhook-timestamp": str(int(moment.timestamp())),
            "webhook-signature": Webhook(secret).sign(message_id, moment,
                                                      body.decode(errors="replace"))}


# --- webhooks, end to end -------------------------------------------------------------------


@pytest.fixture
def delivering_server(live_database, tmp_path):
    """A server and a Celery worker on a Redis queue of their own, delivering webhooks."""
    if not redis_reachable():
        pytest.skip(f"webhook delivery needs Redis at {REDIS_URL} (set TEST_REDIS_URL)")
    env = queue_env()
    server = LiveServer(database_url(live_database), log_dir=tmp_path, env=env)
    worker = CeleryWorker(database_url(live_database), env, tmp_path)
    try:
        server.start()
        worker.start()
        yield server
    finally:
        worker.stop()
        server.stop()
        purge_queue(env)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Listener:
    """`partner_client.py listen` on a port, its output collected line by line."""

    def __init__(self, server: LiveServer, port: int, secret: str, cwd: Path):
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.lines: list[str] = []
        self.errors: list[str] = []
        self.process = subprocess.Popen(
            [sys.executable, str(PARTNER_CLIENT), "listen", "--port", str(port)],
            env=example_env(server, COALITION_WEBHOOK_SECRET=secret), cwd=cwd,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for stream, lines in ((self.process.stdout, self.lines),
                              (self.process.stderr, self.errors)):
            threading.Thread(target=self._collect, args=(stream, lines), daemon=True).start()

    @staticmethod
    def _collect(stream, lines: list[str]) -> None:
        for line in stream:
            lines.append(line.rstrip("\n"))

    def wait_ready(self, timeout: float = 15) -> None:
        def accepting():
            if self.process.poll() is not None:
                return True  # it died: stop waiting; asserted below
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return True
            except OSError:
                return False
        assert wait_until(accepting, timeout) and self.process.poll() is None, \
            f"listen did not start: {self.errors}"

    def stop(self) -> None:
        stop_process(self.process, timeout=10)


def test_webhooks_reach_the_listener_verified_and_once(delivering_server, tmp_path):
    server = delivering_server
    camba = {"Authorization": f"Bearer {server.token('demo-camba')}"}
    # The port is chosen before registering (the URL names it), the listener started
    # after (it needs the secret the registration returns, once).
    port = free_port()
    created = requests.post(f"{server.url}/api/v1/webhooks/", headers=camba, timeout=30, json={
        "url": f"http://127.0.0.1:{port}/coalition",
        "events": ["referral.created", "referral.status_changed"],
        "description": "examples/partner_client.py listen"})
    assert created.status_code == 201, created.text
    webhook = created.json()
    assert webhook["secret"].startswith("whsec_")

    listener = Listener(server, port, webhook["secret"], tmp_path)
    try:
        listener.wait_ready()

        ping = requests.post(f"{server.url}/api/v1/webhooks/{webhook['id']}/ping/",
                             headers=camba, timeout=30)
        assert ping.status_code == 202, ping.text
        assert wait_until(lambda: f"webhook.ping {webhook['id']}" in listener.lines, 20), (
            listener.lines, listener.errors)

        referral_id = create_referral(server, "webhook")

        def created_line():
            return [line for line in listener.lines
                    if line.startswith(f"referral.created {referral_id} ")]

        lines = wait_until(created_line, timeout=20)
        deliveries = requests.get(f"{server.url}/api/v1/webhooks/{webhook['id']}/deliveries/",
                                  headers=camba, timeout=30)
        assert lines, (f"no referral.created for {referral_id}; listener printed "
                       f"{listener.lines}, stderr {listener.errors}; deliveries "
                       f"{deliveries.text[:2000]}")
        assert lines == [f"referral.created {referral_id} status=requested version=1"]

        # The delivery log agrees: our 204.
        def succeeded():
            response = requests.get(
                f"{server.url}/api/v1/webhooks/{webhook['id']}/deliveries/", headers=camba,
                timeout=30)
            return [d for d in response.json()["results"]
                    if d["event_type"] == "referral.created"
                    and d["payload"]["data"]["referral"]["id"] == referral_id
                    and d["state"] == "succeeded" and d["last_status_code"] == 204]
        assert wait_until(succeeded, timeout=10)

        # Forged: signed with another secret, or not signed at all: 400, nothing printed.
        made_up = str(uuid.uuid4())
        body = json.dumps({"id": str(uuid.uuid4()), "type": "referral.created",
                           "occurred_at": "2017-01-01T00:00:00Z",
                           "data": {"referral": {"id": made_up, "version": 1,
                                                 "status": "requested"}}}).encode()
        forged = signed("whsec_" + "C2FVsBQIhrscChlQIMV+b5sSYspob7oD", "msg_forged", body)
        for headers in (forged, {}, {**forged, "webhook-signature": "v1,a,b"}):
            response = requests.post(f"{listener.url}/coalition", data=body, timeout=10,
                                     headers={"Content-Type": "application/json", **headers})
            assert response.status_code == 400

        # A good signature, sent twice (as a retried delivery would be): printed once.
        genuine = signed(webhook["secret"], "msg_genuine", body)
        for _ in range(2):
            response = requests.post(f"{listener.url}/coalition", data=body, timeout=10,
                                     headers={"Content-Type": "application/json", **genuine})
            assert response.status_code == 204
        time.sleep(0.5)
        assert [line for line in listener.lines if made_up in line] == [
            f"referral.created {made_up} status=requested version=1"]
        assert listener.process.poll() is None, listener.errors
    finally:
        listener.stop()
