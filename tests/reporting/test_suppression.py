"""Small-cell suppression: unit tests of ``reporting.suppression.suppress``, and the
subtraction attack on every report shape.

The attack rebuilds, from what a funder or a coalition administrator was
*published* (cells and totals; null = unknown; a cell that is absent = 0), the
linear system "every total is the sum of the entries one level below it", and
solves it exactly with Gaussian elimination over fractions (written here,
independent of the code under test). No suppressed value may be pinned
down. Published figures are also checked against an independent count of the
seeded records, so suppression can neither publish a wrong number nor hide a
cell by dropping it."""

from __future__ import annotations

import dataclasses
import itertools
import statistics
from collections import defaultdict
from datetime import date, datetime
from fractions import Fraction

import pytest

from reporting import selectors, suppression
from reporting.suppression import suppress

from .fixtures import CALA, CAMBA, CHHAYA, FUNDER, GRANTEES, NEW_YORK

COUNT_MEASURES = ("referrals_sent", "referrals_received", "accepted", "rejected", "completed",
                  "failed", "open", "overdue", "unique_clients_served", "outcomes",
                  "events_held", "workshops_held", "attendance")
MEDIANS = {"median_days_to_accept": "accept_days", "median_days_to_close": "close_days"}
# Distinct clients do not add up across cells; the code suppresses it as if they did,
# so the attack below (which assumes they do) still applies, but totals may be smaller.
NON_ADDITIVE = {"unique_clients_served", "campaigns_held"}
# Counts of events held, not of people: published whole, small or not.
PUBLIC = selectors.NEVER_SUPPRESSED


# --- an exact solver ----------------------------------------------------------------

def determined_unknowns(equations: list[tuple[dict, Fraction]]) -> dict:
    """Unknowns the system pins down, with their values.

    ``equations``: (coefficients {unknown: Fraction}, right-hand side). Reduced row
    echelon form over the rationals; an unknown is determined iff its pivot row has
    no other non-zero coefficient. Raises if the system is inconsistent."""
    rows = [(dict(c), Fraction(rhs)) for c, rhs in equations if c]
    pivots: list[tuple[object, dict, Fraction]] = []
    for coefficients, rhs in rows:
        # Reduce against the pivots found so far.
        for column, pivot_row, pivot_rhs in pivots:
            factor = coefficients.get(column)
            if factor:
                for c, v in pivot_row.items():
                    value = coefficients.get(c, 0) - factor * v
                    if value:
                        coefficients[c] = value
                    else:
                        coefficients.pop(c, None)
                rhs -= factor * pivot_rhs
        if not coefficients:
            assert rhs == 0, "the published figures contradict their own totals"
            continue
        column = min(coefficients, key=repr)
        scale = coefficients[column]
        coefficients = {c: v / scale for c, v in coefficients.items()}
        rhs /= scale
        # Keep the echelon form reduced: eliminate the new pivot from earlier rows.
        updated = []
        for other_column, other_row, other_rhs in pivots:
            factor = other_row.get(column)
            if factor:
                other_row = dict(other_row)
                for c, v in coefficients.items():
                    value = other_row.get(c, 0) - factor * v
                    if value:
                        other_row[c] = value
                    else:
                        other_row.pop(c, None)
                other_rhs -= factor * rhs
            updated.append((other_column, other_row, other_rhs))
        pivots = updated + [(column, coefficients, rhs)]
    return {column: rhs for column, row, rhs in pivots if len(row) == 1}


def test_the_solver_finds_what_subtraction_finds():
    one = Fraction(1)
    # a + b = 10, b + c = 7, c = 3  ->  all three determined.
    assert determined_unknowns([({"a": one, "b": one}, 10), ({"b": one, "c": one}, 7),
                                ({"c": one}, 3)]) == {"a": 6, "b": 4, "c": 3}
    # a + b = 10, c + d = 5, a + c = 8, b + d = 7: one degree of freedom, nothing pinned.
    assert determined_unknowns([({"a": one, "b": one}, 10), ({"c": one, "d": one}, 5),
                                ({"a": one, "c": one}, 8), ({"b": one, "d": one}, 7)]) == {}
    # a - b = 0 and a + b = 4 pin both, though no equation holds one unknown alone.
    assert determined_unknowns([({"a": one, "b": -one}, 0),
                                ({"a": one, "b": one}, 4)]) == {"a": 2, "b": 2}
    with pytest.raises(AssertionError):
        determined_unknowns([({"a": one}, 1), ({"a": one}, 2)])


