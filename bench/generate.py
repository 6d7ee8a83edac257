"""Fill a PostgreSQL database with a coalition-sized history (see bench/generate).

Shape (defaults): 60 organisations, 300,000 clients, 1,000,000 referrals over the
four State fiscal years SFY 2023-24 .. SFY 2026-27 (the last one up to today),
about 4 million referral events, consents, outcomes, notes, 5,000 workshops and
the funders' grants. Referrals are skewed towards a few big partners, district
offices and the hotline send most of them, and most old referrals are completed.

Directory rows (organisations, OAuth applications, grants) go through the ORM and
the project's services; the bulk rows go in with COPY, in batches of one
transaction each, while the next batch is being generated. Nothing in the schema
is disabled: constraints, indexes and triggers stay on.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import queue
import random
import re
import sys
import threading
import time
import uuid
from bisect import bisect
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _common  # noqa: E402
from bench._common import Progress  # noqa: E402

DAY = 86400.0
ET_OFFSET = 5 * 3600  # business hours are shaped in (standard) Eastern time; good enough
WINDOW_START = datetime(2023, 4, 1, 4, 0, tzinfo=timezone.utc)  # SFY 2023-24 begins (ET)
SFY_STARTS = (2023, 2024, 2025, 2026)

# --- the extra organisations (illustrative, like the seeded ones' capacities) -----------

AREAS = ["Bronx", "Queens", "Brooklyn", "Harlem", "Staten Island", "Yonkers", "Syracuse",
         "Buffalo", "Rochester", "Albany", "Long Island", "Westchester", "Rockland",
         "Hudson Valley", "Flushing", "Sunset Park", "Washington Heights", "Corona",
         "Jamaica", "Ithaca", "Utica", "Newburgh"]
EXTRA_KINDS = (["legal_nonprofit"] * 16 + ["community_group"] * 12 + ["law_firm"] * 5
               + ["funder"] * 3)
NAME_PATTERNS = {
    "legal_nonprofit": ["{area} Immigrant Legal Services", "{area} Immigration Law Project",
                        "{area} Justice for Immigrants", "{area} Legal Aid Immigrant Unit"],
    "community_group": ["{area} Immigrant Defense Network", "{area} Rapid Response Team",
                        "{area} Neighbors United", "{area} Sanctuary Committee"],
    "law_firm": ["{area} Immigration Law Group LLP", "{area} Pro Bono Immigration Partners"],
    "funder": ["{area} Community Foundation"],
}
LEGAL_SERVICES = ["legal-consultation", "visa", "green-card", "removal-defense", "asylum",
                  "stay-of-removal", "naturalization", "u-t-visa-vawa", "detained-defense"]
COMMUNITY_SERVICES = ["know-your-rights", "ice-checkin-accompaniment",
                      "executive-order-questions"]
NYC_DISTRICTS = [10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 25, 26, 27, 28, 29,
                 30, 31, 32, 33, 34, 36]
UPSTATE_DISTRICTS = [35, 37, 38, 39, 40, 42, 44, 46, 48, 50, 52, 53, 55, 56, 58, 59, 60, 61]

# Who sends, who receives: a few big partners take most referrals.
RECEIVER_WEIGHTS = {
    "camba-legal": 20, "vera-nyifup": 14, "cuny-citizenship-now": 12, "cala": 9, "nyic": 8,
    "her-justice": 6, "chhaya-cdc": 5, "iana": 4, "emerald-isle": 3,
    "jackson-heights-defense": 3, "black-institute": 2, "manhattan-immigration-firm": 2,
    "idc-hotline": 1.5,
}
SENDER_WEIGHTS = {
    "idc-hotline": 22, "sd13-peralta-office": 9, "sd34-klein-office": 6,
    "sd31-alcantara-office": 5, "sd11-avella-office": 4, "sd20-hamilton-office": 5,
    "sd23-savino-office": 4, "sd38-carlucci-office": 3, "sd53-valesky-office": 2,
    "nyic": 5, "jackson-heights-defense": 4, "black-institute": 3, "chhaya-cdc": 3,
    "camba-legal": 2, "cala": 2, "iana": 2, "emerald-isle": 1.5, "her-justice": 1,
    "cuny-citizenship-now": 1, "vera-nyifup": 1, "manhattan-immigration-firm": 0.5,
}
SERVICE_POPULARITY = {
    "removal-defense": 10, "asylum": 10, "legal-consultation": 9, "green-card": 7,
    "naturalization": 7, "visa": 5, "detained-defense": 5, "stay-of-removal": 4,
    "ice-checkin-accompaniment": 4, "executive-order-questions": 4, "u-t-visa-vawa": 3,
    "know-your-rights": 3, "hotline-intake": 2,
}
OUTCOMES_BY_SERVICE = {
    "removal-defense": ["representation-secured", "relief-granted", "removal-ordered",
                        "case-reopened", "stay-of-removal-granted"],
    "detained-defense": ["representation-secured", "relief-granted", "removal-ordered"],
    "stay-of-removal": ["stay-of-removal-granted", "removal-ordered", "case-reopened"],
    "asylum": ["application-filed", "relief-granted", "representation-secured"],
    "visa": ["application-filed", "relief-granted", "advice-given"],
    "green-card": ["application-filed", "relief-granted", "advice-given"],
    "naturalization": ["application-filed", "relief-granted"],
    "u-t-visa-vawa": ["application-filed", "relief-granted", "representation-secured"],
}
FAILED_OUTCOMES = ["client-unreachable", "client-withdrew", "no-relief-available"]
REASONS = {
    "rejected": ["Outside our service area", "At capacity this month",
                 "Conflict of interest", "Case type not handled by our attorneys"],
    "cancelled": ["Client found other counsel", "Duplicate referral",
                  "Client moved out of state", "Client asked to stop"],
    "on-hold": ["Waiting for documents from the client", "Client travelling",
                "Awaiting a hearing date"],
    "failed": ["Client did not attend three appointments",
               "Could not reach the client after three attempts"],
    "entered-in-error": ["Wrong client selected", "Created by mistake"],
}
SUMMARIES = {
    "removal-defense": "Notice to appear; hearing at 26 Federal Plaza",
    "detained-defense": "Detained at Orange County jail; family called the hotline",
    "stay-of-removal": "Final order; ICE check-in next week",
    "asylum": "Asylum filing deadline approaching",
    "visa": "Family petition questions",
    "green-card": "Adjustment of status; interview scheduled",
    "naturalization": "Eligible for citizenship; needs help with N-400",
    "u-t-visa-vawa": "Survivor of domestic violence; asks about VAWA",
    "legal-consultation": "Wants a confidential consultation",
    "executive-order-questions": "Questions about the travel ban",
    "know-your-rights": "Asked for Know Your Rights materials",
    "ice-checkin-accompaniment": "ICE check-in on Monday; asks for accompaniment",
    "hotline-intake": "Called the hotline after an ICE visit",
}
NOTE_TEXTS = ["Client prefers afternoon calls", "Documents received", "Interpreter needed",
              "Hearing moved", "Left a voicemail", "Consultation booked"]

# Clients: primary language (None: unknown) and a few names for each.
LANGUAGE_WEIGHTS = {"es": 38, "en": 10, "zh": 10, "bn": 7, "ht": 6, "fr": 4, "ar": 4, "ru": 4,
                    "ko": 3, "ur": 3, "pa": 2, "ne": 2, "hi": 2, "pl": 2, "ga": 1, None: 3}
NAMES = {
    "es": (["Ana", "Jose", "Maria", "Luis", "Carmen", "Juan", "Rosa", "Carlos", "Lucia",
            "Miguel"], ["Lopez", "Garcia", "Martinez", "Hernandez", "Rodriguez", "Perez",
                        "Sanchez", "Ramirez", "Cruz", "Flores"]),
    "en": (["Grace", "Samuel", "Joy", "Daniel", "Esther"], ["Mensah", "Okafor", "Boateng",
                                                           "Campbell", "Brown"]),
    "zh": (["Wei", "Li", "Mei", "Jun", "Hui"], ["Chen", "Wang", "Zhang", "Liu", "Lin"]),
    "bn": (["Rahim", "Fatema", "Karim", "Nasrin", "Sabbir"], ["Uddin", "Rahman", "Hossain",
                                                            "Islam", "Ahmed"]),
    "ht": (["Jean", "Marie", "Pierre", "Nadege", "Wilner"], ["Joseph", "Pierre", "Louis",
                                                           "Jean-Baptiste", "Charles"]),
    "fr": (["Aminata", "Moussa", "Fatou", "Ibrahima"], ["Diallo", "Traore", "Ba", "Sow"]),
    "ar": (["Omar", "Layla", "Yusuf", "Amira"], ["Haddad", "Saleh", "Nasser", "Khalil"]),
    "ru": (["Olga", "Dmitri", "Irina", "Sergei"], ["Ivanova", "Petrov", "Sokolova", "Kuznetsov"]),
    "ko": (["Min-jun", "Seo-yeon", "Ji-hoon"], ["Kim", "Lee", "Park"]),
    "ur": (["Imran", "Ayesha", "Bilal"], ["Khan", "Malik", "Butt"]),
    "pa": (["Gurpreet", "Harjit", "Manpreet"], ["Singh", "Kaur", "Gill"]),
    "ne": (["Sita", "Ramesh", "Pasang"], ["Sherpa", "Gurung", "Tamang"]),
    "hi": (["Priya", "Amit", "Sunita"], ["Patel", "Sharma", "Gupta"]),
    "pl": (["Katarzyna", "Piotr", "Agnieszka"], ["Nowak", "Kowalski", "Wisniewska"]),
    "ga": (["Siobhan", "Ciaran", "Aoife"], ["Murphy", "Kelly", "O'Brien"]),
    None: (["Alex", "Sam"], ["Doe", "Roe"]),
}
CONTACT = (["phone", "sms", "email", "do-not-contact"], [60, 25, 5, 10])
OPEN = ("requested", "accepted", "in-progress", "on-hold")
TERMINAL = ("rejected", "completed", "failed", "cancelled", "entered-in-error")

# Final status by age (days since created): most old referrals are completed.
STATUS_BY_AGE = [
    (2, {"requested": 70, "accepted": 17, "in-progress": 4, "rejected": 4, "cancelled": 3,
         "entered-in-error": 2}),
    (30, {"requested": 18, "accepted": 22, "in-progress": 30, "on-hold": 5, "completed": 13,
          "rejected": 5, "cancelled": 4, "failed": 2, "entered-in-error": 1}),
    (180, {"requested": 3, "accepted": 5, "in-progress": 12, "on-hold": 3, "completed": 58,
           "rejected": 7, "cancelled": 5, "failed": 6, "entered-in-error": 1}),
    (None, {"requested": 0.3, "accepted": 0.5, "in-progress": 1.5, "on-hold": 0.7,
            "completed": 74, "rejected": 8, "cancelled": 6, "failed": 8,
            "entered-in-error": 1}),
]

# --- small helpers -----------------------------------------------------------------


class Weighted:
    """Fast weighted choice from a fixed table."""

    def __init__(self, weights: dict):
        self.items = list(weights)
        total = 0.0
        self.cumulative = []
        for item in self.items:
            total += weights[item]
            self.cumulative.append(total)
        self.total = total

    def pick(self, rng: random.Random):
        return self.items[bisect(self.cumulative, rng.random() * self.total)]


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def ts(epoch: float) -> str:
    """A timestamptz literal for COPY (UTC)."""
    t = time.gmtime(epoch)
    return "%04d-%02d-%02d %02d:%02d:%02d.%06d+00" % (
        t.tm_year, t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec,
        int((epoch % 1) * 1_000_000))


def day(epoch: float) -> str:
    t = time.gmtime(epoch)
    return "%04d-%02d-%02d" % (t.tm_year, t.tm_mon, t.tm_mday)


def new_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


N = "\\N"


# --- the directory -------------------------------------------------------------------


def create_directory(args, progress: Progress) -> dict:
    """Organisations up to ``args.orgs``, one OAuth client each (known secrets), grants."""
    from django.db import transaction

    from orgs.models import Language, Organization, SenateDistrict, ServiceType
    from core.scopes import ADMIN
    from orgs.policy import scopes_for_kind
    from orgs.services import oauth_client_create
    from reporting.models import Grant

    rng = random.Random(f"{args.seed}-directory")
    services = {s.code: s for s in ServiceType.objects.all()}
    languages = {lang.code: lang for lang in Language.objects.all()}
    districts = {d.number: d for d in SenateDistrict.objects.all()}

    existing = Organization.objects.count()
    wanted = max(0, args.orgs - existing)
    names = set(Organization.objects.values_list("name", flat=True))
    kinds = EXTRA_KINDS[:wanted] + ["legal_nonprofit"] * max(0, wanted - len(EXTRA_KINDS))
    with transaction.atomic():
        for kind in kinds:
            while True:
                name = rng.choice(NAME_PATTERNS[kind]).format(area=rng.choice(AREAS))
                if name not in names:
                    break
            names.add(name)
            accepting = kind != "funder"
            maximum = rng.choice([10, 20, 30, 50, 80]) if accepting else None
            org = Organization.objects.create(
                name=name, slug=slugify(name), kind=kind, accepting_referrals=accepting,
                capacity_maximum=maximum,
                capacity_available=rng.randint(0, maximum) if maximum else None,
                address_city=name.split(" ")[0], active=True)
            if kind == "funder":
                continue
            pool = NYC_DISTRICTS if rng.random() < 0.7 else UPSTATE_DISTRICTS
            org.senate_districts.set([districts[n] for n in rng.sample(pool, rng.randint(1, 3))])
            org.languages.set([languages["en"]] + [languages[c] for c in rng.sample(
                [c for c in languages if c != "en"], rng.randint(1, 3))])
            if kind == "legal_nonprofit":
                offered = rng.sample(LEGAL_SERVICES, rng.randint(3, 6))
            elif kind == "law_firm":
                offered = ["legal-consultation"] + rng.sample(
                    ["visa", "green-card", "removal-defense", "asylum"], 2)
            else:
                offered = rng.sample(COMMUNITY_SERVICES, 2)
            org.service_types.set([services[c] for c in offered])
    orgs = list(Organization.objects.order_by("id"))
    progress.say(f"organisations: {len(orgs)} ({wanted} added to the seeded {existing})")

    def issue(org):
        scopes = set(scopes_for_kind(org.kind))
        if org.kind != "caucus":
            scopes.discard(ADMIN)
        oauth_client_create(organization=org, name=f"Bench {org.name}"[:255],
                            scopes=sorted(scopes), client_id=_common.client_id(org.slug),
                            client_secret=_common.client_secret(org.slug))

    from orgs.models import OAuthApplication

    have = set(OAuthApplication.objects.values_list("client_id", flat=True))
    todo = [o for o in orgs if _common.client_id(o.slug) not in have]
    # Client secrets are stored hashed (PBKDF2): two threads for two cores.
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(_closing(issue), todo))
    progress.say(f"OAuth clients: {len(todo)} issued (client_id bench-<slug>, "
                 f"secret bench-<slug>-secret)")

    # Grants: each funder (and the caucus) funds a few partners every fiscal year.
    funders = [o for o in orgs if o.kind in ("funder", "caucus")]
    grantees = [o for o in orgs if o.kind in ("legal_nonprofit", "community_group")]
    grant_rows = []
    for funder in funders:
        for start in SFY_STARTS:
            for grantee in rng.sample(grantees, rng.randint(4, 10)):
                grant_rows.append(Grant(
                    funder=funder, grantee=grantee,
                    fiscal_year=f"{start}-{(start + 1) % 100:02d}",
                    amount=rng.choice([25_000, 50_000, 100_000, 150_000, 250_000]),
                    description="Bench grant"))
    with transaction.atomic():
        Grant.objects.bulk_create(grant_rows, ignore_conflicts=True)
        for grant in Grant.objects.prefetch_related("grantee__service_types"):
            grant.service_types.set(list(grant.grantee.service_types.all())[:3])
    progress.say(f"grants: {len(grant_rows)}")
    return directory_snapshot()


def _closing(function):
    """Run ``function`` in a pool thread and close that thread's DB connection."""
    from django.db import connection

    def run(*args):
        try:
            return function(*args)
        finally:
            connection.close()

    return run


