"""Hand-built reporting data, written in bulk through the ORM.

``build_casework()`` is small enough to count by hand: every expected figure
in the reporting tests is written there literally, worked out from the table
below, never computed by the code under test. ``build_many_small_cells()`` is
a larger, seeded dataset full of counts from 1 to 10 for the suppression and
query-count tests; it keeps its rows as plain records so a test can count
them independently of the SQL.

Times are New York wall-clock times (America/New_York). Several sit either
side of a fiscal boundary where UTC and New York disagree:
2017-03-31 23:30 EDT is 2017-04-01 03:30 UTC (SFY 2016-17 in New York, not
2017-18); 2017-06-30 22:00 EDT is 2017-07-01 02:00 UTC (NYC FY2017, not
FY2018); 2017-12-31 22:00 EST is 2018-01-01 03:00 UTC (calendar 2017).

The casework table. Receiver CAMBA Legal Services unless said otherwise;
accept/close are hours after creation, shown in days; "nb" is needed_by.

R1  2016-05-10 10:00 sd13->CAMBA  asylum   SD13 routine district C1 completed
    accept +2d close +30d; outcomes application-filed, representation-secured
R2  2016-08-15 09:00 hotline->CAMBA removal SD20 urgent hotline C2 failed
    accept +1d close +10d; outcome removal-ordered
R3  2017-03-31 23:30 sd13->CAMBA  asylum   SD13 routine district C3 rejected
    closed_at +1d (a rejection: no median counts it)
R4  2016-11-01 12:00 hotline->CAMBA visa   no SD routine hotline C1 in-progress
    accept +4d; nb 2016-12-01 (overdue)
R5  2017-04-01 00:30 sd13->CAMBA  asylum   SD13 asap district C4 completed
    accept +1d close +20d; outcomes application-filed, relief-granted
R6  2017-06-30 22:00 hotline->CAMBA removal SD20 urgent hotline C5 completed
    accept +3.5d close +70d; outcomes stay-of-removal-granted, case-reopened
R7  2017-07-01 00:30 sd20->CAMBA  asylum   SD20 routine district C6 accepted
    accept +2.5d; nb 2099-01-01 (not overdue)
R8  2017-12-31 22:00 hotline->CAMBA visa   no SD routine hotline C2 requested
    nb 2018-01-15 (overdue)
R9  2018-02-10 10:00 nyic->CAMBA  removal  SD13 urgent partner C7 on-hold
    accept +6d; no nb
R10 2017-09-05 11:00 CAMBA->CALA  asylum   SD20 routine partner C8 requested
R11 2017-05-05 10:00 sd13->CAMBA  asylum   SD13 routine district C9 ENTERED-IN-ERROR
    accept +1d; outcome advice-given (none of it may count)
R12 2017-10-10 10:00 CALA->Her Justice u-t-visa-vawa SD13 routine partner C10 requested
R13..R15 2017-05-01, 08-01, 11-01 10:00 sd13->CALA removal SD13 urgent district
    C23..C25 completed, accept +1d close +10d; outcome representation-secured
R16 2017-07-01 00:00 sd13->CALA removal SD13 urgent district C26 requested
    (exactly midnight: the first instant of NYC FY2018)
H1..H12  2017-05-01..12 10:00 (one a day) hotline->Chhaya CDC naturalization SD13
    routine hotline C11..C22 completed, accept +1d close +10d; outcome
    application-filed

Clients' primary languages: C1 es, C2 zh, C3 bn, C4 es, C5 es, C6 ht, C7 none,
C8 es, C9 es, C10 es, C11..C22 bn, C23..C26 es.

Service events (date, kind, SD, service type, attendance):
CAMBA  E1 2016-06-01 workshop 13 know-your-rights 25
       E2 2017-03-31 forum    20 know-your-rights 40
       E3 2017-04-01 workshop 13 know-your-rights 30
       E4 2017-06-30 clinic   -- asylum           12
       E5 2017-07-01 workshop 20 know-your-rights 18
CALA   E6 2017-05-01 workshop 13 know-your-rights 50
Chhaya E7 2017-06-15 workshop 13 know-your-rights 35

Grants (``build_grants``): NYC Council to CAMBA $150,000 (2016-17) and
$180,000 (2017-18), to CALA $90,000 (2017-18); Empire Immigrant Families
Fund to Chhaya CDC $60,000 (2017-18).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from orgs.models import Language, Organization, SenateDistrict, ServiceType
from referrals.models import Client, Consent, Referral, ReferralOutcome
from reporting.models import Grant, ServiceEvent

NEW_YORK = ZoneInfo("America/New_York")
NOT_OVERDUE = date(2099, 1, 1)

CAMBA = "camba-legal"
CALA = "cala"
CHHAYA = "chhaya-cdc"
FUNDER = "nyc-council"
OTHER_FUNDER = "empire-immigrant-fund"
GRANTEES = (CALA, CAMBA)  # nyc-council's, sorted

# Strings no funder response may ever contain (names, phones, e-mails, A-Numbers).
CLIENT_SECRETS_PREFIX = "Zq"


def ny(year, month, day, hour=12, minute=0) -> datetime:
    """A New York wall-clock time, as an aware UTC datetime."""
    return datetime(year, month, day, hour, minute, tzinfo=NEW_YORK).astimezone(UTC)


@dataclass
class Refs:
    """Lookups for the seeded directory, fetched once per dataset build."""

    orgs: dict
    services: dict
    districts: dict
    languages: dict

    @classmethod
    def load(cls) -> Refs:
        return cls(orgs={o.slug: o for o in Organization.objects.all()},
                   services={s.code: s for s in ServiceType.objects.all()},
                   districts={d.number: d for d in SenateDistrict.objects.all()},
                   languages={lang.code: lang for lang in Language.objects.all()})


@dataclass
class Dataset:
    clients: dict = field(default_factory=dict)      # name -> Client
    referrals: dict = field(default_factory=dict)    # name -> Referral
    events: dict = field(default_factory=dict)       # name -> ServiceEvent
    consents: list = field(default_factory=list)
    grants: dict = field(default_factory=dict)       # (funder, grantee, year) -> Grant
    records: list = field(default_factory=list)      # plain dicts, for independent counting
    event_records: list = field(default_factory=list)


def _client(refs, name, language, number, creator):
    """A client whose every personal detail is a unique, greppable string."""
    return Client(
        given_name=f"{CLIENT_SECRETS_PREFIX}given{number:03d}",
        family_name=f"{CLIENT_SECRETS_PREFIX}family{number:03d}",
        phone=f"718-555-{number:04d}", email=f"zqclient{number:03d}@example.org",
        a_number=f"{900000000 + number}",
        primary_language=refs.languages[language] if language else None,
        created_by_org=refs.orgs[creator], created_at=ny(2016, 4, 1, 9))


def _save(dataset: Dataset, refs: Refs, clients, referrals, outcomes, events):
    """Bulk-write clients, consents, referrals, outcomes and service events."""
    Client.objects.bulk_create(clients.values())
    consents = [Consent(client=r.client, shared_with=r.receiving_org, method="verbal",
                        captured_by_org=r.sending_org, captured_at=r.created_at)
                for r in referrals.values()]
    Consent.objects.bulk_create(consents)
    Referral.objects.bulk_create(referrals.values())
    ReferralOutcome.objects.bulk_create(
        [ReferralOutcome(referral=referrals[name], code=code,
                         recorded_at=referrals[name].closed_at or referrals[name].created_at)
         for name, codes in outcomes.items() for code in codes])
    ServiceEvent.objects.bulk_create(events.values())
    dataset.clients.update(clients)
    dataset.referrals.update(referrals)
    dataset.events.update(events)
    dataset.consents.extend(consents)


def build_casework() -> Dataset:
    """The hand-counted dataset described in the module docstring."""
    refs = Refs.load()
    dataset = Dataset()
    languages = {1: "es", 2: "zh", 3: "bn", 4: "es", 5: "es", 6: "ht", 7: None, 8: "es",
                 9: "es", 10: "es", **{n: "bn" for n in range(11, 23)},
                 23: "es", 24: "es", 25: "es", 26: "es"}
    clients = {f"C{n}": _client(refs, f"C{n}", lang, n, "sd13-peralta-office")
               for n, lang in languages.items()}

    def referral(name, created, sender, receiver, service, district, priority, channel,
                 client, status, accept_hours=None, close_hours=None, needed_by=None):
        return name, Referral(
            sending_org=refs.orgs[sender], receiving_org=refs.orgs[receiver],
            client=clients[client], service_type=refs.services[service],
            district=refs.districts[district] if district else None, priority=priority,
            intake_channel=channel, status=status, summary=f"{name} (reporting test)",
            status_reason="test" if status in ("rejected", "failed", "on-hold") else "",
            created_at=created, updated_at=created, needed_by=needed_by,
            accepted_at=created + timedelta(hours=accept_hours) if accept_hours else None,
            closed_at=created + timedelta(hours=close_hours) if close_hours else None)

    hot, sd13, sd20 = "idc-hotline", "sd13-peralta-office", "sd20-hamilton-office"
    rows = [
        referral("R1", ny(2016, 5, 10, 10), sd13, CAMBA, "asylum", 13, "routine",
                 "district-office", "C1", "completed", 48, 720),
        referral("R2", ny(2016, 8, 15, 9), hot, CAMBA, "removal-defense", 20, "urgent",
                 "hotline", "C2", "failed", 24, 240),
        referral("R3", ny(2017, 3, 31, 23, 30), sd13, CAMBA, "asylum", 13, "routine",
                 "district-office", "C3", "rejected", None, 24),
        referral("R4", ny(2016, 11, 1, 12), hot, CAMBA, "visa", None, "routine", "hotline",
                 "C1", "in-progress", 96, None, date(2016, 12, 1)),
        referral("R5", ny(2017, 4, 1, 0, 30), sd13, CAMBA, "asylum", 13, "asap",
                 "district-office", "C4", "completed", 24, 480),
        referral("R6", ny(2017, 6, 30, 22), hot, CAMBA, "removal-defense", 20, "urgent",
                 "hotline", "C5", "completed", 84, 1680),
        referral("R7", ny(2017, 7, 1, 0, 30), sd20, CAMBA, "asylum", 20, "routine",
                 "district-office", "C6", "accepted", 60, None, NOT_OVERDUE),
        referral("R8", ny(2017, 12, 31, 22), hot, CAMBA, "visa", None, "routine", "hotline",
                 "C2", "requested", None, None, date(2018, 1, 15)),
        referral("R9", ny(2018, 2, 10, 10), "nyic", CAMBA, "removal-defense", 13, "urgent",
                 "partner", "C7", "on-hold", 144),
        referral("R10", ny(2017, 9, 5, 11), CAMBA, CALA, "asylum", 20, "routine", "partner",
                 "C8", "requested"),
        referral("R11", ny(2017, 5, 5, 10), sd13, CAMBA, "asylum", 13, "routine",
                 "district-office", "C9", "entered-in-error", 24),
        referral("R12", ny(2017, 10, 10, 10), CALA, "her-justice", "u-t-visa-vawa", 13,
                 "routine", "partner", "C10", "requested"),
        *[referral(f"R{13 + i}", ny(2017, month, 1, 10), sd13, CALA, "removal-defense", 13,
                   "urgent", "district-office", f"C{23 + i}", "completed", 24, 240)
          for i, month in enumerate((5, 8, 11))],
        referral("R16", ny(2017, 7, 1, 0, 0), sd13, CALA, "removal-defense", 13, "urgent",
                 "district-office", "C26", "requested"),
        *[referral(f"H{i + 1}", ny(2017, 5, 1 + i, 10), hot, CHHAYA, "naturalization", 13,
                   "routine", "hotline", f"C{11 + i}", "completed", 24, 240)
          for i in range(12)],
    ]
    referrals = dict(rows)
    outcomes = {
        "R1": ["application-filed", "representation-secured"], "R2": ["removal-ordered"],
        "R5": ["application-filed", "relief-granted"],
        "R6": ["stay-of-removal-granted", "case-reopened"], "R11": ["advice-given"],
        **{f"R{n}": ["representation-secured"] for n in (13, 14, 15)},
        **{f"H{i + 1}": ["application-filed"] for i in range(12)},
    }

    def event(org, day, kind, district, service, attendance):
        return ServiceEvent(organization=refs.orgs[org], kind=kind, title=f"{kind} {day}",
                            date=day, district=refs.districts[district] if district else None,
                            service_type=refs.services[service], attendance=attendance,
                            campaign=ServiceEvent.campaign_of(day, f"{kind} {day}"))

    kyr = "know-your-rights"
    events = {
        "E1": event(CAMBA, date(2016, 6, 1), "workshop", 13, kyr, 25),
        "E2": event(CAMBA, date(2017, 3, 31), "forum", 20, kyr, 40),
        "E3": event(CAMBA, date(2017, 4, 1), "workshop", 13, kyr, 30),
        "E4": event(CAMBA, date(2017, 6, 30), "clinic", None, "asylum", 12),
        "E5": event(CAMBA, date(2017, 7, 1), "workshop", 20, kyr, 18),
        "E6": event(CALA, date(2017, 5, 1), "workshop", 13, kyr, 50),
        "E7": event(CHHAYA, date(2017, 6, 15), "workshop", 13, kyr, 35),
    }
    _save(dataset, refs, clients, referrals, outcomes, events)
    return dataset


def build_grants(dataset: Dataset | None = None) -> dict:
    refs = Refs.load()
    grants = {}
    for funder, grantee, year, amount, services in (
        (FUNDER, CAMBA, "2016-17", "150000.00", ["asylum", "removal-defense"]),
        (FUNDER, CAMBA, "2017-18", "180000.00", ["asylum", "removal-defense"]),
        (FUNDER, CALA, "2017-18", "90000.00", ["removal-defense"]),
        (OTHER_FUNDER, CHHAYA, "2017-18", "60000.00", ["naturalization"]),
    ):
        grant = Grant.objects.create(funder=refs.orgs[funder], grantee=refs.orgs[grantee],
                                     fiscal_year=year, amount=Decimal(amount),
                                     description=f"{funder} to {grantee} {year}")
        grant.service_types.set([refs.services[s] for s in services])
        grants[(funder, grantee, year)] = grant
    if dataset is not None:
        dataset.grants.update(grants)
    return grants


# --- many small cells ------------------------------------------------------------

MANY_RECEIVERS = [(CAMBA, 9), (CALA, 5), (CHHAYA, 3), ("her-justice", 2), ("iana", 1),
                  ("vera-nyifup", 4)]
MANY_SENDERS = [("idc-hotline", 6), ("sd13-peralta-office", 4), ("sd20-hamilton-office", 2),
                ("nyic", 1), (CAMBA, 1), (CALA, 1)]
MANY_SERVICES = [("asylum", 8), ("removal-defense", 5), ("visa", 2), ("naturalization", 2),
                 ("green-card", 1)]
MANY_DISTRICTS = [(13, 8), (20, 4), (34, 2), (11, 1), (None, 1)]
MANY_LANGUAGES = [("es", 10), ("zh", 3), ("bn", 2), ("ht", 1), (None, 1)]
MANY_STATUSES = [("completed", 8), ("failed", 1), ("rejected", 1), ("requested", 2),
                 ("accepted", 1), ("in-progress", 2), ("on-hold", 1), ("cancelled", 1),
                 ("entered-in-error", 1)]
MANY_OUTCOMES = ["application-filed", "representation-secured", "advice-given",
                 "relief-granted"]


def _pick(rng, weighted):
    values, weights = zip(*weighted)
    return rng.choices(values, weights)[0]


def build_many_small_cells(count: int = 160, seed: int = 2017, events: int | None = None,
                           client_offset: int = 1000) -> Dataset:
    """``count`` seeded referrals over SFY 2016-17 and 2017-18, skewed so that a few
    cells are large and many hold 1 to 10; ``count // 4`` service events."""
    refs = Refs.load()
    rng = random.Random(seed)
    dataset = Dataset()
    clients, referrals, outcomes, service_events = {}, {}, {}, {}
    span = (date(2018, 3, 31) - date(2016, 4, 1)).days
    pool = []  # returning clients: some people come back with a second referral
    for n in range(count):
        receiver = _pick(rng, MANY_RECEIVERS)
        sender = _pick(rng, MANY_SENDERS)
        if sender == receiver:
            sender = "idc-hotline"
        if pool and rng.random() < 0.15:
            client_name = rng.choice(pool)
        else:
            client_name = f"M{n}"
            language = _pick(rng, MANY_LANGUAGES)
            clients[client_name] = _client(refs, client_name, language, client_offset + n,
                                           "idc-hotline")
            clients[client_name].language_code = language
            pool.append(client_name)
        day = date(2016, 4, 1) + timedelta(days=rng.randrange(span + 1))
        created = ny(day.year, day.month, day.day, rng.randrange(0, 24), rng.choice((0, 30)))
        status = _pick(rng, MANY_STATUSES)
        accepted = (rng.randrange(1, 20) * 12
                    if status in ("completed", "failed", "accepted", "in-progress", "on-hold")
                    or (status in ("cancelled", "entered-in-error") and rng.random() < 0.5)
                    else None)
        closed = (accepted + rng.randrange(2, 40) * 24
                  if status in ("completed", "failed") else
                  rng.randrange(1, 10) * 24 if status in ("rejected", "cancelled") else None)
        district = _pick(rng, MANY_DISTRICTS)
        service = _pick(rng, MANY_SERVICES)
        priority = rng.choice(["routine", "routine", "urgent", "asap"])
        channel = rng.choice(["hotline", "district-office", "partner", "workshop"])
        needed_by = rng.choice([None, date(2017, 1, 1), NOT_OVERDUE])
        name = f"N{n}"
        referrals[name] = Referral(
            sending_org=refs.orgs[sender], receiving_org=refs.orgs[receiver],
            client=clients[client_name],
            service_type=refs.services[service],
            district=refs.districts[district] if district else None, priority=priority,
            intake_channel=channel, status=status, summary=f"{name} (reporting test)",
            created_at=created, updated_at=created, needed_by=needed_by,
            accepted_at=created + timedelta(hours=accepted) if accepted else None,
            closed_at=created + timedelta(hours=closed) if closed else None)
        codes = []
        if status == "completed":
            codes = rng.sample(MANY_OUTCOMES, rng.choice((1, 1, 2)))
        elif status == "failed":
            codes = ["client-unreachable"]
        if codes:
            outcomes[name] = codes
        dataset.records.append({
            "sender": sender, "receiver": receiver, "service_type": service,
            "district": district, "priority": priority, "intake_channel": channel,
            "language": clients[client_name].language_code, "client": client_name,
            "status": status, "created_at": created, "needed_by": needed_by,
            "accept_days": accepted / 24 if accepted else None,
            "close_days": closed / 24 if closed and status in ("completed", "failed") else None,
            "accepted": accepted is not None, "outcomes": codes,
            # Outcomes are recorded at the close; reports count them then.
            "outcomes_at": created + timedelta(hours=closed) if closed else created})
    organisers = [(CAMBA, 4), (CALA, 2), (CHHAYA, 2), ("her-justice", 1), ("iana", 1)]
    for n in range(count // 4 if events is None else events):
        organiser = _pick(rng, organisers)
        day = date(2016, 4, 1) + timedelta(days=rng.randrange(span + 1))
        kind = rng.choice(["workshop", "workshop", "forum", "clinic"])
        district = _pick(rng, MANY_DISTRICTS)
        service = rng.choice(["know-your-rights", "know-your-rights", "asylum"])
        attendance = rng.choice([0, rng.randrange(1, 11), rng.randrange(11, 60)])
        service_events[f"V{n}"] = ServiceEvent(
            organization=refs.orgs[organiser], kind=kind, title=f"event {n}", date=day,
            district=refs.districts[district] if district else None,
            service_type=refs.services[service], attendance=attendance,
            campaign=ServiceEvent.campaign_of(day, f"event {n}"))
        dataset.event_records.append({"organization": organiser, "kind": kind, "date": day,
                                      "title": f"event {n}",
                                      "district": district, "service_type": service,
                                      "attendance": attendance})
    _save(dataset, refs, clients, referrals, outcomes, service_events)
    return dataset