# --- the published table as a linear system ----------------------------------------------

def published_system(dims, entries, values_of):
    """(equations over unknown keys, the unknown keys, the lower-bound leaks).

    ``entries``: {key: entry} for every published cell and total; ``values_of(entry)``
    is the published value (None when suppressed)."""
    values_by_dim = [sorted({key[i] for key in entries if key[i] is not None}, key=repr)
                     for i in range(len(dims))]
    grid = itertools.product(*[values + [None] for values in values_by_dim])
    known, unknown = {}, set()
    for key in grid:
        entry = entries.get(key)
        value = values_of(entry) if entry is not None else 0
        if value is None:
            unknown.add(key)
        else:
            known[key] = value
    equations, bound_leaks = [], []
    for key in set(known) | unknown:
        for position, value in enumerate(key):
            if value is not None:
                continue
            parts = [key[:position] + (v,) + key[position + 1:] for v in values_by_dim[position]]
            coefficients = defaultdict(Fraction)
            rhs = Fraction(0)
            for member, sign in [(key, -1)] + [(part, 1) for part in parts]:
                if member in unknown:
                    coefficients[member] += sign
                else:
                    rhs -= sign * Fraction(known[member])
            coefficients = {k: v for k, v in coefficients.items() if v}
            equations.append((coefficients, rhs))
            # Hidden counts are never 0 (0 is published), so each is at least 1: a
            # known total whose hidden parts sum to their number pins each at 1.
            hidden_parts = [p for p in parts if p in unknown]
            if key in known and hidden_parts and rhs == len(hidden_parts):
                bound_leaks.append((key, hidden_parts))
    return equations, unknown, bound_leaks


def assert_nothing_recoverable(dims, entries, measure, additive=True):
    equations, unknown, bound_leaks = published_system(
        dims, entries, lambda entry: entry["values"][measure])
    if not additive:
        # Published totals need not equal the sum of their parts (a client counted in
        # two cells is one in their total), so neither the right-hand sides nor the
        # lower bounds apply; whether a value is pinned depends on the coefficients.
        equations = [(c, 0) for c, _ in equations]
        bound_leaks = []
    leaks = determined_unknowns(equations)
    assert not leaks, f"{measure}: suppressed values recoverable by subtraction: {leaks}"
    assert not bound_leaks, f"{measure}: suppressed values pinned at 1: {bound_leaks}"
    return unknown


# --- unit tests of suppress() -------------------------------------------------------------

def safe(values: dict, values_by_dim: list) -> set:
    """suppress(), checked: every 1..10 hidden, zeros shown, nothing recoverable."""
    hidden = suppress(values, values_by_dim)
    assert hidden <= set(values)
    assert {k for k, v in values.items() if 1 <= v <= 10} <= hidden
    assert all(values[k] > 0 for k in hidden), "a 0 is never worth hiding"
    entries = {k: {"values": {"n": None if k in hidden else v}} for k, v in values.items()}
    assert_nothing_recoverable(tuple(range(len(values_by_dim))), entries, "n")
    return hidden


def test_thresholds():
    assert (suppression.THRESHOLD_MIN, suppression.THRESHOLD_MAX) == (1, 10)
    assert suppression.MEDIAN_MIN_BASE == 11
    assert [suppression.is_small(v) for v in (None, 0, 1, 10, 11)] == [
        False, False, True, True, False]


