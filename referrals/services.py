"""Every write to clients and referrals. Each function is one transaction and
takes the caller's Principal; REST views and GraphQL mutations only call these."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, date, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from core import hooks
from core.errors import DomainError, NotFound
from core.hooks import Change
from core.principal import Principal, require_casework
from core.rules import nested
from orgs.models import Language, Membership, Organization, SenateDistrict, ServiceType

from .models import (
    CAMPAIGN_OUTCOMES,
    CAMPAIGN_SERVICES,
    ERASED,
    REASONS_BY_STATUS,
    Appointment,
    AppointmentKind,
    LocationType,
    TERMINAL_STATUSES,
    Client,
    Consent,
    ConsentMethod,
    ContactPreference,
    EventKind,
    IdempotencyRecord,
    IntakeChannel,
    OutcomeCode,
    Priority,
    ReasonCode,
    Referral,
    ReferralEvent,
    ReferralNote,
    ReferralOutcome,
    Status,
)
from . import idempotency, rules
from .selectors import by_id, client_consents, visible_client, visible_referral

SENDER = "sender"
RECEIVER = "receiver"

# DOMAIN.md's table: from status -> {to status: parties who may make the move}.
TRANSITIONS: dict[str, dict[str, frozenset[str]]] = {
    Status.REQUESTED: {
        Status.ACCEPTED: frozenset({RECEIVER}),
        Status.REJECTED: frozenset({RECEIVER}),
        Status.CANCELLED: frozenset({SENDER}),
    },
    Status.ACCEPTED: {
        Status.IN_PROGRESS: frozenset({RECEIVER}),
        Status.ON_HOLD: frozenset({RECEIVER}),
        Status.COMPLETED: frozenset({RECEIVER}),
        Status.FAILED: frozenset({RECEIVER}),
        Status.CANCELLED: frozenset({SENDER, RECEIVER}),
    },
    Status.IN_PROGRESS: {
        Status.ON_HOLD: frozenset({RECEIVER}),
        Status.COMPLETED: frozenset({RECEIVER}),
        Status.FAILED: frozenset({RECEIVER}),
        Status.CANCELLED: frozenset({SENDER, RECEIVER}),
    },
    Status.ON_HOLD: {
        Status.IN_PROGRESS: frozenset({RECEIVER}),
        Status.COMPLETED: frozenset({RECEIVER}),
        Status.FAILED: frozenset({RECEIVER}),
        Status.CANCELLED: frozenset({SENDER, RECEIVER}),
    },
    # Reopening: the receiver, with a reason, within REFERRAL_REOPEN_WINDOW_DAYS of the
    # close, and never a referral it forwarded (its child carries the work on).
    Status.COMPLETED: {Status.IN_PROGRESS: frozenset({RECEIVER})},
    Status.FAILED: {Status.IN_PROGRESS: frozenset({RECEIVER})},
}
REOPENABLE = frozenset({Status.COMPLETED, Status.FAILED})
# The sender may mark a referral entered-in-error from any other status.
for _from in Status:
    if _from != Status.ENTERED_IN_ERROR:
        TRANSITIONS.setdefault(_from, {})[Status.ENTERED_IN_ERROR] = frozenset({SENDER})

REASON_REQUIRED = frozenset({Status.REJECTED, Status.CANCELLED, Status.ON_HOLD, Status.FAILED})
OUTCOMES_ALLOWED = frozenset({Status.COMPLETED, Status.FAILED})


@dataclass(frozen=True)
class OutcomeInput:
    code: str
    note: str = ""


@dataclass(frozen=True)
class ConsentInput:
    method: str
    captured_at: datetime | None = None


@dataclass(frozen=True)
class ClientInput:
    given_name: str
    family_name: str
    date_of_birth: date | None = None
    phone: str = ""
    email: str = ""
    preferred_languages: list[str] = field(default_factory=list)
    contact_preference: str = ContactPreference.PHONE
    a_number: str = ""


@dataclass(frozen=True)
class ReferralRequest:
    """What a create asks for, as both channels parse it (the idempotency
    fingerprint is taken on this, so a retry through either channel replays)."""

    receiving_org: str
    service_type: str
    intake_channel: str
    client_id: object = None
    client: ClientInput | None = None
    consent: ConsentInput | None = None
    priority: str = Priority.ROUTINE
    needed_by: date | None = None
    summary: str = ""
    district: int | None = None


@dataclass(frozen=True)
class Created:
    referral_id: object
    body: dict | None  # the first response, as the channel rendered it (None: render anew)
    replayed: bool


# Before this, a consent date is a typo (and New York's pre-1883 local mean time would
# render with an offset in seconds, which RFC 3339 cannot express).
EARLIEST_CONSENT = datetime(2000, 1, 1, tzinfo=UTC)


# --- helpers -----------------------------------------------------------------

def referral_data(referral, **extra) -> dict:
    """What an event says about a referral: ids, version and status, never client data."""
    return {"referral": {"id": str(referral.pk), "version": referral.version,
                         "status": referral.status,
                         "href": f"/api/v1/referrals/{referral.pk}/"}, **extra}


def _changed(principal: Principal, action: str, object_type: str, object_id, operation: str,
             event: str | None = None, organization_ids=(), data: dict | None = None) -> None:
    """Tell the audit trail and the webhook outbox, inside this transaction."""
    hooks.record_change(Change(principal=principal, action=action, object_type=object_type,
                               object_ids=(object_id,), operation=operation, event=event,
                               organization_ids=frozenset(organization_ids),
                               data=data or {}))


def _organization(slug: str, field_name: str) -> Organization:
    org = Organization.objects.filter(slug=slug, active=True).first()
    if org is None:
        raise DomainError("unknown_organization", f"No active organisation {slug!r}.",
                          field=field_name)
    return org


def _service_type(code: str, field_name: str = "service_type") -> ServiceType:
    service = ServiceType.objects.filter(code=code).first()
    if service is None:
        raise DomainError("unknown_service_type", f"No service type {code!r}.", field=field_name)
    return service


def _choice(value: str, choices, code: str, field_name: str) -> str:
    if value not in choices.values:
        raise DomainError(code, f"{value!r} is not one of: {', '.join(choices.values)}.",
                          field=field_name)
    return value


def _full_clean(obj, exclude: Iterable[str] = ()) -> None:
    try:
        obj.full_clean(exclude=list(exclude), validate_unique=False)
    except ValidationError as exc:
        name, messages = next(iter(exc.message_dict.items()))
        raise DomainError("validation_error", messages[0],
                          field=None if name == "__all__" else name) from None


def _party(principal: Principal, referral: Referral) -> str | None:
    if referral.receiving_org_id == principal.organization.pk:
        return RECEIVER
    if referral.sending_org_id == principal.organization.pk:
        return SENDER
    return None


def _event(referral: Referral, principal: Principal, kind: str, from_status: str,
           reason: str = "", at: datetime | None = None,
           reason_code: str = "") -> ReferralEvent:
    return ReferralEvent.objects.create(
        referral=referral, kind=kind, organization=principal.organization,
        actor_user=principal.user, actor_application=principal.application,
        at=at or timezone.now(), from_status=from_status, to_status=referral.status,
        reason=reason, reason_code=reason_code, version=referral.version,
    )


def check_version(referral: Referral, expected_version: int | None) -> None:
    if expected_version is None:
        raise DomainError(
            "precondition_required",
            "Send If-Match with the referral's current ETag (or expectedVersion in GraphQL).")
    if expected_version != referral.version:
        raise DomainError(
            "version_mismatch",
            f"The referral changed: it is at version {referral.version}, not "
            f"{expected_version}. Fetch it again and retry.", headers={"ETag": referral.etag},
            current_version=referral.version)


# --- clients and consent --------------------------------------------------------

@transaction.atomic
def client_create(*, principal: Principal, data: ClientInput) -> Client:
    require_casework(principal)
    given_name, family_name = rules.GIVEN_NAME.clean(data.given_name), rules.FAMILY_NAME.clean(data.family_name)
    phone, email = rules.PHONE.clean(data.phone), rules.EMAIL.clean(data.email)
    a_number = (data.a_number or "").strip()
    codes = [rules.LANGUAGE_CODE.clean(code) for code in rules.PREFERRED_LANGUAGES.clean(
        data.preferred_languages)]
    _choice(data.contact_preference, ContactPreference, "invalid_contact_preference",
            "contact_preference")
    languages = list(Language.objects.filter(code__in=set(codes)))
    unknown = set(codes) - {lang.code for lang in languages}
    if unknown:
        raise DomainError("unknown_language", f"Unknown language code(s): {', '.join(sorted(unknown))}.",
                          field="preferred_languages")
    by_code = {lang.code: lang for lang in languages}
    client = Client(
        primary_language=by_code.get(codes[0]) if codes else None,
        given_name=given_name, family_name=family_name, date_of_birth=data.date_of_birth,
        phone=phone, email=email, contact_preference=data.contact_preference,
        a_number=a_number or None, created_by_org=principal.organization,
    )
    _full_clean(client, exclude=["created_by_org"])
    client.save()
    client.preferred_languages.set(languages)
    _changed(principal, hooks.CREATE, "client", client.pk, "client_create")
    return client


def _consent_create(principal: Principal, client: Client, shared_with: Organization,
                    data: ConsentInput) -> Consent:
    _choice(data.method, ConsentMethod, "invalid_consent_method", "method")
    captured_at = data.captured_at or timezone.now()
    if timezone.is_naive(captured_at):  # GraphQL's DateTime may come without an offset
        captured_at = timezone.make_aware(captured_at)
    if captured_at > timezone.now():
        raise DomainError("date_out_of_range", "Consent cannot be captured in the future.",
                          field="captured_at")
    if captured_at < EARLIEST_CONSENT:
        raise DomainError("date_out_of_range", "Consent cannot be captured before 2000.",
                          field="captured_at")
    # In UTC: PostgreSQL refuses UTC offsets over 15:59, which ISO 8601 allows.
    captured_at = captured_at.astimezone(UTC)
    consent = Consent.objects.create(
        client=client, shared_with=shared_with, method=data.method,
        captured_by_org=principal.organization, captured_by_user=principal.user,
        captured_by_application=principal.application, captured_at=captured_at,
    )
    _changed(principal, hooks.UPDATE, "client", client.pk, "consent_record")
    return consent


@transaction.atomic
def consent_record(*, principal: Principal, client_id, shared_with: str,
                   data: ConsentInput) -> Consent:
    client = visible_client(principal, client_id)
    return _consent_create(principal, client, _organization(shared_with, "shared_with"), data)


@transaction.atomic
def consent_revoke(*, principal: Principal, client_id, consent_id) -> Consent:
    client = visible_client(principal, client_id)
    consent = by_id(client_consents(principal, client).select_for_update(of=("self",)),
                    consent_id)
    if consent is None:
        raise NotFound("No such consent for this client.")
    if consent.revoked_at is None:
        consent.revoked_at = timezone.now()
        consent.revoked_by_org = principal.organization
        consent.save(update_fields=["revoked_at", "revoked_by_org"])
        _changed(principal, hooks.UPDATE, "client", client.pk, "consent_revoke")
    return consent


@transaction.atomic
def client_erase(*, principal: Principal, client_id) -> Client:
    """Erase a client's personal data on request: names, contact details, protected
    identifiers and every free text about them go; the referral skeletons stay, so
    that every count and report is unchanged. Allowed to the organisation that
    recorded the client and to coalition admins."""
    client = visible_client(principal, client_id)
    if client.created_by_org_id != principal.organization.pk and not principal.is_admin:
        raise DomainError("not_client_creator", "Only the organisation that recorded this "
                          "client (or a coalition admin) may erase it.")
    if client.erased_at is not None:
        return client
    now = timezone.now()
    client.given_name = client.family_name = ERASED
    client.date_of_birth = None
    client.a_number = None
    client.phone = client.email = ""
    client.contact_preference = ContactPreference.DO_NOT_CONTACT
    client.erased_at = now
    client.save()
    # The primary language stays: reports count clients by it.
    client.preferred_languages.clear()
    referrals = Referral.objects.filter(client=client)
    # A new version, so that copies held elsewhere (ETags) are seen to be stale.
    referrals.update(summary="", updated_at=now, version=F("version") + 1)
    referrals.exclude(status_reason="").update(status_reason=ERASED)
    ReferralNote.objects.filter(referral__in=referrals).update(text=ERASED)
    ReferralEvent.objects.filter(referral__in=referrals).exclude(reason="").update(
        reason=ERASED)
    ReferralOutcome.objects.filter(referral__in=referrals).exclude(note="").update(
        note=ERASED)
    # Responses kept for Idempotency-Key replays hold the client's name and contact
    # details; a replay renders the referral afresh instead.
    IdempotencyRecord.objects.filter(resource_id__in=referrals.values("pk")).update(
        response_body=None)
    parties = set(referrals.values_list("sending_org_id", flat=True)) | set(
        referrals.values_list("receiving_org_id", flat=True))
    _changed(principal, hooks.ERASE, "client", client.pk, "client_erase",
             event=hooks.CLIENT_ERASED, organization_ids=parties | {client.created_by_org_id},
             data={"client": {"id": str(client.pk), "href": f"/api/v1/clients/{client.pk}/"}})
    return client


def _require_consent(client: Client, receiver: Organization) -> None:
    if not Consent.objects.filter(client=client, shared_with=receiver,
                                  revoked_at__isnull=True).exists():
        raise DomainError(
            "consent_required",
            f"No consent on file to share this client with {receiver.slug}. Record it "
            "first (POST /api/v1/clients/{id}/consents/) or send `consent` with the referral.",
            field="consent")


# --- referrals ------------------------------------------------------------------

def _check_receiver(receiver: Organization, service: ServiceType, sender: Organization) -> None:
    if receiver.pk == sender.pk:
        raise DomainError("self_referral", "An organisation cannot refer to itself.",
                          field="receiving_org")
    if not receiver.accepting_referrals:
        raise DomainError("receiver_not_accepting",
                          f"{receiver.slug} is not accepting referrals; see "
                          "/api/v1/routing/suggestions/ for who is.", field="receiving_org")
    if not receiver.service_types.filter(pk=service.pk).exists():
        raise DomainError("service_not_offered",
                          f"{receiver.slug} does not offer {service.code}.",
                          field="service_type")


def _district(number: int | None, sender: Organization) -> SenateDistrict | None:
    """The named district, else the sender's when it serves exactly one."""
    if number is None:
        districts = list(sender.senate_districts.all()[:2])
        return districts[0] if len(districts) == 1 else None
    district = SenateDistrict.objects.filter(number=rules.DISTRICT.clean(number)).first()
    if district is None:
        raise DomainError("unknown_district", "A New York State Senate district is 1 to 63.",
                          field="district")
    return district


