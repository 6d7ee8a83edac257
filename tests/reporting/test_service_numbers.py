"""Service numbers against the hand-counted casework (tests/reporting/fixtures.py).

Every expected figure below is counted by hand from the table in the fixtures'
docstring. CAMBA asks for its own numbers, so nothing is suppressed. Both
databases run these tests (DATABASE_URL picks PostgreSQL)."""

from __future__ import annotations

from datetime import date

import pytest

from core.errors import DomainError
from reporting import selectors
from reporting.selectors import ReportSpec

from .fixtures import CALA, CAMBA, CHHAYA

pytestmark = pytest.mark.django_db

ALL = None  # a total over a dimension

COUNTS = ("referrals_sent", "referrals_received", "accepted", "rejected", "completed",
          "failed", "open", "overdue", "unique_clients_served", "outcomes", "events_held",
          "workshops_held", "attendance")


def figures(report) -> dict[tuple, dict]:
    """{dimension values (None for "all"): {measure: value}} for cells and totals."""
    table = {}
    for entry in report.cells + report.totals:
        assert entry.key not in table, f"duplicate entry {entry.key}"
        table[entry.key] = dict(entry.values)
    return table


def own(principal, **spec) -> dict[tuple, dict]:
    """CAMBA's own numbers: whole, never suppressed, never null counts."""
    report = selectors.service_numbers(principal(CAMBA), ReportSpec(**spec))
    assert report.suppressed is False
    assert report.scope == [CAMBA]
    for entry in report.cells + report.totals:
        assert entry.suppressed == set()
        for measure in report.measures:
            if measure in COUNTS:
                assert isinstance(entry.values[measure], int), (entry.key, measure)
    return figures(report)


def row(sent=0, received=0, accepted=0, rejected=0, completed=0, failed=0, open=0,
        overdue=0, unique=0, accept=None, close=None, outcomes=0, events=0, workshops=0,
        attendance=0, events_apply=True, campaigns=None) -> dict:
    """Expected values; each casework event is a campaign of its own unless said."""
    values = {
        "referrals_sent": sent, "referrals_received": received, "accepted": accepted,
        "rejected": rejected, "completed": completed, "failed": failed, "open": open,
        "overdue": overdue, "unique_clients_served": unique, "median_days_to_accept": accept,
        "median_days_to_close": close, "outcomes": outcomes,
    }
    if events_apply:
        values.update(events_held=events, workshops_held=workshops,
                      campaigns_held=events if campaigns is None else campaigns,
                      attendance=attendance)
    return values


CAMBA_ALL_TIME = row(sent=1, received=9, accepted=7, rejected=1, completed=3, failed=1,
                     open=4, overdue=2, unique=6, accept=2.5, close=25.0, outcomes=7,
                     events=5, workshops=3, attendance=125)
CAMBA_SFY_2016 = row(received=4, accepted=3, rejected=1, completed=1, failed=1, open=1,
                     overdue=1, unique=2, accept=2.0, close=20.0, outcomes=3, events=2,
                     workshops=1, attendance=65)
CAMBA_SFY_2017 = row(received=5, accepted=4, completed=2, open=3, overdue=1, unique=4,
                     accept=3.0, close=45.0, outcomes=4, events=3, workshops=2, attendance=60)


def test_no_dimensions_is_one_grand_total(principal, casework):
    report = selectors.service_numbers(principal(CAMBA), ReportSpec())
    assert report.cells == []
    assert own(principal) == {(): CAMBA_ALL_TIME}
    # Odd base (7 acceptances: 1, 1, 2, 2.5, 3.5, 4, 6) -> the middle one, 2.5;
    # even base (4 closures: 10, 20, 30, 70) -> the mean of the middle two, 25.0.
    assert report.totals[0].values["median_days_to_accept"] == 2.5
    assert report.totals[0].values["median_days_to_close"] == 25.0


