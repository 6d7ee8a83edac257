"""Webhooks on the real stack: gunicorn, PostgreSQL, Redis and a Celery worker.

A worker is SIGKILLed while its delivery is in flight (the endpoint holds the
request). The delivery was not recorded as done, so once a worker runs again the
outbox sweeper hands the row over again and the event arrives, with the same
webhook-id, and the interrupted attempt stays in the delivery log."""

from __future__ import annotations

import pytest
import requests
from standardwebhooks.webhooks import Webhook

from tests.webhook_receiver import Receiver

from .server import LiveServer, database_url, wait_until
from .worker import CeleryWorker, purge_queue, queue_env, redis_reachable

pytestmark = pytest.mark.live


@pytest.fixture(scope="module")
def stack(live_database, tmp_path_factory):
    if not redis_reachable():
        pytest.fail("Redis is not reachable at 127.0.0.1:6379 (the Celery broker); start it: "
                    "redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save ''")
    env = queue_env()
    log_dir = tmp_path_factory.mktemp("webhook-stack")
    server = LiveServer(database_url(live_database), log_dir=log_dir, env=env)
    server.start()
    try:
        yield server, env, log_dir
    finally:
        server.stop()
        purge_queue(env)


def _session(server, client_id: str) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {server.token(client_id)}"
    return session


def test_a_worker_killed_mid_delivery_delivers_after_restart(stack):
    server, env, log_dir = stack
    camba = _session(server, "demo-camba")
    with Receiver() as endpoint:
        created = camba.post(f"{server.url}/api/v1/webhooks/", json={
            "url": endpoint.url, "events": ["referral.created"]}, timeout=30)
        assert created.status_code == 201, created.text
        hook, secret = created.json()["id"], created.json()["secret"]

        endpoint.hold.clear()  # the endpoint takes its time answering
        first = CeleryWorker(server.database_url, env, log_dir)
        first.start()
        try:
            ping = camba.post(f"{server.url}/api/v1/webhooks/{hook}/ping/", timeout=30)
            assert ping.status_code == 202, ping.text
            assert endpoint.arrived.wait(60), f"no delivery arrived:\n{first.log_text()[-3000:]}"
        finally:
            first.kill()  # mid-delivery: the request is still being held
        endpoint.hold.set()

        second = CeleryWorker(server.database_url, env, log_dir)
        second.start()
        try:
            def delivered():
                log = camba.get(f"{server.url}/api/v1/webhooks/{hook}/deliveries/",
                                timeout=30).json()["results"]
                return log if log and log[0]["state"] == "succeeded" else None

            log = wait_until(delivered, timeout=60, interval=0.5)
            assert log, f"not redelivered:\n{second.log_text()[-3000:]}"
        finally:
            second.stop()

    [row] = log
    assert row["attempts"] == 2
    interrupted, retried = row["attempt_log"]
    assert interrupted["finished_at"] is None and retried["status_code"] == 204
    assert len(endpoint.requests) == 2
    ids = {request.headers["webhook-id"] for request in endpoint.requests}
    assert ids == {row["event_id"]}  # the same event: a receiver can drop the repeat
    event = Webhook(secret).verify(endpoint.requests[-1].body, endpoint.requests[-1].headers)
    assert event["type"] == "webhook.ping" and event["data"]["webhook"]["id"] == hook
