"""Racing writes on PostgreSQL: of two transitions made against the same version,
exactly one wins; of two creates with the same Idempotency-Key, exactly one
referral is made. Real threads, real transactions (SQLite serialises writers, so
these run on PostgreSQL only)."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.db import connection

from core.errors import DomainError
from referrals import services
from referrals.models import Referral, ReferralEvent
from tests.conftest import APIClient

from .factories import make_referral

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql",
                       reason="needs PostgreSQL: SQLite serialises writers, so nothing races"),
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("reseed_after_flush"),
]

ROUNDS = 10


def race(*jobs):
    """Run the jobs in threads released together; returns each one's result or exception."""
    barrier = threading.Barrier(len(jobs))
    results: list = [None] * len(jobs)

    def run(index, job):
        try:
            barrier.wait(timeout=10)
            results[index] = job()
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "a racer hung"
    return results


def test_two_transitions_from_the_same_version_one_wins(coalition):
    """Accept against reject, both at version 1, ROUNDS times."""
    winners_seen = set()
    for _ in range(ROUNDS):
        loop = make_referral()
        accept = lambda: services.referral_transition(  # noqa: E731
            principal=loop.receiver, referral_id=loop.id, to="accepted", expected_version=1)
        reject = lambda: services.referral_transition(  # noqa: E731
            principal=loop.receiver, referral_id=loop.id, to="rejected",
            reason="No capacity", expected_version=1)

        results = race(accept, reject)

        winners = [r for r in results if isinstance(r, Referral)]
        losers = [r for r in results if isinstance(r, DomainError)]
        assert len(winners) == 1 and len(losers) == 1, results
        assert (losers[0].code, losers[0].status) == ("version_mismatch", 412)
        assert losers[0].headers == {"ETag": '"2"'}
        referral = Referral.objects.get(pk=loop.id)
        assert referral.version == 2
        assert referral.status == winners[0].status
        events = list(ReferralEvent.objects.filter(referral=referral).order_by("version"))
        assert [(e.kind, e.to_status, e.version) for e in events] == [
            ("created", "requested", 1), ("status_changed", referral.status, 2)]
        winners_seen.add(referral.status)
    assert winners_seen <= {"accepted", "rejected"}


def test_sender_and_receiver_racing_from_accepted(coalition):
    """Cancel (sender) against complete (receiver): one history, never both."""
    for _ in range(ROUNDS):
        loop = make_referral("accepted")
        cancel = lambda: services.referral_transition(  # noqa: E731
            principal=loop.sender, referral_id=loop.id, to="cancelled",
            reason="Client moved", expected_version=2)
        complete = lambda: services.referral_transition(  # noqa: E731
            principal=loop.receiver, referral_id=loop.id, to="completed", expected_version=2,
            outcomes=[services.OutcomeInput("advice-given")])

        results = race(cancel, complete)

        assert sorted(type(r).__name__ for r in results) == ["DomainError", "Referral"]
        referral = Referral.objects.get(pk=loop.id)
        assert referral.version == 3
        assert ReferralEvent.objects.filter(referral=referral).count() == 3
        assert referral.outcomes.count() == (1 if referral.status == "completed" else 0)


def test_rest_transitions_race(coalition, api):
    loop = make_referral()
    receiver = api("camba-legal")
    url = f"/api/v1/referrals/{loop.id}/transition/"

    def post(payload):
        client = APIClient(receiver.token)
        return lambda: client.post(url, payload, headers={"If-Match": '"1"'})

    results = race(post({"to": "accepted"}), post({"to": "rejected", "reason": "Full"}))

    assert sorted(r.status_code for r in results) == [200, 412], [r.content for r in results]
    loser = next(r for r in results if r.status_code == 412)
    assert loser.json()["code"] == "version_mismatch"
    assert ReferralEvent.objects.filter(referral_id=loop.id).count() == 2


def test_the_same_idempotency_key_racing_makes_one_referral(coalition, api):
    hotline = api("idc-hotline")
    key = str(uuid.uuid4())
    body = {"client": {"given_name": "Luis", "family_name": "Torres"},
            "consent": {"method": "verbal"}, "receiving_org": "cala",
            "service_type": "removal-defense", "intake_channel": "hotline"}

    def post():
        client = APIClient(hotline.token)
        return lambda: client.post("/api/v1/referrals/", body,
                                   headers={"Idempotency-Key": key})

    results = race(post(), post(), post())

    statuses = sorted(r.status_code for r in results)
    assert all(s in (201, 409) for s in statuses), [r.content for r in results]
    assert statuses[0] == 201
    created = {r.json()["id"] for r in results if r.status_code == 201}
    assert len(created) == 1
    for response in results:
        if response.status_code == 409:
            assert response.json()["code"] == "idempotency_key_in_flight"
    assert Referral.objects.count() == 1