def test_entered_in_error_referral_is_not_counted(principal, casework):
    # R11 (asylum, SD 13, accepted after a day, outcome advice-given) was entered in error.
    table = own(principal, dimensions=("service_type",))
    assert table[("asylum",)]["referrals_received"] == 4
    assert table[("asylum",)]["accepted"] == 3
    outcomes = own(principal, dimensions=("outcome",))
    assert ("advice-given",) not in outcomes
    assert outcomes[(ALL,)]["outcomes"] == 7


def test_by_service_type(principal, casework):
    assert own(principal, dimensions=("service_type",)) == {
        ("asylum",): row(sent=1, received=4, accepted=3, rejected=1, completed=2, open=1,
                         unique=3, accept=2.0, close=25.0, outcomes=4, events=1,
                         attendance=12),
        ("removal-defense",): row(received=3, accepted=3, completed=1, failed=1, open=1,
                                  unique=3, accept=3.5, close=40.0, outcomes=3),
        ("visa",): row(received=2, accepted=1, open=2, overdue=2, unique=1, accept=4.0),
        ("know-your-rights",): row(events=4, workshops=3, attendance=113),
        (ALL,): CAMBA_ALL_TIME,
    }


def test_by_receiving_org_and_state_fiscal_year(principal, casework):
    # R3 (2017-03-31 23:30 New York, 03:30 UTC on 1 April) is in SFY 2016-17;
    # R5 (2017-04-01 00:30 New York) in SFY 2017-18. R10 is CAMBA's referral to CALA.
    cala_sent = row(sent=1)
    assert own(principal, dimensions=("receiving_org", "period"), period="sfy") == {
        (CAMBA, "SFY 2016-17"): CAMBA_SFY_2016,
        (CAMBA, "SFY 2017-18"): CAMBA_SFY_2017,
        ("cala", "SFY 2017-18"): cala_sent,
        (CAMBA, ALL): CAMBA_ALL_TIME | {"referrals_sent": 0},
        ("cala", ALL): cala_sent,
        (ALL, "SFY 2016-17"): CAMBA_SFY_2016,
        (ALL, "SFY 2017-18"): CAMBA_SFY_2017 | {"referrals_sent": 1},
        (ALL, ALL): CAMBA_ALL_TIME,
    }


def counts(table: dict, *measures) -> dict:
    return {key: tuple(values[m] for m in measures) for key, values in table.items()}


@pytest.mark.parametrize("period, expected", [
    ("month", {("2016-05",): (1, 0), ("2016-06",): (0, 1), ("2016-08",): (1, 0),
               ("2016-11",): (1, 0), ("2017-03",): (1, 1), ("2017-04",): (1, 1),
               ("2017-06",): (1, 1), ("2017-07",): (1, 1), ("2017-12",): (1, 0),
               ("2018-02",): (1, 0), (ALL,): (9, 5)}),
    ("quarter", {("2016-Q2",): (1, 1), ("2016-Q3",): (1, 0), ("2016-Q4",): (1, 0),
                 ("2017-Q1",): (1, 1), ("2017-Q2",): (2, 2), ("2017-Q3",): (1, 1),
                 ("2017-Q4",): (1, 0), ("2018-Q1",): (1, 0), (ALL,): (9, 5)}),
    # R8 (2017-12-31 22:00 New York) is 2018 in UTC, 2017 here.
    ("year", {("2016",): (3, 1), ("2017",): (5, 4), ("2018",): (1, 0), (ALL,): (9, 5)}),
    ("sfy", {("SFY 2016-17",): (4, 2), ("SFY 2017-18",): (5, 3), (ALL,): (9, 5)}),
    # R6 (2017-06-30 22:00 New York) is NYC FY2017; R7 (2017-07-01 00:30) FY2018.
    ("nycfy", {("NYC FY2016",): (1, 1), ("NYC FY2017",): (5, 3), ("NYC FY2018",): (3, 1),
               (ALL,): (9, 5)}),
])
def test_period_labels_follow_new_york_time(principal, casework, period, expected):
    # R10 (sent, 2017-09) has no referral received: with these measures its month is
    # all zeros and is left out.
    table = own(principal, dimensions=("period",), period=period,
                measures=("referrals_received", "events_held"))
    assert counts(table, "referrals_received", "events_held") == expected


