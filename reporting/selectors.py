"""Service numbers: aggregates computed in SQL (GROUP BY, conditional
aggregates, date truncation, window functions for medians), one query per
family of measures and level of totals, whatever the size of the data."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db import connection
from django.db.models import (
    Case,
    Count,
    F,
    FloatField,
    Func,
    IntegerField,
    Q,
    Sum,
    When,
)
from django.db.models.functions import ExtractYear, TruncMonth, TruncQuarter
from django.utils import timezone

from core.errors import DomainError
from core.rules import Items, Range, Text
from orgs.models import Organization, OrganizationKind
from referrals.models import OPEN_STATUSES, Referral, ReferralOutcome, Status

from . import fiscal, suppression
from .models import Grant, ServiceEvent, ServiceEventKind

MAX_DIMENSIONS = 3
# Described in the documents; validate_spec answers it with too_many_dimensions.
DIMENSIONS_LIMIT = Items("dimensions", MAX_DIMENSIONS)
UNKNOWN = "unknown"

# The input rules of a report request (REST and GraphQL only describe them).
FISCAL_YEAR = Text("fiscal_year", 20)
ORGANIZATIONS = Items("organizations", 100)
DISTRICTS = Items("districts", 63)
DISTRICT = Range("districts", 1, 63, code="unknown_district")
SERVICE_TYPES = Items("service_types", 50)

DIMENSIONS = ("receiving_org", "sending_org", "district", "region", "service_type", "priority",
              "intake_channel", "client_language", "outcome", "reason", "period")
PERIODS = ("month", "quarter", "year", "sfy", "nycfy")
# coarsen=auto rolls dimensions up (district -> region -> the coalition; month ->
# quarter -> year) until at most this share of the published values is hidden.
COARSEN = ("none", "auto")
MAX_HIDDEN_SHARE = 0.2

REFERRAL_COUNTS = ("referrals_sent", "referrals_received", "accepted", "rejected", "completed",
                   "failed", "open", "overdue", "unique_clients_served")
MEDIANS = ("median_days_to_accept", "median_days_to_close")
OUTCOME_MEASURES = ("outcomes",)
EVENT_MEASURES = ("events_held", "workshops_held", "campaigns_held", "attendance")
# Counts of events held are no counts of people: never suppressed (their attendance is).
NEVER_SUPPRESSED = frozenset({"events_held", "workshops_held", "campaigns_held"})
MEASURES = REFERRAL_COUNTS + MEDIANS + OUTCOME_MEASURES + EVENT_MEASURES
COUNT_MEASURES = frozenset(REFERRAL_COUNTS + OUTCOME_MEASURES + EVENT_MEASURES)

# Where each dimension lives for each family of measures (None: not applicable).
_REFERRAL_PATHS = {
    "receiving_org": "receiving_org__slug", "sending_org": "sending_org__slug",
    "district": "district__number", "region": "district__region",
    "service_type": "service_type__code",
    "priority": "priority", "intake_channel": "intake_channel",
    "reason": "status_reason_code",
    "client_language": "client__primary_language__code", "outcome": None,
}
_OUTCOME_PATHS = {name: f"referral__{path}" for name, path in _REFERRAL_PATHS.items() if path}
_OUTCOME_PATHS["outcome"] = "code"
_EVENT_PATHS = {"receiving_org": "organization__slug", "district": "district__number",
                "region": "district__region", "service_type": "service_type__code"}


class DaysBetween(Func):
    """(end - start) in days, as a float, in SQL."""

    output_field = FloatField()

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection,
                           template="EXTRACT(EPOCH FROM (%(expressions)s)) / 86400.0",
                           arg_joiner=" - ", **extra)

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection,
                           template="(julianday(%(expressions)s))", arg_joiner=") - julianday(",
                           **extra)


@dataclass(frozen=True)
class ReportSpec:
    dimensions: tuple[str, ...] = ()
    period: str = "sfy"
    measures: tuple[str, ...] = ()
    date_from: date | None = None
    date_to: date | None = None
    fiscal_year: str | None = None
    organizations: tuple[str, ...] = ()
    districts: tuple[int, ...] = ()
    service_types: tuple[str, ...] = ()
    coarsen: str = "none"


@dataclass
class Entry:
    key: tuple
    values: dict = field(default_factory=dict)
    suppressed: set = field(default_factory=set)

    def is_total(self) -> bool:
        # With no dimensions the one entry is the grand total, kept even when zero.
        return not self.key or any(v is None for v in self.key)


@dataclass
class Report:
    spec: ReportSpec
    measures: tuple[str, ...]
    scope: list[str] | None  # org slugs, or None for the whole coalition
    suppressed: bool
    date_from: date | None
    date_to: date | None
    cells: list[Entry]
    totals: list[Entry]
    # coarsen=auto: each roll-up made, as {"dimension", "from", "to"} (to None: the
    # dimension was summed over the coalition), and the dimensions asked for.
    coarsened: list[dict] = field(default_factory=list)
    requested_dimensions: tuple[str, ...] = ()

    @property
    def hidden_share(self) -> float:
        """The share of the values subject to suppression that are hidden."""
        subject = [m for m in self.measures if m not in NEVER_SUPPRESSED]
        entries = self.cells + self.totals
        total = len(entries) * len(subject)
        if not total:
            return 0.0
        return sum(m in e.suppressed for e in entries for m in subject) / total

    def dimension_dict(self, entry: Entry) -> dict:
        return dict(zip(self.spec.dimensions, entry.key))

    def grand_total(self) -> Entry:
        return next(e for e in self.totals if all(v is None for v in e.key))


# --- who may see what ----------------------------------------------------------

def grantee_ids(funder: Organization) -> set[int]:
    return set(Grant.objects.filter(funder=funder).values_list("grantee_id", flat=True))


def resolve_scope(principal, requested: tuple[str, ...], org_dimension: bool):
    """(organisation ids or None for everyone, whether to suppress) for a caller.

    An organisation sees its own numbers whole. A funder sees its grantees and
    coalition-wide totals, suppressed; a coalition admin sees all, suppressed."""
    org = principal.organization
    requested_orgs = list(Organization.objects.filter(slug__in=set(requested)))
    missing = set(requested) - {o.slug for o in requested_orgs}
    if missing:
        raise DomainError("unknown_organization",
                          f"Unknown organisation(s): {', '.join(sorted(missing))}.",
                          field="organizations")
    requested_ids = {o.pk for o in requested_orgs}
    if principal.is_admin:
        return (requested_ids or None), True
    if principal.is_funder or org.kind == OrganizationKind.CAUCUS:
        grantees = grantee_ids(org)
        if requested_ids - grantees:
            raise DomainError("report_scope_denied",
                              "A funder sees numbers for its own grantees only, or "
                              "coalition-wide totals.", field="organizations")
        if requested_ids:
            return requested_ids, True
        return (grantees if org_dimension else None), True
    if requested_ids - {org.pk}:
        raise DomainError("report_scope_denied",
                          "An organisation sees its own numbers only.",
                          field="organizations")
    return {org.pk}, False


# --- building the queries --------------------------------------------------------

def _period_expression(period: str, field_name: str):
    year = ExtractYear(field_name)
    if period == "month":
        return TruncMonth(field_name)
    if period == "quarter":
        return TruncQuarter(field_name)
    if period == "year":
        return year
    if period == "sfy":
        return Case(When(**{f"{field_name}__month__gte": 4}, then=year),
                    default=year - 1, output_field=IntegerField())
    if period == "nycfy":
        return Case(When(**{f"{field_name}__month__gte": 7}, then=year + 1),
                    default=year, output_field=IntegerField())
    raise DomainError("invalid_period", f"period is one of: {', '.join(PERIODS)}.",
                      field="period")


def _period_label(period: str, value) -> str:
    if value is None:
        return UNKNOWN
    # The medians' raw SQL returns driver values, not ORM ones: numeric years on
    # PostgreSQL, text dates on SQLite.
    if period in ("year", "sfy", "nycfy"):
        value = int(value)
    elif isinstance(value, str):
        value = datetime.fromisoformat(value)
    if period == "month":
        return f"{value:%Y-%m}"
    if period == "quarter":
        return f"{value.year}-Q{(value.month - 1) // 3 + 1}"
    if period == "year":
        return str(value)
    if period == "sfy":
        return f"SFY {fiscal.sfy_label(value)}"
    return f"NYC FY{value}"


def _label(dimension: str, period: str, value) -> str | int:
    if dimension == "period":
        return _period_label(period, value)
    if dimension == "reason" and not value:
        return "none"  # no coded reason: a status that needs none, or only a written one
    if value is None or value == "":
        return UNKNOWN
    return value


def _dimension_expressions(dimensions, paths, period, date_field):
    expressions = {}
    for index, name in enumerate(dimensions):
        if name == "period":
            expressions[f"d{index}"] = _period_expression(period, date_field)
        else:
            expressions[f"d{index}"] = F(paths[name])
    return expressions


def _grouped(queryset, expressions: dict, aggregates: dict) -> dict[tuple, dict]:
    """One GROUP BY query -> {raw key tuple: {measure: value}}."""
    if not expressions:
        return {(): queryset.aggregate(**aggregates)}
    names = sorted(expressions)
    rows = (queryset.annotate(**expressions).values(*names).annotate(**aggregates)
            .order_by())
    return {tuple(row[n] for n in names): {m: row[m] for m in aggregates} for row in rows}


def _medians(queryset, expressions: dict, value_expression) -> dict[tuple, tuple[float, int]]:
    """Median of ``value_expression`` per group with its base, by window functions."""
    names = sorted(expressions)
    inner = (queryset.annotate(**expressions, v=value_expression).values(*names, "v")
             .order_by())
    sql, params = inner.query.sql_with_params()
    quote = connection.ops.quote_name
    dims = ", ".join(quote(n) for n in names)
    partition = f"PARTITION BY {dims}" if names else ""
    select_dims = f"{dims}, " if names else ""
    group_by = f"GROUP BY {dims}" if names else ""
    query = (
        f"SELECT {select_dims}AVG(ranked.v), MAX(ranked.n) FROM ("
        f"SELECT {select_dims}base.v, "
        f"ROW_NUMBER() OVER ({partition} ORDER BY base.v) AS rn, "
        f"COUNT(*) OVER ({partition}) AS n FROM ({sql}) base) ranked "
        f"WHERE ranked.rn IN ((ranked.n + 1) / 2, (ranked.n + 2) / 2) {group_by}"
    )
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        rows = cursor.fetchall()
    return {tuple(row[:len(names)]): (row[len(names)], row[len(names) + 1]) for row in rows}


def _local_bounds(day_from: date | None, day_to: date | None):
    tz = timezone.get_current_timezone()
    start = timezone.make_aware(datetime.combine(day_from, time.min), tz) if day_from else None
    end = (timezone.make_aware(datetime.combine(day_to + timedelta(days=1), time.min), tz)
           if day_to else None)
    return start, end


def _applicable(dimensions: tuple[str, ...]) -> tuple[str, ...]:
    if "outcome" in dimensions:
        return OUTCOME_MEASURES
    measures = REFERRAL_COUNTS + MEDIANS + OUTCOME_MEASURES
    if all(d in _EVENT_PATHS or d == "period" for d in dimensions):
        measures += EVENT_MEASURES
    return measures


def validate_spec(spec: ReportSpec) -> tuple[str, ...]:
    """The measures the report computes, once its request keeps every rule."""
    FISCAL_YEAR.clean(spec.fiscal_year)
    ORGANIZATIONS.clean(spec.organizations)
    SERVICE_TYPES.clean(spec.service_types)
    for number in DISTRICTS.clean(spec.districts):
        DISTRICT.clean(number)
    if len(spec.dimensions) > MAX_DIMENSIONS:
        raise DomainError("too_many_dimensions",
                          f"At most {MAX_DIMENSIONS} dimensions at once.", field="dimensions")
    unknown = [d for d in spec.dimensions if d not in DIMENSIONS]
    if unknown:
        raise DomainError("invalid_dimension",
                          f"Unknown dimension(s) {', '.join(unknown)}; use: "
                          f"{', '.join(DIMENSIONS)}.", field="dimensions")
    if len(set(spec.dimensions)) != len(spec.dimensions):
        raise DomainError("invalid_dimension", "A dimension may appear once.",
                          field="dimensions")
    if spec.period not in PERIODS:
        raise DomainError("invalid_period", f"period is one of: {', '.join(PERIODS)}.",
                          field="period")
    if spec.coarsen not in COARSEN:
        raise DomainError("invalid_coarsen", f"coarsen is one of: {', '.join(COARSEN)}.",
                          field="coarsen")
    applicable = _applicable(spec.dimensions)
    if not spec.measures:
        return applicable
    unknown = [m for m in spec.measures if m not in MEASURES]
    if unknown:
        raise DomainError("invalid_measure", f"Unknown measure(s) {', '.join(unknown)}; use: "
                          f"{', '.join(MEASURES)}.", field="measures")
    inapplicable = [m for m in spec.measures if m not in applicable]
    if inapplicable:
        raise DomainError("measure_not_applicable",
                          f"{', '.join(inapplicable)} cannot be broken down by "
                          f"{', '.join(spec.dimensions)}.", field="measures")
    return tuple(dict.fromkeys(spec.measures))


def service_numbers(principal, spec: ReportSpec) -> Report:
    """The report a principal asked for, suppressed unless it is its own numbers;
    with coarsen=auto, rolled up until little of it is hidden."""
    measures = validate_spec(spec)
    org_dimension = bool({"receiving_org", "sending_org"} & set(spec.dimensions))
    scope, suppress = resolve_scope(principal, spec.organizations, org_dimension)
    report = _computed(spec, measures, scope, suppress)
    report.requested_dimensions = spec.dimensions
    if spec.coarsen != "auto" or not suppress:
        return report
    while report.hidden_share > MAX_HIDDEN_SHARE:
        candidates = []
        for rolled, step in roll_ups(report.spec):
            candidate = _computed(rolled, measures, scope, suppress)
            candidate.coarsened = report.coarsened + [step]
            candidates.append(candidate)
        if not candidates:
            break  # nothing left to roll up; the response says how much is hidden
        # The roll-up that hides least; geography before time when they tie.
        report = min(candidates, key=lambda r: r.hidden_share)
        report.requested_dimensions = spec.dimensions
    return report


def roll_ups(spec: ReportSpec) -> list[tuple[ReportSpec, dict]]:
    """Every one-step coarsening of a report's shape: a district to its region, a
    region to the coalition (the dimension summed over), a month to its quarter, a
    quarter to its year (the fiscal year asked for, else the calendar year)."""
    dims = spec.dimensions
    steps = []

    def replace(old: str, new: str | None) -> tuple[str, ...]:
        return tuple(d for d in (new if d == old else d for d in dims) if d)

    if "district" in dims:
        new = None if "region" in dims else "region"
        steps.append((replace("district", new), spec.period,
                      {"dimension": "district", "from": "district", "to": new}))
    if "region" in dims and "district" not in dims:
        steps.append((replace("region", None), spec.period,
                      {"dimension": "region", "from": "region", "to": None}))
    if "period" in dims and spec.period in ("month", "quarter"):
        year = "year"
        if spec.fiscal_year:
            year = "nycfy" if spec.fiscal_year.strip().upper().startswith("NYC") else "sfy"
        to = "quarter" if spec.period == "month" else year
        steps.append((dims, to, {"dimension": "period", "from": spec.period, "to": to}))
    return [(replace_spec(spec, dimensions=d, period=p), step) for d, p, step in steps]


def replace_spec(spec: ReportSpec, **changes) -> ReportSpec:
    return ReportSpec(**{**spec.__dict__, **changes})


def _computed(spec: ReportSpec, measures, scope, suppress) -> Report:
    """One report of exactly the shape asked for."""
    date_from, date_to = spec.date_from, spec.date_to
    if spec.fiscal_year:
        _, fy_from, fy_to = fiscal.parse_fiscal_year(spec.fiscal_year)
        date_from = max(filter(None, [date_from, fy_from]))
        date_to = min(filter(None, [date_to, fy_to]))
    if date_from and date_to and date_from > date_to:
        raise DomainError("invalid_date_range", "date_from is after date_to.", field="date_from")
    start, end = _local_bounds(date_from, date_to)

    # Referrals count by the day they were made; outcomes by the day they were
    # recorded (a relief granted months after the close counts then).
    base = Referral.objects.exclude(status=Status.ENTERED_IN_ERROR)
    if scope is not None:
        base = base.filter(Q(sending_org__in=scope) | Q(receiving_org__in=scope))
    if spec.districts:
        base = base.filter(district__number__in=spec.districts)
    if spec.service_types:
        base = base.filter(service_type__code__in=spec.service_types)
    referrals = base
    if start:
        referrals = referrals.filter(created_at__gte=start)
    if end:
        referrals = referrals.filter(created_at__lt=end)

    events = ServiceEvent.objects.all()
    if date_from:
        events = events.filter(date__gte=date_from)
    if date_to:
        events = events.filter(date__lte=date_to)
    if scope is not None:
        events = events.filter(organization__in=scope)
    if spec.districts:
        events = events.filter(district__number__in=spec.districts)
    if spec.service_types:
        events = events.filter(service_type__code__in=spec.service_types)

    received = Q(receiving_org__in=scope) if scope is not None else Q(pk__isnull=False)
    sent = Q(sending_org__in=scope) if scope is not None else Q(pk__isnull=False)
    today = timezone.localdate()
    referral_aggregates = {
        "referrals_sent": Count("pk", filter=sent),
        "referrals_received": Count("pk", filter=received),
        "accepted": Count("pk", filter=received & Q(accepted_at__isnull=False)),
        "rejected": Count("pk", filter=received & Q(status=Status.REJECTED)),
        "completed": Count("pk", filter=received & Q(status=Status.COMPLETED)),
        "failed": Count("pk", filter=received & Q(status=Status.FAILED)),
        "open": Count("pk", filter=received & Q(status__in=OPEN_STATUSES)),
        "overdue": Count("pk", filter=received & Q(status__in=OPEN_STATUSES,
                                                   needed_by__lt=today)),
        "unique_clients_served": Count("client_id", distinct=True,
                                       filter=received & Q(accepted_at__isnull=False)),
    }
    referral_aggregates = {m: a for m, a in referral_aggregates.items() if m in measures}
    outcomes = ReferralOutcome.objects.filter(referral__in=base.filter(received).values("pk"))
    if start:
        outcomes = outcomes.filter(recorded_at__gte=start)
    if end:
        outcomes = outcomes.filter(recorded_at__lt=end)
    event_aggregates = {
        "events_held": Count("pk"),
        "workshops_held": Count("pk", filter=Q(kind=ServiceEventKind.WORKSHOP)),
        "campaigns_held": Count("campaign", distinct=True, filter=~Q(campaign="")),
        "attendance": Sum("attendance"),
    }
    event_aggregates = {m: a for m, a in event_aggregates.items() if m in measures}

    dims = spec.dimensions
    raw: dict[tuple, dict] = {}

    def merge(level: tuple[int, ...], results: dict[tuple, dict]):
        for raw_key, values in results.items():
            full = [None] * len(dims)
            for position, value in zip(level, raw_key):
                full[position] = _label(dims[position], spec.period, value)
            raw.setdefault(tuple(full), {}).update(values)

    for size in range(len(dims), -1, -1):
        for level in itertools.combinations(range(len(dims)), size):
            level_dims = tuple(dims[i] for i in level)
            # Keys come back sorted by alias (d0, d1, ...), which keeps level order.
            if referral_aggregates:
                exprs = _dimension_expressions(level_dims, _REFERRAL_PATHS, spec.period,
                                               "created_at")
                merge(level, _grouped(referrals, exprs, referral_aggregates))
            for measure, value_expression, condition in (
                ("median_days_to_accept", DaysBetween("accepted_at", "created_at"),
                 received & Q(accepted_at__isnull=False)),
                ("median_days_to_close", DaysBetween("closed_at", "created_at"),
                 received & Q(status__in=[Status.COMPLETED, Status.FAILED],
                              closed_at__isnull=False)),
            ):
                if measure in measures:
                    exprs = _dimension_expressions(level_dims, _REFERRAL_PATHS, spec.period,
                                                   "created_at")
                    medians = _medians(referrals.filter(condition), exprs, value_expression)
                    merge(level, {k: {measure: v, f"_base_{measure}": n}
                                  for k, (v, n) in medians.items()})
            if "outcomes" in measures:
                exprs = _dimension_expressions(level_dims, _OUTCOME_PATHS, spec.period,
                                               "recorded_at")
                merge(level, _grouped(outcomes, exprs, {"outcomes": Count("pk")}))
            if event_aggregates:
                exprs = _dimension_expressions(level_dims, _EVENT_PATHS, spec.period, "date")
                merge(level, _grouped(events, exprs, event_aggregates))

    return _assemble(spec, measures, scope, suppress, date_from, date_to, raw)


def _assemble(spec, measures, scope, suppress, date_from, date_to, raw) -> Report:
    dims = spec.dimensions
    grand = tuple([None] * len(dims))
    raw.setdefault(grand, {})
    entries = {}
    for key, values in raw.items():
        entry = Entry(key=key)
        for measure in measures:
            value = values.get(measure)
            if measure in COUNT_MEASURES:
                value = int(value or 0)
            elif value is not None:
                value = round(float(value), 1)
            entry.values[measure] = value
            if measure in MEDIANS:
                entry.values[f"_base_{measure}"] = values.get(f"_base_{measure}") or 0
        entries[key] = entry
    # Drop cells (not totals) where every count is zero and no median exists.
    cells = {k: e for k, e in entries.items() if not e.is_total()}
    for key, entry in list(cells.items()):
        if all(not entry.values.get(m) for m in measures):
            del entries[key]

    if suppress:
        values_by_dim = [sorted({k[i] for k in entries if k[i] is not None}, key=str)
                         for i in range(len(dims))]
        for measure in measures:
            if measure in NEVER_SUPPRESSED:
                continue
            if measure in COUNT_MEASURES:
                hidden = suppression.suppress({k: e.values[measure] for k, e in entries.items()},
                                              values_by_dim)
                for key in hidden:
                    entries[key].suppressed.add(measure)
            else:
                for entry in entries.values():
                    base = entry.values.get(f"_base_{measure}", 0)
                    if entry.values[measure] is not None and base < suppression.MEDIAN_MIN_BASE:
                        entry.suppressed.add(measure)
        for entry in entries.values():
            for measure in entry.suppressed:
                entry.values[measure] = None
    for entry in entries.values():
        for measure in MEDIANS:
            entry.values.pop(f"_base_{measure}", None)

    ordered = sorted(entries.values(), key=lambda e: tuple(
        (v is None, str(v)) for v in e.key))
    return Report(
        spec=spec, measures=measures,
        scope=(sorted(Organization.objects.filter(pk__in=scope).values_list("slug", flat=True))
               if scope is not None else None),
        suppressed=suppress, date_from=date_from, date_to=date_to,
        cells=[e for e in ordered if not e.is_total()],
        totals=[e for e in ordered if e.is_total()],
    )