def _new_referral(principal: Principal, *, client: Client, receiver: Organization,
                  service: ServiceType, priority: str, needed_by: date | None,
                  intake_channel: str, summary: str, parent: Referral | None = None,
                  consent: ConsentInput | None = None,
                  district: SenateDistrict | None = None) -> Referral:
    _choice(priority, Priority, "invalid_priority", "priority")
    _choice(intake_channel, IntakeChannel, "invalid_intake_channel", "intake_channel")
    _check_receiver(receiver, service, principal.organization)
    if consent is not None:
        with nested("consent"):
            _consent_create(principal, client, receiver, consent)
    _require_consent(client, receiver)
    now = timezone.now()
    referral = Referral.objects.create(
        sending_org=principal.organization, receiving_org=receiver, client=client,
        service_type=service, district=district, priority=priority, needed_by=needed_by,
        intake_channel=intake_channel, summary=summary.strip(), parent=parent,
        chain_root_id=parent.chain_root_pk if parent else None,
        created_by_user=principal.user, created_by_application=principal.application,
        created_at=now, updated_at=now,
    )
    _event(referral, principal, EventKind.CREATED, "", at=now)
    _changed(principal, hooks.CREATE, "referral", referral.pk, "referral_create",
             event=hooks.REFERRAL_CREATED,
             organization_ids=(referral.sending_org_id, referral.receiving_org_id),
             data=referral_data(referral))
    return referral