def test_by_client_language(principal, casework):
    table = own(principal, dimensions=("client_language",),
                measures=("referrals_received", "referrals_sent", "unique_clients_served"))
    assert counts(table, "referrals_received", "referrals_sent", "unique_clients_served") == {
        ("es",): (4, 1, 3),  # C1 twice, C4, C5; sent: R10 (C8)
        ("zh",): (2, 0, 1),  # C2 twice, accepted once
        ("bn",): (1, 0, 0),  # C3, rejected
        ("ht",): (1, 0, 1),
        ("unknown",): (1, 0, 1),  # C7 has no primary language
        (ALL,): (9, 1, 6),
    }


def test_by_outcome(principal, casework):
    table = own(principal, dimensions=("outcome", "period"), period="sfy")
    assert counts(table, "outcomes") == {
        ("application-filed", "SFY 2016-17"): (1,),
        ("representation-secured", "SFY 2016-17"): (1,),
        ("removal-ordered", "SFY 2016-17"): (1,),
        ("application-filed", "SFY 2017-18"): (1,),
        ("relief-granted", "SFY 2017-18"): (1,),
        ("stay-of-removal-granted", "SFY 2017-18"): (1,),
        ("case-reopened", "SFY 2017-18"): (1,),
        ("application-filed", ALL): (2,),
        ("representation-secured", ALL): (1,),
        ("removal-ordered", ALL): (1,),
        ("relief-granted", ALL): (1,),
        ("stay-of-removal-granted", ALL): (1,),
        ("case-reopened", ALL): (1,),
        (ALL, "SFY 2016-17"): (3,),
        (ALL, "SFY 2017-18"): (4,),
        (ALL, ALL): (7,),
    }
    report = selectors.service_numbers(principal(CAMBA), ReportSpec(dimensions=("outcome",)))
    assert report.measures == ("outcomes",)


def test_medians_odd_and_even_bases(principal, casework):
    table = own(principal, dimensions=("period",),
                measures=("median_days_to_accept", "median_days_to_close"))
    assert counts(table, "median_days_to_accept", "median_days_to_close") == {
        # accept: 2, 1, 4 (odd) -> 2.0; close: 30, 10 (even) -> 20.0
        ("SFY 2016-17",): (2.0, 20.0),
        # accept: 1, 3.5, 2.5, 6 (even) -> 3.0; close: 20, 70 (even) -> 45.0
        ("SFY 2017-18",): (3.0, 45.0),
        (ALL,): (2.5, 25.0),
    }


def test_medians_ignore_rejections_and_open_referrals(principal, casework):
    # R3 was rejected with a closed_at a day later; R4, R7, R9 are accepted but open.
    table = own(principal, dimensions=("service_type",), measures=("median_days_to_close",))
    assert counts(table, "median_days_to_close") == {
        # R3's closed_at would make asylum's median 20.0; visa has no closure at all.
        ("asylum",): (25.0,), ("removal-defense",): (40.0,), (ALL,): (25.0,),
    }


def test_unique_clients_count_a_returning_client_once(principal, casework):
    # C1 has two accepted referrals in SFY 2016-17 (R1 asylum, R4 visa).
    table = own(principal, dimensions=("service_type", "period"), period="sfy",
                measures=("accepted", "unique_clients_served"))
    assert counts(table, "accepted", "unique_clients_served") == {
        ("asylum", "SFY 2016-17"): (1, 1),
        ("removal-defense", "SFY 2016-17"): (1, 1),
        ("visa", "SFY 2016-17"): (1, 1),
        ("asylum", "SFY 2017-18"): (2, 2),
        ("removal-defense", "SFY 2017-18"): (2, 2),
        ("asylum", ALL): (3, 3),
        ("removal-defense", ALL): (3, 3),
        ("visa", ALL): (1, 1),
        (ALL, "SFY 2016-17"): (3, 2),
        (ALL, "SFY 2017-18"): (4, 4),
        (ALL, ALL): (7, 6),
    }


