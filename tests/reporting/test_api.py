"""REST and GraphQL for reports, service events and grants: formats, errors,
who sees what, and the same figures through both APIs (hand-counted casework)."""

from __future__ import annotations

import csv
import io

import pytest

from reporting.models import ServiceEvent

from .fixtures import CALA, CAMBA, CHHAYA, FUNDER, OTHER_FUNDER
from .test_suppression import budget_attack
from tests.assertions import assert_graphql_error as gql_error
from tests.assertions import assert_problem as problem

pytestmark = pytest.mark.django_db

NUMBERS = "/api/v1/reports/service-numbers/"
BUDGET = "/api/v1/reports/budget-request/"
EVENTS = "/api/v1/service-events/"
GRANTS = "/api/v1/grants/"


def gql_data(response) -> dict:
    assert response.status_code == 200, response.content
    body = response.json()
    assert "errors" not in body, body["errors"]
    return body["data"]


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/csv")
    raw = response.content
    assert raw.startswith(b"\xef\xbb\xbf"), "UTF-8 byte-order mark for spreadsheets"
    text = raw.decode("utf-8")[1:]
    assert text.endswith("\r\n")
    assert "\n" not in text.replace("\r\n", ""), "every line ends in CRLF"
    return list(csv.reader(io.StringIO(text)))


# --- service numbers: JSON -----------------------------------------------------------------