@transaction.atomic
def referral_create(*, principal: Principal, receiving_org: str, service_type: str,
                    intake_channel: str, client_id=None, client: ClientInput | None = None,
                    consent: ConsentInput | None = None, priority: str = Priority.ROUTINE,
                    needed_by: date | None = None, summary: str = "",
                    district: int | None = None) -> Referral:
    """Open a referral from the principal's organisation, for an existing client
    (``client_id``) or a new one (``client``), with consent on file or given here."""
    require_casework(principal)
    if (client_id is None) == (client is None):
        raise DomainError("exactly_one_required", "Give exactly one of client_id or client.",
                          field="client_id")
    summary = rules.SUMMARY.clean(summary)
    receiver = _organization(receiving_org, "receiving_org")
    service = _service_type(service_type)
    district_obj = _district(district, principal.organization)
    if client_id is not None:
        client_obj = visible_client(principal, client_id)
    else:
        with nested("client"):
            client_obj = client_create(principal=principal, data=client)
    if client_obj.erased_at is not None:
        raise DomainError("client_erased", "This client's data was erased; record the person "
                          "again if they come back.", field="client_id")
    return _new_referral(principal, client=client_obj, receiver=receiver, service=service,
                         priority=priority, needed_by=needed_by,
                         intake_channel=intake_channel, summary=summary, consent=consent,
                         district=district_obj)