@pytest.mark.parametrize("values, expected", [
    # Nothing small: nothing hidden; 0 is shown.
    ({("a",): 11, ("b",): 0, (None,): 11}, set()),
    # One small cell and two large: the smaller large one goes with it.
    ({("a",): 5, ("b",): 20, ("c",): 30, (None,): 55}, {("a",), ("b",)}),
    # A 0 is no cover: the partner is the next smallest non-zero entry.
    ({("a",): 5, ("b",): 0, ("c",): 30, (None,): 35}, {("a",), ("c",)}),
    # Two small cells cover each other; the large total stays.
    ({("a",): 5, ("b",): 7, ("c",): 30, (None,): 42}, {("a",), ("b",)}),
    # Everything small.
    ({("a",): 3, ("b",): 4, (None,): 7}, {("a",), ("b",), (None,)}),
    # One cell that is the whole total: both small, both hidden.
    ({("a",): 5, (None,): 5}, {("a",), (None,)}),
    # A cell of 10 and one of 11: the 11 must go, or 10 = total - 11.
    ({("a",): 10, ("b",): 11, (None,): 21}, {("a",), ("b",)}),
    # Two hidden 1s under a published total: 32 - 30 = 2 = 1 + 1, and a hidden
    # count is never 0, so both would be known to be 1. A third entry must go.
    ({("a",): 1, ("b",): 1, ("c",): 30, (None,): 32}, {("a",), ("b",), ("c",)}),
])
def test_one_dimension(values, expected):
    assert safe(values, [sorted(k[0] for k in values if k[0] is not None)]) == expected


def two_way(table: dict[str, dict[str, int]]) -> dict:
    """A 2-D table with its margins and grand total."""
    values = {}
    for row, cells in table.items():
        for column, value in cells.items():
            values[(row, column)] = value
    rows = sorted(table)
    columns = sorted({c for cells in table.values() for c in cells})
    for row in rows:
        values[(row, None)] = sum(table[row].values())
    for column in columns:
        values[(None, column)] = sum(table[r].get(column, 0) for r in rows)
    values[(None, None)] = sum(table[r][c] for r in rows for c in table[r])
    return values, [rows, columns]


def test_two_dimensions_one_small_cell_hides_a_rectangle():
    values, by_dim = two_way({"A": {"x": 5, "y": 20}, "B": {"x": 30, "y": 40}})
    hidden = safe(values, by_dim)
    # Any one cell of a 2x2 with its margins published gives the other three.
    assert hidden == {("A", "x"), ("A", "y"), ("B", "x"), ("B", "y")}


def test_two_dimensions_small_margin():
    values, by_dim = two_way({"A": {"x": 2, "y": 3, "z": 0},
                              "B": {"x": 30, "y": 40, "z": 12},
                              "C": {"x": 25, "y": 0, "z": 50}})
    hidden = safe(values, by_dim)
    assert {("A", "x"), ("A", "y"), ("A", None)} <= hidden
    assert ("A", "z") not in hidden and ("C", "y") not in hidden  # zeros stay published


def test_two_dimensions_with_absent_cells():
    # A cell that is absent from a table is 0, and known to be.
    values = {("A", "x"): 4, ("A", "y"): 25, ("B", "y"): 30,
              ("A", None): 29, ("B", None): 30, (None, "x"): 4, (None, "y"): 55,
              (None, None): 59}
    hidden = safe(values, [["A", "B"], ["x", "y"]])
    assert ("A", "x") in hidden and (None, "x") in hidden


def three_way(cube: dict[tuple, int]) -> tuple[dict, list]:
    """All margins of a 3-D table given by its cells."""
    values = defaultdict(int)
    for key, value in cube.items():
        for mask in itertools.product((False, True), repeat=3):
            values[tuple(None if m else v for m, v in zip(mask, key))] += value
    return dict(values), [sorted({k[i] for k in cube}) for i in range(3)]


def test_three_dimensions():
    cube = {(a, b, c): (a * 7 + b * 5 + c * 3) % 23
            for a in range(3) for b in range(3) for c in range(2)}
    values, by_dim = three_way(cube)
    assert sum(1 for k, v in values.items() if 1 <= v <= 10) >= 8
    hidden = safe(values, by_dim)
    assert len(hidden) > sum(1 for v in values.values() if 1 <= v <= 10)


def test_three_dimensions_one_small_cell():
    cube = {(a, b, c): 20 + a + b + c for a in range(2) for b in range(2) for c in range(2)}
    cube[(0, 0, 0)] = 1
    values, by_dim = three_way(cube)
    hidden = safe(values, by_dim)
    assert (0, 0, 0) in hidden
    assert len(hidden) >= 4


# --- the attack on published reports --------------------------------------------------------

