"""Audit every request (API, staff web app, admin) that reads client data; fail
closed when the audit trail cannot be written (the data is not sent)."""

from django.conf import settings
from django.db import DatabaseError

from core.problems import database_unavailable

from core import context

from .context import flush_reads
from .models import Channel


def _signed_in(request):
    """The session's user (the admin has no Principal: its reads name the user)."""
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


class AuditMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/graphql"):
            channel = Channel.GRAPHQL
        elif request.path.startswith("/api/"):
            channel = Channel.REST
        elif request.path.startswith(f"/{settings.STATIC_URL.lstrip('/')}"):
            return self.get_response(request)
        elif request.path.startswith("/admin/"):
            channel = Channel.ADMIN
        else:
            channel = Channel.WEB
        token = context.begin(channel, f"{request.method} {request.path}"[:200])
        try:
            response = self.get_response(request)
            collected = context.current()
        finally:
            context.end(token)
        if collected.reads and response.status_code < 400:
            try:
                flush_reads(getattr(request, "principal", None), collected,
                            user=_signed_in(request))
            except DatabaseError:
                return database_unavailable(request)
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if match is not None and match.view_name and not request.path.startswith("/graphql"):
            context.set_operation(f"{request.method} {match.view_name}")
        return None
