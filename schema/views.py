"""The GraphQL endpoint: bearer tokens only, the spec's rules plus limits."""

import json
import logging

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpResponse
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from graphene.relay import Connection
from graphene.utils.str_converters import to_camel_case
from graphene.validation import DisableIntrospection, depth_limit_validator
from graphene_django.settings import graphene_settings
from graphene_django.views import GraphQLView, HttpError
from graphql import GraphQLError, GraphQLSyntaxError, get_named_type, specified_rules

from config.errors import DomainError
from orgs.auth import InvalidToken, authenticate_request

from .errors import CoalitionError

logger = logging.getLogger(__name__)


def validation_rules() -> tuple:
    # Start from the spec's rules: passing only extra rules would replace them.
    rules = list(specified_rules)
    rules.append(depth_limit_validator(max_depth=settings.GRAPHQL_MAX_DEPTH))
    if not settings.GRAPHQL_INTROSPECTION:
        rules.append(DisableIntrospection)
    return tuple(rules)


class ConnectionArgumentsMiddleware:
    """Refuse bad paging arguments as the client's error. graphene-django checks
    `first`/`last` against RELAY_CONNECTION_MAX_LIMIT with bare asserts and
    graphql-relay rejects negative values with ValueError; both would otherwise be
    reported as an internal error."""

    def resolve(self, next, root, info, **args):
        if ("first" in args or "last" in args or "offset" in args) and _is_connection(info):
            _check_paging(args)
        return next(root, info, **args)


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
    return json.dumps({"errors": [{"message": message, "extensions": {"code": code}}]}).encode()


@method_decorator(csrf_exempt, name="dispatch")
class CoalitionGraphQLView(GraphQLView):
    def __init__(self, **kwargs):
        kwargs.setdefault("graphiql", settings.GRAPHIQL_ENABLED)
        kwargs.setdefault("validation_rules", validation_rules())
        kwargs.setdefault("middleware",
                          [*graphene_settings.MIDDLEWARE, ConnectionArgumentsMiddleware()])
        super().__init__(**kwargs)

    def dispatch(self, request, *args, **kwargs):
        if request.method == "GET" and self.graphiql and self.request_wants_html(request):
            return super().dispatch(request, *args, **kwargs)  # GraphiQL page, DEBUG only
        try:
            principal = authenticate_request(request)
        except InvalidToken as exc:
            return self._unauthorized(str(exc.detail), exc.detail.code)
        if principal is None:
            return self._unauthorized(
                "Send an OAuth2 bearer token: Authorization: Bearer <token>.",
                "not_authenticated",
            )
        return super().dispatch(request, *args, **kwargs)

    @staticmethod
    def _unauthorized(message: str, code: str) -> HttpResponse:
        response = HttpResponse(_error_body(message, code), status=401,
                                content_type="application/json")
        response["WWW-Authenticate"] = 'Bearer realm="coalition"'
        return response

    @staticmethod
    def format_error(error):
        if isinstance(error, HttpError):
            status = error.response.status_code
            code = {405: "method_not_allowed"}.get(status, "bad_request")
            message = error.message if hasattr(error, "message") else str(error)
            return {"message": message, "extensions": {"code": code}}
        if isinstance(error, GraphQLError):
            formatted = error.formatted
            extensions = dict(formatted.get("extensions") or {})
            if "code" not in extensions:
                original = error.original_error
                if isinstance(original, DomainError):
                    extensions["code"] = original.code
                    if original.field:
                        extensions["field"] = original.field
                elif isinstance(error, GraphQLSyntaxError):
                    extensions["code"] = "syntax_error"
                elif original is None:
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
            formatted["extensions"] = extensions
            return formatted
        logger.error("GraphQL request failed: %r", error)
        message = str(error) if settings.DEBUG else "Internal error; it has been logged."
        return {"message": message, "extensions": {"code": "internal_error"}}
