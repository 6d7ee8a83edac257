"""Assignment (issue 13, item 3): each side of a referral keeps its own owner, the
receiving organisation's caseworker and the sending organisation's own owner;
neither sees the other's; `assigned_to=me` and `unassigned` filter on one's own side.
REST and GraphQL, and the authorization matrix of the assign operation."""

from __future__ import annotations

import pytest

from tests.assertions import assert_problem

from .factories import RECEIVER, SENDER, make_referral

REFERRALS = "/api/v1/referrals/"


@pytest.fixture
def people(member):
    return {"ana": member(RECEIVER, "caseworker", username="ana.camba"),
            "ben": member(RECEIVER, "caseworker", username="ben.camba"),
            "sol": member(SENDER, "intake", username="sol.sd13"),
            "cal": member("cala", "caseworker", username="cal.cala")}


@pytest.fixture
def as_user(make_app, make_token):
    """A signed-in user's token (authorization code flow): `me` is them."""
    from tests.conftest import APIClient

    def make(slug, user):
        return APIClient(make_token(make_app(slug), user=user))

    return make


def assign(client, referral_id, username):
    return client.post(f"{REFERRALS}{referral_id}/assign/", {"assigned_to": username})


def test_each_side_keeps_its_own_owner_and_sees_only_its_own(api, people, coalition):
    loop = make_referral()
    camba, office = api(RECEIVER), api(SENDER)

    response = assign(camba, loop.id, "ana.camba")
    assert response.status_code == 200, response.content
    assert response.json()["assigned_to"] == "ana.camba"
    # The sender does not see the receiver's caseworker; the version did not move.
    seen = office.get(f"{REFERRALS}{loop.id}/")
    assert (seen.json()["assigned_to"], seen["ETag"]) == (None, '"1"')

    assert assign(office, loop.id, "sol.sd13").json()["assigned_to"] == "sol.sd13"
    assert camba.get(f"{REFERRALS}{loop.id}/").json()["assigned_to"] == "ana.camba"
    assert office.get(f"{REFERRALS}{loop.id}/").json()["assigned_to"] == "sol.sd13"
    assert "sol.sd13" not in camba.get(f"{REFERRALS}{loop.id}/").content.decode()

    assert assign(camba, loop.id, None).json()["assigned_to"] is None


@pytest.mark.parametrize("who, scopes, username, status, code", [
    (RECEIVER, None, "cal.cala", 400, "unknown_assignee"),     # another org's member
    (RECEIVER, None, "sol.sd13", 400, "unknown_assignee"),     # the other party's member
    (RECEIVER, None, "nobody", 400, "unknown_assignee"),
    (RECEIVER, None, "x" * 151, 400, "too_long"),
    ("cala", None, "cal.cala", 404, "not_found"),              # an org off the referral
    ("nyc-council", None, "ana.camba", 403, "insufficient_scope"),  # a funder
    (RECEIVER, "referrals:read", "ana.camba", 403, "insufficient_scope"),
])
def test_assign_refusals(api, people, coalition, who, scopes, username, status, code):
    loop = make_referral()
    assert_problem(assign(api(who, scopes=scopes), loop.id, username), status, code)
    assert loop.refresh().assignee_id is None


def test_assign_without_a_token_is_401(api, coalition):
    loop = make_referral()
    assert assign(api(), loop.id, "ana.camba").status_code == 401


def test_filters_mine_and_unassigned(api, as_user, people, coalition):
    a, b, c = (make_referral(family_name=name) for name in ("Alpha", "Bravo", "Charlie"))
    camba = api(RECEIVER)
    assign(camba, a.id, "ana.camba")
    assign(camba, b.id, "ben.camba")
    ana = as_user(RECEIVER, people["ana"])

    def ids(client, **params):
        return {r["id"] for r in client.get(REFERRALS, params).json()["results"]}

    assert ids(ana, assigned_to="me") == {str(a.id)}
    assert ids(camba, assigned_to="ben.camba") == {str(b.id)}
    assert ids(camba, unassigned="true") == {str(c.id)}
    assert ids(camba, unassigned="false") == {str(a.id), str(b.id)}
    # An application acting on its own is nobody: `me` matches nothing.
    assert ids(camba, assigned_to="me") == set()
    # The sender's side is its own: nothing is assigned there yet.
    assert ids(api(SENDER), unassigned="true") == {str(a.id), str(b.id), str(c.id)}


def test_graphql_assign_and_filter(api, as_user, people, coalition):
    a, b = make_referral(family_name="Alpha"), make_referral(family_name="Bravo")
    camba = api(RECEIVER)
    body = camba.graphql("""mutation($id: UUID!) { assignReferral(id: $id, assignedTo: "ana.camba")
                           { referral { id assignedTo version } } }""", {"id": str(a.id)}).json()
    assert "errors" not in body, body
    assert body["data"]["assignReferral"]["referral"] == {
        "id": str(a.id), "assignedTo": "ana.camba", "version": 1}
    mine = as_user(RECEIVER, people["ana"]).graphql(
        '{ referrals(assignedTo: "me") { edges { node { id assignedTo } } } }').json()
    assert [e["node"] for e in mine["data"]["referrals"]["edges"]] == [
        {"id": str(a.id), "assignedTo": "ana.camba"}]
    nobody = camba.graphql('{ referrals(unassigned: true) { edges { node { id } } } }').json()
    assert [e["node"]["id"] for e in nobody["data"]["referrals"]["edges"]] == [str(b.id)]
    refused = camba.graphql("""mutation($id: UUID!) { assignReferral(id: $id, assignedTo: "cal.cala")
                              { referral { id } } }""", {"id": str(a.id)}).json()
    assert refused["errors"][0]["extensions"]["code"] == "unknown_assignee"
    other = api(SENDER).graphql('query($id: UUID!) { referral(id: $id) { assignedTo } }',
                                {"id": str(a.id)}).json()
    assert other["data"]["referral"]["assignedTo"] is None
