"""drf-spectacular: document the problem+json error responses of every operation."""

from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers

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
    code = serializers.CharField(help_text="Stable machine-readable error code.")
    instance = serializers.CharField(required=False, help_text="The request path.")
    errors = FieldErrorSerializer(many=True, required=False,
                                  help_text="Field errors, on validation failures.")

    class Meta:
        ref_name = "Problem"


ERROR_DESCRIPTIONS = {
    "400": "Invalid request (problem+json with field errors).",
    "401": "No bearer token, or an invalid, expired or revoked one.",
    "403": "The token lacks the scope this operation needs.",
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


class CoalitionAutoSchema(AutoSchema):
    """Adds the problem+json responses an operation can return.

    Views may list extra statuses in ``problem_statuses`` (e.g. 409, 412, 428), and
    per action in ``problem_statuses_by_action``.
    """

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        problem = self.resolve_serializer(ProblemSerializer, "response").ref
        for status in self._problem_statuses():
            description = ERROR_DESCRIPTIONS[status]
            if status == "404" and self._is_paginated_list():
                description = LIST_NOT_FOUND
            responses.setdefault(status, {
                "content": {PROBLEM_CONTENT_TYPE: {"schema": problem}},
                "description": description,
            })
        return responses

    def _is_paginated_list(self) -> bool:
        return self.method == "GET" and self._is_list_view() and bool(self._get_paginator())

    def _problem_statuses(self) -> list[str]:
        statuses = {"401", "403", "429", "503"}
        if "{" in self.path:
            statuses.add("404")
        if self._is_paginated_list():
            statuses.add("404")
        if self.method in ("POST", "PUT", "PATCH"):
            statuses.update({"400", "413", "415"})
        if self.method == "GET":
            statuses.add("400")  # malformed filters
        statuses.update(str(s) for s in getattr(self.view, "problem_statuses", ()))
        by_action = getattr(self.view, "problem_statuses_by_action", {})
        statuses.update(str(s) for s in by_action.get(getattr(self.view, "action", None), ()))
        return sorted(statuses)
