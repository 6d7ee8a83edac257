"""Demo data for reports: the grants (the caucus's $250,000 to Vera's NYIFUP is
real; the others are illustrative) and two fiscal years of illustrative referral
history and workshops, so that a budget request has numbers to show."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from orgs.models import Language, Organization, SenateDistrict, ServiceType
from referrals.models import (
    Client,
    Consent,
    EventKind,
    IntakeChannel,
    OutcomeCode,
    Priority,
    Referral,
    ReferralEvent,
    ReferralOutcome,
    Status,
)

from .models import Grant, ServiceEvent, ServiceEventKind

HISTORY_MARK = "[history]"

GRANTS = [
    # funder, grantee, SFY, amount, service types, description[, period]
    ("idc", "vera-nyifup", "2017-18", "250000", ["detained-defense", "removal-defense"],
     "Deportation defense through NYIFUP (reported 2017)."),
    ("nyc-council", "camba-legal", "2016-17", "150000", ["asylum", "removal-defense"],
     "Illustrative."),
    ("nyc-council", "camba-legal", "2017-18", "180000", ["asylum", "removal-defense"],
     "Illustrative."),
    ("nyc-council", "cala", "2017-18", "90000", ["removal-defense", "stay-of-removal"],
     "Illustrative."),
    ("empire-immigrant-fund", "chhaya-cdc", "2016-17", "50000", ["naturalization"],
     "Illustrative."),
    ("empire-immigrant-fund", "chhaya-cdc", "2017-18", "60000", ["naturalization"],
     "Illustrative."),
    ("empire-immigrant-fund", "her-justice", "2017-18", "75000", ["u-t-visa-vawa"],
     "Illustrative."),
    # Half a year, and a service type the Council's grant funds too.
    ("empire-immigrant-fund", "camba-legal", "2017-18", "40000",
     ["removal-defense", "stay-of-removal"], "Illustrative: emergency stays, second half-year.",
     (date(2017, 10, 1), date(2018, 3, 31))),
]

FIRST_NAMES = ["Ana", "Jose", "Wei", "Fatima", "Rahim", "Maria", "Jean", "Priya", "Luis",
               "Aisha", "Carlos", "Mei", "Tenzin", "Sean", "Olga", "Kwame", "Sofia", "Amir"]
FAMILY_NAMES = ["Lopez", "Chen", "Rahman", "Garcia", "Baptiste", "Sharma", "Torres", "Khan",
                "Ramirez", "Li", "Sherpa", "Murphy", "Ivanova", "Mensah", "Hossain", "Diaz"]
SUCCESS_OUTCOMES = [OutcomeCode.APPLICATION_FILED, OutcomeCode.REPRESENTATION_SECURED,
                    OutcomeCode.ADVICE_GIVEN, OutcomeCode.RELIEF_GRANTED,
                    OutcomeCode.STAY_OF_REMOVAL_GRANTED, OutcomeCode.CASE_REOPENED]


@transaction.atomic
def demo_grants_seed() -> int:
    made = 0
    for funder, grantee, year, amount, services, description, *period in GRANTS:
        start, end = period[0] if period else (None, None)
        grant, created = Grant.objects.get_or_create(
            funder=Organization.objects.get(slug=funder),
            grantee=Organization.objects.get(slug=grantee), fiscal_year=year,
            defaults={"amount": Decimal(amount), "description": description,
                      "period_start": start, "period_end": end})
        if created:
            grant.service_types.set(ServiceType.objects.filter(code__in=services))
            made += 1
    return made


@transaction.atomic
def demo_history_seed(count: int = 3000, seed: int = 2017) -> int:
    """Referrals spread over SFY 2016-17 and 2017-18, made in bulk (their history is
    illustrative, not replayed through the services). Loaded once."""
    if not settings.DEBUG:
        raise RuntimeError("Demo data is loaded only with DEBUG on.")
    if Referral.objects.filter(summary__startswith=HISTORY_MARK).exists():
        return 0
    rng = random.Random(seed)
    tz = timezone.get_current_timezone()
    senders = list(Organization.objects.filter(kind__in=["district_office", "hotline"])
                   .prefetch_related("senate_districts"))
    receivers = list(Organization.objects.filter(accepting_referrals=True, active=True)
                     .exclude(kind__in=["hotline", "funder"]).prefetch_related("service_types"))
    # A few big partners take most referrals, as in real traffic.
    weights = [8 if r.slug in ("camba-legal", "vera-nyifup", "cala", "cuny-citizenship-now")
               else 2 for r in receivers]
    languages = {lang.code: lang for lang in Language.objects.all()}
    districts = {d.number: d for d in SenateDistrict.objects.all()}
    start = date(2016, 4, 1)
    span_days = (date(2018, 3, 31) - start).days
    clients, referrals, events, outcomes, consents, primary = [], [], [], [], [], []
    for _ in range(count):
        sender = rng.choice(senders)
        receiver = rng.choices(receivers, weights)[0]
        offered = list(receiver.service_types.all())
        if not offered:
            continue
        service = rng.choice(offered)
        created = timezone.make_aware(datetime.combine(
            start + timedelta(days=rng.randrange(span_days)), time(rng.randrange(9, 18))), tz)
        language = rng.choice(["es", "es", "es", "en", "zh", "bn", "ht", "ar"])
        client = Client(given_name=rng.choice(FIRST_NAMES),
                        family_name=f"{rng.choice(FAMILY_NAMES)} (illustrative)",
                        created_by_org=sender, created_at=created,
                        primary_language=languages[language])
        clients.append(client)
        primary.append(language)
        roll = rng.random()
        status = (Status.COMPLETED if roll < 0.62 else Status.FAILED if roll < 0.70
                  else Status.REJECTED if roll < 0.78 else Status.CANCELLED if roll < 0.83
                  else Status.IN_PROGRESS if roll < 0.90 else Status.ON_HOLD if roll < 0.93
                  else Status.ACCEPTED if roll < 0.96 else Status.REQUESTED)
        sender_districts = [d.number for d in sender.senate_districts.all()]
        referral = Referral(
            sending_org=sender, receiving_org=receiver, client=client, service_type=service,
            district=districts[rng.choice(sender_districts)] if sender_districts else None,
            priority=rng.choices([Priority.ROUTINE, Priority.URGENT, Priority.ASAP],
                                 [70, 20, 10])[0],
            needed_by=(created + timedelta(days=rng.randrange(5, 60))).date(),
            intake_channel=(IntakeChannel.HOTLINE if sender.kind == "hotline"
                            else rng.choice([IntakeChannel.DISTRICT_OFFICE,
                                             IntakeChannel.WORKSHOP])),
            summary=f"{HISTORY_MARK} Illustrative {service.name.lower()} referral.",
            status=status, created_at=created, updated_at=created, version=1)
        timeline = [(EventKind.CREATED, "", Status.REQUESTED, created, "")]
        at = created
        if status in (Status.ACCEPTED, Status.IN_PROGRESS, Status.ON_HOLD, Status.COMPLETED,
                      Status.FAILED):
            at = at + timedelta(days=rng.randrange(0, 9), hours=rng.randrange(1, 8))
            referral.accepted_at = at
            timeline.append((EventKind.STATUS_CHANGED, Status.REQUESTED, Status.ACCEPTED, at, ""))
        if status in (Status.IN_PROGRESS, Status.ON_HOLD, Status.COMPLETED, Status.FAILED):
            at = at + timedelta(days=rng.randrange(1, 20))
            timeline.append((EventKind.STATUS_CHANGED, Status.ACCEPTED, Status.IN_PROGRESS, at,
                             ""))
        if status != Status.REQUESTED and status != Status.ACCEPTED and \
                status != Status.IN_PROGRESS:
            at = at + timedelta(days=rng.randrange(1, 120))
            reason, code = {
                Status.FAILED: ("Client could not be reached.",
                                rng.choice(["client-unreachable", "client-withdrew"])),
                Status.REJECTED: ("No capacity this month.",
                                  rng.choice(["no-capacity", "no-capacity", "not-eligible",
                                              "outside-service-area"])),
                Status.CANCELLED: ("Client found help elsewhere.",
                                   rng.choice(["resolved-elsewhere", "duplicate"])),
                Status.ON_HOLD: ("Waiting for documents.", "waiting-for-documents"),
            }.get(status, ("", ""))
            timeline.append((EventKind.STATUS_CHANGED, timeline[-1][2], status, at, reason))
            referral.status_reason, referral.status_reason_code = reason, code
            if status != Status.ON_HOLD:
                referral.closed_at = at
        referral.updated_at = at
        referral.version = len(timeline)
        referrals.append(referral)
        for version, (kind, before, after, when, reason) in enumerate(timeline, start=1):
            events.append((referral, kind, before, after, when, reason, version,
                           receiver if version > 1 and after != Status.CANCELLED else sender))
        if status == Status.COMPLETED:
            outcomes.append((referral, rng.choice(SUCCESS_OUTCOMES), at))
        elif status == Status.FAILED:
            outcomes.append((referral, OutcomeCode.CLIENT_UNREACHABLE, at))
        consents.append(Consent(client=client, shared_with=receiver, method="verbal",
                                captured_by_org=sender, captured_at=created))

    Client.objects.bulk_create(clients, batch_size=500)
    Client.preferred_languages.through.objects.bulk_create(
        [Client.preferred_languages.through(client_id=c.pk, language=languages[code])
         for c, code in zip(clients, primary)], batch_size=500)
    Consent.objects.bulk_create(consents, batch_size=500)
    Referral.objects.bulk_create(referrals, batch_size=500)
    ReferralEvent.objects.bulk_create(
        [ReferralEvent(referral=r, kind=kind, organization=org, at=when, from_status=before,
                       to_status=after, reason=reason, version=version)
         for r, kind, before, after, when, reason, version, org in events], batch_size=1000)
    ReferralOutcome.objects.bulk_create(
        [ReferralOutcome(referral=r, code=code, recorded_at=when) for r, code, when in outcomes],
        batch_size=1000)

    organisers = list(Organization.objects.filter(
        kind__in=["district_office", "legal_nonprofit", "community_group"])
        .prefetch_related("senate_districts"))
    offices = [o for o in organisers if o.kind == "district_office"]
    kyr = ServiceType.objects.get(code="know-your-rights")
    service_events = []

    def event(organiser, kind, title, day, district):
        service_events.append(ServiceEvent(
            organization=organiser, kind=kind, title=title, date=day, district=district,
            service_type=kyr, attendance=rng.randrange(8, 120),
            campaign=ServiceEvent.campaign_of(day, title)))

    for _ in range(count // 20):
        organiser = rng.choice(organisers)
        org_districts = list(organiser.senate_districts.all())
        day = start + timedelta(days=rng.randrange(span_days))
        event(organiser, rng.choice(list(ServiceEventKind)),
              f"Know Your Rights, {organiser.name} (illustrative)", day,
              rng.choice(org_districts) if org_districts else None)
    # Campaign days: every member's district office holds the same workshop the same day.
    for number in range(1, 9):
        day = start + timedelta(days=rng.randrange(span_days))
        for office in offices:
            event(office, ServiceEventKind.WORKSHOP,
                  f"Immigrant Defense Coalition Know Your Rights day {number} (illustrative)",
                  day, office.senate_districts.all()[0])
    ServiceEvent.objects.bulk_create(service_events, batch_size=500)
    return len(referrals)
