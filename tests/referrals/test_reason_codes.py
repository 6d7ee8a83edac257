"""Coded reasons (issue 13, item 6): a rejection, failure, cancellation, hold or entry
in error says why as a code of its move (plus, or instead of, a written reason),
kept on the referral and its event, in REST and GraphQL, and counted by reports."""

from __future__ import annotations

import pytest

from referrals.models import ReasonCode, REASONS_BY_STATUS, ReferralEvent
from tests.assertions import assert_problem

from .factories import RECEIVER, SENDER, make_referral

REFERRALS = "/api/v1/referrals/"


def transition(client, loop, **body):
    return client.post(f"{REFERRALS}{loop.id}/transition/", body,
                       headers={"If-Match": f'"{loop.refresh().version}"'})


def test_a_rejection_with_a_code_alone(api, coalition):
    loop = make_referral()
    response = transition(api(RECEIVER), loop, to="rejected", reason_code="no-capacity")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["status_reason_code"], body["status_reason"]) == (
        "rejected", "no-capacity", "")
    event = ReferralEvent.objects.filter(referral_id=loop.id).order_by("-version").first()
    assert (event.to_status, event.reason_code) == ("rejected", "no-capacity")
    events = api(SENDER).get(f"{REFERRALS}{loop.id}/events/").json()
    assert events[-1]["reason_code"] == "no-capacity"


@pytest.mark.parametrize("body, code, field", [
    ({"to": "rejected", "reason_code": "duplicate"}, "reason_code_not_for_status",
     "reason_code"),
    ({"to": "rejected", "reason_code": "nope"}, "invalid_reason_code", "reason_code"),
    ({"to": "rejected", "reason_code": "other"}, "reason_required", "reason"),
    ({"to": "rejected"}, "reason_required", "reason"),
])
def test_reason_refusals(api, coalition, body, code, field):
    loop = make_referral()
    response = transition(api(RECEIVER), loop, **body)
    assert_problem(response, 400, code)
    assert response.json()["errors"][0]["field"] == field
    assert loop.refresh().status == "requested"


def test_a_written_reason_alone_still_does(api, coalition):
    loop = make_referral()
    response = transition(api(RECEIVER), loop, to="rejected", reason="Full until June")
    assert (response.status_code, response.json()["status_reason_code"]) == (200, None)


def test_graphql_fails_with_a_code(api, coalition):
    loop = make_referral("accepted")
    body = api(RECEIVER).graphql("""mutation($id: UUID!, $v: Int!) {
        transitionReferral(id: $id, expectedVersion: $v, to: FAILED,
                           reasonCode: CLIENT_UNREACHABLE, outcomes: [{code: CLIENT_UNREACHABLE}])
        { referral { status statusReasonCode events { reasonCode } } } }""",
                                 {"id": str(loop.id), "v": loop.refresh().version}).json()
    assert "errors" not in body, body
    referral = body["data"]["transitionReferral"]["referral"]
    assert (referral["status"], referral["statusReasonCode"]) == ("FAILED", "CLIENT_UNREACHABLE")
    assert referral["events"][-1]["reasonCode"] == "CLIENT_UNREACHABLE"


def test_every_move_that_needs_a_reason_has_codes_and_other():
    from referrals.services import REASON_REQUIRED
    assert REASON_REQUIRED <= set(REASONS_BY_STATUS)
    assert all(ReasonCode.OTHER in codes for codes in REASONS_BY_STATUS.values())
    assert all(code in ReasonCode.values for codes in REASONS_BY_STATUS.values()
               for code in codes)


def test_reports_break_down_by_reason(api, coalition):
    camba = api(RECEIVER)
    for code in ("no-capacity", "no-capacity", "not-eligible"):
        transition(camba, make_referral(), to="rejected", reason_code=code)
    transition(camba, make_referral(), to="rejected", reason="Written only")
    make_referral()  # still requested: no reason
    body = camba.get("/api/v1/reports/service-numbers/", {
        "dimensions": "reason", "measures": "referrals_received,rejected"}).json()
    rows = {r["dimensions"]["reason"]: r["values"] for r in body["rows"]}
    assert rows == {"no-capacity": {"referrals_received": 2, "rejected": 2},
                    "not-eligible": {"referrals_received": 1, "rejected": 1},
                    "none": {"referrals_received": 2, "rejected": 1}}


# --- community casework outcomes (issue 13, item 8) ---------------------------------------

def complete(client, loop, *codes):
    return transition(client, loop, to="completed",
                      outcomes=[{"code": code} for code in codes])


def test_a_community_group_records_its_campaign_outcomes(api, coalition):
    group = "jackson-heights-defense"
    loop = make_referral("accepted", receiver=group, service_type="ice-checkin-accompaniment")
    response = complete(api(group), loop, "accompanied-to-check-in",
                        "hearing-attended-by-supporters", "stay-of-removal-granted")
    assert response.status_code == 200, response.content
    assert sorted(o["code"] for o in response.json()["outcomes"]) == [
        "accompanied-to-check-in", "hearing-attended-by-supporters", "stay-of-removal-granted"]


def test_campaign_outcomes_are_refused_on_legal_services(api, coalition):
    loop = make_referral("accepted")  # asylum, at CAMBA
    response = complete(api(RECEIVER), loop, "petition-delivered")
    assert_problem(response, 400, "outcome_not_for_service")
    assert response.json()["errors"][0]["field"] == "outcomes"
    body = api(RECEIVER).graphql("""mutation($id: UUID!, $v: Int!) {
        transitionReferral(id: $id, expectedVersion: $v, to: COMPLETED,
                           outcomes: [{code: PETITION_DELIVERED}]) { referral { id } } }""",
                                 {"id": str(loop.id), "v": loop.refresh().version}).json()
    assert body["errors"][0]["extensions"]["code"] == "outcome_not_for_service"
    assert loop.refresh().status == "accepted"
