"""REST shapes for clients and referrals. Output serializers read what the
selectors loaded; input serializers only parse (the services decide)."""

from django import forms
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.filters import UTCIsoDateTimeField
from core.pagination import page_size_field
from core.rules import DocumentedEmail, DocumentedRegex
from core.serializers import DomainChoiceField, QuerySerializer, RequiredTextField, TextField

from .. import rules

from ..models import (
    Client,
    Consent,
    ConsentMethod,
    ContactPreference,
    IntakeChannel,
    OutcomeCode,
    REASONS_BY_STATUS,
    Appointment,
    AppointmentKind,
    LocationType,
    Priority,
    ReasonCode,
    Referral,
    ReferralEvent,
    ReferralNote,
    ReferralOutcome,
    Status,
    a_number_validator,
)
from core.context import note_read

from ..presentation import CLIENT_FIELDS, WITHHELD_HELP, View


class AuditedReadMixin:
    """Notes each client-data object it renders in the request's audit trail."""

    audit_type = "referral"

    def audit_id(self, obj):
        return obj.pk

    def to_representation(self, instance):
        note_read(self.audit_type, self.audit_id(instance))
        return super().to_representation(instance)

# --- output -----------------------------------------------------------------------


class ClientSerializer(AuditedReadMixin, serializers.ModelSerializer):
    """A client, wherever shown (on a referral or as a record). Which fields carry a
    value depends on the view (a list, one object a write returns, a read of one) and
    on the caller: ``referrals.presentation.CLIENT_FIELDS``, the policy every channel
    reads; the others are null."""

    audit_type = "client"

    preferred_languages = serializers.SerializerMethodField()
    primary_language = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True,
        help_text="The first preferred language; null when none is known.")
    created_by_org = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    phone = serializers.CharField(read_only=True, allow_null=True,
                                  help_text=WITHHELD_HELP["detail"])
    email = serializers.CharField(read_only=True, allow_null=True,
                                  help_text=WITHHELD_HELP["detail"])
    a_number = serializers.CharField(read_only=True, allow_null=True,
                                     help_text="A-Number. " + WITHHELD_HELP["protected"])
    date_of_birth = serializers.DateField(read_only=True, allow_null=True,
                                          help_text=WITHHELD_HELP["protected"])

    class Meta:
        model = Client
        fields = list(CLIENT_FIELDS.fields)
        read_only_fields = fields

    def get_preferred_languages(self, obj) -> list[str]:
        return [language.code for language in obj.preferred_languages.all()]

    def view(self) -> View:
        """A list when any serializer above this one renders many; else one object,
        read (GET) or returned by a write."""
        node = self
        while node is not None:
            if isinstance(node, serializers.ListSerializer):
                return View.LIST
            node = node.parent
        request = self.context.get("request")
        reading = request is not None and request.method in ("GET", "HEAD")
        return View.DETAIL if reading else View.RESULT

    def to_representation(self, instance):
        data = super().to_representation(instance)
        principal = getattr(self.context.get("request"), "auth", None)
        shown = CLIENT_FIELDS.shown(principal, instance, self.view())
        return {name: value if name in shown else None for name, value in data.items()}


class OutcomeSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReferralOutcome
        fields = ["code", "note", "recorded_at"]
        read_only_fields = fields


class AppointmentSerializer(serializers.ModelSerializer):
    created_by_org = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    kind = DomainChoiceField(choices=AppointmentKind.choices)
    location_type = DomainChoiceField(choices=LocationType.choices,
                                      help_text="A kind of place; no address is asked for.")

    class Meta:
        model = Appointment
        fields = ["id", "kind", "at", "location_type", "created_by_org", "created_at"]
        read_only_fields = ["id", "created_by_org", "created_at"]


class CodeOrNullField(serializers.ChoiceField):
    """A code of the choices, or null where none was given (stored as "")."""

    def __init__(self, **kwargs):
        super().__init__(allow_null=True, read_only=True, **kwargs)

    def to_representation(self, value):
        return value or None


