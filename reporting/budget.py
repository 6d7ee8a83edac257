"""The budget-request report: one grantee, one New York State fiscal year, its
numbers by service type and district beside the previous year's, its grants,
and what a client served cost."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Sum

from core.errors import DomainError, NotFound
from orgs.models import Organization, OrganizationKind

from . import fiscal
from .models import Grant
from . import selectors
from .selectors import Report, ReportSpec, service_numbers

BUDGET_MEASURES = ("referrals_received", "accepted", "completed", "unique_clients_served",
                   "outcomes", "events_held", "attendance")


@dataclass
class BudgetLine:
    service_type: str | None  # None: all service types
    district: str | int | None  # None: all districts
    current: dict
    previous: dict
    change: dict


@dataclass
class BudgetRequest:
    organization: Organization
    fiscal_year: str
    previous_fiscal_year: str
    suppressed: bool
    grants: list[Grant]
    grant_total: Decimal
    cost_per_client_served: Decimal | None
    previous_grant_total: Decimal
    previous_cost_per_client_served: Decimal | None
    lines: list[BudgetLine]
    measures: tuple[str, ...] = BUDGET_MEASURES


def _cost(amount: Decimal, clients) -> Decimal | None:
    if not amount or not clients:
        return None
    return (amount / Decimal(clients)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def budget_request(principal, *, organization: str, fiscal_year: str) -> BudgetRequest:
    start = fiscal.parse_sfy(selectors.FISCAL_YEAR.clean(fiscal_year))
    org = Organization.objects.filter(slug=organization).first()
    if org is None:
        raise NotFound(f"No organisation {organization!r}.")
    if org.kind == OrganizationKind.FUNDER:
        raise DomainError("not_a_grantee", "A budget request is for a grantee organisation.",
                          field="org")
    current_label = fiscal.sfy_label(start)
    previous_label = fiscal.sfy_label(start - 1)

    def report(label: str) -> Report:
        return service_numbers(principal, ReportSpec(
            dimensions=("service_type", "district"), measures=BUDGET_MEASURES,
            fiscal_year=label, organizations=(org.slug,)))

    current, previous = report(current_label), report(previous_label)
    current_by_key = {e.key: e for e in current.cells + current.totals}
    previous_by_key = {e.key: e for e in previous.cells + previous.totals}
    lines = []
    for key in sorted(set(current_by_key) | set(previous_by_key),
                      key=lambda k: tuple((v is None, str(v)) for v in k)):
        now = current_by_key[key].values if key in current_by_key else _zeros(current, key)
        before = (previous_by_key[key].values if key in previous_by_key
                  else _zeros(previous, key))
        change = {m: (now[m] - before[m] if now.get(m) is not None
                      and before.get(m) is not None else None) for m in BUDGET_MEASURES}
        lines.append(BudgetLine(service_type=key[0], district=key[1],
                                current=dict(now), previous=dict(before), change=change))

    grants = list(Grant.objects.filter(grantee=org, fiscal_year=current_label)
                  .select_related("funder").prefetch_related("service_types"))
    grant_total = sum((g.amount for g in grants), Decimal("0"))
    previous_total = (Grant.objects.filter(grantee=org, fiscal_year=previous_label)
                      .aggregate(total=Sum("amount"))["total"] or Decimal("0"))
    previous_total = Decimal(previous_total).quantize(Decimal("0.01"))
    return BudgetRequest(
        organization=org, fiscal_year=f"SFY {current_label}",
        previous_fiscal_year=f"SFY {previous_label}", suppressed=current.suppressed,
        grants=grants, grant_total=grant_total,
        # A suppressed client count leaves the cost per client unpublished too.
        cost_per_client_served=_cost(grant_total,
                                     current.grand_total().values["unique_clients_served"]),
        previous_grant_total=previous_total,
        previous_cost_per_client_served=_cost(
            previous_total, previous.grand_total().values["unique_clients_served"]),
        lines=lines,
    )


def _zeros(report: Report, key) -> dict:
    """A line absent from one year's report had none of anything that year."""
    return {m: 0 for m in report.measures}