def test_service_numbers_json_for_the_organisation_itself(api, casework):
    response = api(CAMBA).get(NUMBERS, {"dimensions": "service_type",
                                        "measures": "referrals_received,unique_clients_served,"
                                                    "median_days_to_accept,events_held"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["suppression_applied"] is False
    assert body["scope"] == [CAMBA]
    assert body["dimensions"] == ["service_type"]
    assert body["period"] is None
    assert body["measures"] == ["referrals_received", "unique_clients_served",
                                "median_days_to_accept", "events_held"]
    assert [(r["dimensions"], r["values"], r["suppressed"]) for r in body["rows"]] == [
        ({"service_type": "asylum"}, {"referrals_received": 4, "unique_clients_served": 3,
                                      "median_days_to_accept": 2.0, "events_held": 1}, []),
        ({"service_type": "know-your-rights"},
         {"referrals_received": 0, "unique_clients_served": 0, "median_days_to_accept": None,
          "events_held": 4}, []),
        ({"service_type": "removal-defense"},
         {"referrals_received": 3, "unique_clients_served": 3, "median_days_to_accept": 3.5,
          "events_held": 0}, []),
        ({"service_type": "visa"}, {"referrals_received": 2, "unique_clients_served": 1,
                                    "median_days_to_accept": 4.0, "events_held": 0}, []),
    ]
    assert body["totals"] == [{"dimensions": {"service_type": None},
                               "values": {"referrals_received": 9, "unique_clients_served": 6,
                                          "median_days_to_accept": 2.5, "events_held": 5},
                               "suppressed": []}]


def test_service_numbers_with_no_dimensions_has_a_grand_total(api, casework):
    body = api(CAMBA).get(NUMBERS, {"measures": "referrals_received"}).json()
    assert body["rows"] == []
    assert body["totals"] == [{"dimensions": {}, "values": {"referrals_received": 9},
                               "suppressed": []}]


def test_service_numbers_with_nothing_to_count_still_has_a_zero_total(api, casework):
    body = api(CAMBA).get(NUMBERS, {"fiscal_year": "2015-16",
                                    "measures": "referrals_received"}).json()
    assert body["totals"] == [{"dimensions": {}, "values": {"referrals_received": 0},
                               "suppressed": []}]
    assert (body["date_from"], body["date_to"]) == ("2015-04-01", "2016-03-31")


def test_repeated_and_comma_separated_parameters(api, casework):
    client = api(CAMBA)
    repeated = client.get(NUMBERS + "?dimensions=service_type&dimensions=period"
                          "&measures=referrals_received&service_types=visa"
                          "&service_types=asylum&districts=13,20").json()
    commas = client.get(NUMBERS, {"dimensions": "service_type,period",
                                  "measures": "referrals_received",
                                  "service_types": "visa,asylum",
                                  "districts": "13,20"}).json()
    assert repeated == commas
    # asylum SD 13/20: R1, R3 (2016-17), R5, R7 (2017-18); visa has no district.
    assert {(r["dimensions"]["service_type"], r["dimensions"]["period"]):
            r["values"]["referrals_received"] for r in commas["rows"]} == {
        ("asylum", "SFY 2016-17"): 2, ("asylum", "SFY 2017-18"): 2}


def test_funder_sees_suppressed_coalition_totals(funder_api, casework):
    body = funder_api.get(NUMBERS, {"dimensions": "service_type",
                                    "measures": "referrals_received,attendance"}).json()
    assert body["suppression_applied"] is True
    assert body["scope"] is None
    rows = {r["dimensions"]["service_type"]: (r["values"], r["suppressed"])
            for r in body["rows"]}
    # Naturalization: H1..H12 = 12 at Chhaya; attendance: KYR E1 E2 E3 E5 E6 E7
    # = 25 + 40 + 30 + 18 + 50 + 35 = 198; asylum E4 = 12.
    assert rows["naturalization"] == ({"referrals_received": 12, "attendance": 0}, [])
    assert rows["know-your-rights"] == ({"referrals_received": 0, "attendance": 198}, [])
    assert rows["asylum"] == ({"referrals_received": None, "attendance": 12},
                              ["referrals_received"])
    assert body["totals"][0]["values"] == {"referrals_received": 27, "attendance": 210}


def test_funder_with_an_org_dimension_sees_only_its_grantees(funder_api, casework):
    body = funder_api.get(NUMBERS, {"dimensions": "receiving_org"}).json()
    assert body["scope"] == [CALA, CAMBA]
    rows = {r["dimensions"]["receiving_org"]: r for r in body["rows"]}
    # Chhaya CDC (12 referrals, not a grantee) is nowhere; Her Justice appears only as
    # the receiver of CALA's referral R12: it carries nothing Her Justice received.
    assert set(rows) == {CALA, CAMBA, "her-justice"}
    her = rows["her-justice"]["values"]
    assert her["referrals_sent"] is None  # 1, suppressed
    assert all(her[m] == 0 for m in ("referrals_received", "accepted", "completed", "open",
                                     "unique_clients_served", "outcomes", "events_held",
                                     "attendance"))
    # Coalition-wide the grantees received 9 + 5 = 14: published.
    assert body["totals"][0]["values"]["referrals_received"] == 14


def test_coalition_admin_sees_every_organisation_suppressed(admin_api, casework):
    body = admin_api.get(NUMBERS, {"dimensions": "receiving_org",
                                   "measures": "referrals_received"}).json()
    assert body["suppression_applied"] is True
    rows = {r["dimensions"]["receiving_org"]: r["values"]["referrals_received"]
            for r in body["rows"]}
    assert rows == {CAMBA: None, CALA: None, CHHAYA: 12, "her-justice": None}
    assert body["totals"][0]["values"] == {"referrals_received": 27}


# --- service numbers: CSV -------------------------------------------------------------------

def test_service_numbers_csv(api, casework):
    response = api(CAMBA).get(NUMBERS, {"dimensions": "service_type,period", "format": "csv",
                                        "measures": "referrals_received,median_days_to_close"})
    assert response["Content-Disposition"] == 'attachment; filename="service-numbers.csv"'
    assert read_csv(response) == [
        ["service_type", "period", "referrals_received", "median_days_to_close"],
        ["asylum", "SFY 2016-17", "2", "30.0"],
        ["asylum", "SFY 2017-18", "2", "20.0"],
        ["removal-defense", "SFY 2016-17", "1", "10.0"],
        ["removal-defense", "SFY 2017-18", "2", "70.0"],
        ["visa", "SFY 2016-17", "1", ""],
        ["visa", "SFY 2017-18", "1", ""],
        ["asylum", "(all)", "4", "25.0"],
        ["removal-defense", "(all)", "3", "40.0"],
        ["visa", "(all)", "2", ""],
        ["(all)", "SFY 2016-17", "4", "20.0"],
        ["(all)", "SFY 2017-18", "5", "45.0"],
        ["(all)", "(all)", "9", "25.0"],
    ]


def test_service_numbers_csv_says_suppressed(funder_api, casework):
    rows = read_csv(funder_api.get(NUMBERS, {"dimensions": "service_type", "format": "csv",
                                             "measures": "referrals_received"},
                                   headers={"Accept": "text/csv"}))
    assert rows == [["service_type", "referrals_received"],
                    ["asylum", "suppressed"], ["naturalization", "12"],
                    ["removal-defense", "suppressed"], ["u-t-visa-vawa", "suppressed"],
                    ["visa", "suppressed"], ["(all)", "27"]]


def test_service_numbers_csv_by_accept_header(api, casework):
    response = api(CAMBA).get(NUMBERS, {"measures": "referrals_received"},
                              headers={"Accept": "text/csv"})
    assert read_csv(response) == [["referrals_received"], ["9"]]


# --- budget request ---------------------------------------------------------------------

def budget(client, fmt=None, headers=None, org=CAMBA, year="2017-18", coarsen=None):
    params = {"org": org, "fiscal_year": year}
    if coarsen:
        params["coarsen"] = coarsen
    if fmt:
        params["format"] = fmt
    return client.get(BUDGET, params, headers=headers)


def test_budget_request_json(funder_api, casework):
    response = budget(funder_api, coarsen="none")
    assert response.status_code == 200
    body = response.json()
    assert {k: body[k] for k in ("organization", "organization_name", "fiscal_year",
                                 "previous_fiscal_year", "suppression_applied", "grant_total",
                                 "previous_grant_total", "cost_per_client_served",
                                 "previous_cost_per_client_served")} == {
        "organization": CAMBA, "organization_name": "CAMBA Legal Services",
        "fiscal_year": "SFY 2017-18", "previous_fiscal_year": "SFY 2016-17",
        "suppression_applied": True, "grant_total": "180000.00",
        "previous_grant_total": "150000.00", "cost_per_client_served": None,
        "previous_cost_per_client_served": None}
    # The grant's own figures (4 referrals, 4 clients) are small: withheld, and its cost
    # per client with them.
    assert body["grants"] == [{
        "id": casework.grants[(FUNDER, CAMBA, "2017-18")].pk,
        "funder": FUNDER, "funder_name": "New York City Council", "amount": "180000.00",
        "period_start": "2017-04-01", "period_end": "2018-03-31",
        "service_types": ["asylum", "removal-defense"],
        "description": f"{FUNDER} to {CAMBA} 2017-18",
        "values": {m: None for m in body["grant_measures"]},
        "suppressed": sorted(body["grant_measures"]), "cost_per_client_served": None}]
    assert (body["dimensions"], body["coarsened"]) == (["service_type", "district"], [])
    assert body["measures"] == ["referrals_received", "accepted", "completed",
                                "unique_clients_served", "outcomes", "events_held",
                                "attendance"]
    lines = {(line["service_type"], line["district"]) for line in body["lines"]}
    # Cells of both years (asylum SD 13 and 20 and no SD, removal SD 13 and 20, visa no
    # SD, KYR SD 13 and 20), then the totals.
    assert lines == {("asylum", 13), ("asylum", 20), ("asylum", "unknown"),
                     ("removal-defense", 13), ("removal-defense", 20), ("visa", "unknown"),
                     ("know-your-rights", 13), ("know-your-rights", 20),
                     ("asylum", None), ("removal-defense", None), ("visa", None),
                     ("know-your-rights", None), (None, 13), (None, 20), (None, "unknown"),
                     (None, None)}


def test_budget_request_cost_per_client_is_unpublished_with_its_client_count(api, casework):
    """Budget-specific leaks on the hand-counted casework (the many-cells version is in
    test_suppression.py)."""
    # CAMBA served 4 clients in SFY 2017-18 (C4, C5, C6, C7) and 2 in 2016-17: both
    # small, so a funder sees neither count nor the cost per client.
    response = api(FUNDER).get("/api/v1/reports/budget-request/",
                               {"org": CAMBA, "fiscal_year": "2017-18"})
    body = response.json()
    budget_attack(body)
    grand = next(line for line in body["lines"]
                 if line["service_type"] is None and line["district"] is None)
    assert grand["current"]["unique_clients_served"] is None
    assert grand["previous"]["unique_clients_served"] is None
    assert grand["change"]["unique_clients_served"] is None
    assert body["cost_per_client_served"] is None
    assert body["previous_cost_per_client_served"] is None
    assert body["grant_total"] == "180000.00"
    # Attendance is large enough to publish: 30 + 12 + 18 now, 25 + 40 before.
    assert (grand["current"]["attendance"], grand["previous"]["attendance"],
            grand["change"]["attendance"]) == (60, 65, -5)


def test_budget_request_as_the_grantee_itself_is_whole(api, casework):
    body = api(CAMBA).get("/api/v1/reports/budget-request/",
                          {"org": CAMBA, "fiscal_year": "2017-18"}).json()
    assert body["suppression_applied"] is False
    grand = next(line for line in body["lines"]
                 if line["service_type"] is None and line["district"] is None)
    assert grand["current"] == {"referrals_received": 5, "accepted": 4, "completed": 2,
                                "unique_clients_served": 4, "outcomes": 4, "events_held": 3,
                                "attendance": 60}
    assert grand["previous"] == {"referrals_received": 4, "accepted": 3, "completed": 1,
                                 "unique_clients_served": 2, "outcomes": 3, "events_held": 2,
                                 "attendance": 65}
    assert grand["change"] == {"referrals_received": 1, "accepted": 1, "completed": 1,
                               "unique_clients_served": 2, "outcomes": 1, "events_held": 1,
                               "attendance": -5}
    # $180,000 / 4 clients; $150,000 / 2 clients.
    assert body["cost_per_client_served"] == "45000.00"
    assert body["previous_cost_per_client_served"] == "75000.00"


def test_budget_request_for_the_grantee_itself_line_by_line(api, casework):
    body = budget(api(CAMBA)).json()
    assert body["suppression_applied"] is False
    lines = {(line["service_type"], line["district"]): line for line in body["lines"]}
    # Asylum SD 13: R5 now (completed, 2 outcomes); R1 (completed, 2 outcomes) and R3
    # (rejected) before.
    assert lines[("asylum", 13)]["current"] == {
        "referrals_received": 1, "accepted": 1, "completed": 1, "unique_clients_served": 1,
        "outcomes": 2, "events_held": 0, "attendance": 0}
    assert lines[("asylum", 13)]["previous"] == {
        "referrals_received": 2, "accepted": 1, "completed": 1, "unique_clients_served": 1,
        "outcomes": 2, "events_held": 0, "attendance": 0}
    assert lines[("asylum", 13)]["change"]["referrals_received"] == -1
    # Asylum without a district: only the clinic E4 (12 came), this year.
    assert lines[("asylum", "unknown")]["current"]["attendance"] == 12
    assert lines[("asylum", "unknown")]["previous"] == {m: 0 for m in body["measures"]}
    # KYR SD 20: E5 (18) now, E2 (40) before.
    assert (lines[("know-your-rights", 20)]["current"]["attendance"],
            lines[("know-your-rights", 20)]["previous"]["attendance"],
            lines[("know-your-rights", 20)]["change"]["attendance"]) == (18, 40, -22)


def test_budget_request_csv_by_accept_header_and_by_format(funder_api, casework):
    by_header = budget(funder_api, headers={"Accept": "text/csv"}, coarsen="none")
    by_format = budget(funder_api, fmt="csv", coarsen="none")
    for response in (by_header, by_format):
        assert response["Content-Disposition"] == (
            'attachment; filename="budget-request-camba-legal-2017-18.csv"')
    rows = read_csv(by_header)
    assert rows == read_csv(by_format)
    header = rows[0]
    assert header[:5] == ["service_type", "district", "referrals_received SFY 2017-18",
                          "referrals_received SFY 2016-17", "referrals_received change"]
    assert len(header) == 2 + 3 * 7
    by_line = {(row[0], row[1]): dict(zip(header, row)) for row in rows[1:]}
    grand = by_line[("(all)", "(all)")]
    assert grand["attendance SFY 2017-18"] == "60"
    assert grand["attendance SFY 2016-17"] == "65"
    assert grand["attendance change"] == "-5"
    assert grand["unique_clients_served SFY 2017-18"] == "suppressed"
    assert grand["unique_clients_served change"] == "suppressed"
    assert by_line[("asylum", "13")]["referrals_received SFY 2017-18"] == "suppressed"


def test_budget_request_printable_html(funder_api, casework):
    response = budget(funder_api, fmt="html", coarsen="none")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "<title>Budget request: CAMBA Legal Services, SFY 2017-18</title>" in page
    assert "New York City Council" in page
    assert "$180000.00" in page
    assert "every client served in any service: not published" in page
    assert "suppressed" in page
    assert "2017-04-01 to 2018-03-31" in page


def test_budget_request_html_for_the_grantee_shows_the_cost_per_client(api, casework):
    page = budget(api(CAMBA), fmt="html").content.decode()
    assert "every client served in any service: $45000.00" in page
    assert "$75000.00" in page


@pytest.mark.parametrize("fmt, headers", [(None, None), ("csv", None), ("html", None),
                                          (None, {"Accept": "text/csv"})])
def test_budget_errors_stay_problem_json_whatever_the_format(api, funder_api, casework,
                                                             fmt, headers):
    problem(budget(funder_api, fmt, headers, org=CHHAYA), 403, "report_scope_denied")
    problem(budget(funder_api, fmt, headers, year="2017-19"), 400, "invalid_fiscal_year")
    problem(budget(funder_api, fmt, headers, year="NYC FY2018"), 400, "invalid_fiscal_year")
    problem(budget(funder_api, fmt, headers, org="no-such-org"), 404, "not_found")
    problem(budget(funder_api, fmt, headers, org=OTHER_FUNDER), 400, "not_a_grantee")
    problem(budget(api(CAMBA), fmt, headers, org=CALA), 403, "report_scope_denied")


def test_budget_request_needs_both_parameters(funder_api, coalition):
    body = problem(funder_api.get(BUDGET, {"org": CAMBA}), 400, "validation_error")
    assert body["errors"] == [{"field": "fiscal_year", "code": "required",
                               "detail": "This field is required."}]


# --- errors ------------------------------------------------------------------------------

@pytest.mark.parametrize("params, status, code, field_code", [
    # The report's rules answer, as in GraphQL (the parser only reads the text).
    ({"dimensions": "nope"}, 400, "invalid_dimension", ("dimensions", "invalid_dimension")),
    ({"measures": "nope"}, 400, "invalid_measure", ("measures", "invalid_measure")),
    ({"period": "week"}, 400, "invalid_period", ("period", "invalid_period")),
    ({"dimensions": "service_type,district,period,priority"}, 400, "too_many_dimensions",
     ("dimensions", "too_many_dimensions")),
    ({"districts": "99"}, 400, "unknown_district", ("districts", "unknown_district")),
    ({"date_from": "2017-02-30"}, 400, "validation_error", ("date_from", "invalid")),
    # Then the report's own rules.
    ({"dimensions": "service_type,service_type"}, 400, "invalid_dimension",
     ("dimensions", "invalid_dimension")),
    ({"dimensions": "outcome", "measures": "referrals_received"}, 400,
     "measure_not_applicable", ("measures", "measure_not_applicable")),
    ({"dimensions": "client_language", "measures": "events_held"}, 400,
     "measure_not_applicable", ("measures", "measure_not_applicable")),
    ({"fiscal_year": "2017-19"}, 400, "invalid_fiscal_year", ("fiscal_year",
                                                              "invalid_fiscal_year")),
    ({"fiscal_year": "FY17"}, 400, "invalid_fiscal_year", ("fiscal_year",
                                                           "invalid_fiscal_year")),
    ({"date_from": "2018-01-01", "date_to": "2017-01-01"}, 400, "invalid_date_range",
     ("date_from", "invalid_date_range")),
    ({"fiscal_year": "2017-18", "date_from": "2018-06-01"}, 400, "invalid_date_range",
     ("date_from", "invalid_date_range")),
    ({"organizations": "no-such-org"}, 400, "unknown_organization",
     ("organizations", "unknown_organization")),
    ({"organizations": CALA}, 403, "report_scope_denied",
     ("organizations", "report_scope_denied")),
    ({"organizations": f"{CAMBA},{CALA}"}, 403, "report_scope_denied",
     ("organizations", "report_scope_denied")),
])
@pytest.mark.parametrize("fmt", [None, "csv"])
def test_service_numbers_errors(api, coalition, params, status, code, field_code, fmt):
    if fmt:
        params = {**params, "format": fmt}
    body = problem(api(CAMBA).get(NUMBERS, params), status, code)
    assert (body["errors"][0]["field"], body["errors"][0]["code"]) == field_code


def test_a_funder_asking_for_a_non_grantee_is_refused(funder_api, casework):
    problem(funder_api.get(NUMBERS, {"organizations": CHHAYA}), 403, "report_scope_denied")
    problem(funder_api.get(NUMBERS, {"organizations": f"{CAMBA},{CHHAYA}"}), 403,
            "report_scope_denied")
    body = funder_api.get(NUMBERS, {"organizations": CAMBA,
                                    "measures": "referrals_received"}).json()
    assert body["scope"] == [CAMBA]
    assert body["totals"][0]["values"] == {"referrals_received": None}  # 9, suppressed


def test_reports_need_the_reports_scope(api, casework):
    client = api(CAMBA, scopes="orgs:read referrals:read")
    problem(client.get(NUMBERS), 403, "insufficient_scope")
    problem(budget(client), 403, "insufficient_scope")
    problem(client.get(EVENTS), 403, "insufficient_scope")
    problem(client.get(GRANTS), 403, "insufficient_scope")
    error = gql_error(client.graphql("{ serviceNumbers { measures } }"), "insufficient_scope")
    assert "reports:read" in error["message"]


def test_reports_need_a_token(casework):
    from tests.conftest import APIClient

    problem(APIClient().get(NUMBERS), 401, "not_authenticated")


# --- service events -----------------------------------------------------------------------

EVENT = {"kind": "workshop", "title": "Know Your Rights at P.S. 19", "date": "2017-05-02",
         "attendance": 40, "district": 13, "languages": ["es", "en"]}


def results(response) -> list[dict]:
    assert response.status_code == 200, response.content
    body = response.json()
    return body["results"] if isinstance(body, dict) and "results" in body else body


def test_service_event_crud_by_the_organising_org(api, casework):
    camba = api(CAMBA)
    created = camba.post(EVENTS, EVENT)
    assert created.status_code == 201, created.content
    event = created.json()
    assert {k: event[k] for k in EVENT} == {**EVENT, "languages": ["en", "es"]}
    assert event["organization"] == CAMBA
    assert event["service_type"] == "know-your-rights"
    row = ServiceEvent.objects.get(pk=event["id"])
    assert row.created_by_application_id == camba.app.pk

    url = f"{EVENTS}{event['id']}/"
    assert camba.get(url).json() == event
    # Listed with E1..E5, newest first.
    assert [e["date"] for e in results(camba.get(EVENTS))] == [
        "2017-07-01", "2017-06-30", "2017-05-02", "2017-04-01", "2017-03-31", "2016-06-01"]

    changed = camba.patch(url, {"attendance": 45, "district": None},
                          content_type="application/json",
                          headers={"Authorization": f"Bearer {camba.token}"})
    assert changed.status_code == 200, changed.content
    assert (changed.json()["attendance"], changed.json()["district"]) == (45, None)
    assert changed.json()["title"] == EVENT["title"]

    # The report counts it: CAMBA's SFY 2017-18 events were 3 (60 came), now 4 (105).
    numbers = camba.get(NUMBERS, {"fiscal_year": "2017-18",
                                  "measures": "events_held,workshops_held,attendance"}).json()
    assert numbers["totals"][0]["values"] == {"events_held": 4, "workshops_held": 3,
                                              "attendance": 105}

    deleted = camba.delete(url, headers={"Authorization": f"Bearer {camba.token}"})
    assert deleted.status_code == 204
    problem(camba.get(url), 404, "not_found")
    assert not ServiceEvent.objects.filter(pk=event["id"]).exists()


def test_another_org_gets_404_on_someone_elses_event(api, casework):
    event = casework.events["E1"]
    url = f"{EVENTS}{event.pk}/"
    cala = api(CALA)
    auth = {"Authorization": f"Bearer {cala.token}"}
    problem(cala.get(url), 404, "not_found")
    problem(cala.patch(url, {"attendance": 1}, content_type="application/json", headers=auth),
            404, "not_found")
    problem(cala.delete(url, headers=auth), 404, "not_found")
    assert [e["title"] for e in results(cala.get(EVENTS))] == ["workshop 2017-05-01"]
    event.refresh_from_db()
    assert event.attendance == 25


def test_funder_cannot_record_or_see_service_events(funder_api, casework):
    problem(funder_api.post(EVENTS, EVENT), 403, "insufficient_scope")
    assert results(funder_api.get(EVENTS)) == []
    problem(funder_api.get(f"{EVENTS}{casework.events['E1'].pk}/"), 404, "not_found")
    assert ServiceEvent.objects.count() == 7


def test_coalition_admin_lists_every_event_but_edits_only_its_own(admin_api, casework):
    assert len(results(admin_api.get(EVENTS))) == 7
    url = f"{EVENTS}{casework.events['E1'].pk}/"
    assert admin_api.get(url).status_code == 200
    problem(admin_api.patch(url, {"attendance": 1}, content_type="application/json",
                            headers={"Authorization": f"Bearer {admin_api.token}"}),
            404, "not_found")


@pytest.mark.parametrize("change, status, code", [
    ({"date": "2099-01-01"}, 400, "date_out_of_range"),
    ({"service_type": "no-such-service"}, 400, "unknown_service_type"),
    ({"languages": ["xx"]}, 400, "unknown_language"),
    ({"kind": "party"}, 400, "invalid_kind"),
    ({"attendance": -1}, 400, "out_of_range"),
    ({"title": "   "}, 400, "required"),
    ({"district": 64}, 400, "unknown_district"),
])
def test_service_event_validation(api, casework, change, status, code):
    problem(api(CAMBA).post(EVENTS, {**EVENT, **change}), status, code)
    assert ServiceEvent.objects.count() == 7


# --- grants ---------------------------------------------------------------------------

@pytest.mark.parametrize("slug, expected", [
    (FUNDER, {(FUNDER, CAMBA, "2016-17"), (FUNDER, CAMBA, "2017-18"),
              (FUNDER, CALA, "2017-18")}),
    (OTHER_FUNDER, {(OTHER_FUNDER, CHHAYA, "2017-18")}),
    (CAMBA, {(FUNDER, CAMBA, "2016-17"), (FUNDER, CAMBA, "2017-18")}),
    (CHHAYA, {(OTHER_FUNDER, CHHAYA, "2017-18")}),
    ("her-justice", set()),
])
def test_grants_are_visible_to_their_funder_and_grantee(api, casework, slug, expected):
    client = api(slug)
    listed = results(client.get(GRANTS))
    assert {(g["funder"], g["grantee"], g["fiscal_year"]) for g in listed} == expected
    for key, grant in casework.grants.items():
        response = client.get(f"{GRANTS}{grant.pk}/")
        if key in expected:
            assert response.json()["amount"] == str(grant.amount)
        else:
            problem(response, 404, "not_found")


def test_coalition_admin_sees_every_grant(admin_api, casework):
    listed = results(admin_api.get(GRANTS))
    assert len(listed) == 4
    grant = next(g for g in listed if g["grantee"] == CALA)
    assert grant == {"id": casework.grants[(FUNDER, CALA, "2017-18")].pk, "funder": FUNDER,
                     "grantee": CALA, "fiscal_year": "2017-18", "period_start": "2017-04-01",
                     "period_end": "2018-03-31", "amount": "90000.00",
                     "service_types": ["removal-defense"],
                     "description": f"{FUNDER} to {CALA} 2017-18"}


def test_grants_are_read_only(api, casework):
    client = api(FUNDER)
    response = client.post(GRANTS, {"grantee": CAMBA, "fiscal_year": "2018-19",
                                    "amount": "1.00"})
    problem(response, 405, "method_not_allowed")


# --- GraphQL ------------------------------------------------------------------------------

SERVICE_NUMBERS = """query($dims: [ReportDimension!], $measures: [ReportMeasure!],
                         $period: ReportPeriod, $fy: String, $orgs: [String!]) {
  serviceNumbers(dimensions: $dims, measures: $measures, period: $period, fiscalYear: $fy,
                 organizations: $orgs) {
    dimensions period measures scope dateFrom dateTo suppressionApplied
    rows { dimensions { name value } values { measure value suppressed } }
    totals { dimensions { name value } values { measure value suppressed } }
  }
}"""


def gql_table(data) -> dict:
    return {tuple(d["value"] for d in e["dimensions"]):
            {v["measure"]: v["value"] for v in e["values"]}
            for e in data["rows"] + data["totals"]}


def test_graphql_service_numbers_match_the_hand_count(api, casework):
    data = gql_data(api(CAMBA).graphql(SERVICE_NUMBERS, {
        "dims": ["RECEIVING_ORG", "PERIOD"], "period": "SFY",
        "measures": ["REFERRALS_RECEIVED", "REFERRALS_SENT", "MEDIAN_DAYS_TO_ACCEPT",
                     "ATTENDANCE"]}))["serviceNumbers"]
    assert data["suppressionApplied"] is False
    assert data["scope"] == [CAMBA]
    assert data["period"] == "sfy"
    assert gql_table(data) == {
        (CAMBA, "SFY 2016-17"): {"referrals_received": 4, "referrals_sent": 0,
                                 "median_days_to_accept": 2.0, "attendance": 65},
        (CAMBA, "SFY 2017-18"): {"referrals_received": 5, "referrals_sent": 0,
                                 "median_days_to_accept": 3.0, "attendance": 60},
        (CALA, "SFY 2017-18"): {"referrals_received": 0, "referrals_sent": 1,
                                "median_days_to_accept": None, "attendance": 0},
        (CAMBA, None): {"referrals_received": 9, "referrals_sent": 0,
                        "median_days_to_accept": 2.5, "attendance": 125},
        (CALA, None): {"referrals_received": 0, "referrals_sent": 1,
                       "median_days_to_accept": None, "attendance": 0},
        (None, "SFY 2016-17"): {"referrals_received": 4, "referrals_sent": 0,
                                "median_days_to_accept": 2.0, "attendance": 65},
        (None, "SFY 2017-18"): {"referrals_received": 5, "referrals_sent": 1,
                                "median_days_to_accept": 3.0, "attendance": 60},
        (None, None): {"referrals_received": 9, "referrals_sent": 1,
                       "median_days_to_accept": 2.5, "attendance": 125},
    }


def test_graphql_service_numbers_equal_rest_for_a_funder(api, casework):
    client = api(FUNDER)
    rest = client.get(NUMBERS, {"dimensions": "service_type,district",
                                "fiscal_year": "NYC FY2018"}).json()
    data = gql_data(client.graphql(SERVICE_NUMBERS, {
        "dims": ["SERVICE_TYPE", "DISTRICT"], "fy": "NYC FY2018"}))["serviceNumbers"]
    assert (data["dateFrom"], data["dateTo"]) == ("2017-07-01", "2018-06-30")
    assert data["measures"] == rest["measures"]
    suppressed = [(tuple(d["value"] for d in e["dimensions"]), v["measure"])
                  for e in data["rows"] + data["totals"] for v in e["values"] if v["suppressed"]]
    assert suppressed
    assert all(v["value"] is None for e in data["rows"] + data["totals"] for v in e["values"]
               if v["suppressed"])
    assert gql_table(data) == {
        tuple(None if e["dimensions"][d] is None else str(e["dimensions"][d])
              for d in rest["dimensions"]): e["values"]
        for e in rest["rows"] + rest["totals"]}


@pytest.mark.parametrize("variables, code", [
    ({"dims": ["OUTCOME"], "measures": ["REFERRALS_RECEIVED"]}, "measure_not_applicable"),
    ({"dims": ["SERVICE_TYPE", "DISTRICT", "PERIOD", "PRIORITY"]}, "too_many_dimensions"),
    ({"dims": ["SERVICE_TYPE", "SERVICE_TYPE"]}, "invalid_dimension"),
    ({"fy": "2017-19"}, "invalid_fiscal_year"),
    ({"fy": "FY17"}, "invalid_fiscal_year"),
    ({"orgs": [CALA]}, "report_scope_denied"),
    ({"orgs": ["no-such-org"]}, "unknown_organization"),
])
def test_graphql_service_numbers_errors(api, coalition, variables, code):
    gql_error(api(CAMBA).graphql(SERVICE_NUMBERS, variables), code)


@pytest.mark.parametrize("arguments", ["dimensions: [NOPE]", "measures: [NOPE]",
                                       "period: WEEK"])
def test_graphql_unknown_enum_literals_are_validation_errors(api, coalition, arguments):
    error = gql_error(api(CAMBA).graphql(f"{{ serviceNumbers({arguments}) {{ measures }} }}"),
                      "validation_error", status=400)
    assert "NOPE" in error["message"] or "WEEK" in error["message"]


@pytest.mark.parametrize("variables", [{"dims": ["NOPE"]}, {"measures": ["NOPE"]},
                                       {"period": "WEEK"}])
def test_graphql_unknown_enum_variables_are_validation_errors(api, coalition, variables):
    gql_error(api(CAMBA).graphql(SERVICE_NUMBERS, variables), "validation_error", status=400)


def test_graphql_funder_asking_for_a_non_grantee(api, casework):
    gql_error(api(FUNDER).graphql(SERVICE_NUMBERS, {"orgs": [CHHAYA]}), "report_scope_denied")


BUDGET_QUERY = """query($org: String!, $fy: String!) {
  budgetRequest(org: $org, fiscalYear: $fy) {
    organization organizationName fiscalYear previousFiscalYear suppressionApplied measures
    grants { funder funderName amount serviceTypes description }
    grantTotal costPerClientServed previousGrantTotal previousCostPerClientServed
    lines { serviceType district current { measure value suppressed }
            previous { measure value suppressed } change { measure value suppressed } }
  }
}"""


def test_graphql_budget_request_for_the_grantee(api, casework):
    data = gql_data(api(CAMBA).graphql(BUDGET_QUERY, {"org": CAMBA, "fy": "2017-18"}))
    report = data["budgetRequest"]
    assert report["suppressionApplied"] is False
    assert (report["grantTotal"], report["costPerClientServed"],
            report["previousGrantTotal"], report["previousCostPerClientServed"]) == (
        "180000.00", "45000.00", "150000.00", "75000.00")
    grand = next(line for line in report["lines"]
                 if line["serviceType"] is None and line["district"] is None)
    values = {column: {v["measure"]: v["value"] for v in grand[column]}
              for column in ("current", "previous", "change")}
    assert values == {
        "current": {"referrals_received": 5, "accepted": 4, "completed": 2,
                    "unique_clients_served": 4, "outcomes": 4, "events_held": 3,
                    "attendance": 60},
        "previous": {"referrals_received": 4, "accepted": 3, "completed": 1,
                     "unique_clients_served": 2, "outcomes": 3, "events_held": 2,
                     "attendance": 65},
        "change": {"referrals_received": 1, "accepted": 1, "completed": 1,
                   "unique_clients_served": 2, "outcomes": 1, "events_held": 1,
                   "attendance": -5},
    }


def test_graphql_budget_request_equals_rest_for_a_funder(api, casework):
    client = api(FUNDER)
    rest = budget(client).json()
    report = gql_data(client.graphql(BUDGET_QUERY, {"org": CAMBA, "fy": "2017-18"})
                      )["budgetRequest"]
    assert report["suppressionApplied"] is True
    assert report["costPerClientServed"] is None
    assert report["grants"] == [{"funder": FUNDER, "funderName": "New York City Council",
                                 "amount": "180000.00",
                                 "serviceTypes": ["asylum", "removal-defense"],
                                 "description": f"{FUNDER} to {CAMBA} 2017-18"}]
    gql_lines = {(line["serviceType"], line["district"]): {
        column: {v["measure"]: v["value"] for v in line[column]}
        for column in ("current", "previous", "change")} for line in report["lines"]}
    rest_lines = {(line["service_type"], None if line["district"] is None
                   else str(line["district"])): {
        column: line[column] for column in ("current", "previous", "change")}
        for line in rest["lines"]}
    assert gql_lines == rest_lines
    for line in report["lines"]:
        for column in ("current", "previous", "change"):
            for v in line[column]:
                assert v["suppressed"] == (v["value"] is None)


@pytest.mark.parametrize("who, variables, code", [
    (FUNDER, {"org": CHHAYA, "fy": "2017-18"}, "report_scope_denied"),
    (CAMBA, {"org": CALA, "fy": "2017-18"}, "report_scope_denied"),
    (FUNDER, {"org": CAMBA, "fy": "NYC FY2018"}, "invalid_fiscal_year"),
    (FUNDER, {"org": "no-such-org", "fy": "2017-18"}, "not_found"),
    (FUNDER, {"org": FUNDER, "fy": "2017-18"}, "not_a_grantee"),
])
def test_graphql_budget_request_errors(api, casework, who, variables, code):
    gql_error(api(who).graphql(BUDGET_QUERY, variables), code)


EVENT_FIELDS = "id kind title date district serviceType languages attendance organization"


def test_graphql_service_events_and_grants(api, admin_api, casework):
    data = gql_data(api(CAMBA).graphql(
        f"{{ serviceEvents {{ {EVENT_FIELDS} }} grants {{ funder grantee fiscalYear amount "
        "serviceTypes } }"))
    assert [(e["date"], e["kind"], e["district"], e["serviceType"], e["attendance"])
            for e in data["serviceEvents"]] == [
        ("2017-07-01", "WORKSHOP", 20, "know-your-rights", 18),
        ("2017-06-30", "CLINIC", None, "asylum", 12),
        ("2017-04-01", "WORKSHOP", 13, "know-your-rights", 30),
        ("2017-03-31", "FORUM", 20, "know-your-rights", 40),
        ("2016-06-01", "WORKSHOP", 13, "know-your-rights", 25)]
    assert {e["organization"] for e in data["serviceEvents"]} == {CAMBA}
    assert sorted((g["fiscalYear"], g["amount"]) for g in data["grants"]) == [
        ("2016-17", "150000.00"), ("2017-18", "180000.00")]
    funder = gql_data(api(FUNDER).graphql(
        "{ serviceEvents { id } grants { grantee fiscalYear } }"))
    assert funder["serviceEvents"] == []
    assert sorted((g["grantee"], g["fiscalYear"]) for g in funder["grants"]) == [
        (CALA, "2017-18"), (CAMBA, "2016-17"), (CAMBA, "2017-18")]
    admin = gql_data(admin_api.graphql("{ serviceEvents { id } grants { id } }"))
    assert (len(admin["serviceEvents"]), len(admin["grants"])) == (7, 4)


CREATE = """mutation($input: ServiceEventInput!) {
  createServiceEvent(input: $input) { serviceEvent { %s } } }""" % EVENT_FIELDS
UPDATE = """mutation($id: UUID!, $input: ServiceEventInput!) {
  updateServiceEvent(id: $id, input: $input) { serviceEvent { %s } } }""" % EVENT_FIELDS
DELETE = """mutation($id: UUID!) { deleteServiceEvent(id: $id) { deletedId } }"""
GQL_EVENT = {"kind": "WORKSHOP", "title": "Know Your Rights at P.S. 19", "date": "2017-05-02",
             "attendance": 40, "district": 13, "languages": ["es", "en"]}


def test_graphql_service_event_mutations(api, casework):
    camba = api(CAMBA)
    created = gql_data(camba.graphql(CREATE, {"input": GQL_EVENT}))
    event = created["createServiceEvent"]["serviceEvent"]
    assert {k: event[k] for k in GQL_EVENT} == {**GQL_EVENT, "languages": ["en", "es"]}
    assert (event["organization"], event["serviceType"]) == (CAMBA, "know-your-rights")
    row = ServiceEvent.objects.get(pk=event["id"])
    assert row.created_by_application_id == camba.app.pk

    # Fields left out of the input stay as they were.
    renamed = gql_data(camba.graphql(UPDATE, {"id": event["id"], "input": {"title": "KYR"}}))
    event = renamed["updateServiceEvent"]["serviceEvent"]
    assert (event["title"], event["district"], event["languages"], event["attendance"]) == (
        "KYR", 13, ["en", "es"], 40)

    updated = gql_data(camba.graphql(UPDATE, {"id": event["id"],
                                              "input": {"attendance": 45, "district": None}}))
    event = updated["updateServiceEvent"]["serviceEvent"]
    assert (event["attendance"], event["district"], event["title"]) == (45, None, "KYR")

    # Another organisation: not found, for update and delete alike.
    cala = api(CALA)
    gql_error(cala.graphql(UPDATE, {"id": event["id"], "input": {"attendance": 1}}),
              "not_found")
    gql_error(cala.graphql(DELETE, {"id": event["id"]}), "not_found")
    assert ServiceEvent.objects.get(pk=event["id"]).attendance == 45

    deleted = gql_data(camba.graphql(DELETE, {"id": event["id"]}))
    assert deleted["deleteServiceEvent"]["deletedId"] == event["id"]
    assert not ServiceEvent.objects.filter(pk=event["id"]).exists()
    gql_error(camba.graphql(DELETE, {"id": event["id"]}), "not_found")


@pytest.mark.parametrize("who, variables, code", [
    (FUNDER, {"input": GQL_EVENT}, "insufficient_scope"),
    (CAMBA, {"input": {**GQL_EVENT, "date": "2099-01-01"}}, "date_out_of_range"),
    (CAMBA, {"input": {**GQL_EVENT, "serviceType": "nope"}}, "unknown_service_type"),
    (CAMBA, {"input": {**GQL_EVENT, "languages": ["xx"]}}, "unknown_language"),
    (CAMBA, {"input": {"title": "No kind, date or attendance"}}, "required"),
    (CAMBA, {"input": {**GQL_EVENT, "attendance": -1}}, "out_of_range"),
    (CAMBA, {"input": {**GQL_EVENT, "title": "  "}}, "required"),
    (CAMBA, {"input": {**GQL_EVENT, "district": 64}}, "unknown_district"),
])
def test_graphql_create_service_event_errors(api, casework, who, variables, code):
    gql_error(api(who).graphql(CREATE, variables), code)
    assert ServiceEvent.objects.count() == 7


def test_graphql_funder_cannot_change_events(api, casework):
    funder = api(FUNDER)
    event_id = str(casework.events["E1"].pk)
    gql_error(funder.graphql(UPDATE, {"id": event_id, "input": {"attendance": 1}}),
              "insufficient_scope")
    gql_error(funder.graphql(DELETE, {"id": event_id}), "insufficient_scope")
    assert ServiceEvent.objects.get(pk=event_id).attendance == 25