def directory_snapshot() -> dict:
    """Plain ids and codes the row generator needs (no ORM objects in the hot loop)."""
    from orgs.models import Language, OAuthApplication, Organization, SenateDistrict, ServiceType

    orgs = {}
    for org in Organization.objects.prefetch_related("service_types", "senate_districts"):
        orgs[org.slug] = {
            "id": org.pk, "kind": org.kind, "accepting": org.accepting_referrals,
            "services": sorted(s.code for s in org.service_types.all()),
            "districts": sorted(d.number for d in org.senate_districts.all()),
        }
    apps = {app.organization_id: app.pk for app in OAuthApplication.objects.all()}
    return {
        "orgs": orgs,
        "apps": apps,
        "services": dict(ServiceType.objects.values_list("code", "id")),
        "languages": dict(Language.objects.values_list("code", "id")),
        "districts": dict(SenateDistrict.objects.values_list("number", "id")),
    }


# --- the bulk rows ----------------------------------------------------------------------

TABLES = {
    "clients": ("referrals_client", "id, given_name, family_name, date_of_birth, phone, email, "
                "contact_preference, a_number, created_at, updated_at, created_by_org_id, "
                "primary_language_id, erased_at"),
    "client_languages": ("referrals_client_preferred_languages", "client_id, language_id"),
    "consents": ("referrals_consent", "id, method, captured_at, revoked_at, "
                 "captured_by_application_id, captured_by_org_id, captured_by_user_id, "
                 "client_id, revoked_by_org_id, shared_with_id"),
    "referrals": ("referrals_referral", "id, priority, needed_by, intake_channel, summary, "
                  "status, status_reason, created_at, updated_at, accepted_at, closed_at, "
                  "version, client_id, created_by_application_id, created_by_user_id, "
                  "parent_id, receiving_org_id, sending_org_id, service_type_id, district_id"),
    "events": ("referrals_referralevent", "kind, at, from_status, to_status, reason, version, "
               "actor_application_id, actor_user_id, organization_id, referral_id"),
    "outcomes": ("referrals_referraloutcome", "code, note, recorded_at, referral_id"),
    "notes": ("referrals_referralnote", "id, text, created_at, author_application_id, "
              "author_org_id, author_user_id, referral_id"),
}
# Parents before children: the order rows go in within one batch's transaction.
TABLE_ORDER = ["clients", "client_languages", "consents", "referrals", "events", "outcomes",
               "notes"]