def period_label(period: str, when) -> str:
    local = when.astimezone(NEW_YORK) if isinstance(when, datetime) else when
    y, m = local.year, local.month
    return {"month": f"{y}-{m:02d}", "quarter": f"{y}-Q{(m - 1) // 3 + 1}", "year": str(y),
            "sfy": f"SFY {y if m >= 4 else y - 1}-{(y + 1 if m >= 4 else y) % 100:02d}",
            "nycfy": f"NYC FY{y + 1 if m >= 7 else y}"}[period]


REFERRAL_DIMS = {"receiving_org": "receiver", "sending_org": "sender", "district": "district",
                 "service_type": "service_type", "priority": "priority",
                 "intake_channel": "intake_channel", "client_language": "language"}
EVENT_DIMS = {"receiving_org": "organization", "district": "district",
              "service_type": "service_type"}
OPEN = {"requested", "accepted", "in-progress", "on-hold"}


def truth(dataset, dims, period, scope, window=None):
    """The true figures and median bases, counted from the seeded records in Python.
    Referrals count in the period they were made, outcomes in the period they were
    recorded; ``window`` (a test on an instant) keeps what falls inside a date filter."""
    window = window or (lambda when: True)
    cells = defaultdict(lambda: defaultdict(int))
    samples = defaultdict(lambda: defaultdict(list))
    clients = defaultdict(set)
    today = date.today()

    def keys(labels):
        for mask in itertools.product((False, True), repeat=len(dims)):
            yield tuple(None if m else v for m, v in zip(mask, labels))

    def label(record, dim, paths, when):
        if dim == "period":
            return period_label(period, when)
        value = record[paths[dim]]
        return "unknown" if value is None else value

    for r in dataset.records:
        if r["status"] == "entered-in-error":
            continue
        if scope is not None and r["sender"] not in scope and r["receiver"] not in scope:
            continue
        sent = scope is None or r["sender"] in scope
        received = scope is None or r["receiver"] in scope
        if received and window(r["outcomes_at"]):
            for code in r["outcomes"]:
                labels = tuple(code if d == "outcome" else label(r, d, REFERRAL_DIMS,
                                                                 r["outcomes_at"]) for d in dims)
                for key in keys(labels):
                    cells[key]["outcomes"] += 1
        if "outcome" in dims or not window(r["created_at"]):
            continue
        labels = tuple(label(r, d, REFERRAL_DIMS, r["created_at"]) for d in dims)
        for key in keys(labels):
            c = cells[key]
            c["referrals_sent"] += sent
            c["referrals_received"] += received
            if not received:
                continue
            c["accepted"] += r["accepted"]
            c["rejected"] += r["status"] == "rejected"
            c["completed"] += r["status"] == "completed"
            c["failed"] += r["status"] == "failed"
            c["open"] += r["status"] in OPEN
            c["overdue"] += (r["status"] in OPEN and r["needed_by"] is not None
                             and r["needed_by"] < today)
            if r["accepted"]:
                clients[key].add(r["client"])
                samples[key]["median_days_to_accept"].append(r["accept_days"])
            if r["close_days"] is not None:
                samples[key]["median_days_to_close"].append(r["close_days"])
    for key, who in clients.items():
        cells[key]["unique_clients_served"] = len(who)
    if all(d in EVENT_DIMS or d == "period" for d in dims):
        campaigns = defaultdict(set)
        for e in dataset.event_records:
            if scope is not None and e["organization"] not in scope:
                continue
            labels = tuple(label(e, d, EVENT_DIMS, e["date"]) for d in dims)
            for key in keys(labels):
                cells[key]["events_held"] += 1
                cells[key]["workshops_held"] += e["kind"] == "workshop"
                cells[key]["attendance"] += e["attendance"]
                campaigns[key].add((e["date"], e["title"]))
        for key, held in campaigns.items():
            cells[key]["campaigns_held"] = len(held)
    medians = {key: {m: (statistics.median(v), len(v)) for m, v in by_measure.items()}
               for key, by_measure in samples.items()}
    return cells, medians


def entries_by_key(body) -> dict:
    dims = body["dimensions"]
    entries = {}
    for entry in body["rows"] + body["totals"]:
        key = tuple(entry["dimensions"][d] for d in dims)
        assert key not in entries
        entries[key] = entry
    return entries


