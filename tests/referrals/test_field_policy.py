"""One field policy for client data (referrals.presentation.CLIENT_FIELDS), read by
REST and GraphQL alike: lists carry the list fields only; contact details only where
one client or referral is shown; A-Number and date of birth only on a read of one
referral or client, to the organisation that recorded the client or one with its
consent."""

from __future__ import annotations

import uuid

import pytest
from django.utils import timezone

from referrals.api.serializers import ClientSerializer
from referrals.models import Consent, IdempotencyRecord
from referrals.presentation import CLIENT_FIELDS

from .factories import make_referral

REFERRALS = "/api/v1/referrals/"
CLIENTS = "/api/v1/clients/"
A_NUMBER, DATE_OF_BIRTH, PHONE = "204718395", "1983-07-19", "718-555-0134"
PROTECTED = {"a_number": A_NUMBER, "date_of_birth": DATE_OF_BIRTH}
CONTACT = {"phone": PHONE, "email": "rosa@example.org"}
WITHHELD = dict.fromkeys([*PROTECTED, *CONTACT])
GQL_FIELDS = "id aNumber dateOfBirth phone email"


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def gql_values(values: dict) -> dict:
    return {camel(k): v for k, v in values.items()}


def picked(client: dict) -> dict:
    return {name: client[name] for name in WITHHELD}


@pytest.fixture
def office(api):
    return api("sd13-peralta-office")


@pytest.fixture
def camba(api):
    return api("camba-legal")


@pytest.fixture
def loop(office, camba):
    """office -> CAMBA, accepted; the client consented to share with CAMBA."""
    return make_referral("accepted", sender=office, receiver=camba,
                         client_fields={**PROTECTED, **CONTACT})


def test_both_channels_show_the_fields_the_policy_declares():
    from schema.schema import schema

    assert tuple(ClientSerializer().fields) == CLIENT_FIELDS.fields
    assert set(schema.graphql_schema.get_type("Client").fields) == {
        camel(name) for name in CLIENT_FIELDS.fields}


# The changes feed is left out: on PostgreSQL it shows only transactions below the
# cluster's snapshot xmin, which a parallel test run holds back (see test_sync).
@pytest.mark.parametrize("who", ["office", "camba"])
def test_lists_carry_no_contact_details_and_no_identifiers(request, loop, who):
    caller = request.getfixturevalue(who)

    rest_lists = [caller.get(REFERRALS).json()["results"][0]["client"],
                  caller.get(CLIENTS).json()["results"][0]]
    graphql = caller.graphql(
        "{ referrals(first: 5) { edges { node { client { %s } } } }"
        "  clients(first: 5) { edges { node { %s } } } }" % ((GQL_FIELDS,) * 2)).json()
    assert "errors" not in graphql, graphql
    data = graphql["data"]
    graphql_lists = [data["referrals"]["edges"][0]["node"]["client"],
                     data["clients"]["edges"][0]["node"]]

    for shown in rest_lists:
        assert shown["id"] == str(loop.client.pk) and shown["given_name"]
        assert picked(shown) == WITHHELD
    for shown in graphql_lists:
        assert shown == {"id": str(loop.client.pk), **gql_values(WITHHELD)}


@pytest.mark.parametrize("who", ["office", "camba"])
def test_a_read_of_one_referral_shows_identifiers_to_a_party_with_consent(request, loop, who):
    caller = request.getfixturevalue(who)

    rest = caller.get(f"{REFERRALS}{loop.id}/").json()["client"]
    rest_client = caller.get(f"{CLIENTS}{loop.client.pk}/").json()
    graphql = caller.graphql('{ referral(id: "%s") { client { %s } } client(id: "%s") { %s } }'
                             % (loop.id, GQL_FIELDS, loop.client.pk, GQL_FIELDS)).json()["data"]

    assert picked(rest) == picked(rest_client) == {**PROTECTED, **CONTACT}
    expected = {"id": str(loop.client.pk), **gql_values({**PROTECTED, **CONTACT})}
    assert graphql["referral"]["client"] == graphql["client"] == expected


def test_without_an_active_consent_the_receiver_sees_no_identifiers(loop, office, camba):
    Consent.objects.filter(client=loop.client).update(revoked_at=timezone.now())

    rest = camba.get(f"{REFERRALS}{loop.id}/").json()["client"]
    graphql = camba.graphql('{ referral(id: "%s") { client { %s } } }'
                            % (loop.id, GQL_FIELDS)).json()["data"]["referral"]["client"]

    assert picked(rest) == {**WITHHELD, **CONTACT}
    assert graphql == {"id": str(loop.client.pk), **gql_values({**WITHHELD, **CONTACT})}
    # The organisation that recorded the client still sees what it recorded.
    assert picked(office.get(f"{REFERRALS}{loop.id}/").json()["client"]) == {
        **PROTECTED, **CONTACT}


def test_a_coalition_admin_without_consent_sees_no_identifiers(loop, admin_api):
    admin = admin_api()

    rest = admin.get(f"{REFERRALS}{loop.id}/").json()["client"]

    assert picked(rest) == {**WITHHELD, **CONTACT}


def test_a_write_response_shows_contact_details_but_no_identifiers(loop, camba):
    rest = camba.post(f"{REFERRALS}{loop.id}/transition/", {"to": "in-progress"},
                      headers={"If-Match": '"2"'}).json()["client"]
    graphql = camba.graphql(
        'mutation { transitionReferral(id: "%s", expectedVersion: 3, to: ON_HOLD, '
        'reason: "Client travelling") { referral { client { %s } } } }'
        % (loop.id, GQL_FIELDS)).json()["data"]["transitionReferral"]["referral"]["client"]

    assert picked(rest) == {**WITHHELD, **CONTACT}
    assert graphql == {"id": str(loop.client.pk), **gql_values({**WITHHELD, **CONTACT})}


def test_an_idempotent_create_stores_no_identifier_and_replays_none(office):
    body = {"client": {"given_name": "Rosa", "family_name": "Quispe", **PROTECTED},
            "consent": {"method": "verbal"}, "receiving_org": "camba-legal",
            "service_type": "asylum", "intake_channel": "district-office"}
    key = {"Idempotency-Key": str(uuid.uuid4())}

    first = office.post(REFERRALS, body, headers=key)
    again = office.post(REFERRALS, body, headers=key)

    assert first.status_code == again.status_code == 201, first.content
    assert again["Idempotent-Replayed"] == "true"
    for response in (first, again):
        client = response.json()["client"]
        assert (client["a_number"], client["date_of_birth"]) == (None, None)
    stored = repr(list(IdempotencyRecord.objects.values_list("response_body", flat=True)))
    assert A_NUMBER not in stored and DATE_OF_BIRTH not in stored
    referral = office.get(f"{REFERRALS}{first.json()['id']}/").json()
    assert (referral["client"]["a_number"], referral["client"]["date_of_birth"]) == (
        A_NUMBER, DATE_OF_BIRTH)
