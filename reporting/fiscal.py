"""Fiscal years: New York State's runs 1 April to 31 March (State Finance Law
section 3), so "SFY 2017-18" is 2017-04-01..2018-03-31; New York City's runs
1 July to 30 June and is named by the year it ends ("NYC FY2018")."""

from __future__ import annotations

import re
from datetime import date

from core.errors import DomainError

_SFY = re.compile(r"^(?:SFY\s*)?(\d{4})-(\d{2})$", re.I)
_NYC = re.compile(r"^NYC\s*(?:FY\s*)?(\d{4})$", re.I)


def sfy_start_year(day: date) -> int:
    return day.year if day.month >= 4 else day.year - 1


def sfy_label(start_year: int) -> str:
    return f"{start_year}-{(start_year + 1) % 100:02d}"


def sfy_bounds(start_year: int) -> tuple[date, date]:
    return date(start_year, 4, 1), date(start_year + 1, 3, 31)


def nyc_fy_end_year(day: date) -> int:
    return day.year + 1 if day.month >= 7 else day.year


def parse_fiscal_year(text: str) -> tuple[str, date, date]:
    """'2017-18' or 'SFY 2017-18' (state) or 'NYC FY2018' (city) -> (label, first, last day)."""
    value = (text or "").strip()
    match = _SFY.match(value)
    if match:
        start = int(match.group(1))
        if (start + 1) % 100 != int(match.group(2)):
            raise DomainError("invalid_fiscal_year",
                              f"{value!r}: the second year must follow the first, e.g. 2017-18.",
                              field="fiscal_year")
        first, last = sfy_bounds(start)
        return f"SFY {sfy_label(start)}", first, last
    match = _NYC.match(value)
    if match:
        end = int(match.group(1))
        return f"NYC FY{end}", date(end - 1, 7, 1), date(end, 6, 30)
    raise DomainError("invalid_fiscal_year",
                      f"{value!r} is not a fiscal year; use e.g. 2017-18 (New York State, "
                      "April-March) or NYC FY2018 (New York City, July-June).",
                      field="fiscal_year")


def parse_sfy(text: str) -> int:
    """A New York State fiscal year label -> its starting year."""
    match = _SFY.match((text or "").strip())
    if not match:
        raise DomainError("invalid_fiscal_year",
                          f"{text!r} is not a New York State fiscal year; use e.g. 2017-18.",
                          field="fiscal_year")
    start = int(match.group(1))
    if (start + 1) % 100 != int(match.group(2)):
        raise DomainError("invalid_fiscal_year", "The second year must follow the first.",
                          field="fiscal_year")
    return start