def test_open_and_overdue(principal, casework):
    # Open: R4 in-progress (needed by 2016-12-01: overdue), R7 accepted (needed by
    # 2099), R8 requested (needed by 2018-01-15: overdue), R9 on-hold (no date).
    # R10 is open too but CAMBA sent it.
    table = own(principal, dimensions=("priority",), measures=("open", "overdue"))
    assert counts(table, "open", "overdue") == {
        ("routine",): (3, 2), ("urgent",): (1, 0), (ALL,): (4, 2),
    }


def test_events_by_district(principal, casework):
    table = own(principal, dimensions=("district",),
                measures=("events_held", "workshops_held", "attendance"))
    assert counts(table, "events_held", "workshops_held", "attendance") == {
        (13,): (2, 2, 55), (20,): (2, 1, 58), ("unknown",): (1, 0, 12), (ALL,): (5, 3, 125),
    }


def test_by_sending_org_and_intake_channel(principal, casework):
    table = own(principal, dimensions=("sending_org", "intake_channel"),
                measures=("referrals_received", "referrals_sent"))
    assert counts(table, "referrals_received", "referrals_sent") == {
        ("sd13-peralta-office", "district-office"): (3, 0),
        ("idc-hotline", "hotline"): (4, 0),
        ("sd20-hamilton-office", "district-office"): (1, 0),
        ("nyic", "partner"): (1, 0),
        (CAMBA, "partner"): (0, 1),
        ("sd13-peralta-office", ALL): (3, 0),
        ("idc-hotline", ALL): (4, 0),
        ("sd20-hamilton-office", ALL): (1, 0),
        ("nyic", ALL): (1, 0),
        (CAMBA, ALL): (0, 1),
        (ALL, "district-office"): (4, 0),
        (ALL, "hotline"): (4, 0),
        (ALL, "partner"): (1, 1),
        (ALL, ALL): (9, 1),
    }


# --- filters -----------------------------------------------------------------------

MEASURES = ("referrals_received", "referrals_sent", "events_held", "attendance")


@pytest.mark.parametrize("spec, expected, bounds", [
    # New York days: R3 (31 March 23:30) and R7 (1 July 00:30) fall outside.
    ({"date_from": date(2017, 4, 1), "date_to": date(2017, 6, 30)}, (2, 0, 2, 42),
     (date(2017, 4, 1), date(2017, 6, 30))),
    ({"date_from": date(2017, 3, 31), "date_to": date(2017, 3, 31)}, (1, 0, 1, 40),
     (date(2017, 3, 31), date(2017, 3, 31))),
    ({"fiscal_year": "2016-17"}, (4, 0, 2, 65), (date(2016, 4, 1), date(2017, 3, 31))),
    ({"fiscal_year": "SFY 2017-18"}, (5, 1, 3, 60), (date(2017, 4, 1), date(2018, 3, 31))),
    ({"fiscal_year": "NYC FY2017"}, (5, 0, 3, 82), (date(2016, 7, 1), date(2017, 6, 30))),
    ({"fiscal_year": "NYC FY2018"}, (3, 1, 1, 18), (date(2017, 7, 1), date(2018, 6, 30))),
    # A date range narrows a fiscal year.
    ({"fiscal_year": "2017-18", "date_to": date(2017, 6, 30)}, (2, 0, 2, 42),
     (date(2017, 4, 1), date(2017, 6, 30))),
    ({"organizations": (CAMBA,)}, (9, 1, 5, 125), (None, None)),
    ({"districts": (13,)}, (4, 0, 2, 55), (None, None)),
    ({"districts": (13, 20)}, (7, 1, 4, 113), (None, None)),
    ({"service_types": ("visa",)}, (2, 0, 0, 0), (None, None)),
    ({"service_types": ("asylum", "know-your-rights")}, (4, 1, 5, 125), (None, None)),
    ({"fiscal_year": "2017-18", "districts": (20,), "service_types": ("asylum",)},
     (1, 1, 0, 0), (date(2017, 4, 1), date(2018, 3, 31))),
])
def test_filters(principal, casework, spec, expected, bounds):
    report = selectors.service_numbers(principal(CAMBA), ReportSpec(measures=MEASURES, **spec))
    assert (report.date_from, report.date_to) == bounds
    assert counts(own(principal, measures=MEASURES, **spec), *MEASURES) == {(): expected}


