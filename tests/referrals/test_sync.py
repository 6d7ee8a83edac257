"""Incremental sync (GET /api/v1/referrals/changes/ and GraphQL referralChanges): a
partner that stores next_since and sends it back as since gets every change once, in
commit order, with no gap and no repeat, even while others write.

Every test here is transactional: on PostgreSQL the feed stops below its snapshot's
xmin, and a test wrapped in one open transaction would sit below everything it wrote.
That xmin is the whole cluster's: a write transaction open in another database (another
test run, say) holds the feed back too, so reads that expect to be caught up settle()
first.
"""

from __future__ import annotations

import base64
import json
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from unittest import mock

import pytest
from django.db import connection, transaction
from django.utils import timezone

from audit.models import AuditRecord
from core.errors import DomainError
from core.principal import Principal
from orgs.models import Organization
from referrals import selectors, services
from referrals.models import Referral
from tests.conftest import APIClient

from .factories import bulk_referrals, make_referral, principal_for
from .test_query_counts import GRAPHQL_BOUND, REST_BOUND, count_queries, explain

pytestmark = [pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("reseed_after_flush")]

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL: SQLite serialises writers, so nothing races")

CHANGES = "/api/v1/referrals/changes/"
SENDER, RECEIVER, OUTSIDER = "sd13-peralta-office", "camba-legal", "cala"
from tests.assertions import PROBLEM

CHANGES_QUERY = """
query Changes($since: String, $updatedAfter: DateTime, $first: Int) {
  referralChanges(since: $since, updatedAfter: $updatedAfter, first: $first) {
    referrals { id version updatedAt summary status client { id givenName } }
    nextSince
    more
  }
}"""


def settle(timeout: float = 30) -> None:
    """Wait until every committed change is below the feed's horizon (PostgreSQL)."""
    if connection.vendor != "postgresql":
        return
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while True:
            cursor.execute("SELECT COALESCE(MAX(change_seq), 0) < "
                           f"{selectors.PG_COMMITTED_HORIZON} FROM referrals_referral")
            if cursor.fetchone()[0]:
                return
            if time.monotonic() > deadline:
                pytest.fail("a transaction elsewhere in the cluster held the feed back")
            time.sleep(0.05)


# --- the two transports behind one interface ------------------------------------------


@dataclass
class Page:
    rows: list[dict]  # id, version, updated_at, summary, status, client_id, client_name
    next_since: str
    more: bool

    @property
    def ids(self) -> list[str]:
        return [row["id"] for row in self.rows]


class RestFeed:
    def __init__(self, client: APIClient):
        self.client = client

    def get(self, since=None, size=None, updated_after=None):
        params = {k: v for k, v in (("since", since), ("page_size", size),
                                    ("updated_after", updated_after)) if v is not None}
        return self.client.get(CHANGES, params)

    def page(self, since=None, size=None, updated_after=None, *, settled=True) -> Page:
        if settled:
            settle()
        response = self.get(since, size, updated_after)
        assert response.status_code == 200, response.content
        body = response.json()
        assert set(body) == {"results", "next_since", "more"}
        return Page([{"id": r["id"], "version": r["version"], "updated_at": r["updated_at"],
                      "summary": r["summary"], "status": r["status"],
                      "client_id": r["client"]["id"], "client_name": r["client"]["given_name"]}
                     for r in body["results"]], body["next_since"], body["more"])


class GraphQLFeed:
    def __init__(self, client: APIClient):
        self.client = client

    def get(self, since=None, size=None, updated_after=None):
        return self.client.graphql(CHANGES_QUERY, {"since": since, "first": size,
                                                   "updatedAfter": updated_after})

    def page(self, since=None, size=None, updated_after=None, *, settled=True) -> Page:
        if settled:
            settle()
        body = self.get(since, size, updated_after).json()
        assert "errors" not in body, body
        changes = body["data"]["referralChanges"]
        return Page([{"id": r["id"], "version": r["version"], "updated_at": r["updatedAt"],
                      "summary": r["summary"], "status": r["status"].lower().replace("_", "-"),
                      "client_id": r["client"]["id"], "client_name": r["client"]["givenName"]}
                     for r in changes["referrals"]], changes["nextSince"], changes["more"])


FEEDS = {"rest": RestFeed, "graphql": GraphQLFeed}


