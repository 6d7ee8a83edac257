"""The outbox and the worker's side: what gets recorded, signed, sent and retried."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from core.errors import DomainError
from referrals import services as referral_services
from referrals.models import Status
from tests.referrals.factories import RECEIVER, SENDER, advance, make_referral, principal_for
from webhooks import delivery, queue, services, signing, transport
from webhooks.models import DeliveryState, EventType, WebhookDelivery, WebhookSubscription

ALL_EVENTS = [e for e in EventType.values if e != EventType.WEBHOOK_PING]


def subscribe(slug: str, url: str, events=None) -> tuple[WebhookSubscription, str]:
    return services.subscription_create(
        principal=principal_for(slug, "webhooks:manage"),
        data=services.SubscriptionInput(url=url, events=events or ALL_EVENTS))


# --- the outbox ------------------------------------------------------------------

def test_a_referral_is_announced_to_both_parties_with_ids_only(coalition, local_targets,
                                                              receiver):
    sender_hook, _ = subscribe(SENDER, receiver.url)
    receiver_hook, _ = subscribe(RECEIVER, receiver.url)
    bystander_hook, _ = subscribe("cala", receiver.url)
    loop = make_referral(family_name="Quispe-Sensitive", client_fields={"a_number": "123456789"})

    rows = WebhookDelivery.objects.filter(event_type=EventType.REFERRAL_CREATED)
    assert {d.subscription_id for d in rows} == {sender_hook.pk, receiver_hook.pk}
    assert len({d.event_id for d in rows}) == 1  # one event, fanned out
    payload = json.loads(rows[0].body)
    assert payload["type"] == "referral.created"
    assert payload["data"] == {"referral": {
        "id": str(loop.id), "version": 1, "status": "requested",
        "href": f"/api/v1/referrals/{loop.id}/"}}
    assert not bystander_hook.deliveries.exists()
    for secret_value in ("Quispe-Sensitive", "Rosa", "123456789", "718-555", "rosa@"):
        assert secret_value not in rows[0].body


def test_each_change_is_announced_only_to_subscribers_of_its_type(coalition, local_targets,
                                                                 receiver):
    hook, _ = subscribe(RECEIVER, receiver.url, events=["referral.status_changed"])
    loop = advance(make_referral(), Status.IN_PROGRESS)
    referral_services.referral_note_add(principal=loop.receiver, referral_id=loop.id,
                                        text="Called the client")
    sent = list(hook.deliveries.order_by("created_at"))
    assert [d.event_type for d in sent] == ["referral.status_changed"] * 2
    assert [json.loads(d.body)["data"]["referral"]["status"] for d in sent] == [
        "accepted", "in-progress"]
    assert json.loads(sent[1].body)["data"]["previous_status"] == "accepted"


def test_notes_and_erasure_are_announced(coalition, local_targets, receiver):
    hook, _ = subscribe(SENDER, receiver.url)
    loop = make_referral()
    note = referral_services.referral_note_add(principal=loop.receiver, referral_id=loop.id,
                                               text="Intake booked")
    referral_services.client_erase(principal=loop.sender, client_id=loop.client.pk)
    by_type = {d.event_type: json.loads(d.body) for d in hook.deliveries.all()}
    assert by_type["referral.note_added"]["data"]["note"] == {"id": str(note.pk)}
    assert "Intake booked" not in json.dumps(by_type)
    assert by_type["client.erased"]["data"]["client"]["id"] == str(loop.client.pk)


def test_a_rolled_back_change_announces_nothing(coalition, local_targets, receiver,
                                                django_capture_on_commit_callbacks):
    hook, _ = subscribe(RECEIVER, receiver.url)
    loop = make_referral()
    before = hook.deliveries.count()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            referral_services.referral_transition(
                principal=loop.receiver, referral_id=loop.id, to=Status.ACCEPTED,
                expected_version=loop.referral.version)
            assert hook.deliveries.count() == before + 1  # written with the change...
            raise RuntimeError("the request failed after the transition")
    assert hook.deliveries.count() == before  # ...and gone with it
    assert callbacks == []  # nothing was handed to the queue


def test_a_refused_change_announces_nothing(coalition, local_targets, receiver):
    hook, _ = subscribe(RECEIVER, receiver.url)
    loop = make_referral()
    before = hook.deliveries.count()
    with pytest.raises(DomainError):  # requested -> completed is not a move
        referral_services.referral_transition(principal=loop.receiver, referral_id=loop.id,
                                              to=Status.COMPLETED, expected_version=1)
    assert hook.deliveries.count() == before


def test_the_queue_hears_of_a_delivery_only_after_commit(coalition, local_targets, receiver,
                                                         django_capture_on_commit_callbacks,
                                                         monkeypatch):
    queued = []
    monkeypatch.setattr("webhooks.queue.enqueue", lambda ids: queued.extend(ids))
    monkeypatch.setattr("webhooks.services.enqueue", lambda ids: queued.extend(ids))
    subscribe(RECEIVER, receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        loop = make_referral()
        assert queued == []
    assert queued == [WebhookDelivery.objects.get(
        event_type="referral.created", body__contains=str(loop.id)).pk]


# --- signing ------------------------------------------------------------------------

def test_signature_is_standard_webhooks_hmac_sha256():
    secret = signing.new_secret()
    body = '{"id":"e1","type":"webhook.ping"}'
    at = datetime.now(UTC)
    headers = signing.signed_headers(message_id="e1", body=body, secrets=[secret], at=at)
    # An independent computation of the signature...
    key = base64.b64decode(secret.removeprefix("whsec_"))
    expected = base64.b64encode(hmac.new(key, f"e1.{int(at.timestamp())}.{body}".encode(),
                                         hashlib.sha256).digest()).decode()
    assert headers["webhook-signature"] == f"v1,{expected}"
    # ...and the reference library accepts it.
    assert Webhook(secret).verify(body, headers) == json.loads(body)


@pytest.mark.parametrize("tamper", ["body", "id", "timestamp", "secret", "old", "future"])
def test_tampered_or_replayed_deliveries_fail_verification(tamper):
    secret = signing.new_secret()
    body = '{"id":"e1","type":"webhook.ping"}'
    at = datetime.now(UTC) - (timedelta(minutes=6) if tamper == "old" else timedelta()) \
        + (timedelta(minutes=6) if tamper == "future" else timedelta())
    headers = signing.signed_headers(message_id="e1", body=body, secrets=[secret], at=at)
    if tamper == "body":
        body = body.replace("ping", "pong")
    if tamper == "id":
        headers["webhook-id"] = "e2"
    if tamper == "timestamp":
        headers["webhook-timestamp"] = str(int(at.timestamp()) + 1)
    verifier = Webhook(signing.new_secret() if tamper == "secret" else secret)
    with pytest.raises(WebhookVerificationError):
        verifier.verify(body, headers)


def test_after_rotation_both_secrets_verify_for_a_day(coalition, local_targets, receiver):
    hook, old = subscribe(RECEIVER, receiver.url)
    hook, new = services.subscription_rotate_secret(
        principal=principal_for(RECEIVER, "webhooks:manage"), subscription_id=hook.pk)
    assert new != old and len(hook.signing_secrets()) == 2
    body = "{}"
    headers = signing.signed_headers(message_id="x", body=body, secrets=hook.signing_secrets(),
                                     at=timezone.now())
    Webhook(old).verify(body, headers)
    Webhook(new).verify(body, headers)
    assert hook.signing_secrets(now=timezone.now() + timedelta(hours=25)) == [new]


# --- attempts and the retry schedule -------------------------------------------------

def test_a_delivery_arrives_signed_and_is_marked_succeeded(coalition, local_targets, receiver):
    hook, secret = subscribe(RECEIVER, receiver.url)
    loop = make_referral()
    row = hook.deliveries.get()
    assert delivery.attempt_delivery(row.pk) == DeliveryState.SUCCEEDED
    [request] = receiver.requests
    assert request.path == "/hooks/coalition"
    event = Webhook(secret).verify(request.body, request.headers)
    assert event["data"]["referral"]["id"] == str(loop.id)
    assert request.headers["webhook-id"] == str(row.event_id)
    assert request.headers["Content-Type"] == "application/json"
    row.refresh_from_db()
    assert row.attempts == 1 and row.delivered_at and row.last_status_code == 204
    assert delivery.attempt_delivery(row.pk) is None  # done: a repeated message sends nothing
    assert len(receiver.requests) == 1


def test_schedule_doubles_from_a_minute_to_four_hours_and_ends_after_a_day():
    start = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    now, waits = start, []
    attempts = 1
    while (at := delivery.next_attempt_at(attempts=attempts, created_at=start, now=now)):
        waits.append(at - now)
        now, attempts = at, attempts + 1
    minutes = [w / timedelta(minutes=1) for w in waits]
    assert minutes[:9] == [1, 2, 4, 8, 16, 32, 64, 128, 240]
    assert set(minutes[9:-1]) == {240}
    assert now == start + timedelta(hours=24)  # the last try is at the end of the day
    assert len(waits) == 13  # 14 attempts in all


def test_a_failing_endpoint_is_retried_on_schedule_then_given_up(coalition, local_targets,
                                                                 receiver, monkeypatch):
    receiver.default_status = 500
    hook, _ = subscribe(RECEIVER, receiver.url)
    make_referral()
    row = hook.deliveries.get()
    clock = [row.created_at]
    monkeypatch.setattr(delivery.timezone, "now", lambda: clock[0])
    attempt_times = []
    for _ in range(30):
        row.refresh_from_db()
        if row.state != DeliveryState.PENDING:
            break
        clock[0] = row.next_attempt_at
        attempt_times.append(clock[0])
        delivery.attempt_delivery(row.pk)
    row.refresh_from_db()
    assert row.state == DeliveryState.FAILED
    assert row.attempts == len(receiver.requests) == 14
    gaps = [(b - a) / timedelta(minutes=1) for a, b in zip(attempt_times, attempt_times[1:])]
    assert gaps[:5] == [1, 2, 4, 8, 16]
    assert attempt_times[-1] == row.created_at + timedelta(hours=24)
    log = list(row.attempt_log.all())
    assert [a.number for a in log] == list(range(1, 15))
    assert all(a.status_code == 500 and a.error == "HTTP 500" for a in log)


def test_a_recovered_endpoint_gets_the_retry(coalition, local_targets, receiver):
    receiver.responses = [503]
    hook, _ = subscribe(RECEIVER, receiver.url)
    make_referral()
    row = hook.deliveries.get()
    assert delivery.attempt_delivery(row.pk) == DeliveryState.PENDING
    row.refresh_from_db()
    # A minute after the attempt ended.
    wait = row.next_attempt_at - row.last_attempt_at
    assert timedelta(minutes=1) <= wait < timedelta(minutes=1, seconds=5)
    assert delivery.attempt_delivery(row.pk) is None  # not due yet
    WebhookDelivery.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
    assert delivery.attempt_delivery(row.pk) == DeliveryState.SUCCEEDED


def test_redirects_are_not_followed(coalition, local_targets, receiver):
    receiver.default_status = 307
    receiver.extra_headers = {"Location": "http://169.254.169.254/latest/meta-data/"}
    hook, _ = subscribe(RECEIVER, receiver.url)
    make_referral()
    row = hook.deliveries.get()
    assert delivery.attempt_delivery(row.pk) == DeliveryState.PENDING
    row.refresh_from_db()
    assert row.last_status_code == 307 and len(receiver.requests) == 1


def test_a_disabled_webhook_gets_nothing_more(coalition, local_targets, receiver):
    hook, _ = subscribe(RECEIVER, receiver.url)
    make_referral()
    services.subscription_update(principal=principal_for(RECEIVER, "webhooks:manage"),
                                 subscription_id=hook.pk, changes={"active": False})
    row = hook.deliveries.get()
    assert delivery.attempt_delivery(row.pk) is None
    row.refresh_from_db()
    assert row.state == DeliveryState.FAILED and "disabled" in row.last_error
    assert receiver.requests == []
    make_referral()
    assert hook.deliveries.count() == 1  # no new rows while disabled


def test_a_claimed_delivery_is_not_sent_twice_until_its_lease_runs_out(
        coalition, local_targets, receiver, monkeypatch):
    hook, _ = subscribe(RECEIVER, receiver.url)
    make_referral()
    row = hook.deliveries.get()
    claimed = delivery._claim(row.pk)  # a worker took it, and died
    assert claimed is not None
    assert delivery.attempt_delivery(row.pk) is None  # held: no second POST
    assert receiver.requests == []
    assert row.pk not in list(delivery.claimable(timezone.now()).values_list("pk", flat=True))
    later = timezone.now() + timedelta(seconds=61)
    monkeypatch.setattr(delivery.timezone, "now", lambda: later)
    assert delivery.attempt_delivery(row.pk) == DeliveryState.SUCCEEDED
    row.refresh_from_db()
    attempts = list(row.attempt_log.all())
    assert row.attempts == 2
    assert attempts[0].finished_at is None  # the interrupted attempt stays in the log
    assert attempts[1].status_code == 204


def test_the_sweeper_requeues_due_deliveries_whose_message_was_lost(
        coalition, local_targets, receiver, monkeypatch):
    queued = []
    monkeypatch.setattr("webhooks.queue.enqueue", lambda ids: queued.extend(ids))
    hook, _ = subscribe(RECEIVER, receiver.url)
    make_referral()
    row = hook.deliveries.get()
    assert queue.sweep() == 0  # just queued at commit: not stale yet
    WebhookDelivery.objects.filter(pk=row.pk).update(
        queued_at=timezone.now() - timedelta(minutes=10))
    assert queue.sweep() == 1 and queued == [row.pk]
    assert queue.sweep() == 0 and queued == [row.pk]  # marked as queued: not again


def test_an_unreachable_broker_does_not_fail_the_write(coalition, local_targets, receiver,
                                                       monkeypatch,
                                                       django_capture_on_commit_callbacks):
    from webhooks import tasks

    def broker_down(*args, **kwargs):
        raise ConnectionRefusedError("Redis is down")

    monkeypatch.setattr(tasks.deliver, "apply_async", broker_down)
    subscribe(RECEIVER, receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        loop = make_referral()
    assert WebhookDelivery.objects.filter(body__contains=str(loop.id)).exists()


# --- SSRF ------------------------------------------------------------------------------

FORBIDDEN_URLS = [
    "https://127.0.0.1/hook", "https://localhost/hook", "https://10.1.2.3/hook",
    "https://192.168.0.10/hook", "https://172.16.5.4/hook", "https://169.254.169.254/latest",
    "https://[::1]/hook", "https://[::ffff:127.0.0.1]/hook", "https://0.0.0.0/hook",
    "https://100.64.0.1/hook", "https://[fd00::1]/hook", "https://224.0.0.1/hook",
    # IPv6 forms that carry an IPv4 address: NAT64 (to the metadata address), 6to4,
    # IPv4-compatible, IPv4-translated; and deprecated site-local.
    "https://[64:ff9b::a9fe:a9fe]/x", "https://[64:ff9b:1::a00:1]/x", "https://[2002:7f00:1::]/x",
    "https://[::127.0.0.1]/x", "https://[::ffff:0:7f00:1]/x", "https://[fec0::1]/x",
    "https://2130706433/x", "https://0x7f.1/x",
]


@pytest.mark.parametrize("url", FORBIDDEN_URLS)
def test_private_and_loopback_targets_are_refused_outside_debug(settings, url):
    settings.WEBHOOK_ALLOW_LOCAL_TARGETS = False
    with pytest.raises(transport.UnsafeTarget) as refused:
        transport.resolve(url)
    assert refused.value.code == "webhook_url_forbidden"


@pytest.mark.parametrize("url,code", [
    ("http://hooks.example.org/x", "webhook_url_invalid"),
    ("ftp://hooks.example.org/x", "webhook_url_invalid"),
    ("https://user:pw@hooks.example.org/x", "webhook_url_invalid"),
    ("https:///x", "webhook_url_invalid"),
    ("not a url", "webhook_url_invalid"),
    ("https://no-such-host.invalid/x", "webhook_url_unresolvable"),
])
def test_malformed_or_insecure_urls_are_refused(settings, url, code):
    settings.WEBHOOK_ALLOW_LOCAL_TARGETS = False
    with pytest.raises(transport.UnsafeTarget) as refused:
        transport.resolve(url)
    assert refused.value.code == code


def test_a_host_that_resolves_to_a_private_address_is_refused(settings, monkeypatch):
    settings.WEBHOOK_ALLOW_LOCAL_TARGETS = False
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: [
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", 443)),
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", 443))])
    with pytest.raises(transport.UnsafeTarget) as refused:
        transport.resolve("https://partner.example.org/hook")
    assert refused.value.code == "webhook_url_forbidden"
    assert "10.0.0.7" not in refused.value.detail  # no oracle for internal DNS


def test_a_target_that_turns_private_after_registration_gets_nothing(
        coalition, settings, receiver):
    settings.WEBHOOK_ALLOW_LOCAL_TARGETS = True
    hook, _ = subscribe(RECEIVER, receiver.url)
    make_referral()
    settings.WEBHOOK_ALLOW_LOCAL_TARGETS = False  # as in production
    row = hook.deliveries.get()
    assert delivery.attempt_delivery(row.pk) == DeliveryState.PENDING
    row.refresh_from_db()
    assert row.last_error.startswith("webhook_url_") and receiver.requests == []


def test_the_connection_goes_to_the_address_that_was_checked(local_targets, receiver,
                                                             monkeypatch):
    """DNS rebinding: the name is resolved once; the POST goes to that address, with the
    name in the Host header."""
    real_getaddrinfo, lookups = socket.getaddrinfo, []

    def dns(host, *args, **kwargs):
        if host != "partner.example.org":  # the address literal urllib3 connects to
            return real_getaddrinfo(host, *args, **kwargs)
        lookups.append(host)
        # The first answer is checked and used; a rebinding second answer would be private.
        address = "127.0.0.1" if len(lookups) == 1 else "10.9.9.9"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, receiver.port))]

    monkeypatch.setattr(socket, "getaddrinfo", dns)
    result = transport.post(f"http://partner.example.org:{receiver.port}/in", b"{}",
                            {"Content-Type": "application/json"})
    assert result.ok and lookups == ["partner.example.org"]
    assert receiver.requests[0].headers["Host"] == f"partner.example.org:{receiver.port}"


def test_a_slow_endpoint_times_out_and_is_retried(coalition, local_targets, receiver,
                                                  monkeypatch):
    monkeypatch.setattr(transport, "READ_TIMEOUT", 0.5)
    receiver.hold.clear()
    hook, _ = subscribe(RECEIVER, receiver.url)
    make_referral()
    row = hook.deliveries.get()
    assert delivery.attempt_delivery(row.pk) == DeliveryState.PENDING
    receiver.hold.set()
    row.refresh_from_db()
    assert "Timeout" in row.last_error and row.last_status_code is None


def test_an_endpoint_that_drips_its_answer_is_cut_off(local_targets, monkeypatch):
    """The read timeout is per byte; a whole attempt has its own deadline, shorter than
    the worker's lease, so a slow endpoint cannot hold a worker (or get a second POST)."""
    import threading
    import time as clock

    monkeypatch.setattr(transport, "TOTAL_TIMEOUT", 1.0)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    stop = threading.Event()

    def drip():
        peer, _ = listener.accept()
        peer.recv(65536)
        for byte in b"HTTP/1.1 200 OK\r\n":
            if stop.is_set():
                break
            try:
                peer.send(bytes([byte]))
            except OSError:
                break
            clock.sleep(0.3)
        peer.close()

    threading.Thread(target=drip, daemon=True).start()
    started = clock.monotonic()
    result = transport.post(f"http://127.0.0.1:{listener.getsockname()[1]}/", b"{}", {})
    stop.set()
    listener.close()
    assert clock.monotonic() - started < 3
    assert result.status_code is None and result.error.startswith("TotalTimeout")


def test_a_delivery_past_its_window_fails_at_the_next_claim(coalition, local_targets,
                                                           receiver):
    hook, _ = subscribe(RECEIVER, receiver.url)
    make_referral()
    row = hook.deliveries.get()
    WebhookDelivery.objects.filter(pk=row.pk).update(
        created_at=timezone.now() - timedelta(hours=26))
    assert delivery.attempt_delivery(row.pk) is None
    row.refresh_from_db()
    assert row.state == DeliveryState.FAILED and receiver.requests == []


def test_an_error_inside_the_worker_still_counts_as_an_attempt(coalition, local_targets,
                                                               receiver, monkeypatch):
    hook, _ = subscribe(RECEIVER, receiver.url)
    make_referral()
    row = hook.deliveries.get()

    def broken(**kwargs):
        raise RuntimeError("signing broke")

    monkeypatch.setattr(signing, "signed_headers", broken)
    with pytest.raises(RuntimeError):
        delivery.attempt_delivery(row.pk)
    row.refresh_from_db()
    assert row.state == DeliveryState.PENDING and row.lease_until is None
    assert row.next_attempt_at > timezone.now()  # rescheduled, not stuck
    assert row.attempt_log.get().finished_at is not None
