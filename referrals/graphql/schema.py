"""GraphQL for clients and referrals: resolvers call referrals.selectors (reads,
through visible_to) and referrals.services (writes), exactly as REST does."""

from __future__ import annotations

import graphene
from django.conf import settings
from graphene_django import DjangoObjectType
from graphene_django.filter import DjangoFilterConnectionField
from graphql import FieldNode, FragmentSpreadNode, InlineFragmentNode, OperationType

from core.errors import NotFound
from core.scopes import REFERRALS_READ, REFERRALS_WRITE
from referrals import selectors, services
from referrals import rules
from referrals.filtersets import ClientFilterSet, ReferralFilterSet
from referrals.models import (
    Client,
    Consent,
    ConsentMethod,
    ContactPreference,
    EventKind,
    IntakeChannel,
    Appointment,
    AppointmentKind,
    LocationType,
    OutcomeCode,
    Priority,
    ReasonCode,
    Referral,
    ReferralEvent,
    ReferralNote,
    ReferralOutcome,
    Status,
)
from referrals.presentation import CLIENT_FIELDS, WITHHELD_HELP, View, chain_as_dict
from referrals.services import ClientInput, ConsentInput, OutcomeInput

from core.graphql import CoalitionError, enum_value, require_scopes
from orgs.graphql.schema import OrganizationNode, ServiceTypeNode

StatusEnum = graphene.Enum.from_enum(Status, name="ReferralStatus",
                                     description="Referral status")
PriorityEnum = graphene.Enum.from_enum(Priority, name="ReferralPriority",
                                       description="Referral priority")
IntakeChannelEnum = graphene.Enum.from_enum(IntakeChannel, name="IntakeChannel",
                                            description="How the client came in")
ContactPreferenceEnum = graphene.Enum.from_enum(ContactPreference, name="ContactPreference")
ConsentMethodEnum = graphene.Enum.from_enum(ConsentMethod, name="ConsentMethod")
OutcomeCodeEnum = graphene.Enum.from_enum(OutcomeCode, name="OutcomeCode")
EventKindEnum = graphene.Enum.from_enum(EventKind, name="ReferralEventKind")
ReasonCodeEnum = graphene.Enum.from_enum(ReasonCode, name="ReasonCode",
                                         description="Why a referral was rejected, failed, "
                                                     "cancelled, held or entered in error")


