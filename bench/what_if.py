"""What the two list fixes recommended in docs/benchmarks.md would change, measured
in-process without touching the application's files: the patches below live only
inside the bench/run process, for the duration of one measurement.

1. ReferralFilterSet's status and priority filters without DISTINCT (django-filter's
   MultipleChoiceFilter adds .distinct() by default; nothing here joins a to-many
   relation, so it only forces PostgreSQL to sort every matching row).
2. GraphQL connections without COUNT(*): fetch first + 1 rows to know whether there
   is a next page (ReferralConnection exposes no totalCount anyway).
"""

from __future__ import annotations

import statistics
from contextlib import contextmanager
from functools import partial


@contextmanager
def patched():
    from django.db.models import QuerySet
    from graphene_django.fields import DjangoConnectionField, connection_adapter, page_info_adapter
    from graphene_django.utils import maybe_queryset
    from graphql_relay import connection_from_array_slice, cursor_to_offset, offset_to_cursor
    from graphql_relay.connection.array_connection import get_offset_with_default

    from referrals.filtersets import ReferralFilterSet

    original_resolve = DjangoConnectionField.__dict__["resolve_connection"]
    original_distinct = {name: ReferralFilterSet.base_filters[name].distinct
                         for name in ("status", "priority")}

    def resolve_connection(cls, connection, args, iterable, max_limit=None):
        iterable = maybe_queryset(iterable)
        if (not isinstance(iterable, QuerySet) or args.get("last") is not None
                or args.get("before") is not None):
            return original_resolve.__func__(cls, connection, args, iterable, max_limit)
        offset = args.pop("offset", None)
        if offset:
            after = args.get("after")
            if after:
                offset += cursor_to_offset(after) + 1
            args["after"] = offset_to_cursor(offset - 1)
        if args.get("first") is None and max_limit is not None:
            args["first"] = max_limit
        start = get_offset_with_default(args.get("after"), -1) + 1
        rows = list(iterable[start:start + args["first"] + 1])  # one more: a next page?
        result = connection_from_array_slice(
            rows, args, slice_start=start, array_length=start + len(rows),
            array_slice_length=len(rows),
            connection_type=partial(connection_adapter, connection),
            edge_type=connection.Edge, page_info_type=page_info_adapter)
        result.iterable = iterable
        result.length = start + len(rows)
        return result

    DjangoConnectionField.resolve_connection = classmethod(resolve_connection)
    for name in original_distinct:
        ReferralFilterSet.base_filters[name].distinct = False
    try:
        yield
    finally:
        DjangoConnectionField.resolve_connection = original_resolve
        for name, value in original_distinct.items():
            ReferralFilterSet.base_filters[name].distinct = value


def measure(in_process, requests: list[dict], tokens: dict, graphql_body, auth,
            repeat: int = 3) -> dict:
    """Every list request of the mix as it is and with the fixes, interleaved (so that
    other load on the machine hits both alike); the median of ``repeat`` each. The
    fixed version must return the same rows."""
    rows = []

    def run(request, api):
        who = request["principal"]
        if api == "rest":
            status, queries, ms, payload = in_process.request(
                "GET", request["rest_path"], None, auth(tokens[who]), repeat=0)
            ids = [r["id"] for r in payload["results"]]
        else:
            status, queries, ms, payload = in_process.request(
                "POST", "/graphql/", graphql_body(request["filters"]),
                auth(tokens[who], **{"Content-Type": "application/json"}), repeat=0)
            ids = [e["node"]["id"] for e in payload["data"]["referrals"]["edges"]]
        return ms, in_process.last_cpu_ms, len(queries), ids, status

    for request in requests:
        row = {"principal": request["principal"], "filter": request["filter"],
               "same_rows": True}
        for api in ("rest", "graphql"):
            expected = request["ids"] if api == "rest" else request["graphql_ids"]
            samples = {"before": [], "after": []}
            for _ in range(repeat):
                samples["before"].append(run(request, api))
                with patched():
                    samples["after"].append(run(request, api))
            for when, values in samples.items():
                row[f"{api}_{when}_ms"] = round(statistics.median(v[0] for v in values), 1)
                row[f"{api}_{when}_cpu_ms"] = round(statistics.median(v[1] for v in values), 1)
                row[f"{api}_{when}_queries"] = values[-1][2]
            row["same_rows"] &= all(v[3] == expected for v in samples["after"])
        rows.append(row)

    def p95(values):
        values = sorted(values)
        return values[min(len(values) - 1, int(0.95 * len(values)))]

    summary = {}
    for api in ("rest", "graphql"):
        summary[api] = {}
        for when in ("before", "after"):
            ms = [r[f"{api}_{when}_ms"] for r in rows]
            cpu = [r[f"{api}_{when}_cpu_ms"] for r in rows]
            summary[api][when] = {
                "p50_ms": round(statistics.median(ms), 1), "p95_ms": p95(ms),
                "cpu_p50_ms": round(statistics.median(cpu), 1), "cpu_p95_ms": p95(cpu),
                "queries": sorted({r[f"{api}_{when}_queries"] for r in rows})}
    return {"requests": rows, "summary": summary,
            "all_same_rows": all(r["same_rows"] for r in rows),
            "how": f"in-process, each request {repeat}x as it is and {repeat}x with the "
                   "fixes, interleaved; medians; p50/p95 over the 48 requests of the mix"}