def referral_create_once(*, principal: Principal, idempotency_key: str | None,
                         request: ReferralRequest, render=None) -> Created:
    """``referral_create`` at most once per (application, Idempotency-Key): the same
    key and request replays the first result; another request with the key is 422,
    one still running 409. ``render(referral)`` gives the body stored for replays."""
    key = idempotency.parse_key(idempotency_key)
    digest = idempotency.fingerprint("referral_create", asdict(request))

    def perform():
        referral = referral_create(
            principal=principal, **{f.name: getattr(request, f.name) for f in fields(request)})
        return 201, render(referral) if render else None, referral.pk

    _, body, referral_id, replayed = idempotency.run(principal.application, key, digest,
                                                     perform)
    return Created(referral_id=referral_id, body=body, replayed=replayed)


def _apply_transition(principal: Principal, referral: Referral, to: str, reason: str,
                      outcomes: list[OutcomeInput], expected_version: int | None,
                      kind: str = EventKind.STATUS_CHANGED, reason_code: str = "") -> Referral:
    to = _choice(to, Status, "invalid_status", "to")
    if reason_code:
        _choice(reason_code, ReasonCode, "invalid_reason_code", "reason_code")
    # The input's own rules first: a request the OpenAPI document refuses is a 400
    # whatever the referral's version.
    reason = rules.REASON.clean(reason)
    outcomes, codes = _clean_outcomes(outcomes)
    check_version(referral, expected_version)
    party = _party(principal, referral)
    if party is None:
        raise DomainError("not_a_party",
                          "Only the sending or receiving organisation may change a referral.")
    allowed = TRANSITIONS.get(referral.status, {})
    if to not in allowed:
        raise DomainError("invalid_transition",
                          f"A referral cannot move from {referral.status} to {to}.", field="to")
    if party not in allowed[to]:
        who = " or ".join(sorted(allowed[to]))
        raise DomainError("not_allowed_for_party",
                          f"Only the {who} may move a referral from {referral.status} to {to}.", field="to")
    if reason_code and reason_code not in REASONS_BY_STATUS.get(to, ()):
        allowed_codes = ", ".join(REASONS_BY_STATUS.get(to, ())) or "none"
        raise DomainError("reason_code_not_for_status",
                          f"{reason_code} is no reason to move to {to}; the codes for it: "
                          f"{allowed_codes}.", field="reason_code")
    if referral.status in REOPENABLE and to == Status.IN_PROGRESS:
        _check_reopen(referral, reason)
    if to in REASON_REQUIRED and not (reason or reason_code):
        raise DomainError("reason_required", f"A reason is required to move to {to}: a "
                          "reason_code, a written reason, or both.", field="reason")
    if reason_code == ReasonCode.OTHER and not reason:
        raise DomainError("reason_required", "With reason_code other, write the reason.",
                          field="reason")
    if outcomes and to not in OUTCOMES_ALLOWED:
        raise DomainError("outcomes_not_allowed",
                          "Outcomes are recorded only when completing or failing.",
                          field="outcomes")
    if to == Status.COMPLETED and not outcomes:
        raise DomainError("outcomes_required", "Completing a referral records at least one "
                          "outcome.", field="outcomes")
    if len(set(codes)) != len(codes):
        raise DomainError("duplicate_outcome", "Each outcome code may appear once.",
                          field="outcomes")
    _check_campaign_outcomes(referral, codes)
    if OutcomeCode.REFERRED_ONWARD in codes and kind != EventKind.FORWARDED:
        raise DomainError("use_forward", "Refer onward with the forward operation, which "
                          "opens the child referral.", field="outcomes")

    now = timezone.now()
    from_status = referral.status
    changes = {"status": to, "status_reason": reason, "status_reason_code": reason_code,
               "updated_at": now, "version": F("version") + 1}
    if to == Status.ACCEPTED:
        changes["accepted_at"] = now
    if to in TERMINAL_STATUSES:
        changes["closed_at"] = now
    elif from_status in REOPENABLE:
        changes["closed_at"] = None
    _versioned_update(referral, changes)
    _record_outcomes(referral, outcomes, now)
    _event(referral, principal, kind, from_status, reason, at=now, reason_code=reason_code)
    _changed(principal, hooks.UPDATE, "referral", referral.pk,
             "referral_forward" if kind == EventKind.FORWARDED else "referral_transition",
             event=hooks.REFERRAL_STATUS_CHANGED,
             organization_ids=(referral.sending_org_id, referral.receiving_org_id),
             data=referral_data(referral, previous_status=from_status))
    _chain_changed(principal, referral, now)
    return referral


