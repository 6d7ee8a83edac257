"""The layering holds: no module imports another that imports it back (directly or
through others), and the apps keep the order .importlinter states (make test runs
lint-imports as well)."""

from __future__ import annotations

import sys

import grimp

PACKAGES = ("core", "orgs", "referrals", "reporting", "audit", "webhooks", "schema", "web",
            "config")


def import_cycles(packages=PACKAGES) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), each a cycle."""
    graph = grimp.build_graph(*packages, cache_dir=None)
    modules = sorted(graph.modules)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    sys.setrecursionlimit(max(10_000, sys.getrecursionlimit()))

    def visit(module: str) -> None:
        nonlocal counter
        index[module] = low[module] = counter
        counter += 1
        stack.append(module)
        on_stack.add(module)
        for imported in graph.find_modules_directly_imported_by(module):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for module in modules:
        if module not in index:
            visit(module)
    return found


def test_no_module_imports_itself_back():
    assert import_cycles() == []


def test_the_lowest_layers_import_no_app_above_them():
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    for low, above in [("core", PACKAGES[1:]), ("orgs", PACKAGES[2:]),
                       ("referrals", PACKAGES[3:])]:
        for high in above:
            assert not graph.chain_exists(importer=low, imported=high, as_packages=True), (
                f"{low} imports {high}: {graph.find_shortest_chain(low, high)}")


def test_no_two_apps_import_each_other():
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    both_ways = [(a, b) for i, a in enumerate(PACKAGES) for b in PACKAGES[i + 1:]
                 if graph.direct_import_exists(importer=a, imported=b, as_packages=True)
                 and graph.direct_import_exists(importer=b, imported=a, as_packages=True)]
    assert both_ways == []