def sync(feed, since=None, size=None, **first) -> tuple[list[dict], str, list[Page]]:
    """Pages until `more` is false, as a partner does: (rows, token to keep, pages)."""
    pages = []
    while True:
        page = feed.page(since, size, **first)
        first = {}
        pages.append(page)
        since = page.next_since
        if not page.more:
            return [row for p in pages for row in p.rows], since, pages


def token(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def commit_order(principal) -> list[str]:
    return [str(pk) for pk in Referral.objects.visible_to(principal)
            .order_by("change_seq", "id").values_list("id", flat=True)]


@dataclass
class World:
    office: APIClient
    camba: APIClient
    cala: APIClient
    camba_loops: list
    cala_loops: list


@pytest.fixture
def world(api):
    """Seven referrals office -> CAMBA in assorted states, two office -> CALA."""
    office, camba, cala = api(SENDER), api(RECEIVER), api(OUTSIDER)
    camba_loops = [make_referral(status, sender=office, receiver=camba, family_name=f"C{i}")
                   for i, status in enumerate(["requested", "accepted", "in-progress",
                                               "on-hold", "completed", "requested",
                                               "cancelled"])]
    cala_loops = [make_referral(sender=office, receiver=cala, family_name=f"L{i}")
                  for i in range(2)]
    return World(office, camba, cala, camba_loops, cala_loops)


@pytest.fixture(params=list(FEEDS))
def transport(request):
    return request.param


# --- the contract --------------------------------------------------------------------


def test_a_first_sync_returns_everything_visible_once_in_commit_order(world, transport):
    feed = FEEDS[transport](world.camba)

    rows, kept, pages = sync(feed, size=2)

    assert [row["id"] for row in rows] == commit_order(principal_for(world.camba))
    assert set(row["id"] for row in rows) == {str(loop.id) for loop in world.camba_loops}
    assert [len(p.rows) for p in pages] == [2, 2, 2, 1]
    assert [p.more for p in pages] == [True, True, True, False]
    # Caught up: an empty page hands the same token back.
    again = feed.page(kept)
    assert (again.rows, again.next_since, again.more) == ([], kept, False)


def test_after_a_transition_the_next_sync_returns_exactly_that_referral(world, transport):
    feed = FEEDS[transport](world.camba)
    _, kept, _ = sync(feed, size=3)
    loop = world.camba_loops[0]

    services.referral_transition(principal=loop.receiver, referral_id=loop.id, to="accepted",
                                 expected_version=1)

    page = feed.page(kept)
    assert page.ids == [str(loop.id)]
    assert (page.rows[0]["version"], page.rows[0]["status"]) == (2, "accepted")
    assert not page.more
    assert feed.page(page.next_since).rows == []


def test_a_note_and_a_client_erasure_bring_the_referral_back(world, transport):
    feed = FEEDS[transport](world.camba)
    _, kept, _ = sync(feed)
    noted, erased = world.camba_loops[1], world.camba_loops[2]

    services.referral_note_add(principal=noted.receiver, referral_id=noted.id,
                               text="Left a voicemail.")
    after_note = feed.page(kept)
    assert after_note.ids == [str(noted.id)]
    assert after_note.rows[0]["version"] == noted.refresh().version  # notes keep the version

    services.client_erase(principal=erased.sender, client_id=erased.client.pk)
    after_erasure = feed.page(after_note.next_since)
    assert after_erasure.ids == [str(erased.id)]
    row = after_erasure.rows[0]
    assert (row["version"], row["summary"], row["client_name"]) == (
        erased.refresh().version, "", "[erased]")
    assert feed.page(after_erasure.next_since).rows == []


def test_an_organisation_off_the_referral_never_sees_it(world, transport):
    feed = FEEDS[transport](world.cala)
    rows, kept, _ = sync(feed)
    assert {row["id"] for row in rows} == {str(loop.id) for loop in world.cala_loops}

    for loop in world.camba_loops[:2]:
        services.referral_note_add(principal=loop.sender, referral_id=loop.id, text="Update")

    assert feed.page(kept).rows == []


def test_a_funder_sees_no_rows(world):
    funder = Principal(organization=Organization.objects.get(slug="nyc-council"),
                       scopes=frozenset({"referrals:read"}))
    page = selectors.referral_changes(funder, since=None, updated_after=None, limit=100)
    assert (page.referrals, page.more) == ([], False)


def test_a_funder_token_is_refused(api, world):
    funder = api("nyc-council", scopes="orgs:read reports:read referrals:read")

    response = funder.get(CHANGES)
    assert (response.status_code, response.json()["code"]) == (403, "insufficient_scope")
    body = funder.graphql(CHANGES_QUERY).json()
    assert body["errors"][0]["extensions"]["code"] == "insufficient_scope"


def test_without_a_token_401(api):
    anonymous = api(None)

    response = anonymous.get(CHANGES)
    assert response.status_code == 401
    assert response["Content-Type"] == PROBLEM
    assert response.json()["code"] == "not_authenticated"
    response = anonymous.graphql(CHANGES_QUERY)
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "not_authenticated"


def test_without_the_read_scope_403(api):
    orgs_only = api(RECEIVER, scopes="orgs:read")

    response = orgs_only.get(CHANGES)
    assert (response.status_code, response.json()["code"]) == (403, "insufficient_scope")
    body = orgs_only.graphql(CHANGES_QUERY).json()
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "insufficient_scope"


BAD_TOKENS = {
    "not base64": "not a token!",
    "empty": "",
    "not json": base64.urlsafe_b64encode(b"\xff\x00").decode(),
    "a list": token([1]),
    "no seq": token({"i": "00000000-0000-4000-8000-000000000000"}),
    "negative seq": token({"s": -1}),
    "text seq": token({"s": "1"}),
    "boolean seq": token({"s": True}),
    "bad id": token({"s": 1, "i": "x"}),
    "unknown key": token({"s": 1, "x": 2}),
    "instant without horizon": token({"s": 0, "u": "2025-01-01T00:00:00+00:00"}),
    "naive instant": token({"s": 0, "u": "2025-01-01T00:00:00", "b": 1}),
    "too long": "A" * 600,
    "instant out of range": token({"s": 0, "u": "9999-12-31T23:59:59-05:00", "b": 0}),
}


@pytest.mark.parametrize("bad", list(BAD_TOKENS.values()), ids=list(BAD_TOKENS))
def test_a_token_this_api_did_not_hand_out_is_400(api, bad):
    camba = api(RECEIVER)

    response = RestFeed(camba).get(since=bad)
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["code"] == "invalid_sync_token"
    assert body["errors"][0]["field"] == "since"
    errors = GraphQLFeed(camba).get(since=bad).json()["errors"]
    assert errors[0]["extensions"] == {"code": "invalid_sync_token", "field": "since", "status": 400}


def test_a_token_with_a_far_utc_offset_still_works(api):
    """Python takes offsets up to 23:59, PostgreSQL only to 15:59: compared in UTC."""
    response = RestFeed(api(RECEIVER)).get(
        since=token({"s": 0, "u": "2025-01-01T00:00:00+23:59", "b": 0}))
    assert response.status_code == 200, response.content


def test_since_and_updated_after_together_are_400(api):
    camba = api(RECEIVER)
    first = sync(RestFeed(camba))[1]

    response = RestFeed(camba).get(since=first, updated_after="2025-01-01T00:00:00Z")
    assert (response.status_code, response.json()["code"]) == (400, "invalid_sync_request")
    errors = GraphQLFeed(camba).get(since=first,
                                    updated_after="2025-01-01T00:00:00+00:00").json()["errors"]
    assert errors[0]["extensions"]["code"] == "invalid_sync_request"


@pytest.mark.parametrize("params, field", [
    ({"updated_after": "yesterday"}, "updated_after"),
    ({"updated_after": "9999-12-31T23:00:00-05:00"}, "updated_after"),
    ({"page_size": "0"}, "page_size"),
    ({"page_size": "ten"}, "page_size"),
])
def test_bad_parameters_are_400(api, params, field):
    response = api(RECEIVER).get(CHANGES, params)

    assert response.status_code == 400, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["code"] == "validation_error"
    assert [e["field"] for e in body["errors"]] == [field]


def test_a_large_page_size_is_cut_to_the_maximum(api, settings):
    settings.API_MAX_PAGE_SIZE = 2
    office = api(SENDER)
    bulk_referrals(3)

    page = RestFeed(office).page(size=50)
    assert (len(page.rows), page.more) == (2, True)


@pytest.mark.parametrize("first", [0, -1, 101])
def test_graphql_first_out_of_range_is_a_validation_error(api, first):
    errors = GraphQLFeed(api(RECEIVER)).get(size=first).json()["errors"]
    assert errors[0]["extensions"]["code"] == "validation_error"


def test_a_first_sync_after_an_instant_keeps_to_it_across_pages(api, transport):
    """updated_after selects among what had committed when the first sync began; every
    change committed after that is delivered, whatever its timestamp."""
    office = api(SENDER)
    feed = FEEDS[transport](office)
    loops = [make_referral(sender=office, family_name=f"U{i}") for i in range(5)]
    cutoff = timezone.now() - timedelta(hours=1)
    stale, fresh = loops[:3], loops[3:]
    Referral.objects.filter(pk__in=[l.id for l in stale]).update(
        updated_at=cutoff - timedelta(days=1))

    rows, kept, pages = sync(feed, size=1, updated_after=cutoff.isoformat())

    assert {row["id"] for row in rows} == {str(l.id) for l in fresh}
    assert len(pages) == 2
    # Committed after the first sync began, though stamped before the cutoff: delivered.
    Referral.objects.filter(pk=stale[0].id).update(updated_at=cutoff - timedelta(days=2))
    services.referral_transition(principal=stale[1].receiver, referral_id=stale[1].id,
                                 to="accepted", expected_version=1)
    rows, _, _ = sync(feed, kept)
    assert [row["id"] for row in rows] == [str(stale[0].id), str(stale[1].id)]


def test_an_empty_first_sync_after_an_instant_hands_back_an_equivalent_token(api):
    office = api(SENDER)
    feed = RestFeed(office)
    old = make_referral(sender=office)
    Referral.objects.filter(pk=old.id).update(updated_at=timezone.now() - timedelta(days=3))

    first = feed.page(updated_after=(timezone.now() - timedelta(days=1)).isoformat())
    assert (first.rows, first.more) == ([], False)
    assert feed.page(first.next_since).rows == []
    services.referral_note_add(principal=old.sender, referral_id=old.id, text="Back")
    assert feed.page(first.next_since).ids == [str(old.id)]


# --- every write path moves change_seq ----------------------------------------------


def seq(referral_id) -> int:
    return Referral.objects.values_list("change_seq", flat=True).get(pk=referral_id)


def test_every_write_path_gives_a_new_change_seq(coalition):
    made = bulk_referrals(3)
    seqs = [seq(r.pk) for r in made]
    assert min(seqs) > 0

    Referral.objects.filter(pk=made[0].pk).update(summary="changed in bulk")
    assert seq(made[0].pk) > max(seqs)

    stale = Referral.objects.get(pk=made[1].pk)
    Referral.objects.filter(pk=made[2].pk).update(summary="a later change")
    latest = seq(made[2].pk)
    stale.summary = "saved from an instance that holds an old change_seq"
    stale.save()
    assert seq(made[1].pk) > latest


# --- audit and query counts ----------------------------------------------------------


def test_reads_are_audited_like_the_list(world, transport):
    camba = world.camba
    mark = AuditRecord.objects.order_by("-id").values_list("id", flat=True).first() or 0

    page = FEEDS[transport](camba).page(size=3)

    rows = AuditRecord.objects.filter(id__gt=mark, action="read")
    assert {(r.object_type, r.object_id) for r in rows} == (
        {("referral", row["id"]) for row in page.rows}
        | {("client", row["client_id"]) for row in page.rows})
    assert {r.organization_id for r in rows} == {camba.org.pk}
    assert {r.application_id for r in rows} == {camba.app.pk}
    assert {r.operation for r in rows} == (
        {"GET referral-changes"} if transport == "rest" else {"query referralChanges"})


@pytest.fixture
def busy_office(api):
    bulk_referrals(60)
    return api(SENDER)


def test_rest_sync_queries_do_not_grow_with_the_page(busy_office):
    feed = RestFeed(busy_office)
    settle()
    feed.get(size=1)  # warm caches that are not per request

    small, small_response, small_sql = count_queries(lambda: feed.get(size=10))
    large, large_response, large_sql = count_queries(lambda: feed.get(size=50))

    assert len(small_response.json()["results"]) == 10
    assert len(large_response.json()["results"]) == 50
    assert small == large, explain(small_sql, large_sql)
    assert large <= REST_BOUND, explain(small_sql, large_sql)


def test_graphql_sync_queries_do_not_grow_with_the_page(busy_office):
    query = """query ($first: Int) { referralChanges(first: $first) { referrals {
        id status client { givenName preferredLanguages } sendingOrg { slug }
        outcomes { code } events { kind } notes { text } } nextSince more } }"""
    settle()
    busy_office.graphql(query, {"first": 1})

    small, small_response, small_sql = count_queries(
        lambda: busy_office.graphql(query, {"first": 10}))
    large, large_response, large_sql = count_queries(
        lambda: busy_office.graphql(query, {"first": 50}))

    assert len(small_response.json()["data"]["referralChanges"]["referrals"]) == 10
    assert len(large_response.json()["data"]["referralChanges"]["referrals"]) == 50
    assert small == large, explain(small_sql, large_sql)
    assert large <= GRAPHQL_BOUND, explain(small_sql, large_sql)


# --- PostgreSQL: no gap while transactions overlap ---------------------------------------


class HeldTransaction:
    """A write made in a thread's own transaction (its own connection), left open
    until commit() is called."""

    def __init__(self, write):
        self.wrote, self.release = threading.Event(), threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(write,))

    def _run(self, write):
        try:
            with transaction.atomic():
                write()
                self.wrote.set()
                if not self.release.wait(timeout=30):
                    raise TimeoutError("never told to commit")
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            self.error = exc
        finally:
            self.wrote.set()
            connection.close()

    def __enter__(self):
        self.thread.start()
        assert self.wrote.wait(timeout=10), "the held write never happened"
        assert self.error is None, self.error
        return self

    def commit(self):
        self.release.set()
        self.thread.join(timeout=10)
        assert not self.thread.is_alive(), "the held transaction hung"
        if self.error is not None:
            raise self.error

    def __exit__(self, *exc_info):
        if not self.release.is_set():
            self.commit()


