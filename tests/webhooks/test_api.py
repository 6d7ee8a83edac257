"""Webhooks through REST and GraphQL: the same services, the same rules."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.referrals.factories import RECEIVER, make_referral
from webhooks import delivery
from webhooks.models import WebhookDelivery, WebhookSubscription

EVENTS = ["referral.created", "referral.status_changed"]


def create_rest(client, url, events=EVENTS, **extra):
    return client.post("/api/v1/webhooks/", {"url": url, "events": events, **extra})


GQL_CREATE = """mutation($in: WebhookSubscriptionInput!) {
  createWebhookSubscription(input: $in) { secret subscription { id url events active } } }"""


def test_rest_lifecycle(coalition, hook_api, local_targets, receiver):
    camba = hook_api(RECEIVER)
    created = create_rest(camba, receiver.url, description="Case system")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["secret"].startswith("whsec_") and body["organization"] == RECEIVER
    assert body["events"] == EVENTS and body["active"] is True
    hook = body["id"]

    listed = camba.get("/api/v1/webhooks/").json()
    assert [h["id"] for h in listed["results"]] == [hook]
    assert "secret" not in listed["results"][0]  # shown once only
    assert "secret" not in camba.get(f"/api/v1/webhooks/{hook}/").json()

    patched = camba.patch(f"/api/v1/webhooks/{hook}/", {"events": ["referral.note_added"],
                                                          "active": False},
                          content_type="application/json",
                          headers={"Authorization": f"Bearer {camba.token}"})
    assert patched.status_code == 200, patched.json()
    assert patched.json()["events"] == ["referral.note_added"]
    assert patched.json()["active"] is False
    assert camba.get("/api/v1/webhooks/", {"active": "false"}).json()["results"][0]["id"] == hook

    rotated = camba.post(f"/api/v1/webhooks/{hook}/rotate-secret/")
    assert rotated.status_code == 200 and rotated.json()["secret"] != body["secret"]
    assert rotated.json()["secret_rotated_at"] is not None

    deleted = camba.delete(f"/api/v1/webhooks/{hook}/",
                           headers={"Authorization": f"Bearer {camba.token}"})
    assert deleted.status_code == 204
    assert not WebhookSubscription.objects.filter(pk=hook).exists()


def test_rest_delivery_log_ping_and_redelivery(coalition, hook_api, local_targets, receiver):
    camba = hook_api(RECEIVER)
    hook = create_rest(camba, receiver.url).json()["id"]
    loop = make_referral()
    ping = camba.post(f"/api/v1/webhooks/{hook}/ping/")
    assert ping.status_code == 202 and ping.json()["event_type"] == "webhook.ping"
    for row in WebhookDelivery.objects.all():
        delivery.attempt_delivery(row.pk)

    log = camba.get(f"/api/v1/webhooks/{hook}/deliveries/").json()["results"]
    assert {d["event_type"] for d in log} == {"webhook.ping", "referral.created"}
    created = next(d for d in log if d["event_type"] == "referral.created")
    assert created["state"] == "succeeded" and created["next_attempt_at"] is None
    assert created["payload"]["data"]["referral"]["id"] == str(loop.id)
    assert created["attempt_log"][0]["status_code"] == 204

    only = camba.get(f"/api/v1/webhooks/{hook}/deliveries/",
                     {"event_type": "webhook.ping"}).json()["results"]
    assert [d["event_type"] for d in only] == ["webhook.ping"]
    bad = camba.get(f"/api/v1/webhooks/{hook}/deliveries/", {"state": "exploded"})
    assert bad.status_code == 400 and bad["Content-Type"] == "application/problem+json"

    one = camba.get(f"/api/v1/webhooks/{hook}/deliveries/{created['id']}/")
    assert one.status_code == 200 and one.json()["id"] == created["id"]

    again = camba.post(f"/api/v1/webhooks/{hook}/deliveries/{created['id']}/redeliver/")
    assert again.status_code == 202
    assert again.json()["event_id"] == created["event_id"]
    assert again.json()["redelivery_of"] == created["id"]
    assert again.json()["state"] == "pending"
    delivery.attempt_delivery(again.json()["id"])
    assert receiver.requests[-1].headers["webhook-id"] == created["event_id"]


@pytest.mark.parametrize("url,code", [
    ("https://127.0.0.1/hook", "webhook_url_forbidden"),
    ("https://169.254.169.254/latest/meta-data", "webhook_url_forbidden"),
    ("http://hooks.example.org/", "webhook_url_invalid"),
])
def test_rest_refuses_unsafe_urls_outside_debug(coalition, hook_api, settings, url, code):
    settings.WEBHOOK_ALLOW_LOCAL_TARGETS = False
    response = create_rest(hook_api(RECEIVER), url)
    assert response.status_code == 400
    assert response.json()["code"] == code
    assert not WebhookSubscription.objects.exists()


@pytest.mark.parametrize("payload,code,field", [
    ({"url": "https://x.example.org", "events": []}, "required", "events"),
    ({"url": "https://x.example.org", "events": ["referral.exploded"]}, "unknown_event_type",
     "events"),
    ({"url": "https://x.example.org", "events": ["webhook.ping"]}, "unknown_event_type",
     "events"),
    ({"events": ["referral.created"]}, "validation_error", "url"),
    ({"url": ["https://x"], "events": ["referral.created"]}, "validation_error", "url"),
])
def test_rest_rejects_bad_input_with_a_problem(coalition, hook_api, payload, code, field):
    response = hook_api(RECEIVER).post("/api/v1/webhooks/", payload)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == code
    assert field in {error.get("field") for error in body["errors"]}, body
    assert not WebhookSubscription.objects.exists()


def test_an_organisation_has_at_most_twenty_webhooks(coalition, hook_api, local_targets,
                                                     receiver):
    camba = hook_api(RECEIVER)
    for _ in range(20):
        assert create_rest(camba, receiver.url).status_code == 201
    refused = create_rest(camba, receiver.url)
    assert refused.status_code == 409 and refused.json()["code"] == "too_many_webhooks"


def test_graphql_lifecycle(coalition, hook_api, local_targets, receiver):
    camba = hook_api(RECEIVER)
    created = camba.graphql(GQL_CREATE, {"in": {"url": receiver.url,
                                                "events": ["REFERRAL_CREATED"]}}).json()
    assert "errors" not in created, created
    payload = created["data"]["createWebhookSubscription"]
    hook = payload["subscription"]["id"]
    assert payload["secret"].startswith("whsec_")
    assert payload["subscription"]["events"] == ["REFERRAL_CREATED"]

    make_referral()
    ping = camba.graphql("mutation($id: UUID!) { pingWebhookSubscription(id: $id) "
                         "{ delivery { id eventType state } } }", {"id": hook}).json()
    assert ping["data"]["pingWebhookSubscription"]["delivery"]["eventType"] == "WEBHOOK_PING"
    for row in WebhookDelivery.objects.all():
        delivery.attempt_delivery(row.pk)

    log = camba.graphql("""query($id: UUID!) { webhookDeliveries(subscriptionId: $id,
        eventType: ["referral.created"], first: 10) { edges { node {
        id eventId eventType state attempts payload attemptLog { number statusCode } } } } }""",
                        {"id": hook}).json()
    [edge] = log["data"]["webhookDeliveries"]["edges"]
    node = edge["node"]
    assert node["state"] == "SUCCEEDED" and node["attemptLog"] == [
        {"number": 1, "statusCode": 204}]

    again = camba.graphql("""mutation($s: UUID!, $d: UUID!) { redeliverWebhook(
        subscriptionId: $s, deliveryId: $d) { delivery { eventId state } } }""",
                          {"s": hook, "d": node["id"]}).json()
    assert again["data"]["redeliverWebhook"]["delivery"] == {"eventId": node["eventId"],
                                                             "state": "PENDING"}

    updated = camba.graphql("""mutation($id: UUID!) { updateWebhookSubscription(id: $id,
        input: {active: false, description: "paused"}) { subscription { active description } } }""",
                            {"id": hook}).json()
    assert updated["data"]["updateWebhookSubscription"]["subscription"] == {
        "active": False, "description": "paused"}
    rotated = camba.graphql("mutation($id: UUID!) { rotateWebhookSecret(id: $id) { secret } }",
                            {"id": hook}).json()
    assert rotated["data"]["rotateWebhookSecret"]["secret"] != payload["secret"]
    listed = camba.graphql("{ webhookSubscriptions { edges { node { id organization } } } }")
    assert listed.json()["data"]["webhookSubscriptions"]["edges"] == [
        {"node": {"id": hook, "organization": RECEIVER}}]
    deleted = camba.graphql("mutation($id: UUID!) { deleteWebhookSubscription(id: $id) "
                            "{ deletedId } }", {"id": hook}).json()
    assert deleted["data"]["deleteWebhookSubscription"]["deletedId"] == hook


def test_graphql_reports_unsafe_urls_with_a_code(coalition, hook_api, settings):
    settings.WEBHOOK_ALLOW_LOCAL_TARGETS = False
    response = hook_api(RECEIVER).graphql(
        GQL_CREATE, {"in": {"url": "https://10.0.0.1/x", "events": ["REFERRAL_CREATED"]}})
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "webhook_url_forbidden"
    assert not WebhookSubscription.objects.exists()


# --- the authorization matrix ---------------------------------------------------------

REST_OPERATIONS = [
    ("get", "/api/v1/webhooks/", None),
    ("post", "/api/v1/webhooks/", {"url": "{url}", "events": ["referral.created"]}),
    ("get", "/api/v1/webhooks/{hook}/", None),
    ("patch", "/api/v1/webhooks/{hook}/", {"description": "changed"}),
    ("delete", "/api/v1/webhooks/{hook}/", None),
    ("post", "/api/v1/webhooks/{hook}/rotate-secret/", None),
    ("post", "/api/v1/webhooks/{hook}/ping/", None),
    ("get", "/api/v1/webhooks/{hook}/deliveries/", None),
    ("get", "/api/v1/webhooks/{hook}/deliveries/{delivery}/", None),
    ("post", "/api/v1/webhooks/{hook}/deliveries/{delivery}/redeliver/", None),
]
CALLERS = ["owner", "other-org", "funder", "no-token", "wrong-scope"]


@pytest.fixture
def owned_hook(coalition, hook_api, local_targets, receiver):
    owner = hook_api(RECEIVER)
    hook = create_rest(owner, receiver.url, events=["referral.created"]).json()["id"]
    make_referral()
    return owner, hook, str(WebhookDelivery.objects.get(subscription_id=hook).pk)


def caller_for(kind, owner, hook_api, api):
    if kind == "owner":
        return owner
    if kind == "other-org":
        return hook_api("cala")
    if kind == "funder":
        return api("nyc-council")
    if kind == "no-token":
        return api()
    return hook_api(RECEIVER, scopes="orgs:read referrals:read referrals:write")


def _call(client, method, path, body):
    headers = {"Authorization": f"Bearer {client.token}"} if client.token else {}
    if method == "get":
        return client.get(path)
    return getattr(super(type(client), client), method)(
        path, body or {}, content_type="application/json", headers=headers)


@pytest.mark.parametrize("kind", CALLERS)
@pytest.mark.parametrize("method,path,body", REST_OPERATIONS,
                         ids=[f"{m} {p}" for m, p, _ in REST_OPERATIONS])
def test_rest_authorization(owned_hook, hook_api, api, receiver, kind, method, path, body):
    owner, hook, delivery_id = owned_hook
    client = caller_for(kind, owner, hook_api, api)
    path = path.format(hook=hook, delivery=delivery_id)
    if body:
        body = {k: (v.format(url=receiver.url) if isinstance(v, str) else v)
                for k, v in body.items()}
    response = _call(client, method, path, body)
    is_collection = path == "/api/v1/webhooks/"
    expected = {
        "owner": {"get": 200, "post": 201 if is_collection else None, "patch": 200,
                  "delete": 204}[method],
        "other-org": 404, "funder": 403, "no-token": 401, "wrong-scope": 403,
    }[kind]
    if kind == "owner" and method == "post" and not is_collection:
        expected = 202 if path.endswith(("ping/", "redeliver/")) else 200
    if kind == "other-org" and is_collection:
        expected = 200 if method == "get" else 201
    assert response.status_code == expected, (kind, method, path, response.content[:300])
    if response.status_code >= 400:
        assert response["Content-Type"] == "application/problem+json"
        assert receiver.url not in response.content.decode()
    if kind == "other-org" and method == "get" and is_collection:
        assert response.json()["results"] == []  # another org's webhooks are invisible
    if kind in ("funder", "wrong-scope"):
        assert response.json()["code"] == "insufficient_scope"
    if kind != "owner":
        assert WebhookSubscription.objects.filter(pk=hook, description="").exists()


GQL_OPERATIONS = {
    "webhookSubscriptions": "{ webhookSubscriptions { edges { node { id url } } } }",
    "webhookDeliveries": 'query($h: UUID!) { webhookDeliveries(subscriptionId: $h) '
                         '{ edges { node { id payload } } } }',
    "createWebhookSubscription": 'mutation { createWebhookSubscription(input: {url: "%URL%", '
                                 'events: [REFERRAL_CREATED]}) { secret } }',
    "updateWebhookSubscription": 'mutation($h: UUID!) { updateWebhookSubscription(id: $h, '
                                 'input: {description: "x"}) { subscription { id } } }',
    "deleteWebhookSubscription": 'mutation($h: UUID!) { deleteWebhookSubscription(id: $h) '
                                 '{ deletedId } }',
    "rotateWebhookSecret": 'mutation($h: UUID!) { rotateWebhookSecret(id: $h) { secret } }',
    "pingWebhookSubscription": 'mutation($h: UUID!) { pingWebhookSubscription(id: $h) '
                               '{ delivery { id } } }',
    "redeliverWebhook": 'mutation($h: UUID!, $d: UUID!) { redeliverWebhook(subscriptionId: $h,'
                        ' deliveryId: $d) { delivery { id } } }',
}


@pytest.mark.parametrize("kind", CALLERS)
@pytest.mark.parametrize("name", list(GQL_OPERATIONS))
def test_graphql_authorization(owned_hook, hook_api, api, receiver, kind, name):
    owner, hook, delivery_id = owned_hook
    client = caller_for(kind, owner, hook_api, api)
    query = GQL_OPERATIONS[name].replace("%URL%", receiver.url)
    variables = {k: v for k, v in {"h": hook, "d": delivery_id}.items() if f"${k}" in query}
    response = client.graphql(query, variables or None)
    if kind == "no-token":
        assert response.status_code == 401
        return
    body = response.json()
    if kind == "owner" or (kind == "other-org" and name in ("webhookSubscriptions",
                                                           "createWebhookSubscription")):
        assert "errors" not in body, body
        if kind == "other-org" and name == "webhookSubscriptions":
            assert body["data"]["webhookSubscriptions"]["edges"] == []
        return
    [error] = body["errors"]
    expected = "not_found" if kind == "other-org" else "insufficient_scope"
    assert error["extensions"]["code"] == expected, body
    assert receiver.url not in response.content.decode()
    assert WebhookSubscription.objects.filter(pk=hook, description="").exists()


def test_delivery_log_queries_do_not_grow_with_page_size(coalition, hook_api, local_targets,
                                                         receiver):
    camba = hook_api(RECEIVER)
    hook = create_rest(camba, receiver.url).json()["id"]
    for _ in range(30):
        camba.post(f"/api/v1/webhooks/{hook}/ping/")
    for row in WebhookDelivery.objects.all()[:30]:
        delivery.attempt_delivery(row.pk)
    counts = []
    for size in (5, 30):
        with CaptureQueriesContext(connection) as queries:
            response = camba.get(f"/api/v1/webhooks/{hook}/deliveries/", {"page_size": size})
        assert len(response.json()["results"]) == size
        counts.append(len(queries))
    assert counts[0] == counts[1]
    gql_counts = []
    for size in (5, 30):
        with CaptureQueriesContext(connection) as queries:
            response = camba.graphql(
                "query($h: UUID!, $n: Int) { webhookDeliveries(subscriptionId: $h, first: $n) "
                "{ edges { node { id attemptLog { number } } } } }", {"h": hook, "n": size})
        assert len(response.json()["data"]["webhookDeliveries"]["edges"]) == size
        gql_counts.append(len(queries))
    assert gql_counts[0] == gql_counts[1]