def test_organizations_filter_as_coalition_admin(principal, casework):
    # Chhaya CDC received H1..H12 (all completed, one outcome each) and held E7 (35 came).
    report = selectors.service_numbers(principal("idc", admin=True), ReportSpec(
        organizations=(CHHAYA,), measures=("referrals_received", "completed", "outcomes",
                                           "events_held", "attendance")))
    assert report.scope == [CHHAYA]
    assert report.suppressed is True
    total = report.grand_total()
    # One event is a count of events, not of people: published (its attendance is 35).
    assert total.values == {"referrals_received": 12, "completed": 12, "outcomes": 12,
                            "events_held": 1, "attendance": 35}
    assert total.suppressed == set()


def test_an_organisation_sees_only_its_own_numbers(principal, casework):
    with pytest.raises(DomainError) as raised:
        selectors.service_numbers(principal(CAMBA), ReportSpec(organizations=(CHHAYA,)))
    assert (raised.value.code, raised.value.status) == ("report_scope_denied", 403)


def test_the_coalition_admin_sees_every_organisation(principal, casework):
    # Every referral but R11: 15 (R1-R16 but R11) + 12 (H1-H12) = 27.
    report = selectors.service_numbers(principal("idc", admin=True), ReportSpec(
        measures=("referrals_received", "referrals_sent", "events_held", "attendance")))
    assert report.scope is None
    assert report.grand_total().values == {"referrals_received": 27, "referrals_sent": 27,
                                           "events_held": 7, "attendance": 210}


@pytest.mark.parametrize("period, expected", [
    ("month", {("2016-05",): 30.0, ("2016-08",): 10.0, ("2017-04",): 20.0,
               ("2017-06",): 70.0, (ALL,): 25.0}),
    ("quarter", {("2016-Q2",): 30.0, ("2016-Q3",): 10.0, ("2017-Q2",): 45.0, (ALL,): 25.0}),
    ("year", {("2016",): 20.0, ("2017",): 45.0, (ALL,): 25.0}),
    ("sfy", {("SFY 2016-17",): 20.0, ("SFY 2017-18",): 45.0, (ALL,): 25.0}),
    # R6 (2017-06-30 22:00 New York, 70 days) stays in NYC FY2017: 10, 20, 70 -> 20.0.
    ("nycfy", {("NYC FY2016",): 30.0, ("NYC FY2017",): 20.0, (ALL,): 25.0}),
])
def test_medians_by_every_period(principal, casework, period, expected):
    # Closures by creation time: R1 2016-05-10 (30 d), R2 2016-08-15 (10 d),
    # R5 2017-04-01 (20 d), R6 2017-06-30 (70 d).
    table = own(principal, dimensions=("period",), period=period,
                measures=("median_days_to_close",))
    assert {key: values["median_days_to_close"] for key, values in table.items()} == expected


@pytest.mark.parametrize("spec, expected", [
    # CALA received R13 (2017-05-01), R16 (2017-07-01 00:00 exactly), R14, R10, R15;
    # it sent R12 (2017-10-10). Midnight belongs to the day that starts there.
    ({"date_to": date(2017, 6, 30)}, (1, 0)),
    ({"date_from": date(2017, 7, 1)}, (4, 1)),
    ({"date_from": date(2017, 7, 1), "date_to": date(2017, 7, 1)}, (1, 0)),
    ({"fiscal_year": "NYC FY2017"}, (1, 0)),
    ({"fiscal_year": "NYC FY2018"}, (4, 1)),
])
def test_a_referral_at_midnight_starts_the_new_day(principal, casework, spec, expected):
    report = selectors.service_numbers(principal(CALA), ReportSpec(
        measures=("referrals_received", "referrals_sent"), **spec))
    assert report.suppressed is False
    values = report.grand_total().values
    assert (values["referrals_received"], values["referrals_sent"]) == expected
