"""The whole referral transition table, against an independent copy of DOMAIN.md.

Every (from status, to status, party) is driven through the service; a
representative subset also through REST (If-Match) and GraphQL (expectedVersion),
which must answer with the same codes.
"""

from __future__ import annotations

import pytest

from core.errors import DomainError
from referrals import services
from referrals.models import ReferralEvent, ReferralOutcome
from referrals.services import OutcomeInput

from .factories import make_referral, principal_for

# DOMAIN.md, "The referral loop", copied literally (not imported from the services):
#   requested   -> accepted, rejected (receiver); cancelled (sender)
#   accepted    -> in-progress, on-hold, completed, failed (receiver); cancelled (either)
#   in-progress -> on-hold, completed, failed (receiver); cancelled (either)
#   on-hold     -> in-progress, completed, failed (receiver); cancelled (either)
#   completed, failed -> in-progress (receiver): reopening, with a reason, within a window
#   rejected, cancelled: terminal
#   entered-in-error: by the sender, from any status; terminal
STATUSES = ["requested", "accepted", "in-progress", "on-hold", "rejected", "completed",
            "failed", "cancelled", "entered-in-error"]
R, S, EITHER = {"receiver"}, {"sender"}, {"sender", "receiver"}
DOMAIN_TABLE: dict[str, dict[str, set[str]]] = {
    "requested": {"accepted": R, "rejected": R, "cancelled": S},
    "accepted": {"in-progress": R, "on-hold": R, "completed": R, "failed": R,
                 "cancelled": EITHER},
    "in-progress": {"on-hold": R, "completed": R, "failed": R, "cancelled": EITHER},
    "on-hold": {"in-progress": R, "completed": R, "failed": R, "cancelled": EITHER},
    "rejected": {},
    "completed": {"in-progress": R},
    "failed": {"in-progress": R},
    "cancelled": {},
    "entered-in-error": {},
}
for _from in STATUSES:
    if _from != "entered-in-error":
        DOMAIN_TABLE[_from]["entered-in-error"] = S
TERMINAL = {"rejected", "completed", "failed", "cancelled", "entered-in-error"}
REASON_REQUIRED = {"rejected", "cancelled", "on-hold", "failed"}


def expected(from_status: str, to: str, party: str) -> tuple[int, str | None]:
    """(HTTP status, error code) the table predicts; code None means success."""
    allowed = DOMAIN_TABLE[from_status]
    if to not in allowed:
        return 409, "invalid_transition"
    if party not in allowed[to]:
        return 403, "not_allowed_for_party"
    return 200, None


def well_formed(to: str, from_status: str = "") -> dict:
    """Arguments that satisfy every rule except the table itself."""
    reopening = from_status in ("completed", "failed") and to == "in-progress"
    return {
        "reason": "Reason given for the record" if to in REASON_REQUIRED or reopening else "",
        "outcomes": [OutcomeInput("advice-given", "Explained the options")]
        if to == "completed" else [],
    }


def transition(loop, party: str, to: str, **kwargs):
    principal = loop.sender if party == "sender" else loop.receiver
    kwargs.setdefault("expected_version", loop.referral.version)
    return services.referral_transition(principal=principal, referral_id=loop.id, to=to,
                                        **kwargs)


def test_the_copied_table_matches_domain_md_in_size():
    """Guards the copy above: 4 open statuses with 3+5+4+4 moves, the two reopenings,
    plus entered-in-error from the 8 other statuses."""
    assert sum(len(moves) for moves in DOMAIN_TABLE.values()) == 16 + 2 + 8
    assert all(not set(DOMAIN_TABLE[s]) - {"entered-in-error"} for s in TERMINAL
               - {"completed", "failed"})


