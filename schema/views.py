"""The GraphQL endpoint: bearer tokens only, the spec's rules plus limits."""

import json
import logging

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpResponse
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from graphene.relay import Connection, Node
from graphene.utils.str_converters import to_camel_case
from django.db import InterfaceError, OperationalError
from graphene.validation import DisableIntrospection
from graphene_django.settings import graphene_settings
from graphene_django.views import GraphQLView, HttpError
from graphql import GraphQLError, GraphQLSyntaxError, get_named_type, specified_rules
from graphql_relay import cursor_to_offset, from_global_id

from audit.graphql.middleware import AuditReadsMiddleware
from core.errors import DomainError, status_of
from core.throttling import check_application_rate
from orgs.auth import InvalidToken, authenticate_request

from core.graphql import CoalitionError
from .limits import query_limits_rule

logger = logging.getLogger(__name__)


class DisableSchemaIntrospection(DisableIntrospection):
    """graphene's rule refuses every "__" field, __typename too, which GraphQL clients
    (Apollo, Relay) add to every selection; only __schema and __type describe the schema."""

    def enter_field(self, node, *args):
        if node.name.value != "__typename":
            super().enter_field(node, *args)


def validation_rules() -> tuple:
    # Start from the spec's rules: passing only extra rules would replace them.
    rules = list(specified_rules)
    rules.append(query_limits_rule(
        max_depth=settings.GRAPHQL_MAX_DEPTH, max_aliases=settings.GRAPHQL_MAX_ALIASES,
        max_cost=settings.GRAPHQL_MAX_COST, page_size=settings.API_MAX_PAGE_SIZE,
        introspection=settings.GRAPHQL_INTROSPECTION))
    if not settings.GRAPHQL_INTROSPECTION:
        rules.append(DisableSchemaIntrospection)
    return tuple(rules)


class ArgumentsMiddleware:
    """Refuse bad arguments as the client's error, before a resolver sees them; each
    would otherwise be reported as an internal error:

    - paging: graphene-django checks `first`/`last` against RELAY_CONNECTION_MAX_LIMIT
      with bare asserts, graphql-relay rejects negative values with ValueError, and a
      cursor it cannot decode, given with `offset`, is a TypeError;
    - text holding a NUL character, which PostgreSQL can neither store nor compare;
    - `node(id:)` with an id that does not decode, names no node type, or holds a
      malformed primary key (graphene raises bare exceptions): not_found.
    """

    def resolve(self, next, root, info, **args):
        if args:
            if _holds_nul(args):
                raise CoalitionError("Text must not contain NUL characters.",
                                     code="validation_error")
            if _is_connection(info):
                _check_paging(args)
            elif info.field_name == "node" and info.parent_type is info.schema.query_type:
                _check_node_id(info, args.get("id"))
        return next(root, info, **args)


def _holds_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(item) for item in value.values())
    if isinstance(value, (list, tuple)):
        return any(_holds_nul(item) for item in value)
    return False


def _check_node_id(info, global_id) -> None:
    not_found = CoalitionError("No object with this id.", code="not_found")
    try:
        type_name, raw_id = from_global_id(global_id)
    except (TypeError, ValueError):  # not base64, or not UTF-8 inside
        raise not_found from None
    graphene_type = getattr(info.schema.get_type(type_name) if type_name else None,
                            "graphene_type", None)
    meta = getattr(graphene_type, "_meta", None)
    model = getattr(meta, "model", None)
    if model is None or Node not in getattr(meta, "interfaces", ()):
        raise not_found
    try:
        model._meta.pk.run_validators(model._meta.pk.to_python(raw_id))
    except DjangoValidationError:
        raise not_found from None


def _is_connection(info) -> bool:
    graphene_type = getattr(get_named_type(info.return_type), "graphene_type", None)
    return isinstance(graphene_type, type) and issubclass(graphene_type, Connection)


def _check_paging(args: dict) -> None:
    limit = graphene_settings.RELAY_CONNECTION_MAX_LIMIT
    for name in ("first", "last", "offset"):
        value = args.get(name)
        if value is None:
            continue
        if value < 0:
            raise CoalitionError(f"`{name}` must not be negative.", code="validation_error")
        if name != "offset" and limit and value > limit:
            raise CoalitionError(
                f"`{name}` may be at most {limit}; page through the rest with "
                f"`{'after' if name == 'first' else 'before'}`.", code="validation_error")
    if args.get("offset") is not None and args.get("before") is not None:
        raise CoalitionError("Give `offset` or `before`, not both.", code="validation_error")
    for name in ("after", "before"):
        cursor = args.get(name)
        if cursor is not None and cursor_to_offset(cursor) is None:
            raise CoalitionError(f"`{name}` is not a cursor this API handed out.",
                                 code="validation_error")


def _validation_errors(error: DjangoValidationError) -> list[dict]:
    """Field errors of a Django ValidationError, e.g. a FilterSet rejecting an argument
    (graphene-django raises them with the form errors serialised as JSON)."""
    errors = []
    for message in error.messages:
        try:
            fields = json.loads(message)
        except ValueError:
            fields = None
        if not isinstance(fields, dict):
            errors.append({"field": None, "code": "invalid", "detail": message})
            continue
        for field, items in fields.items():
            for item in items:
                errors.append({"field": to_camel_case(field),
                               "code": item.get("code") or "invalid",
                               "detail": item.get("message", "")})
    return errors