class ReferralSerializer(AuditedReadMixin, serializers.ModelSerializer):
    sending_org = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    receiving_org = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    service_type = serializers.SlugRelatedField(slug_field="code", read_only=True)
    district = serializers.SlugRelatedField(
        slug_field="number", read_only=True, allow_null=True,
        help_text="The client's New York State Senate district, when known.")
    client = ClientSerializer(read_only=True)
    outcomes = OutcomeSerializer(many=True, read_only=True)
    overdue = serializers.BooleanField(source="is_overdue", read_only=True,
                                       help_text="Open and past its needed-by date.")
    parent = serializers.UUIDField(source="parent_id", read_only=True, allow_null=True,
                                   help_text="The referral this one was forwarded from.")
    version = serializers.IntegerField(
        read_only=True, help_text="Concurrency version; the ETag is this number in quotes.")
    appointments = serializers.SerializerMethodField(
        help_text="Court hearings, ICE check-ins, interviews, consultations; oldest first.")
    next_appointment = serializers.SerializerMethodField(
        help_text="The earliest appointment still to come; null if none.")
    urgency = serializers.ChoiceField(
        choices=Priority.choices, read_only=True, source="urgency_shown",
        help_text="The priority, raised by a near appointment (within 3 days: asap; within "
                  "14: urgent).")
    status_reason_code = CodeOrNullField(choices=ReasonCode.choices,
                                         help_text="Why it is in its status, as a code; "
                                                   "null if none was given.")
    assigned_to = serializers.SerializerMethodField(
        help_text="The user name of who owns it on your organisation's side (the receiver's "
                  "caseworker, or the sender's own owner); null if nobody. The other party's "
                  "owner is never shown.")

    @extend_schema_field(AppointmentSerializer(many=True))
    def get_appointments(self, referral):
        return AppointmentSerializer(referral.appointments.all(), many=True).data

    @extend_schema_field(AppointmentSerializer(allow_null=True))
    def get_next_appointment(self, referral):
        upcoming = referral.next_appointment
        return AppointmentSerializer(upcoming).data if upcoming else None

    def get_assigned_to(self, referral) -> str | None:
        principal = getattr(self.context.get("request"), "auth", None)
        owner = referral.owner_for(getattr(principal, "organization", None))
        return owner.username if owner else None

    class Meta:
        model = Referral
        fields = ["id", "status", "status_reason", "priority", "needed_by", "overdue",
                  "intake_channel", "summary", "sending_org", "receiving_org", "service_type",
                  "status_reason_code", "district", "client", "parent", "chain_updated_at",
                  "assigned_to", "urgency", "next_appointment", "appointments",
                  "outcomes", "version",
                  "created_at", "updated_at",
                  "accepted_at", "closed_at"]
        read_only_fields = fields


class EventSerializer(AuditedReadMixin, serializers.ModelSerializer):
    def audit_id(self, obj):
        return obj.referral_id

    organization = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    actor_user = serializers.SerializerMethodField()
    actor_application = serializers.SerializerMethodField()
    from_status = serializers.ChoiceField(choices=Status.choices, allow_blank=True,
                                          read_only=True,
                                          help_text="Empty on the event that created it.")
    reason_code = CodeOrNullField(choices=ReasonCode.choices,
                                  help_text="The move's coded reason; null if none was given.")

    class Meta:
        model = ReferralEvent
        fields = ["id", "kind", "organization", "actor_user", "actor_application", "at",
                  "from_status", "to_status", "reason", "reason_code", "version"]
        read_only_fields = fields

    def get_actor_user(self, obj) -> str | None:
        return obj.actor_user.get_username() if obj.actor_user else None

    def get_actor_application(self, obj) -> str | None:
        return obj.actor_application.name if obj.actor_application else None


class NoteSerializer(AuditedReadMixin, serializers.ModelSerializer):
    def audit_id(self, obj):
        return obj.referral_id

    author_org = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    author_user = serializers.SerializerMethodField()

    class Meta:
        model = ReferralNote
        fields = ["id", "author_org", "author_user", "text", "created_at"]
        read_only_fields = fields

    def get_author_user(self, obj) -> str | None:
        return obj.author_user.get_username() if obj.author_user else None


class ConsentSerializer(AuditedReadMixin, serializers.ModelSerializer):
    audit_type = "client"

    def audit_id(self, obj):
        return obj.client_id

    shared_with = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    captured_by_org = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    active = serializers.BooleanField(read_only=True)

    class Meta:
        model = Consent
        fields = ["id", "shared_with", "method", "captured_by_org", "captured_at",
                  "revoked_at", "active"]
        read_only_fields = fields


