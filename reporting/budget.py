"""The budget-request report: one grantee, one New York State fiscal year, its
numbers by service type and district beside the previous year's, and its
grants, each with the referrals, clients and outcomes of the services it funds
in its own period and what a client served cost that grant.

For a funder the table is rolled up (coarsen=auto: district -> region -> the
coalition) until at most a fifth of its values is hidden; the previous year
uses the same shape, so the lines compare."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Sum

from core.errors import DomainError, NotFound
from orgs.models import Organization, OrganizationKind

from . import fiscal
from . import selectors
from .models import Grant
from .selectors import Report, ReportSpec, service_numbers

BUDGET_MEASURES = ("referrals_received", "accepted", "completed", "unique_clients_served",
                   "outcomes", "events_held", "attendance")
# What the budget request says of each grant, over the grant's services and period.
GRANT_MEASURES = ("referrals_received", "accepted", "completed", "unique_clients_served",
                  "outcomes")
BUDGET_DIMENSIONS = ("service_type", "district")


@dataclass
class BudgetLine:
    key: dict  # dimension -> value; None: all values of it
    current: dict
    previous: dict
    change: dict

    @property
    def service_type(self):
        return self.key.get("service_type")


@dataclass
class GrantFigures:
    """One grant and what it paid for: the grantee's referrals of the grant's service
    types (all, if it lists none) made in the grant's period."""

    grant: Grant
    values: dict
    suppressed: set
    cost_per_client_served: Decimal | None


@dataclass
class BudgetRequest:
    organization: Organization
    fiscal_year: str
    previous_fiscal_year: str
    suppressed: bool
    grants: list[GrantFigures]
    grant_total: Decimal
    cost_per_client_served: Decimal | None  # every grant over every client served
    previous_grant_total: Decimal
    previous_cost_per_client_served: Decimal | None
    lines: list[BudgetLine]
    dimensions: tuple[str, ...] = BUDGET_DIMENSIONS
    coarsened: list[dict] = field(default_factory=list)
    hidden_share: float = 0.0
    measures: tuple[str, ...] = BUDGET_MEASURES


def _cost(amount: Decimal, clients) -> Decimal | None:
    if not amount or not clients:
        return None
    return (amount / Decimal(clients)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def budget_request(principal, *, organization: str, fiscal_year: str,
                   coarsen: str = "auto") -> BudgetRequest:
    start = fiscal.parse_sfy(selectors.FISCAL_YEAR.clean(fiscal_year))
    org = Organization.objects.filter(slug=organization).first()
    if org is None:
        raise NotFound(f"No organisation {organization!r}.")
    if org.kind == OrganizationKind.FUNDER:
        raise DomainError("not_a_grantee", "A budget request is for a grantee organisation.",
                          field="org")
    current_label = fiscal.sfy_label(start)
    previous_label = fiscal.sfy_label(start - 1)

    current = service_numbers(principal, ReportSpec(
        dimensions=BUDGET_DIMENSIONS, measures=BUDGET_MEASURES, fiscal_year=current_label,
        organizations=(org.slug,), coarsen=coarsen))
    # The previous year in the shape the current one took, so that lines compare.
    previous = service_numbers(principal, selectors.replace_spec(
        current.spec, fiscal_year=previous_label, coarsen="none"))
    dims = current.spec.dimensions
    current_by_key = {e.key: e for e in current.cells + current.totals}
    previous_by_key = {e.key: e for e in previous.cells + previous.totals}
    lines = []
    for key in sorted(set(current_by_key) | set(previous_by_key),
                      key=lambda k: tuple((v is None, str(v)) for v in k)):
        now = current_by_key[key].values if key in current_by_key else _zeros(current)
        before = (previous_by_key[key].values if key in previous_by_key
                  else _zeros(previous))
        change = {m: (now[m] - before[m] if now.get(m) is not None
                      and before.get(m) is not None else None) for m in BUDGET_MEASURES}
        lines.append(BudgetLine(key=dict(zip(dims, key)), current=dict(now),
                                previous=dict(before), change=change))

    grants = list(Grant.objects.filter(grantee=org, fiscal_year=current_label)
                  .select_related("funder").prefetch_related("service_types"))
    grant_total = sum((g.amount for g in grants), Decimal("0"))
    previous_total = (Grant.objects.filter(grantee=org, fiscal_year=previous_label)
                      .aggregate(total=Sum("amount"))["total"] or Decimal("0"))
    previous_total = Decimal(previous_total).quantize(Decimal("0.01"))
    return BudgetRequest(
        organization=org, fiscal_year=f"SFY {current_label}",
        previous_fiscal_year=f"SFY {previous_label}", suppressed=current.suppressed,
        grants=[grant_figures(principal, grant, org.slug) for grant in grants],
        grant_total=grant_total,
        # A suppressed client count leaves the cost per client unpublished too.
        cost_per_client_served=_cost(grant_total,
                                     current.grand_total().values["unique_clients_served"]),
        previous_grant_total=previous_total,
        previous_cost_per_client_served=_cost(
            previous_total, previous.grand_total().values["unique_clients_served"]),
        lines=lines, dimensions=dims, coarsened=current.coarsened,
        hidden_share=current.hidden_share,
    )


def grant_figures(principal, grant: Grant, grantee: str) -> GrantFigures:
    """The grant's own numbers, through the same report (and suppression) as the rest."""
    report = service_numbers(principal, ReportSpec(
        measures=GRANT_MEASURES, date_from=grant.period_start, date_to=grant.period_end,
        organizations=(grantee,),
        service_types=tuple(sorted(s.code for s in grant.service_types.all()))))
    total = report.grand_total()
    return GrantFigures(grant=grant, values=dict(total.values), suppressed=set(total.suppressed),
                        cost_per_client_served=_cost(grant.amount,
                                                     total.values["unique_clients_served"]))


def _zeros(report: Report) -> dict:
    """A line absent from one year's report had none of anything that year."""
    return {m: 0 for m in report.measures}