def _check_campaign_outcomes(referral: Referral, codes: list[str]) -> None:
    campaign = sorted(set(codes) & CAMPAIGN_OUTCOMES)
    if campaign and referral.service_type.code not in CAMPAIGN_SERVICES:
        raise DomainError("outcome_not_for_service",
                          f"{', '.join(campaign)} record community casework "
                          f"({', '.join(sorted(CAMPAIGN_SERVICES))}); this referral is for "
                          f"{referral.service_type.code}.", field="outcomes")


def _chain_changed(principal: Principal, referral: Referral, now) -> None:
    """A link of a chain changed status, or the chain grew: every link is marked (so
    the sync feed brings each one back to its parties) and the organisations on
    the chain but not on this referral hear of it (referral.chain_changed): the
    original sender learns the outcome three organisations down."""
    root = referral.chain_root_pk
    links = Referral.objects.filter(Q(pk=root) | Q(chain_root_id=root))
    if referral.chain_root_id is None and not links.exclude(pk=referral.pk).exists():
        return  # a referral on its own is no chain
    links.update(chain_updated_at=now)
    referral.chain_updated_at = now
    parties = set()
    for sender, receiver in links.values_list("sending_org_id", "receiving_org_id"):
        parties |= {sender, receiver}
    others = parties - {referral.sending_org_id, referral.receiving_org_id}
    if others:
        _changed(principal, hooks.UPDATE, "referral", referral.pk, "referral_chain",
                 event=hooks.REFERRAL_CHAIN_CHANGED, organization_ids=others,
                 data={"chain": {"root": str(root),
                                 "href": f"/api/v1/referrals/{root}/chain/"},
                       "link": {"id": str(referral.pk), "status": referral.status}})


