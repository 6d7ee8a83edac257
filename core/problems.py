"""Errors as RFC 9457 problem+json documents, each with a stable ``code``.

Every REST error goes through ``problem_exception_handler``; anything that
escapes a view under an API path (an unknown URL, a bug, a database outage)
is turned into a problem document by ``APIErrorMiddleware``, so an API client
never sees an HTML page or a traceback.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from django.http.multipartparser import MultiPartParserError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .errors import CODES, DomainError

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_PREFIX = "urn:coalition:problem:"

# Codes for DRF's own exceptions, where its default code is vague.
_DEFAULT_CODES = {
    exceptions.ParseError: "malformed_request",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "rate_limited",
    exceptions.NotFound: "not_found",
}

_BY_STATUS = {401: "invalid_token", 403: "permission_denied", 404: "not_found",
              405: "method_not_allowed", 406: "not_acceptable", 413: "payload_too_large",
              415: "unsupported_media_type", 429: "rate_limited", 503: "service_unavailable"}


def problem(status_code: int, code: str, detail: str, *, title: str | None = None,
            instance: str | None = None, **extra) -> dict:
    body = {
        "type": PROBLEM_TYPE_PREFIX + code,
        "title": title or _title_for(status_code),
        "status": status_code,
        "detail": detail,
        "code": code,
    }
    if instance:
        body["instance"] = instance
    body.update(extra)
    return body


def problem_response(status_code: int, code: str, detail: str, *, request=None,
                     headers: dict | None = None, **extra) -> JsonResponse:
    body = problem(status_code, code, detail,
                   instance=request.path if request is not None else None, **extra)
    response = JsonResponse(body, status=status_code, content_type=PROBLEM_CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _title_for(status_code: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status_code).phrase
    except ValueError:
        return "Error"


def _flatten_validation(detail, prefix: str = "") -> list[dict]:
    """Turn DRF's nested ValidationError detail into a flat list of field errors."""
    errors: list[dict] = []
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = key if key != "non_field_errors" else ""
            path = f"{prefix}.{name}" if prefix and name else (name or prefix)
            errors.extend(_flatten_validation(value, path))
    elif isinstance(detail, list):
        for index, value in enumerate(detail):
            if isinstance(value, (dict, list)):
                errors.extend(_flatten_validation(value, f"{prefix}[{index}]"))
            else:
                errors.extend(_flatten_validation(value, prefix))
    else:
        errors.append({
            "field": prefix or None,
            "code": getattr(detail, "code", None) or "invalid",
            "detail": str(detail),
        })
    return errors


def problem_exception_handler(exc, context):
    """DRF EXCEPTION_HANDLER producing problem+json."""
    if isinstance(exc, (OperationalError, InterfaceError)):
        return None  # let APIErrorMiddleware answer 503
    request = context.get("request")
    instance = request.path if request is not None else None
    if isinstance(exc, DomainError):
        extra = dict(exc.extensions)
        if exc.field:
            extra["errors"] = [{"field": exc.field, "code": exc.code, "detail": exc.detail}]
        response = Response(problem(exc.status, exc.code, exc.detail, instance=instance, **extra),
                            status=exc.status, headers=exc.headers,
                            content_type=PROBLEM_CONTENT_TYPE)
        return response
    response = drf_exception_handler(exc, context)
    if response is None:
        return None

    if isinstance(exc, exceptions.ValidationError):
        errors = _flatten_validation(exc.detail)
        codes = {e["code"] for e in errors}
        code = "validation_error"
        # A single registered code keeps its name; DRF's own (e.g. "null" for a JSON
        # body of null) stay inside errors[], under validation_error.
        if (len(errors) == 1 and errors[0]["field"] is None and codes - {"invalid"}
                and errors[0]["code"] in CODES):
            code = errors[0]["code"]
        detail = errors[0]["detail"] if len(errors) == 1 else "The request has invalid fields."
        body = problem(response.status_code, code, detail, instance=instance, errors=errors)
    else:
        if isinstance(exc, Http404):
            code, detail = "not_found", "Not found."
        elif isinstance(exc, DjangoPermissionDenied):
            code, detail = "permission_denied", "You do not have permission for this."
        else:
            code = _code_for(exc)
            detail = str(exc.detail) if isinstance(exc, exceptions.APIException) else str(exc)
        body = problem(response.status_code, code, detail, instance=instance)

    response.data = body
    response.content_type = PROBLEM_CONTENT_TYPE
    if getattr(exc, "www_authenticate", None):
        response["WWW-Authenticate"] = exc.www_authenticate
    return response


def _code_for(exc: exceptions.APIException) -> str:
    for exc_class, code in _DEFAULT_CODES.items():
        if type(exc) is exc_class:
            return code
    codes = exc.get_codes()
    if isinstance(codes, str) and codes in CODES:
        return codes
    # Only registered codes reach a caller: DRF's own (e.g. authentication_failed)
    # are answered by their status's general code.
    return _BY_STATUS.get(exc.status_code, "validation_error")


def _is_api_path(path: str) -> bool:
    return path.startswith(settings.API_PATH_PREFIXES)


def database_unavailable(request) -> JsonResponse:
    return problem_response(
        status.HTTP_503_SERVICE_UNAVAILABLE, "service_unavailable",
        "The database is unavailable. Retry after a short wait.",
        request=request, headers={"Retry-After": "5"},
    )


class APIErrorMiddleware:
    """JSON, never HTML, for failures under API paths (including DEBUG's pages)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            _is_api_path(request.path)
            and response.status_code in (404, 500)
            and "html" in response.get("Content-Type", "")
        ):
            if response.status_code == 404:
                return not_found(request)
            return server_error(request)
        return response

    def process_exception(self, request, exception):
        if not _is_api_path(request.path):
            return None
        if isinstance(exception, Http404):
            return not_found(request)
        if isinstance(exception, RequestDataTooBig):
            return problem_response(413, "payload_too_large",
                                    "The request body is too large.", request=request)
        if isinstance(exception, (MultiPartParserError, SuspiciousOperation)):
            # E.g. a multipart body without a boundary, or too many form fields: met
            # when the bearer token is looked for in the body. The client's error.
            return problem_response(400, "malformed_request",
                                    "The request is malformed and could not be parsed.",
                                    request=request)
        if isinstance(exception, RecursionError):
            # json.loads gives up on a body nested thousands of levels deep.
            logger.warning("too deeply nested request on %s %s", request.method, request.path)
            return problem_response(400, "malformed_request",
                                    "The request is nested too deeply.", request=request)
        if isinstance(exception, (OperationalError, InterfaceError)):
            logger.warning("database unavailable on %s %s: %s", request.method,
                           request.path, exception)
            return database_unavailable(request)
        if isinstance(exception, DatabaseError):
            logger.exception("database error on %s %s", request.method, request.path)
        else:
            logger.exception("unhandled error on %s %s", request.method, request.path)
        return server_error(request)


def not_found(request, exception=None):
    if _is_api_path(request.path):
        return problem_response(404, "not_found", "No resource at this address.",
                                request=request)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def server_error(request):
    if _is_api_path(request.path):
        return problem_response(500, "server_error",
                                "The server failed to answer this request; it has been logged.",
                                request=request)
    from django.views.defaults import server_error as html_server_error

    return html_server_error(request)
