"""Idempotency-Key on referral creation (REST header, GraphQL argument): replay,
reuse with another body, in flight, missing, per application, release on failure."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import timedelta

import pytest
from django.utils import timezone

from referrals import idempotency
from referrals.api.serializers import ReferralCreateSerializer
from referrals.models import Client, IdempotencyRecord, Referral
from referrals.services import ClientInput, ConsentInput, ReferralRequest

REFERRALS = "/api/v1/referrals/"


def body(**overrides) -> dict:
    data = {
        "client": {"given_name": "Maria", "family_name": "Gonzalez",
                   "preferred_languages": ["es"]},
        "consent": {"method": "verbal"},
        "receiving_org": "camba-legal",
        "service_type": "asylum",
        "intake_channel": "hotline",
        "priority": "urgent",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def create(caller, data, key):
    headers = {} if key is None else {"Idempotency-Key": key}
    return caller.post(REFERRALS, data, headers=headers)


@pytest.fixture
def hotline(api):
    return api("idc-hotline")


def test_same_key_and_body_replays_the_first_response(hotline):
    key = str(uuid.uuid4())

    first = create(hotline, body(), key)
    second = create(hotline, body(), key)
    quoted = create(hotline, body(), f'"{key}"')  # an sf-string may be quoted

    assert first.status_code == second.status_code == quoted.status_code == 201
    assert second.json() == first.json()
    assert quoted.json() == first.json()
    assert "Idempotent-Replayed" not in first
    assert second["Idempotent-Replayed"] == "true"
    assert second["Location"] == first["Location"]
    assert Referral.objects.count() == 1
    assert Client.objects.count() == 1
    record = IdempotencyRecord.objects.get()
    assert (record.key, record.state, record.application_id) == (
        key, IdempotencyRecord.COMPLETED, hotline.app.pk)
    assert str(record.resource_id) == first.json()["id"]
    assert record.expires_at - record.created_at >= timedelta(hours=24)


def test_same_key_with_another_body_is_422(hotline):
    key = str(uuid.uuid4())
    assert create(hotline, body(), key).status_code == 201

    response = create(hotline, body(priority="asap"), key)

    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "idempotency_key_reused"
    assert Referral.objects.count() == 1


def request_of(data: dict) -> ReferralRequest:
    """The ReferralRequest a REST body parses to (what the fingerprint is taken on)."""
    serializer = ReferralCreateSerializer(data=data)
    serializer.is_valid(raise_exception=True)
    values = dict(serializer.validated_data)
    values["client"] = ClientInput(**values["client"]) if "client" in values else None
    values["consent"] = ConsentInput(**values["consent"]) if "consent" in values else None
    return ReferralRequest(**values)


def in_flight(app, key: str, data: dict, age: timedelta = timedelta(0)) -> IdempotencyRecord:
    """A record as left by a request that claimed ``key`` and is (or was) running."""
    started = timezone.now() - age
    return IdempotencyRecord.objects.create(
        application=app, key=key, state=IdempotencyRecord.IN_FLIGHT,
        fingerprint=idempotency.fingerprint("referral_create", asdict(request_of(data))),
        created_at=started, expires_at=started + idempotency.KEY_TTL)


def test_a_key_still_in_flight_is_409_with_retry_after(hotline):
    key = str(uuid.uuid4())
    in_flight(hotline.app, key, body())

    response = create(hotline, body(), key)

    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_key_in_flight"
    assert response["Retry-After"] == "1"
    assert not Referral.objects.exists()
    assert IdempotencyRecord.objects.get().state == IdempotencyRecord.IN_FLIGHT


def test_an_in_flight_key_with_another_body_is_still_422(hotline):
    key = str(uuid.uuid4())
    in_flight(hotline.app, key, body())

    response = create(hotline, body(priority="routine"), key)

    assert (response.status_code, response.json()["code"]) == (422, "idempotency_key_reused")


def test_a_stale_in_flight_key_is_taken_over(hotline):
    key = str(uuid.uuid4())
    in_flight(hotline.app, key, body(), age=idempotency.IN_FLIGHT_LEASE + timedelta(seconds=5))

    response = create(hotline, body(), key)

    assert response.status_code == 201, response.content
    assert "Idempotent-Replayed" not in response
    assert Referral.objects.count() == 1
    record = IdempotencyRecord.objects.get()
    assert (record.state, str(record.resource_id)) == (IdempotencyRecord.COMPLETED,
                                                       response.json()["id"])
    assert create(hotline, body(), key)["Idempotent-Replayed"] == "true"


def test_an_expired_key_may_be_used_again(hotline):
    key = str(uuid.uuid4())
    first = create(hotline, body(), key)
    IdempotencyRecord.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    again = create(hotline, body(priority="asap"), key)

    assert again.status_code == 201
    assert again.json()["id"] != first.json()["id"]
    assert Referral.objects.count() == 2
    assert idempotency.purge_expired() == 0  # the expired record was replaced


@pytest.mark.parametrize("key, code", [
    (None, "idempotency_key_missing"),
    ("", "idempotency_key_missing"),
    ("   ", "idempotency_key_missing"),
    ('""', "idempotency_key_invalid"),
    ("k" * 256, "idempotency_key_invalid"),
])
def test_a_missing_or_invalid_key_is_400(hotline, key, code):
    response = create(hotline, body(), key)

    assert response.status_code == 400
    assert response.json()["code"] == code
    assert not Referral.objects.exists()
    assert not IdempotencyRecord.objects.exists()


def test_keys_belong_to_one_application(api, hotline):
    other_app_same_org = api("idc-hotline")
    office = api("sd13-peralta-office")
    key = "intake-2017-01-30-0001"

    first = create(hotline, body(), key)
    second = create(other_app_same_org, body(), key)
    third = create(office, body(), key)

    assert [r.status_code for r in (first, second, third)] == [201, 201, 201]
    assert not any("Idempotent-Replayed" in r for r in (first, second, third))
    assert len({r.json()["id"] for r in (first, second, third)}) == 3
    assert Referral.objects.count() == 3
    assert IdempotencyRecord.objects.filter(key=key).count() == 3


def test_a_failed_create_releases_the_key(hotline):
    key = str(uuid.uuid4())

    failed = create(hotline, body(consent=None), key)
    assert (failed.status_code, failed.json()["code"]) == (400, "consent_required")
    assert not IdempotencyRecord.objects.exists()
    retried = create(hotline, body(consent=None), key)
    corrected = create(hotline, body(), key)

    # The failure is not replayed: the same failing body fails afresh...
    assert (retried.status_code, retried.json()["code"]) == (400, "consent_required")
    # ...and the corrected body, a new claim on the released key, succeeds.
    assert corrected.status_code == 201, corrected.content
    assert "Idempotent-Replayed" not in corrected
    assert Referral.objects.count() == 1
    assert create(hotline, body(), key)["Idempotent-Replayed"] == "true"


def test_invalid_input_never_claims_the_key(hotline):
    key = str(uuid.uuid4())

    invalid = create(hotline, body(intake_channel="carrier-pigeon"), key)

    assert invalid.status_code == 400
    assert not IdempotencyRecord.objects.exists()
    assert create(hotline, body(), key).status_code == 201


# --- GraphQL ---------------------------------------------------------------------------

CREATE = """
mutation Create($key: String!, $input: CreateReferralInput!) {
  createReferral(idempotencyKey: $key, input: $input) {
    replayed
    referral { id status version sendingOrg { slug } client { familyName } }
  }
}"""


def gql_input(**overrides) -> dict:
    data = {
        "client": {"givenName": "Jean", "familyName": "Baptiste",
                   "preferredLanguages": ["ht"]},
        "consent": {"method": "VERBAL"},
        "receivingOrg": "camba-legal",
        "serviceType": "removal-defense",
        "intakeChannel": "HOTLINE",
        "priority": "URGENT",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def gql_create(caller, key, data):
    response = caller.graphql(CREATE, {"key": key, "input": data})
    assert response.status_code == 200
    return response.json()


def test_graphql_replay_returns_the_same_referral(hotline):
    key = str(uuid.uuid4())

    first = gql_create(hotline, key, gql_input())
    second = gql_create(hotline, key, gql_input())

    assert "errors" not in first, first
    made, again = first["data"]["createReferral"], second["data"]["createReferral"]
    assert (made["replayed"], again["replayed"]) == (False, True)
    assert again["referral"]["id"] == made["referral"]["id"]
    assert made["referral"]["client"]["familyName"] == "Baptiste"
    assert Referral.objects.count() == 1


def test_graphql_key_reused_with_other_input(hotline):
    key = str(uuid.uuid4())
    gql_create(hotline, key, gql_input())

    response = gql_create(hotline, key, gql_input(priority="ASAP"))

    assert response["data"]["createReferral"] is None
    assert response["errors"][0]["extensions"]["code"] == "idempotency_key_reused"
    assert Referral.objects.count() == 1


def test_graphql_key_in_flight(hotline):
    key = str(uuid.uuid4())
    gql_create(hotline, key, gql_input())
    # As if that first request were still running: same fingerprint, not completed.
    IdempotencyRecord.objects.update(state=IdempotencyRecord.IN_FLIGHT,
                                     created_at=timezone.now())

    response = gql_create(hotline, key, gql_input())

    assert response["data"]["createReferral"] is None
    assert response["errors"][0]["extensions"]["code"] == "idempotency_key_in_flight"


@pytest.mark.parametrize("key, code", [("", "idempotency_key_missing"),
                                       ("k" * 300, "idempotency_key_invalid")])
def test_graphql_bad_keys(hotline, key, code):
    response = gql_create(hotline, key, gql_input())

    assert response["errors"][0]["extensions"]["code"] == code
    assert not Referral.objects.exists()


def test_graphql_failure_releases_the_key(hotline):
    key = str(uuid.uuid4())

    failed = gql_create(hotline, key, gql_input(consent=None))
    corrected = gql_create(hotline, key, gql_input())

    assert failed["errors"][0]["extensions"]["code"] == "consent_required"
    assert corrected["data"]["createReferral"]["replayed"] is False
    assert Referral.objects.count() == 1


def test_one_request_through_either_channel_is_made_once(hotline):
    """The fingerprint is taken on the request as the service reads it: a create
    retried through the other API replays; another request with the key is a reuse."""
    key = str(uuid.uuid4())
    made = create(hotline, body(), key)
    assert made.status_code == 201
    same_in_graphql = gql_input(client={"givenName": "Maria", "familyName": "Gonzalez",
                                        "preferredLanguages": ["es"]},
                                serviceType="asylum")

    replayed = gql_create(hotline, key, same_in_graphql)
    other = gql_create(hotline, key, gql_input())

    assert replayed["data"]["createReferral"]["replayed"] is True
    assert replayed["data"]["createReferral"]["referral"]["id"] == made.json()["id"]
    assert other["errors"][0]["extensions"]["code"] == "idempotency_key_reused"
    assert Referral.objects.count() == 1