def selected_field_names(info) -> set[str]:
    """Every field name selected below the current field (fragments included)."""
    names: set[str] = set()

    def walk(selection_set):
        if selection_set is None:
            return
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                names.add(selection.name.value)
                walk(selection.selection_set)
            elif isinstance(selection, InlineFragmentNode):
                walk(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = info.fragments.get(selection.name.value)
                if fragment is not None:
                    walk(fragment.selection_set)

    for node in info.field_nodes:
        walk(node.selection_set)
    return names


def referral_list_options(info) -> dict:
    """What referral_list() should prefetch for the fields this query selects."""
    names = selected_field_names(info)
    return {"with_events": "events" in names, "with_notes": "notes" in names,
            "with_org_details": bool(names & {"senateDistricts", "languages", "serviceTypes"})}


def referral_queryset(info):
    principal = require_scopes(info, REFERRALS_READ)
    return selectors.referral_list(principal, **referral_list_options(info))


# --- types -------------------------------------------------------------------------


def client_view(info) -> View:
    """The view a client is rendered in: a list when any list lies on its path
    (connections' edges, referralChanges); else one object, read by a query or
    returned by a mutation. The same views as REST's (ClientSerializer.view)."""
    if any(isinstance(key, int) for key in info.path.as_list()):
        return View.LIST
    return View.DETAIL if info.operation.operation == OperationType.QUERY else View.RESULT


def shown(client, info, name: str) -> bool:
    return name in CLIENT_FIELDS.shown(info.context.principal, client, client_view(info))


class ClientType(DjangoObjectType):
    """A client. Which fields carry a value depends on the view and the caller
    (referrals.presentation.CLIENT_FIELDS, as in REST); the others are null."""

    contact_preference = graphene.Field(ContactPreferenceEnum, required=True)
    preferred_languages = graphene.List(graphene.NonNull(graphene.String), required=True,
                                        description="ISO 639 codes.")
    phone = graphene.String(description=WITHHELD_HELP["detail"])
    email = graphene.String(description=WITHHELD_HELP["detail"])
    a_number = graphene.String(description="A-Number. " + WITHHELD_HELP["protected"])
    date_of_birth = graphene.Date(description=WITHHELD_HELP["protected"])
    created_by_org = graphene.Field(OrganizationNode, required=True)
    primary_language = graphene.String(description="The first preferred language.")

    class Meta:
        model = Client
        name = "Client"
        fields = ("id", "given_name", "family_name", "created_at", "updated_at", "erased_at")
        filterset_class = ClientFilterSet
        use_connection = True

    def resolve_contact_preference(self, info):
        return self.contact_preference

    def resolve_preferred_languages(self, info):
        return [language.code for language in self.preferred_languages.all()]

    def resolve_phone(self, info):
        return self.phone if shown(self, info, "phone") else None

    def resolve_email(self, info):
        return self.email if shown(self, info, "email") else None

    def resolve_a_number(self, info):
        return self.a_number if shown(self, info, "a_number") else None

    def resolve_date_of_birth(self, info):
        return self.date_of_birth if shown(self, info, "date_of_birth") else None

    def resolve_created_by_org(self, info):
        return self.created_by_org

    def resolve_primary_language(self, info):
        return self.primary_language.code if self.primary_language_id else None


class ConsentType(DjangoObjectType):
    method = graphene.Field(ConsentMethodEnum, required=True)
    shared_with = graphene.String(required=True, description="Organisation slug.")
    captured_by_org = graphene.String(required=True, description="Organisation slug.")
    active = graphene.Boolean(required=True)

    class Meta:
        model = Consent
        name = "Consent"
        fields = ("id", "captured_at", "revoked_at")

    def resolve_method(self, info):
        return self.method

    def resolve_shared_with(self, info):
        return self.shared_with.slug

    def resolve_captured_by_org(self, info):
        return self.captured_by_org.slug


class OutcomeType(DjangoObjectType):
    code = graphene.Field(OutcomeCodeEnum, required=True)

    class Meta:
        model = ReferralOutcome
        name = "ReferralOutcome"
        fields = ("note", "recorded_at")

    def resolve_code(self, info):
        return self.code


class EventType(DjangoObjectType):
    kind = graphene.Field(EventKindEnum, required=True)
    organization = graphene.String(required=True, description="Organisation slug.")
    actor_user = graphene.String(description="Username, when a person acted.")
    actor_application = graphene.String(description="OAuth application name.")
    from_status = graphene.Field(StatusEnum)
    to_status = graphene.Field(StatusEnum, required=True)
    reason_code = graphene.Field(ReasonCodeEnum, description="null when none was given.")

    class Meta:
        model = ReferralEvent
        name = "ReferralEvent"
        fields = ("id", "at", "reason", "version")

    def resolve_kind(self, info):
        return self.kind

    def resolve_organization(self, info):
        return self.organization.slug

    def resolve_actor_user(self, info):
        return self.actor_user.get_username() if self.actor_user else None

    def resolve_actor_application(self, info):
        return self.actor_application.name if self.actor_application else None

    def resolve_from_status(self, info):
        return self.from_status or None

    def resolve_to_status(self, info):
        return self.to_status

    def resolve_reason_code(self, info):
        return self.reason_code or None


class NoteType(DjangoObjectType):
    author_org = graphene.String(required=True, description="Organisation slug.")
    author_user = graphene.String()

    class Meta:
        model = ReferralNote
        name = "ReferralNote"
        fields = ("id", "text", "created_at")

    def resolve_author_org(self, info):
        return self.author_org.slug

    def resolve_author_user(self, info):
        return self.author_user.get_username() if self.author_user else None


AppointmentKindEnum = graphene.Enum.from_enum(AppointmentKind, name="AppointmentKind")
LocationTypeEnum = graphene.Enum.from_enum(LocationType, name="LocationType")


class AppointmentType(DjangoObjectType):
    kind = graphene.Field(AppointmentKindEnum, required=True)
    location_type = graphene.Field(LocationTypeEnum, required=True,
                                   description="A kind of place; no address is asked for.")
    created_by_org = graphene.String(required=True, description="Organisation slug.")

    class Meta:
        model = Appointment
        name = "Appointment"
        fields = ("id", "at", "created_at")

    def resolve_kind(self, info):
        return self.kind

    def resolve_location_type(self, info):
        return self.location_type

    def resolve_created_by_org(self, info):
        return self.created_by_org.slug


class ChainOutcomeType(graphene.ObjectType):
    code = graphene.Field(OutcomeCodeEnum, required=True)
    recorded_at = graphene.DateTime(required=True)

    class Meta:
        name = "ChainOutcome"


class ChainLinkType(graphene.ObjectType):
    id = graphene.UUID(required=True)
    parent = graphene.UUID(description="The referral it was forwarded from; null for the first.")
    sending_org = graphene.String(required=True)
    receiving_org = graphene.String(required=True)
    service_type = graphene.String(required=True)
    status = graphene.Field(StatusEnum, required=True)
    priority = graphene.Field(PriorityEnum, required=True)
    created_at = graphene.DateTime(required=True)
    accepted_at = graphene.DateTime()
    closed_at = graphene.DateTime()
    outcomes = graphene.List(graphene.NonNull(ChainOutcomeType), required=True)
    yours = graphene.Boolean(required=True, description="Your organisation sends or receives it.")

    class Meta:
        name = "ChainLink"


class ChainType(graphene.ObjectType):
    root = graphene.UUID(required=True, description="The chain's first referral.")
    chain_updated_at = graphene.DateTime(
        description="When a link last changed status or the chain grew.")
    links = graphene.List(graphene.NonNull(ChainLinkType), required=True,
                          description="Oldest first. No client data: that stays on the "
                                      "referrals you are on.")

    class Meta:
        name = "ReferralChain"


class ReferralType(DjangoObjectType):
    status = graphene.Field(StatusEnum, required=True)
    priority = graphene.Field(PriorityEnum, required=True)
    intake_channel = graphene.Field(IntakeChannelEnum, required=True)
    overdue = graphene.Boolean(required=True, description="Open and past its needed-by date.")
    parent_id = graphene.UUID(description="The referral this one was forwarded from.")
    district = graphene.Int(description="The client's senate district, when known.")
    status_reason_code = graphene.Field(ReasonCodeEnum,
                                        description="Why it is in its status, as a code.")
    sending_org = graphene.Field(OrganizationNode, required=True)
    receiving_org = graphene.Field(OrganizationNode, required=True)
    service_type = graphene.Field(ServiceTypeNode, required=True)
    client = graphene.Field(ClientType, required=True)
    outcomes = graphene.List(graphene.NonNull(OutcomeType), required=True)
    events = graphene.List(graphene.NonNull(EventType), required=True,
                           description="Append-only history, oldest first.")
    notes = graphene.List(graphene.NonNull(NoteType), required=True)
    etag = graphene.String(required=True, description="The REST ETag for this version.")
    appointments = graphene.List(graphene.NonNull(AppointmentType), required=True,
                                 description="Oldest first; both organisations see them.")
    next_appointment = graphene.Field(AppointmentType,
                                      description="The earliest appointment still to come.")
    urgency = graphene.Field(PriorityEnum, required=True,
                             description="The priority, raised by a near appointment (within "
                                         "3 days: ASAP; within 14: URGENT).")
    assigned_to = graphene.String(
        description="The user name of who owns it on your organisation's side (the "
                    "receiver's caseworker, or the sender's own owner); null if nobody.")
    chain = graphene.Field(
        ChainType, required=True,
        description="Every referral of this one's chain, to any organisation on one of them "
                    "(as REST's /referrals/{id}/chain/); a few queries per referral asked.")

    class Meta:
        model = Referral
        name = "Referral"
        fields = ("id", "needed_by", "summary", "status_reason", "version", "created_at",
                  "updated_at", "accepted_at", "closed_at", "chain_updated_at")
        filterset_class = ReferralFilterSet
        use_connection = True

    def resolve_status(self, info):
        return self.status

    def resolve_priority(self, info):
        return self.priority

    def resolve_intake_channel(self, info):
        return self.intake_channel

    def resolve_overdue(self, info):
        return self.is_overdue

    def resolve_parent_id(self, info):
        return self.parent_id

    def resolve_status_reason_code(self, info):
        return self.status_reason_code or None

    def resolve_district(self, info):
        return self.district.number if self.district_id else None

    # The relations below read what referral_list() selected or prefetched.
    def resolve_sending_org(self, info):
        return self.sending_org

    def resolve_receiving_org(self, info):
        return self.receiving_org

    def resolve_service_type(self, info):
        return self.service_type

    def resolve_client(self, info):
        return self.client

    def resolve_outcomes(self, info):
        return list(self.outcomes.all())

    def resolve_events(self, info):
        return list(self.events.all())

    def resolve_notes(self, info):
        return list(self.notes.all())

    def resolve_etag(self, info):
        return self.etag

    def resolve_appointments(self, info):
        return list(self.appointments.all())

    def resolve_next_appointment(self, info):
        return self.next_appointment

    def resolve_urgency(self, info):
        return self.urgency_shown

    def resolve_assigned_to(self, info):
        owner = self.owner_for(getattr(info.context.principal, "organization", None))
        return owner.username if owner else None

    def resolve_chain(self, info):
        principal = require_scopes(info, REFERRALS_READ)
        data = chain_as_dict(principal, selectors.referral_chain(principal, self.pk))
        return ChainType(root=data["root"], chain_updated_at=data["chain_updated_at"], links=[
            ChainLinkType(**{**link, "outcomes": [ChainOutcomeType(**o) for o in link["outcomes"]]})
            for link in data["links"]])


class ReferralChangesType(graphene.ObjectType):
    referrals = graphene.List(graphene.NonNull(ReferralType), required=True,
                              description="Changed referrals, in commit order.")
    next_since = graphene.String(
        required=True, description="Store it and send it as `since` on the next sync; "
                                   "repeat while `more` is true.")
    more = graphene.Boolean(required=True,
                            description="More changes are ready now: sync again straight away.")

    class Meta:
        name = "ReferralChanges"


class RoutingSuggestionType(graphene.ObjectType):
    organization = graphene.Field(OrganizationNode, required=True)
    score = graphene.Int(required=True, description="Higher is a better match.")
    speaks_language = graphene.Boolean(required=True)
    serves_district = graphene.Boolean(required=True)
    has_capacity = graphene.Boolean(required=True)

    class Meta:
        name = "RoutingSuggestion"


# --- queries -------------------------------------------------------------------------


class ReferralsQuery(graphene.ObjectType):
    referrals = DjangoFilterConnectionField(
        ReferralType, description="Referrals your organisation sends or receives.")
    referral = graphene.Field(ReferralType, id=graphene.UUID(required=True))
    clients = DjangoFilterConnectionField(ClientType,
                                          description="Clients visible to your organisation.")
    referral_changes = graphene.Field(
        ReferralChangesType, required=True,
        since=graphene.String(description="The nextSince of your previous sync."),
        updated_after=graphene.DateTime(
            description="First sync only (without since): only referrals changed after this "
                        "instant. Omit both for a full sync."),
        first=graphene.Int(description=f"Referrals per page (default 50, at most "
                                       f"{settings.API_MAX_PAGE_SIZE})."),
        description="Referrals your organisation sends or receives that changed since your "
                    "last sync, in commit order, with no gap or repeat while others write. "
                    "Store nextSince and send it as since on the next sync; repeat while more "
                    "is true.")
    client = graphene.Field(ClientType, id=graphene.UUID(required=True))
    client_consents = graphene.List(graphene.NonNull(ConsentType), required=True,
                                    client_id=graphene.UUID(required=True))
    routing_suggestions = graphene.List(
        graphene.NonNull(RoutingSuggestionType), required=True,
        service_type=graphene.String(required=True), language=graphene.String(),
        district=graphene.Int(),
        description="Organisations that could take a referral, best first.")

    def resolve_referrals(root, info, **kwargs):
        return referral_queryset(info)

    def resolve_referral(root, info, id):
        referral = referral_queryset(info).filter(pk=id).first()
        if referral is None:
            raise NotFound("No referral with this id is visible to your organisation.")
        return referral

    def resolve_referral_changes(root, info, since=None, updated_after=None, first=None):
        principal = require_scopes(info, REFERRALS_READ)
        first = 50 if first is None else first
        if not 1 <= first <= settings.API_MAX_PAGE_SIZE:
            raise CoalitionError(f"`first` must be 1 to {settings.API_MAX_PAGE_SIZE}.",
                                 code="validation_error")
        page = selectors.referral_changes(principal, since=since, updated_after=updated_after,
                                          limit=first, **referral_list_options(info))
        return ReferralChangesType(referrals=page.referrals, next_since=page.next_since,
                                   more=page.more)

    def resolve_clients(root, info, **kwargs):
        return selectors.client_list(require_scopes(info, REFERRALS_READ))

    def resolve_client(root, info, id):
        client = selectors.client_list(require_scopes(info, REFERRALS_READ)).filter(pk=id).first()
        if client is None:
            raise NotFound("No client with this id is visible to your organisation.")
        return client

    def resolve_client_consents(root, info, client_id):
        principal = require_scopes(info, REFERRALS_READ)
        client = selectors.visible_client(principal, client_id)
        return list(selectors.client_consents(principal, client))

    def resolve_routing_suggestions(root, info, service_type, language=None, district=None):
        principal = require_scopes(info, REFERRALS_READ)
        return [
            RoutingSuggestionType(organization=org, score=org.score,
                                  speaks_language=org.speaks_language,
                                  serves_district=org.serves_district,
                                  has_capacity=org.has_capacity)
            for org in selectors.routing_suggestions(principal=principal,
                                                     service_type=service_type,
                                                     language=language, district=district)
        ]


# --- mutations ---------------------------------------------------------------------


class ConsentInputType(graphene.InputObjectType):
    method = ConsentMethodEnum(required=True)
    captured_at = graphene.DateTime(description="When consent was given; default now.")

    class Meta:
        name = "ConsentInput"


class ClientInputType(graphene.InputObjectType):
    given_name = graphene.String(required=True, description=rules.GIVEN_NAME.describe())
    family_name = graphene.String(required=True, description=rules.FAMILY_NAME.describe())
    date_of_birth = graphene.Date()
    phone = graphene.String(description=rules.PHONE.describe())
    email = graphene.String(description=rules.EMAIL.describe())
    preferred_languages = graphene.List(
        graphene.NonNull(graphene.String),
        description="ISO 639 codes, the primary language first. "
                    + rules.PREFERRED_LANGUAGES.describe())
    contact_preference = ContactPreferenceEnum()
    a_number = graphene.String(description="Optional A-Number, 8 or 9 digits.")

    class Meta:
        name = "ClientInput"


class OutcomeInputType(graphene.InputObjectType):
    code = OutcomeCodeEnum(required=True)
    note = graphene.String(description=rules.OUTCOME_NOTE.describe())

    class Meta:
        name = "OutcomeInput"


def _consent(data) -> ConsentInput | None:
    if not data:
        return None
    return ConsentInput(method=enum_value(data["method"]), captured_at=data.get("captured_at"))


def _client(data) -> ClientInput:
    values = {k: v for k, v in data.items() if v is not None}
    if "contact_preference" in values:
        values["contact_preference"] = enum_value(values["contact_preference"])
    return ClientInput(**values)


def _reload(info, referral_id):
    return referral_queryset(info).get(pk=referral_id)


class CreateReferralInput(graphene.InputObjectType):
    client_id = graphene.UUID(description="An existing client's id.")
    client = ClientInputType(description="Or a new client.")
    consent = ConsentInputType(description="Consent given now to share with the receiver.")
    receiving_org = graphene.String(required=True, description="Organisation slug.")
    service_type = graphene.String(required=True, description="Service type code.")
    priority = PriorityEnum()
    needed_by = graphene.Date()
    intake_channel = IntakeChannelEnum(required=True)
    district = graphene.Int(description="The client's senate district; default: the sender's. "
                                        + rules.DISTRICT.describe())
    summary = graphene.String(description=rules.SUMMARY.describe())


class CreateReferral(graphene.Mutation):
    """Refer a client. The idempotency key makes retries safe (same key and input
    returns the same referral; other input with the same key is refused)."""

    class Arguments:
        input = CreateReferralInput(required=True)
        idempotency_key = graphene.String(required=True)

    referral = graphene.Field(ReferralType, required=True)
    replayed = graphene.Boolean(required=True)

    @staticmethod
    def mutate(root, info, input, idempotency_key):
        principal = require_scopes(info, REFERRALS_WRITE)
        data = {k: v for k, v in input.items() if v is not None}
        for name in ("priority", "intake_channel"):
            if name in data:
                data[name] = enum_value(data[name])
        data["consent"] = _consent(data.pop("consent", None))
        if "client" in data:
            data["client"] = _client(data["client"])
        created = services.referral_create_once(
            principal=principal, idempotency_key=idempotency_key,
            request=services.ReferralRequest(**data))
        referral_id, replayed = created.referral_id, created.replayed
        return CreateReferral(referral=_reload(info, referral_id), replayed=replayed)


class TransitionReferral(graphene.Mutation):
    """Move a referral to another status, if it is still at ``expectedVersion``."""

    class Arguments:
        id = graphene.UUID(required=True)
        expected_version = graphene.Int(required=True)
        to = StatusEnum(required=True)
        reason = graphene.String(description="Rejecting, cancelling, holding or failing needs "
                                             "a reason: this text, a reasonCode, or both "
                                             "(OTHER: both). " + rules.REASON.describe())
        reason_code = ReasonCodeEnum(description="Why, as a code reports can count.")
        outcomes = graphene.List(graphene.NonNull(OutcomeInputType),
                                 description="Required (one or more) when completing. "
                                             + rules.OUTCOMES.describe())

    referral = graphene.Field(ReferralType, required=True)

    @staticmethod
    def mutate(root, info, id, expected_version, to, reason="", outcomes=None,
               reason_code=None):
        principal = require_scopes(info, REFERRALS_WRITE)
        referral = services.referral_transition(
            principal=principal, referral_id=id, to=enum_value(to), reason=reason or "",
            expected_version=expected_version,
            reason_code=enum_value(reason_code) if reason_code else "",
            outcomes=[OutcomeInput(code=enum_value(o["code"]), note=o.get("note") or "")
                      for o in outcomes or []])
        return TransitionReferral(referral=_reload(info, referral.pk))


class ForwardReferral(graphene.Mutation):
    """Complete a referral as referred-onward and open a child to a third org. The
    child's summary is the `summary` given, written for the third org; the parent's
    summary is never copied to it (empty if none is given)."""

    class Arguments:
        id = graphene.UUID(required=True)
        expected_version = graphene.Int(required=True)
        receiving_org = graphene.String(required=True)
        service_type = graphene.String()
        reason = graphene.String(description=rules.REASON.describe())
        summary = graphene.String(
            description="What the third organisation is told, written for it: the "
                        "parent's summary is never copied. " + rules.SUMMARY.describe())
        priority = PriorityEnum()
        needed_by = graphene.Date()
        consent = ConsentInputType()

    parent = graphene.Field(ReferralType, required=True)
    child = graphene.Field(ReferralType, required=True)

    @staticmethod
    def mutate(root, info, id, expected_version, receiving_org, service_type=None, reason="",
               summary="", priority=None, needed_by=None, consent=None):
        principal = require_scopes(info, REFERRALS_WRITE)
        parent, child = services.referral_forward(
            principal=principal, referral_id=id, expected_version=expected_version,
            receiving_org=receiving_org, service_type=service_type, reason=reason or "",
            summary=summary or "", priority=enum_value(priority) if priority else None,
            needed_by=needed_by, consent=_consent(consent))
        return ForwardReferral(parent=_reload(info, parent.pk), child=_reload(info, child.pk))


class AddReferralNote(graphene.Mutation):
    class Arguments:
        id = graphene.UUID(required=True)
        text = graphene.String(required=True, description=rules.NOTE_TEXT.describe())

    note = graphene.Field(NoteType, required=True)

    @staticmethod
    def mutate(root, info, id, text):
        principal = require_scopes(info, REFERRALS_WRITE)
        return AddReferralNote(note=services.referral_note_add(principal=principal,
                                                               referral_id=id, text=text))


class AddAppointment(graphene.Mutation):
    """A court hearing, ICE check-in, interview or consultation on a referral."""

    class Arguments:
        referral_id = graphene.UUID(required=True)
        kind = AppointmentKindEnum(required=True)
        at = graphene.DateTime(required=True)
        location_type = LocationTypeEnum(required=True)

    appointment = graphene.Field(AppointmentType, required=True)

    @staticmethod
    def mutate(root, info, referral_id, kind, at, location_type):
        principal = require_scopes(info, REFERRALS_WRITE)
        appointment = services.appointment_add(
            principal=principal, referral_id=referral_id,
            data=services.AppointmentInput(kind=enum_value(kind), at=at,
                                           location_type=enum_value(location_type)))
        return AddAppointment(appointment=appointment)


class AddReferralOutcomes(graphene.Mutation):
    """Record outcomes that came after the close (receiver, completed or failed referral,
    guarded by its version). Reports count an outcome in the period it was recorded."""

    class Arguments:
        id = graphene.UUID(required=True)
        expected_version = graphene.Int(required=True)
        outcomes = graphene.List(graphene.NonNull(OutcomeInputType), required=True,
                                 description=rules.OUTCOMES.describe())

    referral = graphene.Field(ReferralType, required=True)

    @staticmethod
    def mutate(root, info, id, expected_version, outcomes):
        principal = require_scopes(info, REFERRALS_WRITE)
        services.referral_outcomes_add(
            principal=principal, referral_id=id, expected_version=expected_version,
            outcomes=[OutcomeInput(code=enum_value(o["code"]), note=o.get("note") or "")
                      for o in outcomes])
        return AddReferralOutcomes(referral=_reload(info, id))


class AssignReferral(graphene.Mutation):
    """Assign a referral to someone at your organisation (assignedTo null: no one). The
    other party never sees it; the version does not change."""

    class Arguments:
        id = graphene.UUID(required=True)
        assigned_to = graphene.String(
            description="A user name of your organisation (at most "
                        f"{rules.USERNAME.max_length} characters); null to unassign.")

    referral = graphene.Field(ReferralType, required=True)

    @staticmethod
    def mutate(root, info, id, assigned_to=None):
        principal = require_scopes(info, REFERRALS_WRITE)
        services.referral_assign(principal=principal, referral_id=id, username=assigned_to)
        return AssignReferral(referral=_reload(info, id))


class CreateClient(graphene.Mutation):
    class Arguments:
        input = ClientInputType(required=True)

    client = graphene.Field(ClientType, required=True)

    @staticmethod
    def mutate(root, info, input):
        principal = require_scopes(info, REFERRALS_WRITE)
        client = services.client_create(principal=principal, data=_client(input))
        return CreateClient(client=selectors.client_list(principal).get(pk=client.pk))


class RecordConsent(graphene.Mutation):
    class Arguments:
        client_id = graphene.UUID(required=True)
        shared_with = graphene.String(required=True, description="Organisation slug.")
        consent = ConsentInputType(required=True)

    consent = graphene.Field(ConsentType, required=True)

    @staticmethod
    def mutate(root, info, client_id, shared_with, consent):
        principal = require_scopes(info, REFERRALS_WRITE)
        return RecordConsent(consent=services.consent_record(
            principal=principal, client_id=client_id, shared_with=shared_with,
            data=_consent(consent)))


class RevokeConsent(graphene.Mutation):
    class Arguments:
        client_id = graphene.UUID(required=True)
        consent_id = graphene.UUID(required=True)

    consent = graphene.Field(ConsentType, required=True)

    @staticmethod
    def mutate(root, info, client_id, consent_id):
        principal = require_scopes(info, REFERRALS_WRITE)
        return RevokeConsent(consent=services.consent_revoke(
            principal=principal, client_id=client_id, consent_id=consent_id))


class EraseClient(graphene.Mutation):
    """Erase a client's personal data; referral skeletons and reports stay."""

    class Arguments:
        id = graphene.UUID(required=True)

    client = graphene.Field(ClientType, required=True)

    @staticmethod
    def mutate(root, info, id):
        principal = require_scopes(info, REFERRALS_WRITE)
        client = services.client_erase(principal=principal, client_id=id)
        return EraseClient(client=selectors.client_list(principal).get(pk=client.pk))


class ReferralsMutation(graphene.ObjectType):
    create_referral = CreateReferral.Field()
    transition_referral = TransitionReferral.Field()
    forward_referral = ForwardReferral.Field()
    add_referral_note = AddReferralNote.Field()
    assign_referral = AssignReferral.Field()
    add_referral_outcomes = AddReferralOutcomes.Field()
    add_appointment = AddAppointment.Field()
    create_client = CreateClient.Field()
    record_consent = RecordConsent.Field()
    revoke_consent = RevokeConsent.Field()
    erase_client = EraseClient.Field()
