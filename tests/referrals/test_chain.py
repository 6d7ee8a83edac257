"""Chains (issue 13, item 1): a referral forwarded down to a third and a fourth
organisation, seen by every organisation on any link of it, in REST, GraphQL and the
staff app; the original sender hears when a descendant changes.

The chain built here: the hotline -> CAMBA (asylum), CAMBA forwards to CALA
(stay-of-removal), CALA forwards to Her Justice (U visa), Her Justice accepts."""

from __future__ import annotations

import json

import pytest

from referrals import services
from referrals.models import Referral
from referrals.services import ConsentInput, OutcomeInput
from tests.assertions import assert_problem
from tests.webhooks.test_delivery import subscribe
from webhooks.models import EventType, WebhookDelivery

from .factories import make_referral, principal_for

REFERRALS = "/api/v1/referrals/"
HOTLINE, CAMBA, CALA, HER_JUSTICE = "idc-hotline", "camba-legal", "cala", "her-justice"
ORGS = (HOTLINE, CAMBA, CALA, HER_JUSTICE)


def forward(referral: Referral, by: str, to: str, service: str) -> Referral:
    _, child = services.referral_forward(
        principal=principal_for(by), referral_id=referral.pk,
        expected_version=referral.version, receiving_org=to, service_type=service,
        summary=f"For {to}", consent=ConsentInput(method="verbal"))
    return child


def accept(referral: Referral, by: str) -> Referral:
    return services.referral_transition(principal=principal_for(by), referral_id=referral.pk,
                                        to="accepted", expected_version=referral.version)


@pytest.fixture
def chain(coalition):
    """(first, second, third): hotline -> CAMBA -> CALA -> Her Justice."""
    loop = make_referral("accepted", sender=HOTLINE, receiver=CAMBA, family_name="Chainova",
                         intake_channel="hotline")
    second = accept(forward(loop.refresh(), CAMBA, CALA, "stay-of-removal"), CALA)
    third = forward(second, CALA, HER_JUSTICE, "u-t-visa-vawa")
    return loop.refresh(), second, third


def link_ids(body) -> list[str]:
    return [link["id"] for link in body["links"]]


@pytest.mark.parametrize("who", ORGS)
def test_every_org_on_the_chain_sees_all_of_it(api, chain, who):
    first, second, third = chain
    client = api(who)
    # Whichever link it asks from, its own or another's.
    for referral in chain:
        response = client.get(f"{REFERRALS}{referral.pk}/chain/")
        assert response.status_code == 200, (who, response.content)
        body = response.json()
        assert body["root"] == str(first.pk)
        assert link_ids(body) == [str(first.pk), str(second.pk), str(third.pk)]
    links = body["links"]
    assert [(link["sending_org"], link["receiving_org"], link["service_type"], link["status"])
            for link in links] == [
        (HOTLINE, CAMBA, "asylum", "completed"), (CAMBA, CALA, "stay-of-removal", "completed"),
        (CALA, HER_JUSTICE, "u-t-visa-vawa", "requested")]
    assert [link["parent"] for link in links] == [None, str(first.pk), str(second.pk)]
    assert [o["code"] for o in links[0]["outcomes"]] == ["referred-onward"]
    assert [link["yours"] for link in links] == [
        who in (link["sending_org"], link["receiving_org"]) for link in links]


def test_a_chain_carries_no_client_data(api, chain):
    body = api(HOTLINE).get(f"{REFERRALS}{chain[2].pk}/chain/").content.decode()
    assert "Chainova" not in body and "client" not in body and "For her-justice" not in body


@pytest.mark.parametrize("who, scopes, status, code", [
    ("chhaya-cdc", None, 404, "not_found"),        # an org off the chain
    ("nyc-council", None, 403, "insufficient_scope"),  # a funder holds no referral scope
    (HOTLINE, "orgs:read", 403, "insufficient_scope"),
])
def test_off_the_chain_it_does_not_exist(api, chain, who, scopes, status, code):
    response = api(who, scopes=scopes).get(f"{REFERRALS}{chain[0].pk}/chain/")
    assert_problem(response, status, code)


def test_without_a_token_401_and_an_unknown_id_404(api, chain):
    assert api().get(f"{REFERRALS}{chain[0].pk}/chain/").status_code == 401
    assert_problem(api(HOTLINE).get(f"{REFERRALS}00000000-0000-0000-0000-000000000000/chain/"),
                   404, "not_found")


def test_a_coalition_admin_sees_any_chain(admin_api, chain):
    admin = admin_api()
    assert len(admin.get(f"{REFERRALS}{chain[1].pk}/chain/").json()["links"]) == 3


