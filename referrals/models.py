"""Clients, their consent, and the closed-loop referrals between organisations.

Every read of client data goes through ``visible_to(principal)`` on these
querysets; every write through ``referrals.services``.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from orgs.models import Language, OAuthApplication, Organization, SenateDistrict, ServiceType

from core.fields import EncryptedCharField, EncryptedDateField


class Status(models.TextChoices):
    REQUESTED = "requested", "Requested"
    ACCEPTED = "accepted", "Accepted"
    IN_PROGRESS = "in-progress", "In progress"
    ON_HOLD = "on-hold", "On hold"
    REJECTED = "rejected", "Rejected"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"
    ENTERED_IN_ERROR = "entered-in-error", "Entered in error"


TERMINAL_STATUSES = frozenset({Status.REJECTED, Status.COMPLETED, Status.FAILED,
                               Status.CANCELLED, Status.ENTERED_IN_ERROR})
OPEN_STATUSES = frozenset(set(Status) - TERMINAL_STATUSES)


class Priority(models.TextChoices):
    ROUTINE = "routine", "Routine"
    URGENT = "urgent", "Urgent"
    ASAP = "asap", "As soon as possible"


class IntakeChannel(models.TextChoices):
    HOTLINE = "hotline", "Hotline"
    DISTRICT_OFFICE = "district-office", "District-office walk-in"
    WORKSHOP = "workshop", "Workshop"
    PARTNER = "partner", "Partner"
    COMMUNITY_GROUP = "community-group", "Community group"


class ContactPreference(models.TextChoices):
    PHONE = "phone", "Phone"
    SMS = "sms", "SMS"
    EMAIL = "email", "Email"
    DO_NOT_CONTACT = "do-not-contact", "Do not contact"


class ConsentMethod(models.TextChoices):
    VERBAL = "verbal", "Verbal"
    WRITTEN = "written", "Written"


class OutcomeCode(models.TextChoices):
    STAY_OF_REMOVAL_GRANTED = "stay-of-removal-granted", "Stay of removal granted"
    RELIEF_GRANTED = "relief-granted", "Relief granted"
    APPLICATION_FILED = "application-filed", "Application filed"
    CASE_REOPENED = "case-reopened", "Case reopened"
    REPRESENTATION_SECURED = "representation-secured", "Representation secured"
    ADVICE_GIVEN = "advice-given", "Advice given"
    REFERRED_ONWARD = "referred-onward", "Referred onward"
    NO_RELIEF_AVAILABLE = "no-relief-available", "No relief available"
    CLIENT_UNREACHABLE = "client-unreachable", "Client unreachable"
    CLIENT_WITHDREW = "client-withdrew", "Client withdrew"
    REMOVAL_ORDERED = "removal-ordered", "Removal ordered"
    # Community groups' casework (a stay granted and a case reopened are above).
    ACCOMPANIED_TO_CHECK_IN = "accompanied-to-check-in", "Accompanied to the ICE check-in"
    HEARING_ATTENDED = "hearing-attended-by-supporters", "Hearing attended by supporters"
    PETITION_DELIVERED = "petition-delivered", "Petition delivered"


# Outcomes of a campaign, for the services community groups give (and only those).
CAMPAIGN_OUTCOMES = frozenset({"accompanied-to-check-in", "hearing-attended-by-supporters",
                               "petition-delivered"})
CAMPAIGN_SERVICES = frozenset({"ice-checkin-accompaniment", "know-your-rights"})


class ReasonCode(models.TextChoices):
    """Why a referral was rejected, failed, cancelled, put on hold or entered in error:
    countable, beside the free-text reason (a note)."""

    NO_CAPACITY = "no-capacity", "No capacity"
    OUTSIDE_SERVICE_AREA = "outside-service-area", "Outside the service area"
    CONFLICT_OF_INTEREST = "conflict-of-interest", "Conflict of interest"
    NOT_ELIGIBLE = "not-eligible", "Not eligible"
    CLIENT_UNREACHABLE = "client-unreachable", "Client unreachable"
    CLIENT_WITHDREW = "client-withdrew", "Client withdrew"
    DUPLICATE = "duplicate", "Duplicate referral"
    RESOLVED_ELSEWHERE = "resolved-elsewhere", "Resolved elsewhere"
    WAITING_FOR_DOCUMENTS = "waiting-for-documents", "Waiting for documents"
    WAITING_FOR_CLIENT = "waiting-for-client", "Waiting for the client"
    WAITING_FOR_DECISION = "waiting-for-decision", "Waiting for a hearing or decision"
    WRONG_CLIENT = "wrong-client", "Wrong client"
    DATA_ENTRY_ERROR = "data-entry-error", "Data entry error"
    OTHER = "other", "Other (say why in the reason)"


# Which codes explain which move ("other" always, with a reason written out).
REASONS_BY_STATUS = {
    "rejected": ("no-capacity", "outside-service-area", "conflict-of-interest",
                 "not-eligible", "other"),
    "failed": ("client-unreachable", "client-withdrew", "not-eligible", "other"),
    "cancelled": ("duplicate", "resolved-elsewhere", "client-withdrew", "other"),
    "on-hold": ("waiting-for-documents", "waiting-for-client", "waiting-for-decision",
                "other"),
    "entered-in-error": ("wrong-client", "duplicate", "data-entry-error", "other"),
}


class EventKind(models.TextChoices):
    CREATED = "created", "Created"
    STATUS_CHANGED = "status_changed", "Status changed"
    FORWARDED = "forwarded", "Forwarded"
    NOTE_ADDED = "note_added", "Note added"
    OUTCOME_ADDED = "outcome_added", "Outcome added after the close"


ERASED = "[erased]"

a_number_validator = RegexValidator(r"^\d{8,9}$", "An A-Number has 8 or 9 digits.",
                                    code="invalid_a_number")


class ClientQuerySet(models.QuerySet):
    def visible_to(self, principal) -> ClientQuerySet:
        """Clients the principal's organisation created or is on a referral for;
        all of them for coalition admins; none for anyone without referral access."""
        if principal is None or principal.is_funder:
            return self.none()
        if principal.is_admin:
            return self.all()
        org = principal.organization
        on_referral = Referral.objects.filter(client=OuterRef("pk")).filter(
            Q(sending_org=org) | Q(receiving_org=org))
        return self.filter(Q(created_by_org=org) | Exists(on_referral))


class Client(models.Model):
    """A person the coalition helps. No immigration status is asked for, anywhere."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    date_of_birth = EncryptedDateField(null=True, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    email = models.EmailField(blank=True)
    preferred_languages = models.ManyToManyField(Language, blank=True, related_name="+")
    primary_language = models.ForeignKey(
        Language, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="The first preferred language; reports group clients by it.")
    contact_preference = models.CharField(max_length=20, choices=ContactPreference.choices,
                                          default=ContactPreference.PHONE)
    a_number = EncryptedCharField(max_length=9, null=True, blank=True,
                                  validators=[a_number_validator],
                                  help_text="Optional Alien Registration Number, 8 or 9 "
                                            "digits; encrypted at rest.")
    created_by_org = models.ForeignKey(Organization, on_delete=models.PROTECT,
                                       related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    erased_at = models.DateTimeField(
        null=True, blank=True, help_text="When the client's personal data was erased on request.")

    objects = ClientQuerySet.as_manager()

    class Meta:
        ordering = ["family_name", "given_name", "id"]

    def __str__(self) -> str:
        return f"Client {self.id}"


class Consent(models.Model):
    """The client's consent to share their details with one receiving organisation."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="consents")
    shared_with = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    method = models.CharField(max_length=10, choices=ConsentMethod.choices)
    captured_by_org = models.ForeignKey(Organization, on_delete=models.PROTECT,
                                        related_name="+")
    captured_by_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                         on_delete=models.SET_NULL, related_name="+")
    captured_by_application = models.ForeignKey(OAuthApplication, null=True, blank=True,
                                                on_delete=models.SET_NULL, related_name="+")
    captured_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by_org = models.ForeignKey(Organization, null=True, blank=True,
                                       on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-captured_at"]
        indexes = [models.Index(fields=["client", "shared_with"])]

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class ReferralQuerySet(models.QuerySet):
    def visible_to(self, principal) -> ReferralQuerySet:
        """The one read gate: referrals the principal's organisation sends or
        receives; all for coalition admins; none for funders."""
        if principal is None or principal.is_funder:
            return self.none()
        if principal.is_admin:
            return self.all()
        org = principal.organization
        return self.filter(Q(sending_org=org) | Q(receiving_org=org))

    def owned_by(self, organization, user) -> ReferralQuerySet:
        """Referrals ``user`` owns for ``organization``: assigned to them when the
        organisation receives it, theirs as the sender's owner when it sends it."""
        return self.filter(Q(receiving_org=organization, assignee=user)
                           | Q(sending_org=organization, sender_owner=user))

    def unowned(self, organization) -> ReferralQuerySet:
        """Referrals nobody at ``organization`` owns yet, on its side."""
        return self.filter(Q(receiving_org=organization, assignee__isnull=True)
                           | Q(sending_org=organization, sender_owner__isnull=True))

    def overdue(self, today=None):
        today = today or timezone.localdate()
        return self.filter(needed_by__lt=today, status__in=OPEN_STATUSES)


class Referral(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    sending_org = models.ForeignKey(Organization, on_delete=models.PROTECT,
                                    related_name="referrals_sent")
    receiving_org = models.ForeignKey(Organization, on_delete=models.PROTECT,
                                      related_name="referrals_received")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="referrals")
    service_type = models.ForeignKey(ServiceType, on_delete=models.PROTECT, related_name="+")
    district = models.ForeignKey(
        SenateDistrict, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="The client's New York State Senate district, when known.")
    priority = models.CharField(max_length=10, choices=Priority.choices,
                                default=Priority.ROUTINE)
    needed_by = models.DateField(null=True, blank=True)
    intake_channel = models.CharField(max_length=20, choices=IntakeChannel.choices)
    summary = models.TextField(blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.REQUESTED)
    status_reason = models.TextField(blank=True)
    status_reason_code = models.CharField(max_length=40, blank=True, choices=ReasonCode.choices,
                                          help_text="Why it is in its status, as a code.")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="children")
    chain_root = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="The first referral of the chain this one was forwarded down from; null "
                  "for that first one.")
    chain_updated_at = models.DateTimeField(
        null=True, blank=True,
        help_text="When a referral of its chain last changed status or a link was added.")
    # Each side keeps its own owner; neither sees the other's.
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", help_text="The receiving organisation's staff member on the case.")
    sender_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", help_text="The sending organisation's own owner of the referral.")
    created_by_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                        on_delete=models.SET_NULL, related_name="+")
    created_by_application = models.ForeignKey(OAuthApplication, null=True, blank=True,
                                               on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    accepted_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    change_seq = models.BigIntegerField(
        default=0, editable=False,
        help_text="Commit-ordered change key for the sync feed; set by database triggers "
                  "on every insert and update (referrals/migrations/0012).")

    objects = ReferralQuerySet.as_manager()

    def owner_for(self, organization):
        """The user who owns the referral on ``organization``'s side, if any."""
        if organization is None:
            return None
        if organization.pk == self.receiving_org_id:
            return self.assignee
        if organization.pk == self.sending_org_id:
            return self.sender_owner
        return None

    @property
    def chain_root_pk(self):
        """The id of the chain's first referral (this one's own if it starts one)."""
        return self.chain_root_id or self.pk

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["updated_at", "id"]),
            models.Index(fields=["change_seq", "id"]),
            models.Index(fields=["sending_org", "-created_at"]),
            models.Index(fields=["receiving_org", "-created_at"]),
            models.Index(fields=["status", "needed_by"]),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(sending_org=models.F("receiving_org")),
                                   name="referral_sender_is_not_receiver"),
        ]

    def __str__(self) -> str:
        return f"Referral {self.id} ({self.status})"

    @property
    def etag(self) -> str:
        return f'"{self.version}"'

    @property
    def next_appointment(self):
        """The earliest appointment still to come (from the prefetched ones)."""
        now = timezone.now()
        return next((a for a in self.appointments.all() if a.at >= now), None)

    @property
    def urgency_shown(self) -> str:
        """The priority, raised by a near appointment: within 3 days as soon as possible,
        within 14 urgent (a court date or an ICE check-in next week is not routine)."""
        ranks = [Priority.ROUTINE, Priority.URGENT, Priority.ASAP]
        rank = ranks.index(self.priority)
        upcoming = self.next_appointment if self.status in OPEN_STATUSES else None
        if upcoming is not None:
            gap = upcoming.at - timezone.now()
            rank = max(rank, 2 if gap <= ASAP_WITHIN else 1 if gap <= URGENT_WITHIN else 0)
        return ranks[rank]

    @property
    def is_overdue(self) -> bool:
        return bool(self.needed_by and self.status in OPEN_STATUSES
                    and self.needed_by < timezone.localdate())


