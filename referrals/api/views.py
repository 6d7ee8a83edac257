"""REST for clients and referrals: parse, call a service or selector, render."""

from __future__ import annotations

import re

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from core.context import note_read
from core.errors import DomainError
from core.pagination import CursorPagination
from core.routing import UUID_PATTERN
from core.scopes import REFERRALS_READ, REFERRALS_WRITE

from .. import presentation, selectors, services
from ..filtersets import ClientFilterSet, ReferralFilterSet
from ..idempotency import KEY_PATTERN, MAX_KEY_LENGTH
from ..services import AppointmentInput, ClientInput, ConsentInput, OutcomeInput
from .serializers import (
    AppointmentSerializer,
    AssignSerializer,
    ChainSerializer,
    OutcomesAddSerializer,
    ClientInputSerializer,
    ClientSerializer,
    ConsentCreateSerializer,
    ConsentSerializer,
    EventSerializer,
    ForwardResultSerializer,
    ForwardSerializer,
    NoteCreateSerializer,
    NoteSerializer,
    ReferralChangesQuerySerializer,
    ReferralChangesSerializer,
    ReferralCreateSerializer,
    ReferralSerializer,
    RoutingQuerySerializer,
    RoutingSuggestionSerializer,
    TransitionSerializer,
)

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key", {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH,
                        "pattern": KEY_PATTERN},
    OpenApiParameter.HEADER, required=True,
    description="A unique key per create (e.g. a UUID), quoted or not. Same key and body "
                "replays the first response; another body is 422; a key still in flight is "
                "409.")
# The ETag of a referral ("3"), quotes optional. Not `*`: a write must name the version it
# was decided on (expectedVersion in GraphQL), so that it never overwrites a change its
# author has not seen; RFC 9110's `If-Match: *` ("any current version") names none.
ETAG_PATTERN = r'^("[0-9]+"|[0-9]+)$'
IF_MATCH = OpenApiParameter(
    "If-Match", {"type": "string", "pattern": ETAG_PATTERN}, OpenApiParameter.HEADER,
    required=True,
    description='The ETag of the referral you read, e.g. "3". Missing, `*` or not an ETag: '
                "428; stale: 412.")


class ReferralCursorPagination(CursorPagination):
    """Stable cursors: new rows never shift a page. ``ordering`` picks the order."""

    page_size = 20
    ordering = ("-created_at", "-id")
    allowed = {"created_at", "-created_at", "updated_at", "-updated_at", "needed_by",
               "-needed_by", "urgency", "-urgency"}

    def get_ordering(self, request, queryset, view):
        # "a,b" is ordered by its first key (the FilterSet takes the rest as tie-breaks).
        requested = (request.query_params.get("ordering") or "").split(",")[0].strip()
        if requested in ("urgency", "-urgency"):
            # The FilterSet annotated the rank; newest first within a priority.
            return (requested, "-created_at")
        if requested in self.allowed:
            tiebreak = "-id" if requested.startswith("-") else "id"
            return (requested, tiebreak)
        return self.ordering


def principal_of(request):
    return request.auth


def client_input(data: dict) -> ClientInput:
    return ClientInput(**data)


def consent_input(data: dict | None) -> ConsentInput | None:
    return ConsentInput(**data) if data else None


def expected_version(request) -> int | None:
    """The version named by If-Match ("3"); None when the header is missing."""
    raw = request.headers.get("If-Match")
    if raw is None:
        return None
    value = raw.strip()
    if not re.fullmatch(ETAG_PATTERN, value):
        raise DomainError("precondition_required",
                          'If-Match must be the ETag of the referral you read, e.g. "3" '
                          "(If-Match: * names no version).")
    return int(value.strip('"'))


def with_etag(response: Response, referral) -> Response:
    response["ETag"] = referral.etag
    return response


