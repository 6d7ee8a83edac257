"""drf-spectacular: document the problem+json error responses of every operation."""

import re

import django_filters
from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers

from core.errors import CODES, status_of
from core.filters import BooleanFilter
from core.rules import TEXT_PATTERN
from core.problems import PROBLEM_CONTENT_TYPE


class FieldErrorSerializer(serializers.Serializer):
    field = serializers.CharField(allow_null=True, help_text="The offending field, if any.")
    code = serializers.CharField(help_text="Stable machine-readable code.")
    detail = serializers.CharField()


class ProblemSerializer(serializers.Serializer):
    """An RFC 9457 problem document."""

    type = serializers.CharField(help_text="URI naming the problem type.")
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    code = serializers.ChoiceField(choices=[(code, CODES[code].description)
                                            for code in sorted(CODES)],
                                   help_text="Stable machine-readable error code; "
                                             "docs/errors.md says what each means.")
    instance = serializers.CharField(required=False, help_text="The request path.")
    errors = FieldErrorSerializer(many=True, required=False,
                                  help_text="Field errors, on validation failures.")

    class Meta:
        ref_name = "Problem"


ERROR_DESCRIPTIONS = {
    "400": "Invalid request (problem+json with field errors).",
    "401": "No bearer token, or an invalid, expired or revoked one.",
    "403": "Not allowed: the token lacks a scope, or the caller's role forbids it.",
    "404": "No such resource, or not visible to your organisation.",
    "409": "Conflict with the current state.",
    "412": "If-Match does not match the current version.",
    "413": "Request body too large.",
    "415": "Unsupported media type.",
    "422": "Unprocessable request.",
    "428": "If-Match is required.",
    "429": "Too many requests; see Retry-After.",
    "503": "Temporarily unavailable; see Retry-After.",
}
# DRF answers 404 for a page past the end (or no page number), and for a cursor it did
# not hand out.
LIST_NOT_FOUND = "No such page, or a cursor this API did not hand out."


# Codes every operation of a kind may answer; views add their own operation's codes
# (``problem_codes``, and per action ``problem_codes_by_action``). The status of each
# comes from the registry, core.errors.CODES.
EVERY_OPERATION = ("not_authenticated", "invalid_token", "no_membership",
                   "organization_inactive", "insufficient_scope", "rate_limited",
                   "service_unavailable")
WITH_A_BODY = ("validation_error", "malformed_request", "payload_too_large",
               "unsupported_media_type")
READING = ("validation_error",)


def _without_ambiguous_blank(schema: dict) -> None:
    """drf-spectacular documents a blank-allowed text with a pattern as oneOf [the
    text, a string of length 0]. Where the text's own rules allow "" already, ""
    matches both branches, and oneOf then refuses it (schemathesis took a blank note as
    invalid input): keep the text alone. In place, as spectacular's own step."""
    branches = schema.get("oneOf")
    if not (isinstance(branches, list) and len(branches) == 2
            and branches[1] == {"type": "string", "maxLength": 0}):
        return
    inner = branches[0]
    if inner.get("minLength", 0) == 0 and re.search(inner.get("pattern", ""), "") is not None:
        del schema["oneOf"]
        schema.update(inner)


class CoalitionAutoSchema(AutoSchema):
    """Adds the problem+json responses an operation can return, one per status, each
    naming its codes (in the description and in ``x-problem-codes``)."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        problem = self.resolve_serializer(ProblemSerializer, "response").ref
        by_status: dict[str, list[str]] = {}
        for code in self.problem_codes():
            by_status.setdefault(str(status_of(code)), []).append(code)
        for status, codes in sorted(by_status.items()):
            description = ERROR_DESCRIPTIONS[status]
            if status == "404" and self._is_paginated_list():
                description = LIST_NOT_FOUND
            listed = ", ".join(f"`{code}`" for code in codes)
            responses.setdefault(status, {
                "content": {PROBLEM_CONTENT_TYPE: {"schema": problem}},
                "description": f"{description} Codes: {listed}.",
                "x-problem-codes": codes,
            })
        return responses

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if getattr(field, "unique_items", False):
            schema["uniqueItems"] = True
        return schema

    def _insert_field_validators(self, field, schema):
        super()._insert_field_validators(field, schema)
        _without_ambiguous_blank(schema)

    def _get_filter_parameters(self):
        """A boolean filter sent empty means "either" (core.filters): say so. A text
        filter holds no NUL (Django's form field refuses one with a 400, as
        PostgreSQL can neither store nor compare it): say that too."""
        parameters = super()._get_filter_parameters()
        filterset = getattr(self.view, "filterset_class", None)
        filters = filterset.base_filters if filterset is not None else {}
        for parameter in parameters:
            schema = parameter.get("schema", {})
            if (isinstance(filters.get(parameter["name"]), django_filters.CharFilter)
                    and schema.get("type") == "string" and "pattern" not in schema):
                schema["pattern"] = TEXT_PATTERN
            if isinstance(filters.get(parameter["name"]), BooleanFilter):
                parameter["allowEmptyValue"] = True
                parameter["description"] = (parameter.get("description", "") +
                                             " Empty: either.").strip()
        return parameters

    def _is_paginated_list(self) -> bool:
        return self.method == "GET" and self._is_list_view() and bool(self._get_paginator())

    def problem_codes(self) -> list[str]:
        codes = set(EVERY_OPERATION)
        if "{" in self.path or self._is_paginated_list():
            codes.add("not_found")
        if self.method in ("POST", "PUT", "PATCH"):
            codes.update(WITH_A_BODY)
        if self.method == "GET":
            codes.update(READING)
        codes.update(getattr(self.view, "problem_codes", ()))
        by_action = getattr(self.view, "problem_codes_by_action", {})
        codes.update(by_action.get(getattr(self.view, "action", None), ()))
        unknown = codes - CODES.keys()
        if unknown:
            raise ValueError(f"{self.view.__class__.__name__} lists unregistered codes: "
                             f"{sorted(unknown)}")
        return sorted(codes)