class ForwardResultSerializer(serializers.Serializer):
    parent = ReferralSerializer()
    child = ReferralSerializer()


class ReferralChangesSerializer(serializers.Serializer):
    results = ReferralSerializer(many=True, help_text="Changed referrals, in commit order.")
    next_since = serializers.CharField(
        help_text="Store it and send it as `since` on the next sync; repeat while `more` "
                  "is true.")
    more = serializers.BooleanField(
        help_text="More changes are ready now: sync again straight away.")


class RoutingSuggestionSerializer(serializers.Serializer):
    organization = serializers.CharField(source="slug")
    name = serializers.CharField()
    kind = serializers.CharField()
    score = serializers.IntegerField(help_text="Higher is a better match.")
    speaks_language = serializers.BooleanField()
    serves_district = serializers.BooleanField()
    has_capacity = serializers.BooleanField()
    capacity_available = serializers.IntegerField(allow_null=True)


# --- input --------------------------------------------------------------------------


class ConsentInputSerializer(serializers.Serializer):
    method = serializers.ChoiceField(choices=ConsentMethod.choices)
    captured_at = serializers.DateTimeField(required=False, allow_null=True,
                                            help_text="When consent was given; default now.")


class ClientInputSerializer(serializers.Serializer):
    given_name = RequiredTextField(validators=rules.GIVEN_NAME.validators())
    family_name = RequiredTextField(validators=rules.FAMILY_NAME.validators())
    date_of_birth = serializers.DateField(required=False, allow_null=True)
    phone = TextField(required=False, allow_blank=True, default="",
                      validators=rules.PHONE.validators())
    email = TextField(required=False, allow_blank=True,
                      validators=[DocumentedEmail(), *rules.EMAIL.validators()])
    preferred_languages = serializers.ListField(
        child=RequiredTextField(validators=rules.LANGUAGE_CODE.validators()),
        required=False, default=list, validators=rules.PREFERRED_LANGUAGES.validators(),
        help_text="ISO 639 codes, the primary language first.")
    contact_preference = serializers.ChoiceField(choices=ContactPreference.choices,
                                                 default=ContactPreference.PHONE)
    a_number = TextField(required=False, allow_blank=True,
                         validators=[DocumentedRegex(a_number_validator.regex)],
                         help_text="Optional A-Number, 8 or 9 digits.")


class ReferralCreateSerializer(serializers.Serializer):
    client_id = serializers.UUIDField(required=False, help_text="An existing client's id.")
    client = ClientInputSerializer(required=False, help_text="Or a new client.")
    consent = ConsentInputSerializer(
        required=False, help_text="Consent given now to share with the receiving organisation; "
                                  "not needed when an active consent is on file.")
    receiving_org = TextField(help_text="Receiving organisation slug.")
    service_type = TextField(help_text="Service type code.")
    priority = serializers.ChoiceField(choices=Priority.choices, default=Priority.ROUTINE)
    needed_by = serializers.DateField(required=False, allow_null=True)
    intake_channel = serializers.ChoiceField(choices=IntakeChannel.choices)
    district = serializers.IntegerField(
        required=False, allow_null=True, validators=rules.DISTRICT.validators(),
        help_text="The client's senate district; default: the sender's, if it serves one.")
    summary = TextField(required=False, allow_blank=True, default="",
                        validators=rules.SUMMARY.validators())


class OutcomeInputSerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=OutcomeCode.choices)
    note = TextField(required=False, allow_blank=True, default="",
                     validators=rules.OUTCOME_NOTE.validators())


class TransitionSerializer(serializers.Serializer):
    to = serializers.ChoiceField(choices=Status.choices)
    reason = TextField(required=False, allow_blank=True, default="",
                       validators=rules.REASON.validators(),
                       help_text="Rejecting, cancelling, holding or failing needs a reason: "
                                 "this text, a reason_code, or both (other: both).")
    reason_code = DomainChoiceField(
        choices=ReasonCode.choices, required=False,
        help_text="Why, as a code reports can count; which codes fit which move: "
                  + "; ".join(f"{status}: {', '.join(codes)}"
                              for status, codes in REASONS_BY_STATUS.items()) + ".")
    outcomes = serializers.ListField(
        child=OutcomeInputSerializer(), required=False, default=list,
        validators=rules.OUTCOMES.validators(),
        help_text="Required (one or more) when completing.")


