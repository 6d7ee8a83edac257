"""The GraphQL endpoint: bearer tokens only, the spec's rules plus limits."""

import json
import logging

from django.conf import settings
from django.http import HttpResponse
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from graphene.validation import DisableIntrospection, depth_limit_validator
from graphene_django.views import GraphQLView, HttpError
from graphql import GraphQLError, GraphQLSyntaxError, specified_rules

from config.errors import DomainError
from orgs.auth import InvalidToken, authenticate_request

logger = logging.getLogger(__name__)


def validation_rules() -> tuple:
    # Start from the spec's rules: passing only extra rules would replace them.
    rules = list(specified_rules)
    rules.append(depth_limit_validator(max_depth=settings.GRAPHQL_MAX_DEPTH))
    if not settings.GRAPHQL_INTROSPECTION:
        rules.append(DisableIntrospection)
    return tuple(rules)


def _error_body(message: str, code: str) -> bytes:
    return json.dumps({"errors": [{"message": message, "extensions": {"code": code}}]}).encode()


@method_decorator(csrf_exempt, name="dispatch")
class CoalitionGraphQLView(GraphQLView):
    def __init__(self, **kwargs):
        kwargs.setdefault("graphiql", settings.GRAPHIQL_ENABLED)
        kwargs.setdefault("validation_rules", validation_rules())
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