def accept(loop):
    return services.referral_transition(principal=loop.receiver, referral_id=loop.id,
                                        to="accepted", expected_version=1)


@postgres_only
def test_a_change_committed_behind_an_open_transaction_waits_for_it(api):
    """A writes X and stays open; B writes Y later and commits. Y waits until A commits,
    then both come, X first. A naive updated_at cursor would read Y at once, move past
    X's timestamp, and never see X."""
    office, camba = api(SENDER), api(RECEIVER)
    x, y = (make_referral(sender=office, receiver=camba, family_name=n) for n in "XY")
    feed = RestFeed(camba)
    _, kept, _ = sync(feed)

    with HeldTransaction(lambda: accept(x)) as a:
        accept(y)  # B: autocommit

        held = feed.page(kept, settled=False)
        assert (held.rows, held.next_since) == ([], kept)
        naive = list(Referral.objects.filter(pk__in=[x.id, y.id], version=2))
        assert [r.pk for r in naive] == [y.id]  # what a naive reader sees now
        naive_cursor = naive[0].updated_at
        a.commit()

    x_row = Referral.objects.get(pk=x.id)
    assert x_row.updated_at < naive_cursor
    assert not Referral.objects.filter(pk=x.id, updated_at__gt=naive_cursor).exists()
    page = feed.page(kept)
    assert page.ids == [str(x.id), str(y.id)]
    assert [row["version"] for row in page.rows] == [2, 2]