FORWARD_SUMMARY_HELP = (
    "What the third organisation is told, written for it: the parent's summary is never "
    "copied to it (minimum necessary), so without one the child's summary is empty.")


class ForwardSerializer(serializers.Serializer):
    receiving_org = TextField(help_text="The third organisation.")
    service_type = TextField(required=False,
                             help_text="Default: the parent's service type.")
    reason = TextField(required=False, allow_blank=True, default="",
                       validators=rules.REASON.validators())
    summary = TextField(required=False, allow_blank=True, default="",
                        validators=rules.SUMMARY.validators(),
                        help_text=FORWARD_SUMMARY_HELP)
    priority = serializers.ChoiceField(choices=Priority.choices, required=False)
    needed_by = serializers.DateField(required=False, allow_null=True)
    consent = ConsentInputSerializer(required=False)


class OutcomesAddSerializer(serializers.Serializer):
    outcomes = serializers.ListField(child=OutcomeInputSerializer(),
                                     validators=rules.OUTCOMES.validators(),
                                     help_text="One or more, each code once per referral.")


class AssignSerializer(serializers.Serializer):
    # Blank passes through: the service answers it (required), as in GraphQL.
    assigned_to = RequiredTextField(allow_null=True, validators=rules.USERNAME.validators(),
                            help_text="A user name of your organisation; null to unassign.")


class NoteCreateSerializer(serializers.Serializer):
    text = RequiredTextField(validators=rules.NOTE_TEXT.validators())


class ConsentCreateSerializer(ConsentInputSerializer):
    shared_with = TextField(
        help_text="Organisation the client agrees to share with.")


class InstantField(serializers.DateTimeField):
    """An ISO 8601 instant, parsed as the FilterSets' InstantFilter parses it."""

    def to_internal_value(self, value):
        try:
            return UTCIsoDateTimeField().clean(value)
        except forms.ValidationError as exc:
            raise serializers.ValidationError(exc.messages, code="invalid") from None


class ReferralChangesQuerySerializer(QuerySerializer):
    # Optional, and never blank when sent: a blank one is the selector's
    # invalid_sync_token, as in GraphQL.
    since = RequiredTextField(
        required=False, trim_whitespace=False, validators=rules.SYNC_TOKEN.validators(),
        help_text="The next_since of your previous sync. Store next_since and send it as "
                  "since on the next sync; repeat while more is true.")
    updated_after = InstantField(
        required=False,
        help_text="First sync only (without since): only referrals changed after this "
                  "instant (ISO 8601 with a UTC offset). Omit both for a full sync.")
    page_size = page_size_field(required=False, default=50)


class RoutingQuerySerializer(QuerySerializer):
    service_type = TextField()
    language = TextField(required=False, validators=rules.ROUTING_LANGUAGE.validators())
    district = serializers.IntegerField(required=False, validators=rules.DISTRICT.validators())


class ChainOutcomeSerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=OutcomeCode.choices)
    recorded_at = serializers.DateTimeField()


class ChainLinkSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    parent = serializers.UUIDField(allow_null=True, help_text="The referral it was forwarded "
                                                              "from; null for the first.")
    sending_org = serializers.CharField()
    receiving_org = serializers.CharField()
    service_type = serializers.CharField()
    status = serializers.ChoiceField(choices=Status.choices)
    priority = serializers.ChoiceField(choices=Priority.choices)
    created_at = serializers.DateTimeField()
    accepted_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    outcomes = ChainOutcomeSerializer(many=True)
    yours = serializers.BooleanField(help_text="Your organisation sends or receives it.")


class ChainSerializer(serializers.Serializer):
    root = serializers.UUIDField(help_text="The chain's first referral.")
    chain_updated_at = serializers.DateTimeField(
        allow_null=True, help_text="When a link last changed status or the chain grew.")
    links = ChainLinkSerializer(many=True, help_text="Oldest first. No client data: that "
                                                     "stays on the referrals you are on.")