@pytest.mark.parametrize("party", ["sender", "receiver"])
@pytest.mark.parametrize("to", STATUSES)
@pytest.mark.parametrize("from_status", STATUSES)
def test_transition_table(coalition, from_status, to, party):
    loop = make_referral(from_status)
    version = loop.referral.version
    events_before = list(ReferralEvent.objects.filter(referral=loop.referral)
                         .values_list("pk", flat=True))
    status, code = expected(from_status, to, party)

    if code is not None:
        with pytest.raises(DomainError) as caught:
            transition(loop, party, to, **well_formed(to, from_status))
        assert (caught.value.code, caught.value.status) == (code, status)
        after = loop.refresh()
        assert (after.status, after.version) == (from_status, version)
        assert ReferralEvent.objects.filter(referral=after).count() == len(events_before)
        return

    actor = loop.sender if party == "sender" else loop.receiver
    args = well_formed(to, from_status)
    result = transition(loop, party, to, **args)

    after = loop.refresh()
    assert result.status == after.status == to
    assert after.version == version + 1
    assert after.status_reason == args["reason"]
    new_events = list(ReferralEvent.objects.filter(referral=after).exclude(pk__in=events_before))
    assert len(new_events) == 1
    event = new_events[0]
    assert (event.kind, event.from_status, event.to_status) == ("status_changed", from_status,
                                                                 to)
    assert event.reason == args["reason"]
    assert event.organization_id == actor.organization.pk
    assert event.actor_application_id == actor.application.pk
    assert event.version == after.version
    assert (after.closed_at is not None) == (to in TERMINAL)
    if to == "accepted":
        assert after.accepted_at is not None
    if to == "completed":
        assert list(after.outcomes.values_list("code", flat=True)) == ["advice-given"]


# --- the rules beside the table -----------------------------------------------------


@pytest.mark.parametrize("to, from_status, party", [
    ("rejected", "requested", "receiver"),
    ("cancelled", "requested", "sender"),
    ("cancelled", "accepted", "receiver"),
    ("on-hold", "in-progress", "receiver"),
    ("failed", "on-hold", "receiver"),
])
@pytest.mark.parametrize("reason", ["", "   "])
def test_a_reason_is_required(coalition, to, from_status, party, reason):
    loop = make_referral(from_status)
    version = loop.referral.version

    with pytest.raises(DomainError) as caught:
        transition(loop, party, to, reason=reason)

    assert (caught.value.code, caught.value.status, caught.value.field) == (
        "reason_required", 400, "reason")
    assert loop.refresh().version == version


@pytest.mark.parametrize("to", ["accepted", "in-progress", "completed", "entered-in-error"])
def test_no_reason_is_needed_elsewhere(coalition, to):
    loop = make_referral("requested" if to in {"accepted", "entered-in-error"} else "accepted")
    party = "sender" if to == "entered-in-error" else "receiver"

    referral = transition(loop, party, to,
                          outcomes=[OutcomeInput("advice-given")] if to == "completed" else [])

    assert referral.status == to


def test_completing_needs_an_outcome(coalition):
    loop = make_referral("in-progress")

    with pytest.raises(DomainError) as caught:
        transition(loop, "receiver", "completed")

    assert (caught.value.code, caught.value.status) == ("outcomes_required", 400)
    assert loop.refresh().status == "in-progress"


def test_completing_records_every_outcome(coalition):
    loop = make_referral("accepted")

    transition(loop, "receiver", "completed", outcomes=[
        OutcomeInput("stay-of-removal-granted", "Six-month stay"),
        OutcomeInput("case-reopened", "Asylum case reopened")])

    assert list(ReferralOutcome.objects.filter(referral=loop.referral)
                .values_list("code", "note")) == [
        ("stay-of-removal-granted", "Six-month stay"), ("case-reopened", "Asylum case reopened")]


def test_failing_may_record_outcomes(coalition):
    loop = make_referral("on-hold")

    transition(loop, "receiver", "failed", reason="No relief", outcomes=[
        OutcomeInput("no-relief-available")])

    assert list(loop.referral.outcomes.values_list("code", flat=True)) == [
        "no-relief-available"]


@pytest.mark.parametrize("from_status, to, party", [
    ("requested", "accepted", "receiver"),
    ("requested", "rejected", "receiver"),
    ("accepted", "in-progress", "receiver"),
    ("in-progress", "on-hold", "receiver"),
    ("accepted", "cancelled", "sender"),
    ("requested", "entered-in-error", "sender"),
])
def test_outcomes_only_on_completed_or_failed(coalition, from_status, to, party):
    loop = make_referral(from_status)

    with pytest.raises(DomainError) as caught:
        transition(loop, party, to, reason="because",
                   outcomes=[OutcomeInput("advice-given")])

    assert (caught.value.code, caught.value.status) == ("outcomes_not_allowed", 400)
    assert loop.refresh().status == from_status
    assert not ReferralOutcome.objects.filter(referral=loop.referral).exists()


