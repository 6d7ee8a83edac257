"""Small-cell suppression for published tables (CMS cell-size policy).

A table is a set of entries keyed by a tuple of dimension values, where None in
a position means "all values" (a total). Every total equals the sum of the
entries one level below it, along each dimension it aggregates. Counts from 1
to 10 are suppressed; then complementary suppression hides more entries until
no suppressed value can be derived from the published ones by any combination
of those sums (checked algebraically, not by a rule of thumb).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable
from fractions import Fraction

THRESHOLD_MIN = 1
THRESHOLD_MAX = 10
MEDIAN_MIN_BASE = 11

Key = tuple[Hashable | None, ...]


def is_small(value: int | None) -> bool:
    return value is not None and THRESHOLD_MIN <= value <= THRESHOLD_MAX


def equations(keys: Iterable[Key], values_by_dim: list[list[Hashable]]) -> list[list[Key]]:
    """Each equation as [total, part, part, ...]: total == sum(parts).

    ``values_by_dim`` lists every value each dimension takes in the cells; a part
    absent from ``keys`` is zero (and is left out)."""
    present = set(keys)
    result = []
    for key in present:
        for position, value in enumerate(key):
            if value is not None:
                continue
            parts = []
            for child_value in values_by_dim[position]:
                child = key[:position] + (child_value,) + key[position + 1:]
                if child in present:
                    parts.append(child)
            result.append([key] + parts)
    return result


def _determined(unknowns: list[Key], eqs: list[list[Key]]) -> set[Key]:
    """The unknowns whose value the published entries pin down exactly.

    x_j is determined iff the unit vector e_j lies in the row space of the
    system restricted to the unknowns; equivalently, once the system is in
    reduced row echelon form (exact, over the rationals), some row has its only
    non-zero entry in column j. Solved per connected group of unknowns."""
    index = {key: i for i, key in enumerate(unknowns)}
    rows = []
    for eq in eqs:
        coefficients = {}
        for position, key in enumerate(eq):
            if key in index:
                coefficients[index[key]] = coefficients.get(index[key], 0) + (
                    -1 if position == 0 else 1)
        coefficients = {k: v for k, v in coefficients.items() if v}
        if coefficients:
            rows.append(coefficients)
    if not rows:
        return set()
    # Union-find over unknowns that share an equation: solve each group apart.
    parent = list(range(len(unknowns)))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for row in rows:
        first, *rest = row
        for other in rest:
            parent[find(other)] = find(first)
    groups: dict[int, list[dict]] = defaultdict(list)
    for row in rows:
        groups[find(next(iter(row)))].append(row)
    determined = set()
    for group_rows in groups.values():
        determined.update(unknowns[c] for c in _unit_rows(group_rows))
    return determined


def _unit_rows(rows: list[dict[int, int]]) -> set[int]:
    """The columns c for which e_c lies in the row space of ``rows`` (sparse,
    {column: coefficient}).

    Gauss-Jordan elimination in exact rational arithmetic, keeping the rows
    found so far in reduced row echelon form: each pivot row has 1 in its pivot
    column and 0 in every other pivot column. A vector of the row space is then
    the sum of the pivot rows, each weighted by the vector's entry in its pivot
    column; so e_c is in the row space iff c is a pivot column whose row is e_c
    itself. Entries stay ints while whole (most do: the coefficients are 0 and
    +-1) and become Fractions only when a division leaves a remainder."""
    pivots: dict[int, dict[int, int | Fraction]] = {}
    for row in rows:
        reduced = {c: v for c, v in row.items() if v}
        for column, pivot_row in pivots.items():
            factor = reduced.get(column)
            if factor:
                _subtract(reduced, factor, pivot_row)
        if not reduced:
            continue  # a combination of the rows before it
        column = min(reduced)
        scale = reduced[column]
        if scale != 1:
            reduced = {c: _exact(Fraction(v) / scale) for c, v in reduced.items()}
        for pivot_row in pivots.values():
            factor = pivot_row.get(column)
            if factor:
                _subtract(pivot_row, factor, reduced)
        pivots[column] = reduced
    return {column for column, row in pivots.items() if len(row) == 1}


def _subtract(target: dict, factor: int | Fraction, source: dict) -> None:
    """target -= factor * source, in place, dropping the entries that become 0."""
    for c, v in source.items():
        value = target.get(c, 0) - factor * v
        if value:
            target[c] = _exact(value)
        else:
            target.pop(c, None)


def _exact(value: int | Fraction) -> int | Fraction:
    """The value as an int when it is whole (cheaper arithmetic), else as is."""
    if type(value) is Fraction and value.denominator == 1:
        return value.numerator
    return value


def suppress(values: dict[Key, int], values_by_dim: list[list[Hashable]]) -> set[Key]:
    """The keys to withhold: primary (1 to 10) plus complementary suppressions."""
    eqs = equations(values.keys(), values_by_dim)
    by_member: dict[Key, list[int]] = defaultdict(list)
    for number, eq in enumerate(eqs):
        for key in eq:
            by_member[key].append(number)
    hidden = {key for key, value in values.items() if is_small(value)}

    def cheapest_partner(eq_numbers: Iterable[int]) -> Key | None:
        return _cheapest((key for n in eq_numbers for key in eqs[n]), hidden, values)

    while True:
        # Rule of thumb first: no equation may hold exactly one hidden entry.
        changed = True
        while changed:
            changed = False
            for eq in eqs:
                if sum(key in hidden for key in eq) == 1:
                    partner = _cheapest(eq, hidden, values)
                    if partner is not None:
                        hidden.add(partner)
                        changed = True
        # Then the exact test; hide one more entry beside each value still derivable.
        leaks = _determined(sorted(hidden, key=repr), eqs)
        pinned = [eq for eq in eqs if _pins_ones(eq, hidden, values)]
        if not leaks and not pinned:
            return hidden
        added = False
        for eq in pinned:
            partner = _cheapest(eq, hidden, values)
            if partner is not None:
                hidden.add(partner)
                added = True
        for key in sorted(leaks, key=repr):
            partner = cheapest_partner(by_member[key])
            if partner is not None:
                hidden.add(partner)
                added = True
        if not added:
            # Every neighbour is hidden already: widen to any published entry
            # sharing an equation with a hidden one.
            partner = cheapest_partner(n for key in hidden for n in by_member[key])
            if partner is None:
                return hidden
            hidden.add(partner)


def _pins_ones(eq: list[Key], hidden: set[Key], values: dict[Key, int]) -> bool:
    """A hidden entry is never 0, so hidden parts that are all 1 under a published
    total are pinned: the total minus the published parts equals their number."""
    parts = [key for key in eq[1:] if key in hidden]
    return eq[0] not in hidden and bool(parts) and all(values[key] == 1 for key in parts)


def _cheapest(keys: Iterable[Key], hidden: set[Key], values: dict[Key, int]) -> Key | None:
    """The published, non-zero entry to hide next: the smallest (least information
    lost), cells before totals."""
    candidates = {key for key in keys if key not in hidden and values[key] > 0}
    if not candidates:
        return None
    return min(candidates, key=lambda k: (values[k], sum(v is None for v in k), repr(k)))
