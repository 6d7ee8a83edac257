"""Bar charts drawn as SVG on the server, readable printed (values written on the
bars; suppressed cells drawn hatched and labelled, never as a value). Geometry
only: the numbers and what is suppressed come from the reporting app."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

WIDTH = 640
LABEL_WIDTH = 210
VALUE_WIDTH = 90
BAR_HEIGHT = 20
GAP = 8


@dataclass
class Bar:
    label: str
    value: int | float | None  # None: suppressed
    series: int = 0
    x: float = 0
    y: float = 0
    width: float = 0

    @property
    def suppressed(self) -> bool:
        return self.value is None


@dataclass
class Chart:
    bars: list[Bar]
    series: list[str] = field(default_factory=list)
    width: int = WIDTH
    height: int = 0
    label_width: int = LABEL_WIDTH
    bar_height: int = BAR_HEIGHT
    plot_width: int = WIDTH - LABEL_WIDTH - VALUE_WIDTH

    @property
    def empty(self) -> bool:
        return not self.bars


def layout(bars: list[Bar], series: list[str] | None = None) -> Chart:
    chart = Chart(bars=bars, series=series or [])
    top = max((b.value for b in bars if b.value is not None), default=0) or 1
    per_group = max(len(chart.series), 1)
    for index, bar in enumerate(bars):
        group, within = divmod(index, per_group)
        bar.y = group * (per_group * BAR_HEIGHT + GAP) + within * BAR_HEIGHT
        # A suppressed bar is drawn full width and hatched: its size says nothing.
        bar.width = chart.plot_width if bar.suppressed else chart.plot_width * bar.value / top
        bar.x = LABEL_WIDTH
    groups = (len(bars) + per_group - 1) // per_group
    chart.height = max(groups * (per_group * BAR_HEIGHT + GAP), BAR_HEIGHT + GAP)
    return chart


def report_bars(report, measure: str) -> Chart:
    """One bar per cell of a one-dimension report (totals left out)."""
    bars = []
    # Rolled up to the coalition, the report is its grand total alone.
    for entry in report.cells or report.totals:
        label = entry.key[0] if entry.key else _("All")
        value = None if measure in entry.suppressed else entry.values.get(measure)
        bars.append(Bar(label=str(label), value=value))
    return layout(bars)


def budget_bars(budget) -> list[dict]:
    """Per measure: this year beside last, by service type (all districts)."""
    lines = [line for line in budget.lines if line.service_type is not None
             and all(v is None for d, v in line.key.items() if d != "service_type")]
    out = []
    for measure in budget.measures:
        bars = []
        for line in lines:
            bars.append(Bar(label=line.service_type, value=line.current.get(measure), series=0))
            bars.append(Bar(label=line.service_type, value=line.previous.get(measure), series=1))
        if bars:
            out.append({"measure": measure,
                        "chart": layout(bars, [budget.fiscal_year, budget.previous_fiscal_year])})
    return out