@pytest.mark.parametrize("to", ["completed", "failed"])
def test_referred_onward_goes_through_forward(coalition, to):
    loop = make_referral("accepted")

    with pytest.raises(DomainError) as caught:
        transition(loop, "receiver", to, reason="sent on",
                   outcomes=[OutcomeInput("referred-onward")])

    assert caught.value.code == "use_forward"
    assert loop.refresh().status == "accepted"


def test_unknown_and_duplicate_outcomes_are_refused(coalition):
    loop = make_referral("accepted")

    with pytest.raises(DomainError) as unknown:
        transition(loop, "receiver", "completed", outcomes=[OutcomeInput("deported-anyway")])
    with pytest.raises(DomainError) as duplicate:
        transition(loop, "receiver", "completed",
                   outcomes=[OutcomeInput("advice-given"), OutcomeInput("advice-given")])

    assert unknown.value.code == "invalid_outcome"
    assert duplicate.value.code == "duplicate_outcome"
    assert loop.refresh().version == 2


def test_unknown_target_status_is_refused(coalition):
    loop = make_referral()

    with pytest.raises(DomainError) as caught:
        transition(loop, "receiver", "approved")

    assert (caught.value.code, caught.value.status) == ("invalid_status", 400)


def test_a_missing_version_is_428_and_a_stale_one_412(coalition):
    loop = make_referral("accepted")

    with pytest.raises(DomainError) as missing:
        transition(loop, "receiver", "in-progress", expected_version=None)
    with pytest.raises(DomainError) as stale:
        transition(loop, "receiver", "in-progress", expected_version=1)

    assert (missing.value.code, missing.value.status) == ("precondition_required", 428)
    assert (stale.value.code, stale.value.status) == ("version_mismatch", 412)
    assert stale.value.headers == {"ETag": '"2"'}
    assert loop.refresh().version == 2


def test_a_non_party_coalition_admin_may_read_but_not_move(coalition):
    loop = make_referral()
    admin = principal_for("idc", "orgs:read referrals:read referrals:write admin")

    with pytest.raises(DomainError) as caught:
        services.referral_transition(principal=admin, referral_id=loop.id, to="cancelled",
                                     reason="tidying up", expected_version=1)

    assert (caught.value.code, caught.value.status) == ("not_a_party", 403)


# --- the same codes through REST and GraphQL -------------------------------------------

# (from status, party, to, reason, outcome codes, HTTP status, code)
API_CASES = [
    ("requested", "receiver", "accepted", "", [], 200, None),
    ("requested", "sender", "entered-in-error", "duplicate", [], 200, None),
    ("in-progress", "sender", "cancelled", "client moved", [], 200, None),
    ("accepted", "receiver", "completed", "", ["relief-granted"], 200, None),
    ("requested", "sender", "accepted", "", [], 403, "not_allowed_for_party"),
    ("accepted", "receiver", "entered-in-error", "oops", [], 403, "not_allowed_for_party"),
    ("completed", "receiver", "accepted", "", [], 409, "invalid_transition"),
    ("requested", "receiver", "in-progress", "", [], 409, "invalid_transition"),
    ("requested", "receiver", "rejected", "", [], 400, "reason_required"),
    ("accepted", "receiver", "on-hold", "", [], 400, "reason_required"),
    ("accepted", "receiver", "completed", "", [], 400, "outcomes_required"),
    ("accepted", "receiver", "in-progress", "", ["advice-given"], 400,
     "outcomes_not_allowed"),
    ("accepted", "receiver", "completed", "", ["referred-onward"], 400, "use_forward"),
]
API_IDS = [f"{c[0]}-{c[1]}-{c[2]}-{c[6] or 'ok'}" for c in API_CASES]


