"""Reports a funder can act on (issue 14): grants attributed to what they fund, events
counted whole, and coarsen=auto rolling small cells up, each with figures worked out
by hand below, over the casework of fixtures.py plus:

- CALA received, in SFY 2018-19 (when the casework has nothing), 12 referrals from
  SD 13 and 3 from SD 11 (both Queens), and 15 from SD 20 (Brooklyn); all requested.
- A second grant to CAMBA: the Empire Immigrant Families Fund's $30,000 for removal
  defense and visas from 2017-10-01 to 2018-03-31 (overlapping the Council's grant in
  removal defense and in the second half of SFY 2017-18).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from referrals.models import Client, Consent, Referral
from reporting.models import Grant, ServiceEvent

from .conftest import _shared
from .fixtures import CALA, CAMBA, FUNDER, OTHER_FUNDER, Refs, _client, build_casework, ny

NUMBERS = "/api/v1/reports/service-numbers/"
BUDGET = "/api/v1/reports/budget-request/"
CALA_DISTRICTS = {13: 12, 11: 3, 20: 15}


def build():
    dataset = build_casework()
    refs = Refs.load()
    clients, referrals = [], []
    number = 500
    for district, count in CALA_DISTRICTS.items():
        for i in range(count):
            number += 1
            client = _client(refs, f"K{number}", "es", number, "sd13-peralta-office")
            clients.append(client)
            referrals.append(Referral(
                sending_org=refs.orgs["sd13-peralta-office"], receiving_org=refs.orgs[CALA],
                client=client, service_type=refs.services["removal-defense"],
                district=refs.districts[district], priority="urgent",
                intake_channel="district-office", status="requested",
                summary="coarsening test", created_at=ny(2018, 5, 1 + i, 10),
                updated_at=ny(2018, 5, 1 + i, 10)))
    Client.objects.bulk_create(clients)
    Referral.objects.bulk_create(referrals)
    Consent.objects.bulk_create([Consent(client=r.client, shared_with=r.receiving_org,
                                         method="verbal", captured_by_org=r.sending_org,
                                         captured_at=r.created_at) for r in referrals])
    grant = Grant.objects.create(
        funder=refs.orgs[OTHER_FUNDER], grantee=refs.orgs[CAMBA], fiscal_year="2017-18",
        period_start=date(2017, 10, 1), period_end=date(2018, 3, 31),
        amount=Decimal("30000.00"), description="Second half-year")
    grant.service_types.set([refs.services["removal-defense"], refs.services["visa"]])
    return dataset


@pytest.fixture(scope="module")
def _data(django_db_setup, django_db_blocker):
    yield from _shared(django_db_blocker, build)


@pytest.fixture
def data(_data, coalition):
    return _data


def rows(body) -> dict:
    return {tuple(e["dimensions"][d] for d in body["dimensions"]): e
            for e in body["rows"] + body["totals"]}


# --- coarsen=auto -------------------------------------------------------------------------

def cala_by_district(client, **params):
    return client.get(NUMBERS, {"organizations": CALA, "dimensions": "district",
                                "measures": "referrals_received", "fiscal_year": "2018-19",
                                **params})


def test_by_district_a_funder_sees_half_hidden(api, data):
    # SD 11 (3) is small; SD 13 (12), the smaller of the rest, hides with it, or the
    # total would give SD 11 away: 2 of the 4 values hidden.
    body = cala_by_district(api(FUNDER)).json()
    assert {k: e["values"]["referrals_received"] for k, e in rows(body).items()} == {
        (11,): None, (13,): None, (20,): 15, (None,): 30}
    assert (body["hidden_share"], body["coarsened"]) == (0.5, [])


def test_coarsen_auto_rolls_districts_up_to_regions(api, data):
    # Queens = SD 11 + SD 13 = 15, Brooklyn = SD 20 = 15: nothing small is left.
    body = cala_by_district(api(FUNDER), coarsen="auto").json()
    assert body["dimensions"] == ["region"]
    assert body["requested_dimensions"] == ["district"]
    assert body["coarsened"] == [{"dimension": "district", "from": "district", "to": "region"}]
    assert body["hidden_share"] == 0.0
    assert {k: e["values"]["referrals_received"] for k, e in rows(body).items()} == {
        ("queens",): 15, ("brooklyn",): 15, (None,): 30}


def test_coarsen_auto_in_graphql_is_the_same_report(api, data):
    query = """{ serviceNumbers(organizations: ["cala"], dimensions: [DISTRICT],
                   measures: [REFERRALS_RECEIVED], fiscalYear: "2018-19", coarsen: AUTO) {
                 dimensions requestedDimensions hiddenShare coarsened { dimension from to }
                 rows { dimensions { name value } values { measure value suppressed } } } }"""
    body = api(FUNDER).graphql(query).json()
    assert "errors" not in body, body
    numbers = body["data"]["serviceNumbers"]
    assert (numbers["dimensions"], numbers["requestedDimensions"], numbers["hiddenShare"]) == (
        ["region"], ["district"], 0.0)
    assert numbers["coarsened"] == [{"dimension": "district", "from": "district", "to": "region"}]
    assert sorted((r["dimensions"][0]["value"], r["values"][0]["value"])
                  for r in numbers["rows"]) == [("brooklyn", 15.0), ("queens", 15.0)]


def test_an_organisation_s_own_numbers_are_never_rolled_up(api, data):
    body = cala_by_district(api(CALA), coarsen="auto").json()
    assert (body["dimensions"], body["coarsened"], body["hidden_share"]) == (
        ["district"], [], 0.0)
    assert rows(body)[(11,)]["values"]["referrals_received"] == 3


def test_coarsen_is_validated(api, data):
    response = cala_by_district(api(FUNDER), coarsen="sometimes")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_coarsen"
    response = api(FUNDER).get(BUDGET, {"org": CAMBA, "fiscal_year": "2017-18",
                                        "coarsen": "sometimes"})
    assert (response.status_code, response.json()["code"]) == (400, "invalid_coarsen")


# --- grants ---------------------------------------------------------------------------------

def grants_of(body) -> dict:
    return {g["funder"]: g for g in body["grants"]}


def test_each_grant_counts_what_it_funds_in_its_own_period(api, data):
    """CAMBA's referrals received in SFY 2017-18: R5 asylum (C4, completed, 2 outcomes),
    R6 removal (C5, completed, 2 outcomes), R7 asylum (C6, accepted), R8 visa (C2,
    requested, 2017-12-31), R9 removal (C7, on hold, 2018-02-10); R11 was entered in
    error.

    The Council's grant (asylum, removal; the whole year): R5, R6, R7, R9: 4 received,
    4 accepted, 2 completed, 4 clients, 4 outcomes; $180,000 / 4 = $45,000.00.
    The Fund's (removal, visa; October to March): R8, R9: 2 received, 1 accepted (R9),
    none completed, 1 client (C7), no outcome; $30,000 / 1 = $30,000.00.
    The grantee overall: $210,000 over the 4 clients served = $52,500.00."""
    body = api(CAMBA).get(BUDGET, {"org": CAMBA, "fiscal_year": "2017-18"}).json()
    grants = grants_of(body)
    assert grants[FUNDER]["values"] == {"referrals_received": 4, "accepted": 4,
                                        "completed": 2, "unique_clients_served": 4,
                                        "outcomes": 4}
    assert grants[FUNDER]["cost_per_client_served"] == "45000.00"
    assert grants[OTHER_FUNDER]["values"] == {"referrals_received": 2, "accepted": 1,
                                              "completed": 0, "unique_clients_served": 1,
                                              "outcomes": 0}
    assert (grants[OTHER_FUNDER]["period_start"], grants[OTHER_FUNDER]["period_end"]) == (
        "2017-10-01", "2018-03-31")
    assert grants[OTHER_FUNDER]["service_types"] == ["removal-defense", "visa"]
    assert grants[OTHER_FUNDER]["cost_per_client_served"] == "30000.00"
    assert (body["grant_total"], body["cost_per_client_served"]) == ("210000.00", "52500.00")


def test_a_funder_sees_small_grant_figures_withheld_with_their_cost(api, data):
    body = api(FUNDER).get(BUDGET, {"org": CAMBA, "fiscal_year": "2017-18"}).json()
    for grant in body["grants"]:
        assert grant["values"]["unique_clients_served"] is None
        assert "unique_clients_served" in grant["suppressed"]
        assert grant["cost_per_client_served"] is None


def test_grant_figures_in_graphql(api, data):
    query = """{ budgetRequest(org: "camba-legal", fiscalYear: "2017-18") {
                 grantTotal costPerClientServed
                 grants { funder periodStart periodEnd serviceTypes costPerClientServed
                          values { measure value suppressed } } } }"""
    body = api(CAMBA).graphql(query).json()
    assert "errors" not in body, body
    budget = body["data"]["budgetRequest"]
    fund = next(g for g in budget["grants"] if g["funder"] == OTHER_FUNDER)
    assert (fund["periodStart"], fund["periodEnd"], fund["costPerClientServed"]) == (
        "2017-10-01", "2018-03-31", "30000.00")
    assert {v["measure"]: v["value"] for v in fund["values"]} == {
        "referrals_received": 2, "accepted": 1, "completed": 0, "unique_clients_served": 1,
        "outcomes": 0}
    assert (budget["grantTotal"], budget["costPerClientServed"]) == ("210000.00", "52500.00")


# --- events: counted whole, districts by default, campaigns -----------------------------

def test_events_are_never_suppressed_their_attendance_is(api, data):
    # CAMBA's SFY 2017-18 events: E3 workshop (30 came), E4 clinic (12), E5 workshop (18).
    body = api(FUNDER).get(NUMBERS, {
        "organizations": CAMBA, "fiscal_year": "2017-18",
        "measures": "events_held,workshops_held,campaigns_held,attendance",
        "dimensions": "service_type"}).json()
    by = {k: e["values"] for k, e in rows(body).items()}
    assert by[(None,)] == {"events_held": 3, "workshops_held": 2, "campaigns_held": 3,
                           "attendance": 60}
    # The asylum clinic alone: one event, shown though it is one (12 came).
    assert by[("asylum",)] == {"events_held": 1, "workshops_held": 0, "campaigns_held": 1,
                               "attendance": 12}


def test_a_workshop_in_every_district_is_one_campaign(api, data):
    day = (date.today() - timedelta(days=3)).isoformat()
    for office in ("sd13-peralta-office", "sd20-hamilton-office"):
        response = api(office).post("/api/v1/service-events/", {
            "kind": "workshop", "title": "Know Your Rights  day", "date": day,
            "attendance": 40})
        assert response.status_code == 201, response.content
        # A district office's event is in its own district unless it says otherwise.
        assert response.json()["district"] == int(office[2:4])
    events = ServiceEvent.objects.filter(date=day)
    assert len({e.campaign for e in events}) == 1
    body = api(FUNDER).get(NUMBERS, {
        "dimensions": "district", "date_from": day, "date_to": day,
        "measures": "events_held,campaigns_held"}).json()
    assert {k: e["values"] for k, e in rows(body).items()} == {
        (13,): {"events_held": 1, "campaigns_held": 1},
        (20,): {"events_held": 1, "campaigns_held": 1},
        (None,): {"events_held": 2, "campaigns_held": 1}}