def attack(body, dataset, scope, window=None):
    """Every check on one published (suppressed) report."""
    assert body["suppression_applied"] is True
    dims = tuple(body["dimensions"])
    entries = entries_by_key(body)
    cells, medians = truth(dataset, dims, body["period"] or "sfy", scope, window)
    hidden_total = 0
    for key, entry in entries.items():
        for measure, value in entry["values"].items():
            if measure in entry["suppressed"]:
                assert value is None, (key, measure)
                continue
            if value is None:
                assert measure in MEDIANS and measure not in medians.get(key, {}), (key, measure)
                continue
            if measure in MEDIANS:
                median, base = medians.get(key, {}).get(measure, (None, 0))
                assert base >= 11, f"{key} {measure} published on a base of {base}"
                assert value == round(median, 1)
            else:
                if measure not in PUBLIC:
                    assert not 1 <= value <= 10, f"{key} {measure} = {value} published"
                assert value == cells.get(key, {}).get(measure, 0), (key, measure)
    for key, values in cells.items():
        if any(values.get(m) for m in body["measures"]) and key not in entries:
            raise AssertionError(f"{key} has data but is missing from the report")
    for measure in body["measures"]:
        if measure in MEDIANS or measure in PUBLIC:
            continue
        hidden_total += len(assert_nothing_recoverable(
            dims, entries, measure, additive=measure not in NON_ADDITIVE))
    return hidden_total


SHAPES = [pytest.param(dims, period, id="-".join(dims or ("none",)) + f"-{period}")
          for dims, period in [
    ((), "sfy"),
    (("service_type",), "sfy"),
    (("receiving_org",), "sfy"),
    (("period",), "month"),
    (("outcome",), "sfy"),
    (("district", "period"), "sfy"),
    (("service_type", "district"), "sfy"),
    (("receiving_org", "period"), "quarter"),
    (("client_language", "priority"), "sfy"),
    (("outcome", "service_type"), "sfy"),
    (("service_type", "district", "period"), "sfy"),
    (("receiving_org", "service_type", "district"), "sfy"),
    (("sending_org", "intake_channel", "period"), "nycfy"),
    (("outcome", "receiving_org", "period"), "year"),
]]


def get_report(client, dims, period, **params):
    query = {"dimensions": ",".join(dims), "period": period, **params}
    response = client.get("/api/v1/reports/service-numbers/", query)
    assert response.status_code == 200, response.content
    return response.json()


@pytest.mark.parametrize("dims, period", SHAPES)
def test_subtraction_attack_as_funder(api, many_cells, dims, period):
    body = get_report(api(FUNDER), dims, period)
    org_dimension = bool({"receiving_org", "sending_org"} & set(dims))
    scope = set(GRANTEES) if org_dimension else None
    assert body["scope"] == (sorted(GRANTEES) if org_dimension else None)
    attack(body, many_cells, scope)


@pytest.mark.parametrize("dims, period", SHAPES)
def test_subtraction_attack_as_coalition_admin(admin_api, many_cells, dims, period):
    body = get_report(admin_api, dims, period)
    assert body["scope"] is None
    attack(body, many_cells, None)


@pytest.mark.parametrize("params, scope", [
    ({"organizations": CAMBA}, {CAMBA}),
    ({"organizations": f"{CAMBA},{CHHAYA}", "fiscal_year": "2017-18"}, {CAMBA, CHHAYA}),
])
def test_subtraction_attack_with_filters_as_admin(admin_api, many_cells, params, scope):
    dims = ("service_type", "district", "period")
    body = get_report(admin_api, dims, "quarter", **params)
    dataset, window = many_cells, None
    if "fiscal_year" in params:
        def window(when):
            return period_label("sfy", when) == "SFY 2017-18"

        dataset = dataclasses.replace(
            many_cells, event_records=[e for e in many_cells.event_records if window(e["date"])])
    assert attack(body, dataset, scope, window) > 0


def test_the_attack_data_is_full_of_small_cells(api, many_cells):
    """The attack means something only if there is plenty to hide."""
    body = get_report(api(FUNDER), ("service_type", "district", "period"), "sfy")
    hidden = sum(len(e["suppressed"]) for e in body["rows"] + body["totals"])
    published = sum(1 for e in body["rows"] + body["totals"] for m in COUNT_MEASURES
                    if m in e["values"] and e["values"][m] not in (None, 0))
    assert hidden > 100 and published > 20