def _clean_outcomes(outcomes: list[OutcomeInput]) -> tuple[list[OutcomeInput], list[str]]:
    """The outcomes' own rules (count, note length, known codes), and their codes."""
    outcomes = rules.OUTCOMES.clean(outcomes)
    for index, outcome in enumerate(outcomes):
        with nested(f"outcomes[{index}]"):
            rules.OUTCOME_NOTE.clean(outcome.note)
    codes = [o.code for o in outcomes]
    for code in codes:
        _choice(code, OutcomeCode, "invalid_outcome", "outcomes")
    return outcomes, codes


def _versioned_update(referral: Referral, changes: dict) -> None:
    """Write ``changes`` if the referral is still at the version read. The check and
    the write are one UPDATE: of two racing writes, exactly one matches the version."""
    updated = Referral.objects.filter(pk=referral.pk, version=referral.version).update(**changes)
    if updated != 1:
        current = Referral.objects.only("version").get(pk=referral.pk)
        raise DomainError("version_mismatch",
                          "The referral changed meanwhile. Fetch it again and retry.",
                          headers={"ETag": current.etag}, current_version=current.version)
    referral.refresh_from_db()


def _record_outcomes(referral: Referral, outcomes: list[OutcomeInput], now) -> None:
    ReferralOutcome.objects.bulk_create(
        [ReferralOutcome(referral=referral, code=o.code, note=o.note.strip(), recorded_at=now)
         for o in outcomes])


def _check_reopen(referral: Referral, reason: str) -> None:
    if not reason:
        raise DomainError("reason_required", "Say why the referral is reopened.",
                          field="reason")
    days = settings.REFERRAL_REOPEN_WINDOW_DAYS
    if referral.closed_at and referral.closed_at + timedelta(days=days) < timezone.now():
        raise DomainError("reopen_window_passed",
                          f"A referral may be reopened up to {days} days after it closed; "
                          "refer the client again instead.")
    if referral.outcomes.filter(code=OutcomeCode.REFERRED_ONWARD).exists():
        raise DomainError("reopen_forwarded",
                          "A referral forwarded to another organisation is not reopened; "
                          "the referral it opened carries the work on.")