class Generator:
    def __init__(self, snapshot: dict, args, window_end: float):
        self.s = snapshot
        self.args = args
        self.t0 = WINDOW_START.timestamp()
        self.t1 = window_end
        orgs = snapshot["orgs"]
        receivers = {slug: w for slug, w in RECEIVER_WEIGHTS.items()
                     if slug in orgs and orgs[slug]["services"]}
        # Extra organisations: a long tail, Zipf-like.
        extra = sorted(slug for slug, o in orgs.items()
                       if slug not in receivers and o["accepting"] and o["services"]
                       and o["kind"] != "hotline")
        for rank, slug in enumerate(extra, start=1):
            receivers[slug] = 1.6 / rank ** 0.5
        self.receivers = Weighted(receivers)
        senders = {slug: w for slug, w in SENDER_WEIGHTS.items() if slug in orgs}
        for rank, slug in enumerate(extra, start=1):
            senders[slug] = (1.0 if orgs[slug]["kind"] == "community_group" else 0.4) / rank ** 0.3
        self.senders = Weighted(senders)
        self.service_pick = {
            slug: Weighted({c: SERVICE_POPULARITY.get(c, 1) for c in orgs[slug]["services"]})
            for slug in receivers}
        self.languages = Weighted(LANGUAGE_WEIGHTS)
        self.status_tables = [(limit, Weighted(table)) for limit, table in STATUS_BY_AGE]
        self.hours = Weighted({h: w for h, w in zip(range(8, 20),
                                                    [3, 8, 10, 10, 8, 7, 9, 9, 8, 6, 4, 2])})
        self.growth = 0.25  # 25% more referrals each year

    # time ------------------------------------------------------------------------
    def arrival(self, rng) -> float:
        span = self.t1 - self.t0
        g = self.growth / (365 * DAY)
        u = rng.random()
        return self.t0 + math.log1p(u * math.expm1(g * span)) / g

    def business_hours(self, rng, t: float) -> float:
        local = t - ET_OFFSET
        d = int(local // DAY)
        weekday = (d + 3) % 7  # 1970-01-01 was a Thursday; Monday is 0
        if weekday >= 5 and rng.random() < 0.6:
            d += 7 - weekday
        shaped = d * DAY + ET_OFFSET + self.hours.pick(rng) * 3600 + rng.random() * 3600
        if shaped > self.t1 or shaped < self.t0:
            return t  # not into the future (nor before the window): keep the raw time
        return shaped

    # one batch ---------------------------------------------------------------------
    def batch(self, index: int, counts: list[int]) -> dict[str, list[str]]:
        rng = random.Random(f"{self.args.seed}-batch-{index}")
        out = {name: [] for name in TABLES}
        for k in counts:
            self.client(rng, k, out)
        return out

    def client(self, rng, k: int, out):
        s = self.s
        orgs = s["orgs"]
        apps = s["apps"]
        arrival = self.arrival(rng)
        times = [arrival]
        for _ in range(k - 1):
            times.append(times[-1] + rng.expovariate(1 / (50 * DAY)))
        if times[-1] > self.t1:
            # A recent client: squeeze its referrals so that the last falls anywhere
            # between its arrival and now (not all of them just before now).
            factor = rng.random() * (self.t1 - arrival) / (times[-1] - arrival)
            times = [arrival + (t - arrival) * factor for t in times]
        times = sorted(self.business_hours(rng, t) for t in times)
        child_flags = [False] + [rng.random() < 0.05 for _ in range(k - 1)]

        client_id = new_uuid(rng)
        language = self.languages.pick(rng)
        given, family = NAMES[language]
        contact = rng.choices(*CONTACT)[0]
        first_sender = self.senders.pick(rng)
        created = times[0] - 120
        out["clients"].append("\t".join((
            client_id, rng.choice(given), rng.choice(family), N,
            "+1-718-555-01%02d" % rng.randrange(100),
            f"client.{client_id[:8]}@example.org" if contact == "email" else "",
            contact, N, ts(created), ts(created), str(orgs[first_sender]["id"]),
            str(s["languages"][language]) if language else N, N)))
        if language:
            out["client_languages"].append(f"{client_id}\t{s['languages'][language]}")
            if language != "en" and rng.random() < 0.3:
                out["client_languages"].append(f"{client_id}\t{s['languages']['en']}")

        consented = set()
        previous = None  # (referral dict) for forwarding
        sender = first_sender
        for j in range(k):
            t = times[j]
            # A child opens as its parent (the previous referral) is forwarded.
            if child_flags[j] and previous is not None:
                sender = previous["receiver"]
                parent = previous
            else:
                parent = None
                if j > 0 and rng.random() < 0.5:
                    sender = self.senders.pick(rng)
            # receiver and service
            for _ in range(20):
                receiver = self.receivers.pick(rng)
                if receiver == sender or (parent and receiver == parent["sender"]):
                    continue
                break
            service = self.service_pick[receiver].pick(rng)
            if parent and parent["service"] in orgs[receiver]["services"]:
                service = parent["service"]
            forwards = j + 1 < k and child_flags[j + 1]
            end = times[j + 1] if forwards else self.t1
            r = self.referral(rng, client_id, sender, receiver, service, t, end, forwards,
                              parent, out)
            # consent to share with the receiver, captured by the sender just before
            if receiver not in consented:
                consented.add(receiver)
                out["consents"].append("\t".join((
                    new_uuid(rng), "verbal" if rng.random() < 0.7 else "written",
                    ts(t - 60), N, str(apps[orgs[sender]["id"]]), str(orgs[sender]["id"]), N,
                    client_id, N, str(orgs[receiver]["id"]))))
            previous = r

    def referral(self, rng, client_id, sender, receiver, service, created, end, forwards,
                 parent, out) -> dict:
        s = self.s
        orgs = s["orgs"]
        apps = s["apps"]
        sender_id = orgs[sender]["id"]
        receiver_id = orgs[receiver]["id"]
        rid = new_uuid(rng)
        age = (self.t1 - created) / DAY
        if forwards:
            final = "forwarded"
        else:
            final = next(table for limit, table in self.status_tables
                         if limit is None or age < limit).pick(rng)

        # The path of status changes: (to status, acting party, mean days, reason)
        path = []
        if final == "forwarded":
            path = [("accepted", "r", 2)] + ([("in-progress", "r", 4)] if rng.random() < 0.6
                                             else []) + [("completed", "r", 20)]
        elif final in ("accepted", "in-progress", "on-hold", "completed", "failed"):
            path.append(("accepted", "r", 2))
            if final in ("in-progress", "on-hold") or (
                    final in ("completed", "failed") and rng.random() < 0.95):
                path.append(("in-progress", "r", 4))
            if final == "on-hold":
                path.append(("on-hold", "r", 10))
            elif final in ("completed", "failed"):
                if rng.random() < 0.15:
                    if path[-1][0] != "in-progress":
                        path.append(("in-progress", "r", 4))
                    path += [("on-hold", "r", 10), ("in-progress", "r", 10)]
                path.append((final, "r", 35 if final == "completed" else 45))
        elif final == "rejected":
            path.append(("rejected", "r", 1.5))
        elif final == "cancelled":
            if rng.random() < 0.4:
                path += [("accepted", "r", 2), ("cancelled", rng.choice("sr"), 6)]
            else:
                path.append(("cancelled", "s", 4))
        elif final == "entered-in-error":
            path.append(("entered-in-error", "s", 0.5))

        durations = [rng.expovariate(1 / (mean * DAY)) + 60 for *_, mean in path]
        window = max(end - created, 1.0) * 0.98
        total = sum(durations)
        if total > window:
            durations = [d * window / total for d in durations]
        times = list(itertools.accumulate(durations, initial=created))[1:]

        # priority, needed-by, district, channel
        roll = rng.random()
        priority = "routine" if roll < 0.75 else ("urgent" if roll < 0.95 else "asap")
        if priority == "routine":
            needed_by = created + rng.uniform(30, 90) * DAY if rng.random() < 0.4 else None
        elif priority == "urgent":
            needed_by = created + rng.uniform(5, 14) * DAY
        else:
            needed_by = created + rng.uniform(1, 3) * DAY
        kind = orgs[sender]["kind"]
        if parent:
            district = parent["district"]
            channel = "partner"
            priority = parent["priority"]
        else:
            own = orgs[sender]["districts"]
            if kind == "district_office":
                district = own[0] if own else None
                channel = "district-office" if rng.random() < 0.85 else "workshop"
            elif kind == "hotline":
                district = rng.choice(own) if own and rng.random() < 0.7 else None
                channel = "hotline"
            elif kind == "community_group":
                district = rng.choice(own) if own and rng.random() < 0.6 else None
                channel = "community-group" if rng.random() < 0.7 else "workshop"
            else:
                district = rng.choice(own) if own and rng.random() < 0.5 else None
                channel = "partner"

        events = out["events"]
        status = "requested"
        version = 1
        sender_app = apps[sender_id]
        receiver_app = apps[receiver_id]
        events.append(f"created\t{ts(created)}\t\trequested\t\t1\t{sender_app}\t{N}\t"
                      f"{sender_id}\t{rid}")
        accepted_at = closed_at = None
        reason = ""
        timeline = []  # (time, status after, version after) for notes
        for (to, party, _), at in zip(path, times):
            version += 1
            reason = rng.choice(REASONS[to]) if to in REASONS else ""
            kind_name = "status_changed"
            if final == "forwarded" and to == "completed":
                kind_name = "forwarded"
                reason = "Referred onward"
            actor, actor_app = ((receiver_id, receiver_app) if party == "r"
                                else (sender_id, sender_app))
            events.append(f"{kind_name}\t{ts(at)}\t{status}\t{to}\t{reason}\t{version}\t"
                          f"{actor_app}\t{N}\t{actor}\t{rid}")
            status = to
            timeline.append((at, status, version))
            if to == "accepted":
                accepted_at = at
            if to in TERMINAL:
                closed_at = at
        updated = times[-1] if times else created
        status_reason = reason if status in REASONS else ("Referred onward"
                                                          if final == "forwarded" else "")

        # notes: a note_added event and the note (the version does not change)
        if rng.random() < 0.25:
            last = closed_at or end
            for _ in range(rng.randint(1, 2)):
                at = created + rng.random() * max(last - created, 60)
                at_status, at_version = "requested", 1
                for when, st, ver in timeline:
                    if when <= at:
                        at_status, at_version = st, ver
                author, author_app = ((receiver_id, receiver_app) if rng.random() < 0.6
                                      else (sender_id, sender_app))
                out["notes"].append(f"{new_uuid(rng)}\t{rng.choice(NOTE_TEXTS)}\t{ts(at)}\t"
                                    f"{author_app}\t{author}\t{N}\t{rid}")
                events.append(f"note_added\t{ts(at)}\t{at_status}\t{at_status}\t\t{at_version}\t"
                              f"{author_app}\t{N}\t{author}\t{rid}")
                updated = max(updated, at)

        # outcomes
        if status == "completed":
            recorded = ts(closed_at)
            if final == "forwarded":
                out["outcomes"].append(f"referred-onward\tto another partner\t{recorded}\t{rid}")
            else:
                choices = OUTCOMES_BY_SERVICE.get(service, ["advice-given"])
                picked = (rng.sample(choices, 2) if len(choices) > 1 and rng.random() < 0.2
                          else [rng.choice(choices)])
                for code in picked:
                    out["outcomes"].append(f"{code}\t\t{recorded}\t{rid}")
        elif status == "failed" and rng.random() < 0.7:
            out["outcomes"].append(f"{rng.choice(FAILED_OUTCOMES)}\t\t{ts(closed_at)}\t{rid}")

        out["referrals"].append("\t".join((
            rid, priority, day(needed_by) if needed_by else N, channel,
            SUMMARIES.get(service, ""), status, status_reason, ts(created), ts(updated),
            ts(accepted_at) if accepted_at else N, ts(closed_at) if closed_at else N,
            str(version), client_id, str(sender_app), N,
            parent["id"] if parent else N, str(receiver_id), str(sender_id),
            str(s["services"][service]),
            str(s["districts"][district]) if district else N)))
        return {"id": rid, "sender": sender, "receiver": receiver, "service": service,
                "district": district, "priority": priority}


def client_counts(rng: random.Random, clients: int, referrals: int) -> list[int]:
    """Referrals per client: most have one or two, a few many; exactly ``referrals``."""
    p = clients / referrals
    counts = [min(1 + int(math.log(1 - rng.random()) / math.log(1 - p)) if p < 1 else 1, 60)
              for _ in range(clients)]
    diff = referrals - sum(counts)
    while diff != 0:
        i = rng.randrange(clients)
        if diff > 0:
            counts[i] += 1
            diff -= 1
        elif counts[i] > 1:
            counts[i] -= 1
            diff += 1
    return counts


def load_bulk(args, snapshot: dict, progress: Progress) -> dict[str, int]:
    import psycopg

    window_end = time.time() - 600
    generator = Generator(snapshot, args, window_end)
    counts = client_counts(random.Random(f"{args.seed}-counts"), args.clients, args.referrals)
    batch_size = args.batch_clients
    batches = [counts[i:i + batch_size] for i in range(0, len(counts), batch_size)]
    totals = {name: 0 for name in TABLES}
    work: queue.Queue = queue.Queue(maxsize=4)
    failure: list[BaseException] = []

    def produce():
        try:
            for index, batch in enumerate(batches):
                work.put((index, generator.batch(index, batch)))
        except BaseException as exc:  # surfaced by the writer loop
            failure.append(exc)
        finally:
            work.put(None)

    producer = threading.Thread(target=produce, daemon=True)
    producer.start()
    lock = threading.Lock()
    progress_state = {"batches": 0, "clients": 0}
    started = time.monotonic()

    def write():
        """One connection: COPY each batch it takes, one transaction per batch."""
        try:
            with psycopg.connect(_common.DATABASE_URL) as conn:
                # Session-only: this loader's commits need not wait for the WAL flush.
                conn.execute("SET synchronous_commit = off")
                conn.commit()
                while True:
                    item = work.get()
                    if item is None:
                        work.put(None)  # let the other writers stop too
                        return
                    index, rows = item
                    with conn.cursor() as cur:
                        for name in TABLE_ORDER:
                            table, columns = TABLES[name]
                            if rows[name]:
                                with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                                    copy.write("\n".join(rows[name]) + "\n")
                    conn.commit()
                    with lock:
                        for name in TABLES:
                            totals[name] += len(rows[name])
                        progress_state["batches"] += 1
                        progress_state["clients"] += len(batches[index])
                        done = progress_state["batches"]
                        if done % max(1, len(batches) // 20) == 0 or done == len(batches):
                            rate = totals["referrals"] / max(time.monotonic() - started, 1e-6)
                            progress.say(
                                f"clients {progress_state['clients']:,}/{args.clients:,}  "
                                f"referrals {totals['referrals']:,}  events "
                                f"{totals['events']:,}  ({rate:,.0f} referrals/s)")
        except BaseException as exc:
            failure.append(exc)
            # Drain so that the producer is not blocked forever.
            while work.get() is not None:
                pass
            work.put(None)

    # Two COPY connections: PostgreSQL's side (parsing, index and foreign-key work)
    # is the slower one, and one backend uses one core.
    writers = [threading.Thread(target=write) for _ in range(args.writers)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    producer.join(timeout=5)
    if failure:
        raise failure[0]
    return totals


def load_workshops(args, snapshot: dict, progress: Progress) -> int:
    import psycopg

    rng = random.Random(f"{args.seed}-workshops")
    orgs = snapshot["orgs"]
    hosts = {slug: (4 if o["kind"] == "district_office" else 2 if o["kind"] == "community_group"
                    else 1)
             for slug, o in orgs.items()
             if o["kind"] in ("district_office", "community_group", "legal_nonprofit")}
    pick = Weighted(hosts)
    t0 = WINDOW_START.timestamp()
    t1 = time.time() - 86400
    kinds = Weighted({"workshop": 80, "forum": 10, "clinic": 10})
    services = Weighted({"know-your-rights": 80, "executive-order-questions": 10,
                         "naturalization": 10})
    languages = [code for code in snapshot["languages"]]
    rows, language_rows = [], []
    for _ in range(args.workshops):
        slug = pick.pick(rng)
        org = orgs[slug]
        when = t0 + rng.random() * (t1 - t0)
        kind = kinds.pick(rng)
        event_id = new_uuid(rng)
        district = rng.choice(org["districts"]) if org["districts"] else None
        title = {"workshop": "Know Your Rights workshop", "forum": "Community forum",
                 "clinic": "Legal clinic"}[kind]
        rows.append("\t".join((
            event_id, kind, f"{title} ({slug})", day(when),
            str(max(3, int(rng.lognormvariate(3.6, 0.6)))), ts(when), ts(when),
            str(snapshot["apps"][org["id"]]),
            str(snapshot["districts"][district]) if district else N, str(org["id"]),
            str(snapshot["services"][services.pick(rng)]))))
        for code in {"en", *rng.sample(languages, rng.randint(0, 2))}:
            language_rows.append(f"{event_id}\t{snapshot['languages'][code]}")
    with psycopg.connect(_common.DATABASE_URL) as conn, conn.cursor() as cur:
        with cur.copy("COPY reporting_serviceevent (id, kind, title, date, attendance, "
                      "created_at, updated_at, created_by_application_id, district_id, "
                      "organization_id, service_type_id) FROM STDIN") as copy:
            copy.write("\n".join(rows) + "\n")
        with cur.copy("COPY reporting_serviceevent_languages (serviceevent_id, language_id) "
                      "FROM STDIN") as copy:
            copy.write("\n".join(language_rows) + "\n")
    progress.say(f"service events: {len(rows):,} (workshops, forums, clinics)")
    return len(rows)


# --- database ----------------------------------------------------------------------


def recreate_database(args, progress: Progress) -> None:
    import psycopg
    from psycopg import sql

    name = _common.database_name()
    with psycopg.connect(_common.maintenance_url(), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                              (name,)).fetchone()
        if exists:
            if "bench" not in name and not args.force:
                raise SystemExit(f"Refusing to drop database {name!r}: its name does not "
                                 "contain 'bench'. Pass --force if you mean it.")
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    progress.say(f"database {name} {'re' if exists else ''}created")


def vacuum_analyze(progress: Progress) -> None:
    import psycopg

    with psycopg.connect(_common.DATABASE_URL, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")
    progress.say("VACUUM (ANALYZE) done: visibility map and planner statistics are fresh")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="bench/generate", description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--orgs", type=int, default=60)
    parser.add_argument("--clients", type=int, default=300_000)
    parser.add_argument("--referrals", type=int, default=1_000_000)
    parser.add_argument("--workshops", type=int, default=5_000)
    parser.add_argument("--scale", type=float, default=1.0,
                        help="multiply clients, referrals and workshops (e.g. 0.01 to try it)")
    parser.add_argument("--seed", default="2017")
    parser.add_argument("--batch-clients", type=int, default=5_000,
                        help="clients per COPY transaction")
    parser.add_argument("--writers", type=int, default=2,
                        help="parallel COPY connections")
    parser.add_argument("--force", action="store_true",
                        help="drop the target database even if its name lacks 'bench'")
    args = parser.parse_args(argv)
    args.clients = max(1, int(args.clients * args.scale))
    args.referrals = max(args.clients, int(args.referrals * args.scale))
    args.workshops = max(1, int(args.workshops * args.scale))

    progress = Progress(f"bench/generate -> {_common.database_name()}: {args.orgs} orgs, "
                        f"{args.clients:,} clients, {args.referrals:,} referrals, "
                        f"{args.workshops:,} workshops")
    recreate_database(args, progress)
    _common.manage("migrate", "--noinput", "-v", "0")
    progress.say("migrated")
    _common.manage("seed_coalition")
    progress.say("coalition seeded")
    _common.setup_django(production=False)
    snapshot = create_directory(args, progress)
    from django.db import connection

    connection.close()
    totals = load_bulk(args, snapshot, progress)
    totals["service_events"] = load_workshops(args, snapshot, progress)
    vacuum_analyze(progress)
    seconds = progress.elapsed()
    progress.say(f"done in {seconds:.0f}s: " + ", ".join(f"{n:,} {k}" for k, n in totals.items()))
    _common.RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    summary = {
        "database": _common.database_name(),
        "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "window": [WINDOW_START.date().isoformat(), date.today().isoformat()],
        "arguments": {k: getattr(args, k) for k in ("orgs", "clients", "referrals",
                                                     "workshops", "seed", "batch_clients")},
        "rows": totals,
        "seconds": round(seconds, 1),
    }
    (_common.RESULTS_DIR / "generate.json").write_text(json.dumps(summary, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