@postgres_only
def test_a_change_stamped_early_but_committed_late_is_not_skipped(api):
    """The gap of a timestamp cursor: A stamps X's updated_at, B changes Y and commits,
    then A writes X and holds its transaction. The feed returns Y but not X; once A
    commits, the next sync from the token returns X, though X.updated_at < Y.updated_at."""
    office, camba = api(SENDER), api(RECEIVER)
    x, y = (make_referral(sender=office, receiver=camba, family_name=n) for n in "XY")
    feed = RestFeed(camba)
    _, kept, _ = sync(feed)
    stamped = timezone.now()  # A reads the clock...

    accept(y)  # ...B changes Y and commits...
    settle()

    def late_write():  # ...and A's write lands only now, with the time it read.
        with mock.patch("django.utils.timezone.now", return_value=stamped):
            accept(x)

    with HeldTransaction(late_write) as a:
        page = feed.page(kept, settled=False)
        assert page.ids == [str(y.id)]
        naive_cursor = datetime.fromisoformat(page.rows[0]["updated_at"])
        a.commit()

    assert Referral.objects.get(pk=x.id).updated_at < naive_cursor  # a naive cursor misses X
    after = feed.page(page.next_since)
    assert after.ids == [str(x.id)]
    assert after.rows[0]["version"] == 2