@transaction.atomic
def referral_outcomes_add(*, principal: Principal, referral_id,
                          expected_version: int | None,
                          outcomes: Iterable[OutcomeInput]) -> Referral:
    """Record outcomes that came after the close (relief granted months later, a
    removal ordered): the receiver, on a completed or failed referral, guarded by
    its version; dated now, a new event and version, audited and announced. Reports
    count an outcome in the period it was recorded."""
    outcomes, codes = _clean_outcomes(list(outcomes))
    referral = visible_referral(principal, referral_id)
    check_version(referral, expected_version)
    if _party(principal, referral) != RECEIVER:
        raise DomainError("not_allowed_for_party",
                          "Only the receiving organisation records outcomes.")
    if referral.status not in REOPENABLE:
        raise DomainError("outcomes_not_allowed",
                          "Outcomes are added to a completed or failed referral; complete or "
                          "fail it with them.", field="outcomes")
    if not codes:
        raise DomainError("outcomes_required", "Give at least one outcome.", field="outcomes")
    recorded = set(referral.outcomes.values_list("code", flat=True))
    if len(set(codes)) != len(codes) or recorded & set(codes):
        raise DomainError("duplicate_outcome", "Each outcome code is recorded once per "
                          "referral.", field="outcomes")
    if OutcomeCode.REFERRED_ONWARD in codes:
        raise DomainError("use_forward", "Refer onward with the forward operation.",
                          field="outcomes")
    _check_campaign_outcomes(referral, codes)
    now = timezone.now()
    _versioned_update(referral, {"updated_at": now, "version": F("version") + 1})
    _record_outcomes(referral, outcomes, now)
    _event(referral, principal, EventKind.OUTCOME_ADDED, referral.status,
           ", ".join(codes), at=now)
    _changed(principal, hooks.UPDATE, "referral", referral.pk, "referral_outcomes_add",
             event=hooks.REFERRAL_OUTCOME_ADDED,
             organization_ids=(referral.sending_org_id, referral.receiving_org_id),
             data=referral_data(referral, outcomes=codes))
    _chain_changed(principal, referral, now)
    return referral


@transaction.atomic
def referral_transition(*, principal: Principal, referral_id, to: str,
                        expected_version: int | None, reason: str = "",
                        outcomes: Iterable[OutcomeInput] = (),
                        reason_code: str = "") -> Referral:
    """Move a referral along DOMAIN.md's table, guarded by its version. A rejection,
    failure, cancellation, hold or entry in error says why: a code of
    REASONS_BY_STATUS (countable in reports), a written reason, or both."""
    referral = visible_referral(principal, referral_id)
    return _apply_transition(principal, referral, to, reason, list(outcomes), expected_version,
                             reason_code=reason_code or "")


@transaction.atomic
def referral_forward(*, principal: Principal, referral_id, expected_version: int | None,
                     receiving_org: str, service_type: str | None = None,
                     reason: str = "", summary: str = "", priority: str | None = None,
                     needed_by: date | None = None,
                     consent: ConsentInput | None = None) -> tuple[Referral, Referral]:
    """Complete a referral with outcome referred-onward and open its child to a
    third organisation. Only the receiver forwards; returns (parent, child).

    Minimum necessary: the child's summary is what the forwarding organisation writes
    for the third one (empty if it writes none), never the parent's text."""
    reason, summary = rules.REASON.clean(reason), rules.SUMMARY.clean(summary)
    parent = visible_referral(principal, referral_id)
    check_version(parent, expected_version)
    if _party(principal, parent) != RECEIVER:
        raise DomainError("not_allowed_for_party",
                          "Only the receiving organisation may refer a client onward.")
    receiver = _organization(receiving_org, "receiving_org")
    if receiver.pk in (parent.sending_org_id, parent.receiving_org_id):
        raise DomainError("forward_to_party",
                          "Refer onward to a third organisation, not one already on the "
                          "referral.", field="receiving_org")
    service = _service_type(service_type, "service_type") if service_type else parent.service_type
    parent = _apply_transition(
        principal, parent, Status.COMPLETED, reason or f"Referred onward to {receiver.slug}",
        [OutcomeInput(OutcomeCode.REFERRED_ONWARD, f"to {receiver.slug}")],
        expected_version, kind=EventKind.FORWARDED)
    child = _new_referral(
        principal, client=parent.client, receiver=receiver, service=service,
        priority=priority or parent.priority, needed_by=needed_by or parent.needed_by,
        intake_channel=IntakeChannel.PARTNER, summary=summary,
        parent=parent, consent=consent, district=parent.district)
    _chain_changed(principal, child, child.created_at)
    return parent, child


