"""The error contract: one registry of stable codes (status, meaning, headers) and
the DomainError that services raise with one of them. How a code is rendered is
core.problems (REST problem+json) and core.graphql (``extensions``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ErrorCode:
    """One stable error code: the HTTP status it is answered with (REST, and
    ``extensions.status`` in GraphQL), what it means, and fixed headers."""

    code: str
    status: int
    description: str
    headers: tuple[tuple[str, str], ...] = ()


def _codes(*entries: tuple) -> dict[str, ErrorCode]:
    return {entry[0]: ErrorCode(*entry) for entry in entries}


# The one registry. A DomainError must name a code listed here (tests/test_errors.py
# checks every raise in the code base); docs/errors.md is generated from it.
CODES: dict[str, ErrorCode] = _codes(
    # Input, whatever the operation: the rules live next to each service.
    ("validation_error", 400, "The input breaks a rule; `field` names the part at fault."),
    ("required", 400, "A required value is missing or blank."),
    ("too_long", 400, "A text is longer than its limit."),
    ("too_many_items", 400, "A list has more items than its limit."),
    ("out_of_range", 400, "A number is outside its allowed range."),
    ("invalid_choice", 400, "A value is not one of the allowed choices."),
    ("date_out_of_range", 400, "A date or time is outside its allowed span (e.g. consent "
                               "captured before 2000 or in the future)."),
    ("exactly_one_required", 400, "Exactly one of two fields is given (a referral names "
                                  "client_id or client)."),
    ("malformed_request", 400, "The request body or query could not be parsed."),
    ("payload_too_large", 413, "The request body is too large."),
    ("unsupported_media_type", 415, "The request body's media type is not accepted."),
    ("not_acceptable", 406, "No representation matches the Accept header."),
    ("method_not_allowed", 405, "The resource does not support this HTTP method."),
    # Who is calling (rule: a scope the caller can never hold is 403; an object
    # outside its reach is 404).
    ("not_authenticated", 401, "No bearer token was sent."),
    ("invalid_token", 401, "The token is unknown, expired or revoked."),
    ("no_membership", 401, "The token's user belongs to no organisation of the coalition."),
    ("organization_inactive", 401, "The caller's organisation is not active."),
    ("insufficient_scope", 403, "The token lacks a scope the operation needs."),
    ("permission_denied", 403, "The caller may not do this."),
    ("funder_not_allowed", 403, "Funders see aggregate reports, never client records."),
    ("not_found", 404, "No such resource, or not visible to the caller's organisation."),
    ("rate_limited", 429, "Too many requests; wait for Retry-After."),
    ("service_unavailable", 503, "The database is unavailable; retry after Retry-After.",
     (("Retry-After", "5"),)),
    ("server_error", 500, "A bug; it has been logged."),
    ("internal_error", 500, "GraphQL's name for server_error: a bug, logged."),
    ("syntax_error", 400, "GraphQL: the document does not parse."),
    ("bad_request", 400, "GraphQL: the HTTP request is not a GraphQL request."),
    # Directory.
    ("unknown_organization", 400, "No active organisation has this slug."),
    ("unknown_service_type", 400, "No service type has this code."),
    ("unknown_language", 400, "Not a language code the coalition knows."),
    ("unknown_district", 400, "Not a New York State Senate district (1 to 63)."),
    # Clients and referrals.
    ("invalid_contact_preference", 400, "Not a contact preference."),
    ("invalid_consent_method", 400, "Not a consent method."),
    ("invalid_priority", 400, "Not a referral priority."),
    ("invalid_intake_channel", 400, "Not an intake channel."),
    ("invalid_status", 400, "Not a referral status."),
    ("invalid_outcome", 400, "Not an outcome code."),
    ("consent_required", 400, "No active consent to share the client with the receiver."),
    ("client_erased", 400, "The client's data was erased."),
    ("not_client_creator", 403, "Only the organisation that recorded the client may erase it."),
    ("self_referral", 400, "An organisation cannot refer to itself."),
    ("receiver_not_accepting", 400, "The receiving organisation is not accepting referrals."),
    ("service_not_offered", 400, "The receiving organisation does not offer the service."),
    ("forward_to_party", 400, "A forward goes to a third organisation."),
    ("not_a_party", 403, "Only the sending or receiving organisation may do this."),
    ("unknown_assignee", 400, "Not an active member of your organisation."),
    ("invalid_reason_code", 400, "Not a reason code."),
    ("outcome_not_for_service", 400, "A community-casework outcome on another service."),
    ("reopen_window_passed", 409, "Too long since the referral closed to reopen it."),
    ("invalid_appointment_kind", 400, "Not a kind of appointment."),
    ("invalid_location_type", 400, "Not a type of location."),
    ("reopen_forwarded", 409, "A forwarded referral is not reopened."),
    ("reason_code_not_for_status", 400, "The reason code does not explain this move."),
    ("not_allowed_for_party", 403, "The other party of the referral makes this move."),
    ("invalid_transition", 409, "The referral's status does not allow this move."),
    ("reason_required", 400, "This move needs a reason."),
    ("outcomes_required", 400, "Completing a referral records at least one outcome."),
    ("outcomes_not_allowed", 400, "Outcomes are recorded when completing or failing."),
    ("duplicate_outcome", 400, "An outcome code appears more than once."),
    ("use_forward", 400, "Referring onward is the forward operation."),
    ("precondition_required", 428, "Send the version you read (If-Match, expectedVersion)."),
    ("version_mismatch", 412, "The referral changed since it was read; `current_version` "
                              "says which version it is at."),
    ("idempotency_key_missing", 400, "A create needs an Idempotency-Key."),
    ("idempotency_key_invalid", 400, "An Idempotency-Key is 1 to 255 printable ASCII characters."),
    ("idempotency_key_reused", 422, "The Idempotency-Key was used with another request."),
    ("idempotency_key_in_flight", 409, "A request with this Idempotency-Key is running.",
     (("Retry-After", "1"),)),
    ("invalid_sync_token", 400, "`since` is not a token this API handed out."),
    ("invalid_sync_request", 400, "The sync parameters do not go together."),
    # Reports.
    ("too_many_dimensions", 400, "A report has at most three dimensions."),
    ("invalid_dimension", 400, "Not a report dimension, or one given twice."),
    ("invalid_measure", 400, "Not a report measure."),
    ("measure_not_applicable", 400, "The measure cannot be split by a requested dimension."),
    ("invalid_period", 400, "Not a report period."),
    ("invalid_coarsen", 400, "coarsen is none or auto."),
    ("invalid_fiscal_year", 400, "Not a New York State fiscal year (e.g. 2026-27)."),
    ("invalid_date_range", 400, "date_from is after date_to."),
    ("report_scope_denied", 403, "The report covers organisations beyond the caller's reach."),
    ("not_a_grantee", 400, "A budget request is for a grantee organisation."),
    ("not_an_organiser", 403, "Only organisations that hold events record them."),
    ("invalid_kind", 400, "Not a service event kind."),
    # Webhooks.
    ("unknown_event_type", 400, "Not an event type a webhook can subscribe to."),
    ("webhook_url_invalid", 400, "Not an absolute https URL a webhook may use."),
    ("webhook_url_unresolvable", 400, "The webhook URL's host does not resolve."),
    ("webhook_url_forbidden", 400, "The webhook URL points at a private or reserved address."),
    ("too_many_webhooks", 409, "The organisation has as many webhooks as it may."),
    ("webhook_disabled", 409, "The webhook is disabled."),
)


# Refusals of input the OpenAPI document allows: their rules depend on stored data (an
# organisation's slug, a referral's status or version, a key already used), on a
# lookup (a webhook host), or on several fields together, which the document cannot
# state. Any other 4xx refusal of a request the document allows is a defect of the
# document or of the server: the schemathesis run (tests/live/test_openapi_fuzz.py)
# holds the API to that, and docs/errors.md marks these codes.
BEYOND_THE_DOCUMENT: frozenset[str] = frozenset({
    "date_out_of_range", "exactly_one_required",
    "unknown_organization", "unknown_service_type", "unknown_language",
    "consent_required", "client_erased", "self_referral", "receiver_not_accepting",
    "service_not_offered", "forward_to_party", "invalid_transition", "reason_required",
    "outcomes_required", "outcomes_not_allowed", "duplicate_outcome", "use_forward",
    "version_mismatch", "idempotency_key_reused", "idempotency_key_in_flight",
    "unknown_assignee", "reason_code_not_for_status", "outcome_not_for_service",
    "reopen_window_passed", "reopen_forwarded",
    "invalid_sync_token", "invalid_sync_request",
    "invalid_fiscal_year", "invalid_date_range", "measure_not_applicable", "not_a_grantee",
    "webhook_url_invalid", "webhook_url_unresolvable", "webhook_url_forbidden",
    "too_many_webhooks", "webhook_disabled",
})


def status_of(code: str) -> int:
    """The HTTP status of a code (400 for a GraphQL-only code such as syntax_error)."""
    entry = CODES.get(code)
    return entry.status if entry else 400


class DomainError(Exception):
    """An expected failure of a service function, with a stable code from CODES.

    REST answers it as problem+json; GraphQL as an error with ``extensions.code``,
    ``extensions.status`` and ``extensions.field``. Services raise it; views never
    build errors. ``extensions`` carries extra members for both channels (e.g. a
    version conflict's ``current_version``)."""

    def __init__(self, code: str, detail: str, *, field: str | None = None,
                 headers: dict | None = None, **extensions):
        super().__init__(detail)
        entry = CODES[code]
        self.code = code
        self.detail = detail
        self.status = entry.status
        self.field = field
        self.headers = {**dict(entry.headers), **(headers or {})}
        self.extensions = extensions


class NotFound(DomainError):
    def __init__(self, detail: str = "Not found.", code: str = "not_found"):
        super().__init__(code, detail)


def errors_markdown() -> str:
    """docs/errors.md, generated from CODES (``make schema`` writes it)."""
    lines = [
        "# Error codes",
        "",
        "Generated from `core/errors.py` by `make schema`; do not edit by hand.",
        "",
        "Every refusal carries one stable code from this table, the same in both channels:",
        "",
        "- **REST** answers `application/problem+json` (RFC 9457) with `status`, `code`,",
        "  `detail` and, when one part of the input is at fault, `errors[0].field`.",
        "- **GraphQL** answers HTTP 200 with an error whose `extensions` hold `code`,",
        "  `status` (the HTTP status REST gives the same refusal) and `field`.",
        "",
        "Field names are the domain's, in snake_case, dotted into nested inputs",
        "(`client.given_name`, `outcomes[0].note`) in both channels. Some codes carry more",
        "members: `too_long` has `max_length`, `too_many_items` `max_items`, `out_of_range`",
        "and `unknown_district` `minimum` and `maximum`, `version_mismatch`",
        "`current_version`. The OpenAPI document lists, per operation and status, the",
        "codes it may answer (`x-problem-codes`).",
        "",
        "A request that matches the OpenAPI document is refused only by a rule the",
        "document cannot state: one that depends on stored data (an organisation's slug,",
        "a referral's status or version, a key already used), on a lookup (a webhook",
        "host), or on several fields together. Those codes are marked *beyond the",
        "document* below; any other refusal of such a request is a bug to report.",
        "",
        "| code | status | meaning | beyond the document |",
        "| --- | ---: | --- | :---: |",
    ]
    for entry in CODES.values():
        headers = "".join(f" Sends `{name}: {value}`." for name, value in entry.headers)
        beyond = "yes" if entry.code in BEYOND_THE_DOCUMENT else ""
        lines.append(f"| `{entry.code}` | {entry.status} | {entry.description}{headers} "
                     f"| {beyond} |")
    return "\n".join(lines) + "\n"