@extend_schema_view(
    list=extend_schema(summary="List referrals your organisation sends or receives"),
    retrieve=extend_schema(summary="Get one referral (with its ETag)"),
)
class ReferralViewSet(viewsets.GenericViewSet):
    serializer_class = ReferralSerializer
    filterset_class = ReferralFilterSet
    pagination_class = ReferralCursorPagination
    lookup_value_regex = UUID_PATTERN
    required_scopes_by_action = {
        "list": [REFERRALS_READ], "retrieve": [REFERRALS_READ], "events": [REFERRALS_READ],
        "notes": [REFERRALS_READ], "changes": [REFERRALS_READ], "chain": [REFERRALS_READ],
        "create": [REFERRALS_WRITE],
        "transition": [REFERRALS_WRITE], "forward": [REFERRALS_WRITE],
        "add_note": [REFERRALS_WRITE], "assign": [REFERRALS_WRITE],
        "add_outcomes": [REFERRALS_WRITE], "appointments": [REFERRALS_READ],
        "add_appointment": [REFERRALS_WRITE],
    }
    # What each operation may refuse with (the OpenAPI document lists them).
    problem_codes_by_action = {
        "list": ("invalid_status",),
        "changes": ("invalid_sync_token", "invalid_sync_request", "date_out_of_range"),
        "create": (
            "required", "too_long", "too_many_items", "unknown_district", "unknown_language",
            "unknown_organization", "unknown_service_type", "self_referral",
            "receiver_not_accepting", "service_not_offered", "consent_required",
            "client_erased", "not_found", "funder_not_allowed", "date_out_of_range",
            "exactly_one_required", "idempotency_key_missing",
            "idempotency_key_invalid", "idempotency_key_reused", "idempotency_key_in_flight"),
        "transition": (
            "too_long", "too_many_items", "reason_required", "invalid_transition",
            "not_allowed_for_party", "not_a_party", "outcomes_required",
            "outcomes_not_allowed", "duplicate_outcome", "use_forward",
            "precondition_required", "version_mismatch", "funder_not_allowed",
            "invalid_reason_code", "reason_code_not_for_status", "outcome_not_for_service"),
        "forward": (
            "too_long", "unknown_organization", "unknown_service_type", "forward_to_party",
            "receiver_not_accepting", "service_not_offered", "consent_required",
            "not_allowed_for_party", "precondition_required", "version_mismatch",
            "funder_not_allowed", "date_out_of_range"),
        "add_note": ("required", "too_long", "not_a_party", "funder_not_allowed"),
        "assign": ("required", "too_long", "not_a_party", "unknown_assignee",
                   "funder_not_allowed"),
        "add_appointment": ("required", "invalid_appointment_kind", "invalid_location_type",
                            "date_out_of_range", "not_a_party", "funder_not_allowed"),
        "add_outcomes": ("too_long", "too_many_items", "invalid_outcome", "outcomes_required",
                         "outcomes_not_allowed", "duplicate_outcome", "use_forward",
                         "outcome_not_for_service", "not_allowed_for_party",
                         "precondition_required", "version_mismatch", "funder_not_allowed"),
    }

    def get_queryset(self):
        return selectors.referral_list(principal_of(self.request))

    def list(self, request):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        summary="Referrals changed since your last sync (gap-free)",
        description="Every referral your organisation sends or receives that changed after "
                    "`since`, in commit order, each in its current version. No change is "
                    "skipped or repeated, even while others write. Store next_since and send "
                    "it as since on the next sync; repeat while more is true. See "
                    "docs/sync.md.",
        parameters=[ReferralChangesQuerySerializer],
        responses={200: ReferralChangesSerializer})
    @action(detail=False, methods=["get"], url_path="changes", pagination_class=None,
            filterset_class=None)
    def changes(self, request):
        query = ReferralChangesQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        page = selectors.referral_changes(
            principal_of(request), since=params.get("since"),
            updated_after=params.get("updated_after"), limit=params["page_size"])
        return Response({"results": self.get_serializer(page.referrals, many=True).data,
                         "next_since": page.next_since, "more": page.more})

    def retrieve(self, request, pk=None):
        referral = self.get_object()
        etag = referral.etag
        if request.headers.get("If-None-Match") == etag:
            return with_etag(Response(status=status.HTTP_304_NOT_MODIFIED), referral)
        return with_etag(Response(self.get_serializer(referral).data), referral)

    def _render(self, referral_id, http_status=status.HTTP_200_OK) -> Response:
        referral = selectors.referral_list(principal_of(self.request)).get(pk=referral_id)
        return with_etag(Response(ReferralSerializer(referral, context={"request": self.request})
                                  .data, status=http_status), referral)

    @extend_schema(summary="Refer a client", parameters=[IDEMPOTENCY_KEY],
                   request=ReferralCreateSerializer, responses={201: ReferralSerializer})
    def create(self, request):
        principal = principal_of(request)
        payload = ReferralCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        if "client" in data:
            data["client"] = client_input(data["client"])
        data["consent"] = consent_input(data.pop("consent", None))
        created = services.referral_create_once(
            principal=principal, idempotency_key=request.headers.get("Idempotency-Key"),
            request=services.ReferralRequest(**data),
            render=lambda referral: self._render(referral.pk, status.HTTP_201_CREATED).data)
        body, referral_id, replayed = created.body, created.referral_id, created.replayed
        if replayed and body is None:
            # Made through GraphQL, or the client was erased since: render it as it is now.
            body = self._render(referral_id).data
        elif replayed:
            note_read("referral", referral_id)
            note_read("client", (body.get("client") or {}).get("id"))
        http_status = status.HTTP_201_CREATED
        response = Response(body, status=http_status)
        response["Location"] = f"/api/v1/referrals/{referral_id}/"
        if replayed:
            response["Idempotent-Replayed"] = "true"
        else:
            response["ETag"] = f'"{body["version"]}"'
        return response

    @extend_schema(summary="Move a referral to another status", parameters=[IF_MATCH],
                   request=TransitionSerializer, responses={200: ReferralSerializer})
    @action(detail=True, methods=["post"])
    def transition(self, request, pk=None):
        payload = TransitionSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        referral = services.referral_transition(
            principal=principal_of(request), referral_id=pk, to=data["to"],
            reason=data["reason"], expected_version=expected_version(request),
            outcomes=[OutcomeInput(**o) for o in data["outcomes"]],
            reason_code=data.get("reason_code", ""))
        return self._render(referral.pk)

    @extend_schema(summary="Refer the client onward to a third organisation",
                   description="Completes this referral with outcome referred-onward and opens "
                               "a child referral. Receiver only. The child's summary is the "
                               "`summary` you send, written for the third organisation; the "
                               "parent's summary is never copied to it (empty if you send "
                               "none).",
                   parameters=[IF_MATCH], request=ForwardSerializer,
                   responses={201: ForwardResultSerializer})
    @action(detail=True, methods=["post"])
    def forward(self, request, pk=None):
        payload = ForwardSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        parent, child = services.referral_forward(
            principal=principal_of(request), referral_id=pk,
            expected_version=expected_version(request),
            consent=consent_input(data.pop("consent", None)), **data)
        referrals = {r.pk: r for r in selectors.referral_list(principal_of(request))
                     .filter(pk__in=[parent.pk, child.pk])}
        context = {"request": request}
        response = Response({
            "parent": ReferralSerializer(referrals[parent.pk], context=context).data,
            "child": ReferralSerializer(referrals[child.pk], context=context).data,
        }, status=status.HTTP_201_CREATED)
        response["Location"] = f"/api/v1/referrals/{child.pk}/"
        return response

    @extend_schema(summary="The referral's history (append-only)",
                   responses={200: EventSerializer(many=True)})
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def events(self, request, pk=None):
        events = selectors.referral_events(principal_of(request), pk)
        return Response(EventSerializer(events, many=True).data)

    @extend_schema(summary="The chain: every referral forwarded down from the first one",
                   description="To any organisation on one of its referrals (the original "
                               "sender included): each link's organisations, service, "
                               "status, dates and outcome codes, never client data.",
                   responses={200: ChainSerializer})
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def chain(self, request, pk=None):
        principal = principal_of(request)
        links = selectors.referral_chain(principal, pk)
        return Response(ChainSerializer(presentation.chain_as_dict(principal, links)).data)

    @extend_schema(summary="Notes shared by the two organisations",
                   responses={200: NoteSerializer(many=True)})
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def notes(self, request, pk=None):
        notes = selectors.referral_notes(principal_of(request), pk)
        return Response(NoteSerializer(notes, many=True).data)

    @extend_schema(summary="Appointments on the referral (both organisations see them)",
                   responses={200: AppointmentSerializer(many=True)})
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def appointments(self, request, pk=None):
        rows = selectors.referral_appointments(principal_of(request), pk)
        return Response(AppointmentSerializer(rows, many=True).data)

    @extend_schema(summary="Add a court hearing, ICE check-in, interview or consultation",
                   description="Either organisation on the referral. No address is asked "
                               "for: a location type. The next appointment raises the "
                               "referral's urgency.",
                   request=AppointmentSerializer, responses={201: AppointmentSerializer})
    @appointments.mapping.post
    def add_appointment(self, request, pk=None):
        payload = AppointmentSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        appointment = services.appointment_add(
            principal=principal_of(request), referral_id=pk,
            data=AppointmentInput(**payload.validated_data))
        return Response(AppointmentSerializer(appointment).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Record outcomes that came after the close",
                   description="Receiver only, on a completed or failed referral: each "
                               "outcome dated now, a new event and version. Reports count an "
                               "outcome in the period it was recorded.",
                   parameters=[IF_MATCH], request=OutcomesAddSerializer,
                   responses={200: ReferralSerializer})
    @action(detail=True, methods=["post"], url_path="outcomes")
    def add_outcomes(self, request, pk=None):
        payload = OutcomesAddSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        referral = services.referral_outcomes_add(
            principal=principal_of(request), referral_id=pk,
            expected_version=expected_version(request),
            outcomes=[OutcomeInput(**o) for o in payload.validated_data["outcomes"]])
        return self._render(referral.pk)

    @extend_schema(summary="Assign it to someone at your organisation (or no one)",
                   description="The receiving organisation assigns its caseworker, the "
                               "sending organisation its own owner; neither sees the "
                               "other's. The version does not change.",
                   request=AssignSerializer, responses={200: ReferralSerializer})
    @action(detail=True, methods=["post"], pagination_class=None, filterset_class=None)
    def assign(self, request, pk=None):
        payload = AssignSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        if "assigned_to" not in payload.validated_data:
            raise DomainError("required", "Give assigned_to: a user name, or null.",
                              field="assigned_to")
        referral = services.referral_assign(principal=principal_of(request), referral_id=pk,
                                            username=payload.validated_data["assigned_to"])
        return self._render(referral.pk)

    @extend_schema(summary="Add a note both organisations can read",
                   request=NoteCreateSerializer, responses={201: NoteSerializer})
    @notes.mapping.post
    def add_note(self, request, pk=None):
        payload = NoteCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        note = services.referral_note_add(principal=principal_of(request), referral_id=pk,
                                          text=payload.validated_data["text"])
        return Response(NoteSerializer(note).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(summary="List clients visible to your organisation"),
    retrieve=extend_schema(summary="Get one client"),
)
class ClientViewSet(viewsets.GenericViewSet):
    serializer_class = ClientSerializer
    filterset_class = ClientFilterSet
    lookup_value_regex = UUID_PATTERN
    required_scopes_by_action = {
        "list": [REFERRALS_READ], "retrieve": [REFERRALS_READ], "consents": [REFERRALS_READ],
        "create": [REFERRALS_WRITE], "add_consent": [REFERRALS_WRITE],
        "revoke_consent": [REFERRALS_WRITE], "destroy": [REFERRALS_WRITE],
    }
    problem_codes_by_action = {
        "create": ("required", "too_long", "too_many_items", "unknown_language",
                   "funder_not_allowed"),
        "add_consent": ("unknown_organization", "invalid_consent_method", "date_out_of_range"),
        "destroy": ("not_client_creator",),
    }

    def get_queryset(self):
        return selectors.client_list(principal_of(self.request))

    def list(self, request):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(summary="Record a client", request=ClientInputSerializer,
                   responses={201: ClientSerializer})
    def create(self, request):
        payload = ClientInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        client = services.client_create(principal=principal_of(request),
                                        data=client_input(payload.validated_data))
        client = self.get_queryset().get(pk=client.pk)
        response = Response(self.get_serializer(client).data, status=status.HTTP_201_CREATED)
        response["Location"] = f"/api/v1/clients/{client.pk}/"
        return response

    @extend_schema(
        summary="Erase a client's personal data",
        description="Names, contact details, A-Number, date of birth and every note or reason "
                    "text about the client are erased; referral skeletons stay, so reports are "
                    "unchanged. For the organisation that recorded the client, or a coalition "
                    "admin. Repeating it is harmless.",
        request=None, responses={204: None})
    def destroy(self, request, pk=None):
        services.client_erase(principal=principal_of(request), client_id=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(summary="The client's consents", responses={200: ConsentSerializer(many=True)})
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def consents(self, request, pk=None):
        principal = principal_of(request)
        client = selectors.visible_client(principal, pk)
        consents = selectors.client_consents(principal, client)
        return Response(ConsentSerializer(consents, many=True).data)

    @extend_schema(summary="Record the client's consent to share with an organisation",
                   request=ConsentCreateSerializer, responses={201: ConsentSerializer})
    @consents.mapping.post
    def add_consent(self, request, pk=None):
        payload = ConsentCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        shared_with = data.pop("shared_with")
        consent = services.consent_record(principal=principal_of(request), client_id=pk,
                                          shared_with=shared_with, data=ConsentInput(**data))
        return Response(ConsentSerializer(consent).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Revoke a consent", request=None, responses={200: ConsentSerializer})
    @action(detail=True, methods=["post"], url_path=rf"consents/(?P<consent_id>{UUID_PATTERN})/revoke",
            pagination_class=None, filterset_class=None)
    def revoke_consent(self, request, pk=None, consent_id=None):
        consent = services.consent_revoke(principal=principal_of(request), client_id=pk,
                                          consent_id=consent_id)
        return Response(ConsentSerializer(consent).data)


class RoutingSuggestionsView(APIView):
    required_scopes = [REFERRALS_READ]
    problem_codes = ("unknown_service_type", "unknown_language", "too_long",
                     "unknown_district", "funder_not_allowed")

    @extend_schema(summary="Organisations that could take a referral, best first",
                   parameters=[RoutingQuerySerializer],
                   responses={200: RoutingSuggestionSerializer(many=True)})
    def get(self, request):
        query = RoutingQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        suggestions = selectors.routing_suggestions(principal=principal_of(request),
                                                    **query.validated_data)
        return Response(RoutingSuggestionSerializer(suggestions, many=True).data)