APPOINTMENT_PAST = timedelta(days=366)
APPOINTMENT_AHEAD = timedelta(days=5 * 366)


@dataclass(frozen=True)
class AppointmentInput:
    kind: str
    at: datetime
    location_type: str


@transaction.atomic
def appointment_add(*, principal: Principal, referral_id, data: AppointmentInput) -> Appointment:
    """A court hearing, an ICE check-in, an interview or a consultation on a referral,
    by either organisation on it; both see it, and the next one raises the urgency
    shown. The referral comes back in the sync feed (updated_at), its version stays."""
    require_casework(principal)
    kind = _choice(data.kind, AppointmentKind, "invalid_appointment_kind", "kind")
    location = _choice(data.location_type, LocationType, "invalid_location_type",
                       "location_type")
    if data.at is None:
        raise DomainError("required", "Give the appointment's date and time.", field="at")
    at = timezone.make_aware(data.at) if timezone.is_naive(data.at) else data.at  # New York
    now = timezone.now()
    if not now - APPOINTMENT_PAST <= at <= now + APPOINTMENT_AHEAD:
        raise DomainError("date_out_of_range", "An appointment is within a year past and five "
                          "years ahead.", field="at")
    referral = visible_referral(principal, referral_id)
    if _party(principal, referral) is None:
        raise DomainError("not_a_party", "Only the sending or receiving organisation may "
                          "add an appointment.")
    appointment = Appointment.objects.create(
        referral=referral, kind=kind, at=at, location_type=location,
        created_by_org=principal.organization)
    Referral.objects.filter(pk=referral.pk).update(updated_at=now)
    _changed(principal, hooks.CREATE, "appointment", appointment.pk, "appointment_add",
             organization_ids=(referral.sending_org_id, referral.receiving_org_id),
             data={"referral": str(referral.pk), "kind": kind})
    return appointment


@transaction.atomic
def referral_assign(*, principal: Principal, referral_id, username: str | None) -> Referral:
    """Give the referral an owner on the caller's side (the receiving organisation's
    caseworker, or the sending organisation's own owner), or none (``username``
    None). Each side's owner is its own business: the other party never sees it, the
    referral's version and timeline do not change (no one else's ETag goes stale),
    and the audit trail records it."""
    require_casework(principal)
    referral = visible_referral(principal, referral_id)
    party = _party(principal, referral)
    if party is None:
        raise DomainError("not_a_party", "Only the sending or receiving organisation may "
                          "assign a referral.")
    user = None
    if username is not None:
        username = rules.USERNAME.clean(username)
        membership = (Membership.objects.select_related("user")
                      .filter(organization=principal.organization, active=True,
                              user__username=username, user__is_active=True).first())
        if membership is None:
            raise DomainError("unknown_assignee",
                              f"{username!r} is not an active member of your organisation.",
                              field="assigned_to")
        user = membership.user
    field = "assignee" if party == RECEIVER else "sender_owner"
    Referral.objects.filter(pk=referral.pk).update(**{field: user})
    setattr(referral, field, user)
    _changed(principal, hooks.UPDATE, "referral", referral.pk, "referral_assign",
             organization_ids=(principal.organization.pk,),
             data={"assigned_to": username, "side": party})
    return referral


@transaction.atomic
def referral_note_add(*, principal: Principal, referral_id, text: str) -> ReferralNote:
    """A note both organisations on the referral can read."""
    referral = visible_referral(principal, referral_id)
    if _party(principal, referral) is None:
        raise DomainError("not_a_party", "Only the sending or receiving organisation may add "
                          "notes.")
    text = rules.NOTE_TEXT.clean(text)
    now = timezone.now()
    note = ReferralNote.objects.create(
        referral=referral, author_org=principal.organization, author_user=principal.user,
        author_application=principal.application, text=text, created_at=now)
    Referral.objects.filter(pk=referral.pk).update(updated_at=now)
    referral.updated_at = now
    _event(referral, principal, EventKind.NOTE_ADDED, referral.status, at=now)
    _changed(principal, hooks.UPDATE, "referral", referral.pk, "referral_note_add",
             event=hooks.REFERRAL_NOTE_ADDED,
             organization_ids=(referral.sending_org_id, referral.receiving_org_id),
             data=referral_data(referral, note={"id": str(note.pk)}))
    return note
