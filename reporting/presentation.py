"""Reports as plain data (JSON) and as table rows (CSV, HTML); one shape for
REST and GraphQL."""

from __future__ import annotations

from .budget import GRANT_MEASURES, BudgetRequest
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
        "hidden_share": round(report.hidden_share, 4),
        "requested_dimensions": list(report.requested_dimensions or report.spec.dimensions),
        "coarsened": [dict(step) for step in report.coarsened],
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


def _money(value) -> str | None:
    return None if value is None else str(value)


def budget_as_dict(budget: BudgetRequest) -> dict:
    return {
        "organization": budget.organization.slug,
        "organization_name": budget.organization.name,
        "fiscal_year": budget.fiscal_year,
        "previous_fiscal_year": budget.previous_fiscal_year,
        "suppression_applied": budget.suppressed,
        "dimensions": list(budget.dimensions),
        "coarsened": [dict(step) for step in budget.coarsened],
        "hidden_share": round(budget.hidden_share, 4),
        "measures": list(budget.measures),
        "grant_measures": list(GRANT_MEASURES),
        "grants": [{"id": f.grant.pk, "funder": f.grant.funder.slug,
                    "funder_name": f.grant.funder.name,
                    "amount": str(f.grant.amount),
                    "period_start": f.grant.period_start, "period_end": f.grant.period_end,
                    "service_types": sorted(s.code for s in f.grant.service_types.all()),
                    "description": f.grant.description,
                    "values": f.values, "suppressed": sorted(f.suppressed),
                    "cost_per_client_served": _money(f.cost_per_client_served)}
                   for f in budget.grants],
        "grant_total": str(budget.grant_total),
        "cost_per_client_served": _money(budget.cost_per_client_served),
        "previous_grant_total": str(budget.previous_grant_total),
        "previous_cost_per_client_served": _money(budget.previous_cost_per_client_served),
        "lines": [{"service_type": line.key.get("service_type"),
                   "district": line.key.get("district"), "region": line.key.get("region"),
                   "current": line.current, "previous": line.previous, "change": line.change}
                  for line in budget.lines],
    }


def budget_table(budget: BudgetRequest) -> tuple[list[str], list[list]]:
    dims = list(budget.dimensions)
    header = list(dims)
    for measure in budget.measures:
        header += [f"{measure} {budget.fiscal_year}", f"{measure} {budget.previous_fiscal_year}",
                   f"{measure} change"]
    rows = []
    for line in budget.lines:
        row = ["(all)" if line.key[d] is None else line.key[d] for d in dims]
        for measure in budget.measures:
            for values in (line.current, line.previous, line.change):
                value = values.get(measure)
                row.append("suppressed" if value is None else value)
        rows.append(row)
    return header, rows