class ReferralOutcome(models.Model):
    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="outcomes")
    code = models.CharField(max_length=40, choices=OutcomeCode.choices)
    note = models.TextField(blank=True)
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["referral", "code"],
                                               name="one_outcome_code_per_referral")]


class AppendOnlyModel(models.Model):
    """Rows that are written once and never changed or deleted by the application."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise RuntimeError(f"{type(self).__name__} rows are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError(f"{type(self).__name__} rows are append-only.")


class ReferralEvent(AppendOnlyModel):
    """One change to a referral: who, for which org, through which app, when, from, to, why."""

    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    # PROTECT: history is append-only, so whoever acted stays on record.
    actor_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    actor_application = models.ForeignKey(OAuthApplication, null=True, blank=True,
                                          on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    from_status = models.CharField(max_length=20, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=Status.choices)
    reason = models.TextField(blank=True)
    reason_code = models.CharField(max_length=40, blank=True, choices=ReasonCode.choices)
    version = models.PositiveIntegerField(help_text="The referral's version after this event.")

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["referral", "at"])]


class AppointmentKind(models.TextChoices):
    COURT_HEARING = "court-hearing", "Court hearing"
    ICE_CHECK_IN = "ice-check-in", "ICE check-in"
    INTERVIEW = "interview", "Interview"
    CONSULTATION = "consultation", "Consultation"


class LocationType(models.TextChoices):
    """Where, as a kind of place: no address is ever asked for."""

    IMMIGRATION_COURT = "immigration-court", "Immigration court"
    ICE_OFFICE = "ice-office", "ICE office"
    DETENTION_FACILITY = "detention-facility", "Detention facility"
    OFFICE = "office", "The organisation's office"
    PHONE = "phone", "By phone"
    VIDEO = "video", "By video"


# How near the next appointment makes a referral more urgent than its priority says.
ASAP_WITHIN = timedelta(days=3)
URGENT_WITHIN = timedelta(days=14)


class Appointment(models.Model):
    """A dated event on a referral, seen by both organisations on it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="appointments")
    kind = models.CharField(max_length=20, choices=AppointmentKind.choices)
    at = models.DateTimeField()
    location_type = models.CharField(max_length=20, choices=LocationType.choices)
    created_by_org = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["referral", "at"]), models.Index(fields=["at"])]


class ReferralNote(models.Model):
    """A note shared between the two organisations on a referral."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="notes")
    author_org = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    author_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    author_application = models.ForeignKey(OAuthApplication, null=True, blank=True,
                                           on_delete=models.SET_NULL, related_name="+")
    text = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]


class IdempotencyRecord(models.Model):
    """A POST's Idempotency-Key, per OAuth application, kept at least 24 hours."""

    IN_FLIGHT = "in_flight"
    COMPLETED = "completed"

    application = models.ForeignKey(OAuthApplication, on_delete=models.CASCADE,
                                    related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    state = models.CharField(max_length=12, default=IN_FLIGHT)
    response_status = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True)
    resource_id = models.UUIDField(null=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["application", "key"],
                                               name="one_idempotency_key_per_application")]
        indexes = [models.Index(fields=["expires_at"])]
