"""Late outcomes and reopening (issue 13, item 2): legal results arrive months after a
referral closed; a closed referral may be reopened by its receiver, with a reason,
within a window. REST and GraphQL, the matrix, a race, and reports counting an
outcome in the period it was recorded."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from referrals import services
from referrals.models import Referral, ReferralEvent, ReferralOutcome
from referrals.services import OutcomeInput
from tests.assertions import assert_problem
from tests.webhooks.test_delivery import subscribe
from webhooks.models import EventType, WebhookDelivery

from .factories import RECEIVER, SENDER, make_referral

REFERRALS = "/api/v1/referrals/"


def add(client, loop, *codes, version=None):
    version = version or loop.refresh().version
    return client.post(f"{REFERRALS}{loop.id}/outcomes/",
                       {"outcomes": [{"code": c, "note": "Decision by mail"} for c in codes]},
                       headers={"If-Match": f'"{version}"'})


def test_the_receiver_adds_an_outcome_months_later(api, coalition, settings):
    settings.WEBHOOK_ALLOW_LOCAL_TARGETS = True
    subscribe(SENDER, "http://127.0.0.1:9/sd13", [EventType.REFERRAL_OUTCOME_ADDED])
    loop = make_referral("completed")  # with advice-given
    before = loop.refresh().version

    response = add(api(RECEIVER), loop, "relief-granted")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "completed" and body["version"] == before + 1
    assert sorted(o["code"] for o in body["outcomes"]) == ["advice-given", "relief-granted"]
    event = ReferralEvent.objects.filter(referral_id=loop.id).order_by("-version").first()
    assert (event.kind, event.version, event.to_status) == ("outcome_added", before + 1,
                                                            "completed")
    # The sender sees it, and hears of it.
    seen = api(SENDER).get(f"{REFERRALS}{loop.id}/").json()
    assert "relief-granted" in [o["code"] for o in seen["outcomes"]]
    assert WebhookDelivery.objects.filter(subscription__organization__slug=SENDER,
                                          event_type=EventType.REFERRAL_OUTCOME_ADDED).exists()


@pytest.mark.parametrize("status, who, codes, http, code", [
    ("completed", SENDER, ["relief-granted"], 403, "not_allowed_for_party"),
    ("completed", "cala", ["relief-granted"], 404, "not_found"),
    ("completed", "nyc-council", ["relief-granted"], 403, "insufficient_scope"),
    ("accepted", RECEIVER, ["relief-granted"], 400, "outcomes_not_allowed"),
    ("completed", RECEIVER, ["advice-given"], 400, "duplicate_outcome"),
    ("completed", RECEIVER, ["referred-onward"], 400, "use_forward"),
    ("completed", RECEIVER, ["petition-delivered"], 400, "outcome_not_for_service"),
    ("completed", RECEIVER, [], 400, "outcomes_required"),
    ("completed", RECEIVER, ["accompanied"], 400, "validation_error"),
])
def test_late_outcome_refusals(api, coalition, status, who, codes, http, code):
    loop = make_referral(status)
    version = loop.refresh().version
    assert_problem(add(api(who), loop, *codes, version=version), http, code)
    assert loop.refresh().version == version


def test_a_late_outcome_needs_if_match_and_the_current_version(api, coalition):
    loop = make_referral("completed")
    camba = api(RECEIVER)
    response = camba.post(f"{REFERRALS}{loop.id}/outcomes/",
                          {"outcomes": [{"code": "relief-granted"}]})
    assert_problem(response, 428, "precondition_required")
    assert_problem(add(camba, loop, "relief-granted", version=1), 412, "version_mismatch")
    assert api().post(f"{REFERRALS}{loop.id}/outcomes/", {}).status_code == 401


def test_graphql_adds_late_outcomes(api, coalition):
    loop = make_referral("failed")
    body = api(RECEIVER).graphql("""mutation($id: UUID!, $v: Int!) {
        addReferralOutcomes(id: $id, expectedVersion: $v, outcomes: [{code: REMOVAL_ORDERED}])
        { referral { status version outcomes { code } } } }""",
                                 {"id": str(loop.id), "v": loop.refresh().version}).json()
    assert "errors" not in body, body
    referral = body["data"]["addReferralOutcomes"]["referral"]
    assert [o["code"] for o in referral["outcomes"]] == ["CLIENT_UNREACHABLE", "REMOVAL_ORDERED"]


# --- reopening --------------------------------------------------------------------------

def reopen(client, loop, reason="The client came back with the hearing notice"):
    return client.post(f"{REFERRALS}{loop.id}/transition/", {"to": "in-progress",
                                                             "reason": reason},
                       headers={"If-Match": f'"{loop.refresh().version}"'})


def test_the_receiver_reopens_a_completed_referral_with_a_reason(api, coalition):
    loop = make_referral("completed")
    camba = api(RECEIVER)
    assert_problem(reopen(camba, loop, reason=""), 400, "reason_required")
    assert_problem(reopen(api(SENDER), loop), 403, "not_allowed_for_party")

    response = reopen(camba, loop)
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["closed_at"]) == ("in-progress", None)
    assert [o["code"] for o in body["outcomes"]] == ["advice-given"]  # history stays


def test_reopening_has_a_window(api, coalition, settings):
    settings.REFERRAL_REOPEN_WINDOW_DAYS = 30
    loop = make_referral("failed")
    Referral.objects.filter(pk=loop.id).update(closed_at=timezone.now() - timedelta(days=31))
    assert_problem(reopen(api(RECEIVER), loop), 409, "reopen_window_passed")


def test_a_forwarded_referral_is_not_reopened(api, coalition):
    loop = make_referral("accepted")
    services.referral_forward(principal=loop.receiver, referral_id=loop.id,
                              expected_version=loop.refresh().version, receiving_org="cala",
                              service_type="stay-of-removal",
                              consent=services.ConsentInput(method="verbal"))
    assert_problem(reopen(api(RECEIVER), loop), 409, "reopen_forwarded")


@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="needs PostgreSQL: SQLite serialises writers, so nothing races")
@pytest.mark.django_db(transaction=True)
def test_a_late_outcome_and_a_reopen_race_and_exactly_one_wins(coalition,
                                                               reseed_after_flush):
    loop = make_referral("completed")
    version = loop.refresh().version
    results, barrier = {}, threading.Barrier(2)

    def run(name, call):
        try:
            barrier.wait(timeout=10)
            call()
            results[name] = "ok"
        except Exception as exc:  # the loser's DomainError
            results[name] = getattr(exc, "code", repr(exc))
        finally:
            connection.close()

    calls = {
        "outcome": lambda: services.referral_outcomes_add(
            principal=loop.receiver, referral_id=loop.id, expected_version=version,
            outcomes=[OutcomeInput("relief-granted")]),
        "reopen": lambda: services.referral_transition(
            principal=loop.receiver, referral_id=loop.id, to="in-progress",
            expected_version=version, reason="Hearing notice arrived"),
    }
    threads = [threading.Thread(target=run, args=item) for item in calls.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(results.values()) == ["ok", "version_mismatch"], results
    after = loop.refresh()
    assert after.version == version + 1
    won = next(name for name, result in results.items() if result == "ok")
    assert (after.status == "in-progress") == (won == "reopen")
    assert ReferralOutcome.objects.filter(referral=after, code="relief-granted").exists() == (
        won == "outcome")


def test_reports_count_an_outcome_in_the_period_it_was_recorded(api, coalition):
    """A referral completed in SFY 2016-17 whose relief came in SFY 2017-18: the
    referral counts in 2016-17, the late outcome in 2017-18."""
    loop = make_referral("completed")
    made = timezone.make_aware(timezone.datetime(2017, 2, 1, 10))
    Referral.objects.filter(pk=loop.id).update(created_at=made, closed_at=made)
    ReferralOutcome.objects.filter(referral_id=loop.id).update(recorded_at=made)
    add(api(RECEIVER), loop, "relief-granted")
    ReferralOutcome.objects.filter(referral_id=loop.id, code="relief-granted").update(
        recorded_at=timezone.make_aware(timezone.datetime(2017, 9, 1, 10)))

    body = api(RECEIVER).get("/api/v1/reports/service-numbers/", {
        "dimensions": "period", "period": "sfy",
        "measures": "referrals_received,outcomes"}).json()
    rows = {r["dimensions"]["period"]: r["values"] for r in body["rows"]}
    assert rows["SFY 2016-17"] == {"referrals_received": 1, "outcomes": 1}
    assert rows["SFY 2017-18"] == {"referrals_received": 0, "outcomes": 1}