@postgres_only
def test_concurrent_writers_no_gap_no_repeat(api):
    """Four writers transition and annotate a pool of referrals for two seconds while a
    partner syncs in small pages, keeping its token; then it syncs to the end. Every
    referral's last delivered state is its final one, and no state is delivered twice."""
    office, camba = api(SENDER), api(RECEIVER)
    pool = [make_referral("in-progress", sender=office, receiver=camba, family_name=f"P{i}")
            for i in range(8)]
    stop = threading.Event()
    errors: list[BaseException] = []
    writes = Counter()
    delivered: list[Page] = []
    state = {"since": None}

    def writer(number: int):
        rng = random.Random(number)
        try:
            while not stop.is_set():
                loop = rng.choice(pool)
                try:
                    if rng.random() < 0.6:
                        current = Referral.objects.only("status", "version").get(pk=loop.id)
                        to, reason = (("on-hold", "Waiting for documents")
                                      if current.status == "in-progress" else ("in-progress", ""))
                        services.referral_transition(
                            principal=loop.receiver, referral_id=loop.id, to=to, reason=reason,
                            expected_version=current.version)
                        writes["transition"] += 1
                    else:
                        services.referral_note_add(principal=loop.receiver,
                                                   referral_id=loop.id, text=f"from {number}")
                        writes["note"] += 1
                except DomainError as exc:
                    if exc.code != "version_mismatch":
                        raise
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            errors.append(exc)
        finally:
            connection.close()

    def reader():
        feed = RestFeed(APIClient(camba.token))
        try:
            while not stop.is_set():
                page = feed.page(state["since"], size=3, settled=False)
                delivered.append(page)
                state["since"] = page.next_since
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    threads.append(threading.Thread(target=reader))
    for thread in threads:
        thread.start()
    time.sleep(2)
    stop.set()
    for thread in threads:
        thread.join(timeout=20)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    assert not errors, errors
    pages_while_writing = len(delivered)
    delivered.extend(sync(RestFeed(camba), state["since"], size=3)[2])

    assert writes["transition"] > 10 and writes["note"] > 10, writes
    assert pages_while_writing > 10
    states = [(row["id"], row["version"], row["updated_at"])
              for page in delivered for row in page.rows]
    repeated = [s for s, n in Counter(states).items() if n > 1]
    assert not repeated, repeated  # (b) no duplicates
    for page in delivered:
        assert len(page.ids) == len(set(page.ids))  # (c) no id twice within a page
    last_seen = {}
    for row_id, version, updated_at in states:
        last_seen[row_id] = (version, datetime.fromisoformat(updated_at))
    final = {str(r.pk): (r.version, r.updated_at)
             for r in Referral.objects.filter(pk__in=[loop.id for loop in pool])}
    assert last_seen == final  # (a) no gaps: every referral's last state arrived
    # Intermediate states arrive too, unless another transaction of the cluster (a
    # parallel test worker's, in another database) held the feed's horizon back the
    # whole time: the feed then waits, and still misses and repeats nothing.
    assert len(states) >= len(pool)


def test_graphql_cost_counts_the_page_asked_for(api, settings):
    """referralChanges is no connection: its `first` sizes the referrals list below it
    (and, when left out, the largest page is assumed, as for connections)."""
    settings.GRAPHQL_MAX_COST = 500
    camba = api(RECEIVER)
    fields = "referrals { id status version summary updatedAt } nextSince"

    def code(arguments: str):
        body = camba.graphql(f"{{ referralChanges{arguments} {{ {fields} }} }}").json()
        return body["errors"][0]["extensions"]["code"] if "errors" in body else None

    assert code("(first: 50)") is None
    assert code("(first: 100)") == "query_too_costly"
    assert code("") == "query_too_costly"
