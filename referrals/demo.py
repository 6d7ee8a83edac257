"""Illustrative referrals for `make demo`, one or more in every status, made
through the services so that their histories are real. Loaded once."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.principal import Principal
from orgs.models import OAuthApplication
from orgs.oauth import grantable_scopes

from . import services
from .models import Referral
from .services import ClientInput, ConsentInput, OutcomeInput

DEMO_MARK = "[demo]"


def _principal(client_id: str) -> Principal:
    app = OAuthApplication.objects.select_related("organization").get(client_id=client_id)
    return Principal(organization=app.organization, application=app,
                     scopes=frozenset(grantable_scopes(app)))


def _move(principal, referral, *steps):
    for to, reason, outcomes in steps:
        referral = services.referral_transition(
            principal=principal, referral_id=referral.pk, to=to, reason=reason,
            expected_version=referral.version,
            outcomes=[OutcomeInput(code) for code in outcomes])
    return referral


@transaction.atomic
def demo_referrals_seed() -> int:
    """Create the demo referrals unless they exist; returns how many were made."""
    if not settings.DEBUG:
        raise RuntimeError("Demo data is loaded only with DEBUG on.")
    if Referral.objects.filter(summary__startswith=DEMO_MARK).exists():
        return 0
    office = _principal("demo-peralta-office")
    hotline = _principal("demo-hotline")
    camba = _principal("demo-camba")
    cala = _principal("demo-cala")
    today = timezone.localdate()
    verbal = ConsentInput(method="verbal")
    written = ConsentInput(method="written")

    def refer(sender, receiver, service, given, family, summary, *, priority="routine",
              needed_in=None, channel="district-office", languages=("es",), **client):
        return services.referral_create(
            principal=sender, receiving_org=receiver, service_type=service,
            intake_channel=channel, priority=priority,
            needed_by=today + timedelta(days=needed_in) if needed_in is not None else None,
            summary=f"{DEMO_MARK} {summary}", consent=written if client.pop("written", False)
            else verbal,
            client=ClientInput(given_name=given, family_name=family,
                               preferred_languages=list(languages), **client))

    made = []
    # The Jackson Heights case: a 36-year resident facing deportation to Bangladesh.
    r = refer(office, "cala", "stay-of-removal", "Abdul", "Karim (illustrative)",
              "36-year Queens resident ordered to report for removal to Bangladesh after an "
              "ICE check-in.", priority="asap", needed_in=5, languages=("bn", "en"),
              contact_preference="phone", phone="+1-718-555-0101", written=True)
    made.append(_move(cala, r, ("accepted", "", ()), ("in-progress", "", ()),
                      ("completed", "", ("stay-of-removal-granted", "case-reopened"))))
    made.append(refer(hotline, "camba-legal", "asylum", "Maria", "Gonzalez (illustrative)",
                      "Called the hotline; asylum filing deadline approaching.",
                      priority="urgent", needed_in=10, channel="hotline",
                      contact_preference="sms", phone="+1-347-555-0102"))
    r = refer(office, "camba-legal", "green-card", "Wei", "Chen (illustrative)",
              "Green card renewal after the travel-ban forum.", languages=("zh", "en"),
              contact_preference="email", email="wei.chen@example.org")
    made.append(_move(camba, r, ("accepted", "", ())))
    r = refer(hotline, "camba-legal", "removal-defense", "Jean", "Baptiste (illustrative)",
              "Hearing at 26 Federal Plaza next week.", priority="urgent", needed_in=-3,
              channel="hotline", languages=("ht", "fr"), contact_preference="do-not-contact",
              phone="+1-718-555-0104")
    made.append(_move(camba, r, ("accepted", "", ()), ("in-progress", "", ())))
    r = refer(office, "cala", "asylum", "Carlos", "Ramirez (illustrative)",
              "Needs documents from home country before filing.")
    made.append(_move(cala, r, ("accepted", "", ()),
                      ("on-hold", "Waiting for documents from the client's family.", ())))
    r = refer(office, "camba-legal", "visa", "Amina",
              "Diallo (illustrative)", "Student visa question.", languages=("fr",))
    made.append(_move(camba, r, ("rejected", "Out of our service area; try IANA.", ())))
    r = refer(hotline, "cala", "removal-defense", "Luis", "Torres (illustrative)",
              "Detained at a county jail.", priority="asap", needed_in=2, channel="hotline")
    made.append(_move(cala, r, ("accepted", "", ()),
                      ("failed", "Client transferred out of state before intake.",
                       ("client-unreachable",))))
    r = refer(office, "camba-legal", "naturalization", "Priya", "Sharma (illustrative)",
              "Citizenship application help.", languages=("hi", "en"))
    made.append(_move(office, r, ("cancelled", "Client chose CUNY Citizenship Now! instead.",
                                  ())))
    r = refer(hotline, "cala", "asylum", "Test", "Duplicate (illustrative)",
              "Duplicate of a referral already sent.", channel="hotline")
    made.append(_move(hotline, r, ("entered-in-error", "Duplicate entry.", ())))
    # Referred onward: CAMBA passes a detained client to NYIFUP.
    r = refer(office, "camba-legal", "removal-defense", "Samuel", "Okafor (illustrative)",
              "Family reports he was detained after a check-in.", priority="asap",
              needed_in=1, languages=("en",))
    r = _move(camba, r, ("accepted", "", ()))
    parent, child = services.referral_forward(
        principal=camba, referral_id=r.pk, expected_version=r.version,
        receiving_org="vera-nyifup", service_type="detained-defense",
        summary=f"{DEMO_MARK} Detained; needs NYIFUP representation.",
        reason="Detained-client defense is NYIFUP's.", consent=verbal)
    made.extend([parent, child])
    services.referral_note_add(principal=camba, referral_id=parent.pk,
                               text="Family can be reached through the district office.")
    return len(made)
