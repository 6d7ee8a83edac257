"""Appointments (issue 13, item 5): court hearings, ICE check-ins, interviews and
consultations on a referral, with a kind of place and no address; the next one raises
the urgency shown and can be filtered on. REST and GraphQL, and the matrix."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.assertions import assert_problem

from .factories import RECEIVER, SENDER, make_referral

REFERRALS = "/api/v1/referrals/"


def add(client, loop, days, kind="ice-check-in", location_type="ice-office"):
    at = (timezone.now() + timedelta(days=days)).isoformat()
    return client.post(f"{REFERRALS}{loop.id}/appointments/",
                       {"kind": kind, "at": at, "location_type": location_type})


def test_both_parties_add_and_see_appointments_and_the_next_raises_urgency(api, coalition):
    loop = make_referral()  # routine
    office, camba = api(SENDER), api(RECEIVER)
    assert add(office, loop, 20, "court-hearing", "immigration-court").status_code == 201
    routine = camba.get(f"{REFERRALS}{loop.id}/").json()
    assert (routine["urgency"], routine["next_appointment"]["kind"]) == ("routine",
                                                                         "court-hearing")
    response = add(camba, loop, 10, "ice-check-in", "ice-office")
    assert response.status_code == 201, response.content
    assert response.json()["created_by_org"] == RECEIVER

    body = office.get(f"{REFERRALS}{loop.id}/").json()
    assert [a["kind"] for a in body["appointments"]] == ["ice-check-in", "court-hearing"]
    assert (body["urgency"], body["next_appointment"]["kind"], body["priority"]) == (
        "urgent", "ice-check-in", "routine")
    add(office, loop, 1, "interview", "phone")
    assert office.get(f"{REFERRALS}{loop.id}/").json()["urgency"] == "asap"
    listed = office.get(f"{REFERRALS}{loop.id}/appointments/").json()
    assert [a["location_type"] for a in listed] == ["phone", "ice-office", "immigration-court"]
    assert loop.refresh().version == 1  # an appointment is no move of the referral


def test_a_past_appointment_raises_nothing(api, coalition):
    loop = make_referral(priority="routine")
    add(api(SENDER), loop, -2)
    body = api(SENDER).get(f"{REFERRALS}{loop.id}/").json()
    assert (body["urgency"], body["next_appointment"]) == ("routine", None)


def test_filter_appointment_before(api, coalition):
    soon, later, none = (make_referral(family_name=n) for n in ("Soon", "Later", "None"))
    office = api(SENDER)
    add(office, soon, 5)
    add(office, later, 40)
    add(office, none, -5)  # past
    before = (timezone.now() + timedelta(days=14)).isoformat()
    ids = [r["id"] for r in office.get(REFERRALS, {"appointment_before": before})
           .json()["results"]]
    assert ids == [str(soon.id)]


@pytest.mark.parametrize("who, scopes, body, status, code", [
    ("cala", None, {}, 404, "not_found"),
    ("nyc-council", None, {}, 403, "insufficient_scope"),
    (SENDER, "referrals:read", {}, 403, "insufficient_scope"),
    (SENDER, None, {"kind": "party"}, 400, "invalid_appointment_kind"),
    (SENDER, None, {"location_type": "123 Main St"}, 400, "invalid_location_type"),
    (SENDER, None, {"at": "0177-03-01T14:49:37+01:56"}, 400, "date_out_of_range"),
    (SENDER, None, {"at": "2999-01-01T10:00:00Z"}, 400, "date_out_of_range"),
])
def test_appointment_refusals(api, coalition, who, scopes, body, status, code):
    loop = make_referral()
    payload = {"kind": "interview", "location_type": "phone",
               "at": (timezone.now() + timedelta(days=3)).isoformat(), **body}
    response = api(who, scopes=scopes).post(f"{REFERRALS}{loop.id}/appointments/", payload)
    assert_problem(response, status, code)
    assert not loop.refresh().appointments.exists()


def test_appointments_without_a_token_401(api, coalition):
    loop = make_referral()
    assert api().get(f"{REFERRALS}{loop.id}/appointments/").status_code == 401


def test_graphql_appointments(api, coalition):
    loop = make_referral()
    at = (timezone.now() + timedelta(days=2)).isoformat()
    body = api(RECEIVER).graphql("""mutation($id: UUID!, $at: DateTime!) {
        addAppointment(referralId: $id, kind: COURT_HEARING, at: $at,
                       locationType: IMMIGRATION_COURT) { appointment { kind locationType } } }""",
                                 {"id": str(loop.id), "at": at}).json()
    assert "errors" not in body, body
    assert body["data"]["addAppointment"]["appointment"] == {"kind": "COURT_HEARING",
                                                             "locationType": "IMMIGRATION_COURT"}
    seen = api(SENDER).graphql("""query($id: UUID!) { referral(id: $id) { urgency
        nextAppointment { kind } appointments { createdByOrg } } }""",
                               {"id": str(loop.id)}).json()["data"]["referral"]
    assert seen == {"urgency": "ASAP", "nextAppointment": {"kind": "COURT_HEARING"},
                    "appointments": [{"createdByOrg": RECEIVER}]}
    soon = api(SENDER).graphql('query($b: DateTime!) { referrals(appointmentBefore: $b) '
                               '{ edges { node { id } } } }',
                               {"b": (timezone.now() + timedelta(days=7)).isoformat()}).json()
    assert [e["node"]["id"] for e in soon["data"]["referrals"]["edges"]] == [str(loop.id)]
