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

import numpy as np
from threadpoolctl import threadpool_limits

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
    system restricted to the unknowns; equivalently the squared norm of column
    j of the row-space basis is 1. Solved per connected group of unknowns."""
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
        columns = sorted({c for row in group_rows for c in row})
        local = {c: i for i, c in enumerate(columns)}
        matrix = np.zeros((len(group_rows), len(columns)))
        for r, row in enumerate(group_rows):
            for c, v in row.items():
                matrix[r, local[c]] = v
        # One BLAS thread: these matrices are small, and threads only contend.
        with threadpool_limits(limits=1, user_api="blas"):
            _, singular, vt = np.linalg.svd(matrix, full_matrices=False)
        rank = int((singular > 1e-9 * max(1.0, singular[0])).sum())
        if rank == 0:
            continue
        norms = (vt[:rank] ** 2).sum(axis=0)
        for c, norm in zip(columns, norms):
            if norm > 1 - 1e-7:
                determined.add(unknowns[c])
    return determined


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
