"""Reports as plain data (JSON) and as table rows (CSV, HTML); one shape for
REST and GraphQL."""

from __future__ import annotations

from .budget import BudgetRequest
from .selectors import Report


def report_as_dict(report: Report) -> dict:
    def entry(e):
        return {"dimensions": report.dimension_dict(e), "values": e.values,
                "suppressed": sorted(e.suppressed)}

    return {
        "dimensions": list(report.spec.dimensions),
        "period": report.spec.period if "period" in report.spec.dimensions else None,
        "measures": list(report.measures),
        "scope": report.scope,
        "date_from": report.date_from,
        "date_to": report.date_to,
        "suppression_applied": report.suppressed,
        "rows": [entry(e) for e in report.cells],
        "totals": [entry(e) for e in report.totals],
    }


def report_table(report: Report) -> tuple[list[str], list[list]]:
    """Header and rows; totals have "(all)" in the dimensions they sum over."""
    header = list(report.spec.dimensions) + list(report.measures)
    rows = []
    for e in report.cells + report.totals:
        dims = ["(all)" if v is None else v for v in e.key]
        rows.append(dims + [("suppressed" if m in e.suppressed else e.values[m])
                            for m in report.measures])
    return header, rows


def budget_as_dict(budget: BudgetRequest) -> dict:
    return {
        "organization": budget.organization.slug,
        "organization_name": budget.organization.name,
        "fiscal_year": budget.fiscal_year,
        "previous_fiscal_year": budget.previous_fiscal_year,
        "suppression_applied": budget.suppressed,
        "measures": list(budget.measures),
        "grants": [{"funder": g.funder.slug, "funder_name": g.funder.name,
                    "amount": str(g.amount),
                    "service_types": sorted(s.code for s in g.service_types.all()),
                    "description": g.description} for g in budget.grants],
        "grant_total": str(budget.grant_total),
        "cost_per_client_served": (str(budget.cost_per_client_served)
                                   if budget.cost_per_client_served is not None else None),
        "previous_grant_total": str(budget.previous_grant_total),
        "previous_cost_per_client_served": (
            str(budget.previous_cost_per_client_served)
            if budget.previous_cost_per_client_served is not None else None),
        "lines": [{"service_type": line.service_type, "district": line.district,
                   "current": line.current, "previous": line.previous, "change": line.change}
                  for line in budget.lines],
    }


def budget_table(budget: BudgetRequest) -> tuple[list[str], list[list]]:
    header = ["service_type", "district"]
    for measure in budget.measures:
        header += [f"{measure} {budget.fiscal_year}", f"{measure} {budget.previous_fiscal_year}",
                   f"{measure} change"]
    rows = []
    for line in budget.lines:
        row = ["(all)" if line.service_type is None else line.service_type,
               "(all)" if line.district is None else line.district]
        for measure in budget.measures:
            for values in (line.current, line.previous, line.change):
                value = values.get(measure)
                row.append("suppressed" if value is None else value)
        rows.append(row)
    return header, rows