def test_graphql_publishes_the_same_suppressed_table(api, many_cells):
    client = api(FUNDER)
    rest = get_report(client, ("service_type", "district"), "sfy")
    query = """{ serviceNumbers(dimensions: [SERVICE_TYPE, DISTRICT]) {
        dimensions suppressionApplied
        rows { dimensions { name value } values { measure value suppressed } }
        totals { dimensions { name value } values { measure value suppressed } } } }"""
    data = client.graphql(query).json()["data"]["serviceNumbers"]
    assert data["suppressionApplied"] is True

    def flatten(entries, graphql):
        out = {}
        for e in entries:
            if graphql:
                key = tuple(d["value"] for d in e["dimensions"])
                out[key] = {v["measure"]: v["value"] for v in e["values"]}
            else:
                key = tuple(None if e["dimensions"][d] is None else str(e["dimensions"][d])
                            for d in rest["dimensions"])
                out[key] = {m: (None if v is None else float(v))
                            for m, v in e["values"].items()}
        return out

    assert flatten(data["rows"] + data["totals"], True) == flatten(
        rest["rows"] + rest["totals"], False)


# --- the budget request ------------------------------------------------------------------

def budget_attack(body):
    """No suppressed value is recoverable from the current, previous or change columns."""
    assert body["suppression_applied"] is True
    dims = tuple(body["dimensions"])
    hidden = 0
    for year in ("current", "previous"):
        entries = {tuple(line[d] for d in dims): {"values": line[year]} for line in body["lines"]}
        assert len(entries) == len(body["lines"])
        for measure in body["measures"]:
            if measure in PUBLIC:
                continue
            for line in body["lines"]:
                value = line[year][measure]
                assert value is None or not 1 <= value <= 10, (line, year, measure)
            hidden += len(assert_nothing_recoverable(
                dims, entries, measure, additive=measure not in NON_ADDITIVE))
    for line in body["lines"]:
        for measure in body["measures"]:
            now, before, change = (line[c][measure] for c in ("current", "previous", "change"))
            if now is None or before is None:
                assert change is None, (line, measure)
            else:
                assert change == now - before, (line, measure)
    return hidden


def test_budget_request_for_a_funder_leaks_nothing(api, many_cells):
    # At its finest (by district, not rolled up), where most is hidden.
    response = api(FUNDER).get("/api/v1/reports/budget-request/",
                               {"org": CAMBA, "fiscal_year": "2017-18", "coarsen": "none"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert budget_attack(body) > 0
    grand = next(line for line in body["lines"]
                 if line["service_type"] is None and line["district"] is None)
    clients = grand["current"]["unique_clients_served"]
    if clients is None:
        assert body["cost_per_client_served"] is None
    else:
        assert body["cost_per_client_served"] is not None


# --- coarsen=auto: the guarantee holds in the shape it settles on ----------------------

@pytest.mark.parametrize("dimensions, period", [
    ("district", "sfy"), ("service_type,district", "sfy"), ("period", "month"),
    ("district,period", "month"), ("receiving_org,district", "sfy"),
])
def test_coarsened_reports_still_give_nothing_away(api, many_cells, dimensions, period):
    """The subtraction attack on the shape coarsen=auto settles on: every suppressed
    value stays undetermined, and no count from 1 to 10 of people is shown."""
    body = api(FUNDER).get("/api/v1/reports/service-numbers/", {
        "dimensions": dimensions, "period": period, "organizations": f"{CALA},{CAMBA}",
        "coarsen": "auto"}).json()
    assert body["suppression_applied"] is True
    assert body["hidden_share"] <= 0.2 or not any(
        d in ("district", "region") or (d == "period" and body["period"] in ("month", "quarter"))
        for d in body["dimensions"]), body["coarsened"]
    dims, entries = tuple(body["dimensions"]), entries_by_key(body)
    for measure in body["measures"]:
        if measure.startswith("median") or measure in PUBLIC:
            continue
        for key, entry in entries.items():
            value = entry["values"][measure]
            assert value is None or not 1 <= value <= 10, (key, measure, value)
        assert_nothing_recoverable(dims, entries, measure, additive=measure not in NON_ADDITIVE)