def test_a_referral_on_its_own_is_a_chain_of_one(api, coalition):
    loop = make_referral(sender=HOTLINE, receiver=CAMBA, intake_channel="hotline")
    body = api(HOTLINE).get(f"{REFERRALS}{loop.id}/chain/").json()
    assert (body["root"], link_ids(body), body["chain_updated_at"]) == (
        str(loop.id), [str(loop.id)], None)


GQL = """query($id: UUID!) { referral(id: $id) { chain { root chainUpdatedAt
           links { id parent sendingOrg receivingOrg serviceType status yours
                   outcomes { code } } } } }"""


def test_graphql_chain_is_the_same(api, chain):
    first, second, third = chain
    body = api(HOTLINE).graphql(GQL, {"id": str(first.pk)}).json()
    assert "errors" not in body, body
    result = body["data"]["referral"]["chain"]
    assert result["root"] == str(first.pk)
    assert [(link["id"], link["receivingOrg"], link["status"], link["yours"])
            for link in result["links"]] == [
        (str(first.pk), CAMBA, "COMPLETED", True), (str(second.pk), CALA, "COMPLETED", False),
        (str(third.pk), HER_JUSTICE, "REQUESTED", False)]
    assert result["links"][1]["outcomes"] == [{"code": "REFERRED_ONWARD"}]
    rest = api(HOTLINE).get(f"{REFERRALS}{first.pk}/chain/").json()
    assert result["chainUpdatedAt"] is not None and rest["chain_updated_at"] is not None


def test_graphql_off_the_chain_is_not_found(api, chain):
    body = api("chhaya-cdc").graphql(GQL, {"id": str(chain[0].pk)}).json()
    assert body["data"] is None or body["data"]["referral"] is None
    assert body["errors"][0]["extensions"]["code"] == "not_found"


@pytest.fixture
def local_hooks(settings):
    """Subscriptions to a local address (nothing is sent: the outbox is what is checked)."""
    settings.WEBHOOK_ALLOW_LOCAL_TARGETS = True


def test_the_original_sender_hears_when_a_descendant_changes(api, chain, local_hooks):
    first, second, third = chain
    subscribe(HOTLINE, "http://127.0.0.1:9/hotline", [EventType.REFERRAL_CHAIN_CHANGED])
    before = api(HOTLINE).get(f"{REFERRALS}{first.pk}/").json()["chain_updated_at"]

    services.referral_transition(principal=principal_for(HER_JUSTICE), referral_id=third.pk,
                                 to="accepted", expected_version=third.version)
    services.referral_transition(
        principal=principal_for(HER_JUSTICE), referral_id=third.pk, to="completed",
        expected_version=third.version + 1, outcomes=[OutcomeInput("relief-granted")])

    deliveries = WebhookDelivery.objects.filter(subscription__organization__slug=HOTLINE)
    bodies = [json.loads(d.body) for d in deliveries.order_by("created_at")]
    assert [b["type"] for b in bodies] == ["referral.chain_changed"] * 2
    assert [b["data"]["link"] for b in bodies] == [
        {"id": str(third.pk), "status": "accepted"}, {"id": str(third.pk), "status": "completed"}]
    assert bodies[0]["data"]["chain"] == {"root": str(first.pk),
                                          "href": f"{REFERRALS}{first.pk}/chain/"}
    # The sync feed brings the hotline's own referral back: its chain changed.
    after = api(HOTLINE).get(f"{REFERRALS}{first.pk}/").json()["chain_updated_at"]
    assert after > before
    body = api(HOTLINE).get(f"{REFERRALS}{first.pk}/chain/").json()
    assert body["links"][2]["status"] == "completed"
    assert [o["code"] for o in body["links"][2]["outcomes"]] == ["relief-granted"]


def test_parties_of_the_changed_link_are_not_told_twice(api, chain, local_hooks):
    first, second, third = chain
    subscribe(HER_JUSTICE, "http://127.0.0.1:9/hj", [EventType.REFERRAL_CHAIN_CHANGED])
    services.referral_transition(principal=principal_for(HER_JUSTICE), referral_id=third.pk,
                                 to="accepted", expected_version=third.version)
    # Her Justice is on the referral that changed: it hears referral.status_changed only.
    assert not WebhookDelivery.objects.filter(subscription__organization__slug=HER_JUSTICE,
                                              event_type=EventType.REFERRAL_CHAIN_CHANGED)


def test_the_chain_costs_the_same_queries_whatever_its_length(api, chain):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    short = make_referral("accepted", sender=HOTLINE, receiver=CAMBA, intake_channel="hotline")
    forward(short.refresh(), CAMBA, CALA, "stay-of-removal")
    client = api(HOTLINE)
    client.get(f"{REFERRALS}{short.id}/chain/")  # warm up: the token, content types
    counts = []
    for first in (short.id, chain[0].pk):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"{REFERRALS}{first}/chain/").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