def _party_client(api, party):
    slug = "sd13-peralta-office" if party == "sender" else "camba-legal"
    return api(slug)


@pytest.mark.parametrize("from_status, party, to, reason, codes, status, code", API_CASES,
                         ids=API_IDS)
def test_rest_transition_codes(coalition, api, from_status, party, to, reason, codes,
                               status, code):
    caller = _party_client(api, party)
    loop = make_referral(from_status)
    version = loop.referral.version

    response = caller.post(
        f"/api/v1/referrals/{loop.id}/transition/",
        {"to": to, "reason": reason, "outcomes": [{"code": c} for c in codes]},
        headers={"If-Match": f'"{version}"'})

    assert response.status_code == status, response.content
    if code is None:
        body = response.json()
        assert (body["status"], body["version"]) == (to, version + 1)
        assert response["ETag"] == f'"{version + 1}"'
        event = loop.refresh().events.order_by("-version").first()
        assert event.actor_application_id == caller.app.pk
        assert event.organization_id == caller.org.pk
    else:
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["code"] == code
        assert loop.refresh().version == version


GRAPHQL_TRANSITION = """
mutation Move($id: UUID!, $version: Int!, $to: ReferralStatus!, $reason: String,
              $outcomes: [OutcomeInput!]) {
  transitionReferral(id: $id, expectedVersion: $version, to: $to, reason: $reason,
                     outcomes: $outcomes) {
    referral { id status version etag outcomes { code } }
  }
}"""


def enum_name(value: str) -> str:
    return value.upper().replace("-", "_")


def graphql_transition(caller, referral_id, version, to, reason="", codes=()):
    return caller.graphql(GRAPHQL_TRANSITION, {
        "id": str(referral_id), "version": version, "to": enum_name(to), "reason": reason,
        "outcomes": [{"code": enum_name(c)} for c in codes]})


@pytest.mark.parametrize("from_status, party, to, reason, codes, status, code", API_CASES,
                         ids=API_IDS)
def test_graphql_transition_codes(coalition, api, from_status, party, to, reason, codes,
                                  status, code):
    caller = _party_client(api, party)
    loop = make_referral(from_status)
    version = loop.referral.version

    response = graphql_transition(caller, loop.id, version, to, reason, codes)

    assert response.status_code == 200
    body = response.json()
    if code is None:
        assert "errors" not in body, body
        moved = body["data"]["transitionReferral"]["referral"]
        assert (moved["status"], moved["version"], moved["etag"]) == (
            enum_name(to), version + 1, f'"{version + 1}"')
        assert loop.refresh().status == to
    else:
        assert body["data"]["transitionReferral"] is None
        assert body["errors"][0]["extensions"]["code"] == code
        assert loop.refresh().version == version


def test_rest_if_match_missing_or_not_an_etag_is_428_and_stale_is_412(coalition, api):
    receiver = api("camba-legal")
    loop = make_referral("accepted")
    url = f"/api/v1/referrals/{loop.id}/transition/"

    missing = receiver.post(url, {"to": "in-progress"})
    stale = receiver.post(url, {"to": "in-progress"}, headers={"If-Match": '"1"'})
    # RFC 9110's "any current version" names no version: not a precondition this API takes.
    any_version = receiver.post(url, {"to": "in-progress"}, headers={"If-Match": "*"})
    garbage = receiver.post(url, {"to": "in-progress"}, headers={"If-Match": 'W/"2"'})

    assert (missing.status_code, missing.json()["code"]) == (428, "precondition_required")
    assert (stale.status_code, stale.json()["code"]) == (412, "version_mismatch")
    assert stale["ETag"] == '"2"'
    assert (any_version.status_code, any_version.json()["code"]) == (
        428, "precondition_required")
    assert (garbage.status_code, garbage.json()["code"]) == (428, "precondition_required")
    assert loop.refresh().version == 2


def test_graphql_stale_expected_version_is_version_mismatch(coalition, api):
    loop = make_referral("accepted")

    response = graphql_transition(api("camba-legal"), loop.id, 1, "in-progress")

    assert response.json()["errors"][0]["extensions"]["code"] == "version_mismatch"
    assert loop.refresh().status == "accepted"
