"""A client generated from the served OpenAPI document drives the API end to end.

openapi-python-client turns ``/api/schema/`` into a typed package, as a partner's
developer would; the test then makes a referral with a new client and consent, has the
receiver accept, start and complete it with outcomes, subscribes to webhooks, pings and
lists deliveries, all through that package's parsed models, on the real stack
(gunicorn, PostgreSQL, Redis, a Celery worker). A field the document declares
required and non-null but the server sends as null (as ``secret_rotated_at`` and
``next_attempt_at`` once were) makes the generated parser raise, so the test fails.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime

import pytest
import requests

from tests.webhook_receiver import Receiver

from .server import BASE_DIR, LiveServer, database_url, wait_until
from .worker import CeleryWorker, purge_queue, queue_env, redis_reachable

pytestmark = pytest.mark.live

PACKAGE = "coalition_generated_client"
GENERATOR = BASE_DIR / ".venv" / "bin" / "openapi-python-client"


@pytest.fixture(scope="module")
def stack(live_database, tmp_path_factory):
    if not redis_reachable():
        pytest.fail("Redis is not reachable at 127.0.0.1:6379 (the Celery broker); start it: "
                    "redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save ''")
    env = queue_env()
    log_dir = tmp_path_factory.mktemp("generated-client")
    server = LiveServer(database_url(live_database), log_dir=log_dir, env=env)
    server.start()
    worker = CeleryWorker(server.database_url, env, log_dir)
    worker.start()
    try:
        yield server, worker
    finally:
        worker.stop()
        server.stop()
        purge_queue(env)


@pytest.fixture(scope="module")
def generated(stack, tmp_path_factory):
    """The package openapi-python-client writes from the document the server serves."""
    server, _ = stack
    root = tmp_path_factory.mktemp("client-package")
    document = root / "openapi.yaml"
    document.write_text(requests.get(f"{server.url}/api/schema/", timeout=30).text)
    config = root / "config.yaml"
    config.write_text(f"package_name_override: {PACKAGE}\nproject_name_override: {PACKAGE}\n")
    result = subprocess.run(
        [str(GENERATOR), "generate", "--path", str(document), "--meta", "none",
         "--config", str(config), "--output-path", str(root / PACKAGE), "--fail-on-warning"],
        cwd=root, capture_output=True, text=True, timeout=180,
        # The generator formats its output with ruff, which is in the virtualenv.
        env={**os.environ, "PATH": f"{GENERATOR.parent}{os.pathsep}{os.environ['PATH']}"})
    assert result.returncode == 0, f"generation failed:\n{result.stdout}\n{result.stderr}"
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(root))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def _api(package, name: str):
    return importlib.import_module(f"{PACKAGE}.api.{name}")


def _client(package, server, client_id: str):
    # An undocumented status raises: every answer must be one the document declares.
    return package.AuthenticatedClient(base_url=server.url, token=server.token(client_id),
                                       raise_on_unexpected_status=True, timeout=30)


def test_generated_client_runs_the_loop_and_the_webhooks(stack, generated):
    server, worker = stack
    models = importlib.import_module(f"{PACKAGE}.models")
    office = _client(generated, server, "demo-peralta-office")
    camba = _client(generated, server, "demo-camba")

    with Receiver() as endpoint:
        # Subscribe (the secret is shown once; never rotated, so secret_rotated_at is null).
        created = _api(generated, "webhooks.webhooks_create").sync_detailed(
            client=camba, body=models.WebhookSubscriptionInputRequest(
                url=endpoint.url,
                events=[models.EventsEnum.REFERRAL_CREATED,
                        models.EventsEnum.REFERRAL_STATUS_CHANGED]))
        assert created.status_code == 201, created.content
        subscription = created.parsed
        assert isinstance(subscription, models.WebhookSubscriptionWithSecret)
        assert subscription.secret and subscription.secret_rotated_at is None
        fetched = _api(generated, "webhooks.webhooks_retrieve").sync(
            str(subscription.id), client=camba)
        assert fetched.secret_rotated_at is None and fetched.url == endpoint.url

        # A referral with a new client and the consent given now.
        made = _api(generated, "referrals.referrals_create").sync_detailed(
            client=office, idempotency_key=str(uuid.uuid4()),
            body=models.ReferralCreateRequest(
                receiving_org="camba-legal", service_type="asylum",
                intake_channel=models.IntakeChannelEnum.DISTRICT_OFFICE,
                priority=models.PriorityEnum.URGENT,
                summary="Asylum screening; one-year filing deadline in March.",
                client=models.ClientInputRequest(given_name="Rosa", family_name="Quispe",
                                                 preferred_languages=["es", "en"]),
                consent=models.ConsentInputRequest(
                    method=models.ConsentMethodEnum.VERBAL,
                    captured_at=datetime.now(UTC))))
        assert made.status_code == 201, made.content
        referral = made.parsed
        assert referral.status == models.ReferralStatusEnum.REQUESTED
        assert made.headers["ETag"] == f'"{referral.version}"'

        # The receiver accepts, starts and completes it, each time on the version it read.
        transition = _api(generated, "referrals.referrals_transition_create")
        steps = [(models.ReferralStatusEnum.ACCEPTED, []),
                 (models.ReferralStatusEnum.IN_PROGRESS, []),
                 (models.ReferralStatusEnum.COMPLETED,
                  [models.OutcomeInputRequest(code=models.OutcomeCodeEnum.APPLICATION_FILED,
                                              note="I-589 filed")])]
        for to, outcomes in steps:
            moved = transition.sync_detailed(
                str(referral.id), client=camba, if_match=f'"{referral.version}"',
                body=models.TransitionRequest(to=to, outcomes=outcomes))
            assert moved.status_code == 200, moved.content
            assert moved.parsed.version == referral.version + 1
            referral = moved.parsed
        assert referral.status == models.ReferralStatusEnum.COMPLETED
        assert [o.code for o in referral.outcomes] == [models.OutcomeCodeEnum.APPLICATION_FILED]

        # A stale version is a problem document the client parses, with its code.
        stale = transition.sync_detailed(
            str(referral.id), client=camba, if_match='"1"',
            body=models.TransitionRequest(to=models.ReferralStatusEnum.CANCELLED, reason="x"))
        assert stale.status_code == 412
        assert isinstance(stale.parsed, models.Problem)
        assert stale.parsed.code == models.ProblemCodeEnum.VERSION_MISMATCH

        # The sender reads the outcome back.
        read = _api(generated, "referrals.referrals_retrieve").sync(str(referral.id),
                                                                     client=office)
        assert read.status == models.ReferralStatusEnum.COMPLETED

        # A ping, then the delivery log: created, three status changes and the ping,
        # delivered; a succeeded delivery has no next attempt (null).
        ping = _api(generated, "webhooks.webhooks_ping_create").sync_detailed(
            str(subscription.id), client=camba)
        assert ping.status_code == 202, ping.content
        deliveries = _api(generated, "webhooks.webhooks_deliveries_list")

        def all_delivered():
            page = deliveries.sync(str(subscription.id), client=camba, page_size=50)
            done = [d for d in page.results if d.state == models.StateEnum.SUCCEEDED]
            return page.results if len(done) == len(page.results) == 5 else None

        log = wait_until(all_delivered, timeout=90, interval=0.5)
        assert log, f"deliveries did not all succeed:\n{worker.log_text()[-3000:]}"
        assert all(d.next_attempt_at is None for d in log)
        assert sorted(d.event_type for d in log) == sorted(
            ["referral.created"] + ["referral.status_changed"] * 3 + ["webhook.ping"])
        one = _api(generated, "webhooks.webhooks_deliveries_retrieve").sync(
            str(subscription.id), str(log[0].id), client=camba)
        assert one.id == log[0].id and one.next_attempt_at is None
        assert len(endpoint.wait_for(5)) >= 5