def _error_body(message: str, code: str) -> bytes:
    return json.dumps({"errors": [{"message": message, "extensions": {
        "code": code, "status": status_of(code)}}]}).encode()


def _error_response(status: int, message: str, code: str, **headers) -> HttpResponse:
    response = HttpResponse(_error_body(message, code), status=status,
                            content_type="application/json")
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


@method_decorator(csrf_exempt, name="dispatch")
class CoalitionGraphQLView(GraphQLView):
    def __init__(self, **kwargs):
        kwargs.setdefault("graphiql", settings.GRAPHIQL_ENABLED)
        kwargs.setdefault("validation_rules", validation_rules())
        kwargs.setdefault("middleware", [*graphene_settings.MIDDLEWARE,
                                         ArgumentsMiddleware(), AuditReadsMiddleware()])
        super().__init__(**kwargs)

    def dispatch(self, request, *args, **kwargs):
        if request.method == "GET" and self.graphiql and self.request_wants_html(request):
            return super().dispatch(request, *args, **kwargs)  # GraphiQL page, DEBUG only
        try:
            principal = authenticate_request(request)
        except InvalidToken as exc:
            return self._unauthorized(str(exc.detail), exc.detail.code, token_sent=True)
        if principal is None:
            return self._unauthorized(
                "Send an OAuth2 bearer token: Authorization: Bearer <token>.",
                "not_authenticated",
            )
        wait = check_application_rate(request)
        if wait is not None:
            return _error_response(429, "Too many requests for this application; retry later.",
                                   "rate_limited", Retry_After=str(max(1, round(wait))))
        too_big = self._oversized(request)
        if too_big is not None:
            return too_big
        return super().dispatch(request, *args, **kwargs)

    @staticmethod
    def _oversized(request) -> HttpResponse | None:
        """Refuse documents over the size limit before reading or parsing them."""
        limit = settings.GRAPHQL_MAX_DOCUMENT_BYTES
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE or len(
                request.META.get("QUERY_STRING", "")) > limit:
            return _error_response(413, "The request is too large.", "payload_too_large")
        return None

    def execute_graphql_request(self, request, data, query, variables, operation_name,
                                show_graphiql=False):
        for name, value, expected, kind in (("query", query, str, "a string"),
                                            ("variables", variables, dict, "a JSON object"),
                                            ("operationName", operation_name, str, "a string")):
            if value is not None and not isinstance(value, expected):
                raise HttpError(HttpResponse(status=400), message=f"`{name}` must be {kind}.")
        if query and len(query) > settings.GRAPHQL_MAX_DOCUMENT_BYTES:
            raise HttpError(HttpResponse(status=413), message=(
                f"The query document is over {settings.GRAPHQL_MAX_DOCUMENT_BYTES} characters."))
        result = super().execute_graphql_request(request, data, query, variables,
                                                 operation_name, show_graphiql)
        # A database outage is not the client's error: let it become a 503.
        for error in (result.errors or []) if result else []:
            original = getattr(error, "original_error", None)
            if isinstance(original, (OperationalError, InterfaceError)):
                raise original
        return result

    @staticmethod
    def _unauthorized(message: str, code: str, token_sent: bool = False) -> HttpResponse:
        # As REST does (RFC 6750 section 3): say why a token that was sent is refused.
        challenge = 'Bearer realm="coalition"' + (', error="invalid_token"' if token_sent else "")
        return _error_response(401, message, code, WWW_Authenticate=challenge)

    @staticmethod
    def format_error(error):
        if isinstance(error, HttpError):
            status = error.response.status_code
            code = {405: "method_not_allowed", 413: "payload_too_large"}.get(status,
                                                                             "bad_request")
            message = error.message if hasattr(error, "message") else str(error)
            return {"message": message, "extensions": {"code": code, "status": status}}
        if isinstance(error, GraphQLError):
            formatted = error.formatted
            extensions = dict(formatted.get("extensions") or {})
            if "code" not in extensions:
                original = error.original_error
                if isinstance(original, DomainError):
                    extensions["code"] = original.code
                    if original.field:
                        extensions["field"] = original.field
                    extensions.update(original.extensions)
                elif isinstance(error, GraphQLSyntaxError):
                    extensions["code"] = "syntax_error"
                elif (original is None or isinstance(original, GraphQLError)
                      or error.path is None):
                    # Raised outside any resolver (parsing, validating, coercing variables
                    # and literals, e.g. a malformed UUID): the request is at fault.
                    extensions["code"] = "validation_error"
                elif isinstance(original, DjangoValidationError):
                    errors = _validation_errors(original)
                    extensions.update(code="validation_error", errors=errors)
                    formatted["message"] = "; ".join(
                        f"{e['field']}: {e['detail']}" if e["field"] else e["detail"]
                        for e in errors)
                else:
                    logger.error("GraphQL resolver failed", exc_info=original)
                    extensions["code"] = "internal_error"
                    if not settings.DEBUG:
                        formatted["message"] = "Internal error; it has been logged."
            extensions.setdefault("status", status_of(extensions["code"]))
            formatted["extensions"] = extensions
            return formatted
        logger.error("GraphQL request failed: %r", error)
        message = str(error) if settings.DEBUG else "Internal error; it has been logged."
        return {"message": message, "extensions": {"code": "internal_error", "status": 500}}
