"""Who is calling: one Principal per request, for REST and GraphQL alike.

A client-credentials token has no user, so nothing here relies on
``request.user``. The Principal names the organisation the caller acts for,
the person (if any), the OAuth application and the scopes actually held.
"""

from __future__ import annotations

from oauth2_provider.oauth2_backends import get_oauthlib_core
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import BasePermission

from core.errors import DomainError
from core.principal import Principal
from core.scopes import missing_scopes_message

from .oauth import grantable_scopes
from .policy import acting_organization


class InvalidToken(exceptions.AuthenticationFailed):
    default_detail = "The access token is invalid, expired or revoked. Request a new token."
    default_code = "invalid_token"


class InsufficientScope(exceptions.PermissionDenied):
    default_detail = "The access token does not carry the scope this operation needs."
    default_code = "insufficient_scope"


def _bearer_present(request) -> bool:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    return header[:7].lower() == "bearer "


def principal_for_token(access_token) -> Principal:
    """Build the Principal for a valid access token, or raise InvalidToken."""
    application = access_token.application
    if application is None:
        raise InvalidToken()
    user = access_token.user
    try:
        organization = acting_organization(user, application)
    except DomainError as exc:
        raise InvalidToken(exc.detail, code=exc.code) from None
    scopes = frozenset(set(access_token.scope.split()) & grantable_scopes(application, user))
    return Principal(
        organization=organization, scopes=scopes, application=application, user=user
    )


def authenticate_request(request) -> Principal | None:
    """The Principal of a Django request carrying a bearer token.

    Returns None when no bearer token was sent; raises InvalidToken when one was
    sent but is unknown, expired or revoked. Caches the result on the request.
    """
    if hasattr(request, "principal"):
        return request.principal
    if not _bearer_present(request):
        return None
    valid, oauth_request = get_oauthlib_core().verify_request(request, scopes=[])
    if not valid:
        raise InvalidToken()
    principal = principal_for_token(oauth_request.access_token)
    request.principal = principal
    return principal


class PrincipalAuthentication(BaseAuthentication):
    """DRF authentication: ``request.auth`` is the Principal, ``request.user``
    the person or None."""

    www_authenticate_realm = "coalition"

    def authenticate(self, request):
        principal = authenticate_request(request._request)
        if principal is None:
            return None
        return (principal.user, principal)

    def authenticate_header(self, request):
        # RFC 6750 section 3: say why a token that was sent is refused.
        if _bearer_present(request._request):
            return f'Bearer realm="{self.www_authenticate_realm}", error="invalid_token"'
        return f'Bearer realm="{self.www_authenticate_realm}"'


def required_scopes_for(view) -> list[str] | None:
    """The scopes a view declares for the current action (or HTTP method)."""
    by_action = getattr(view, "required_scopes_by_action", None)
    if by_action:
        action = getattr(view, "action", None)
        if action in by_action:
            return list(by_action[action])
    return getattr(view, "required_scopes", None)


class HasScopes(BasePermission):
    """Requires a Principal holding the scopes the view declares; a view that
    declares none is closed to everyone."""

    def has_permission(self, request, view):
        principal = request.auth
        if not isinstance(principal, Principal):
            raise exceptions.NotAuthenticated(
                "Send an OAuth2 bearer token: Authorization: Bearer <token>. "
                "Get one from /o/token/."
            )
        required = required_scopes_for(view)
        if required is None:
            return False
        if not principal.has_scopes(*required):
            exc = InsufficientScope(missing_scopes_message(required))
            exc.www_authenticate = (f'Bearer realm="coalition", error="insufficient_scope", '
                                    f'scope="{" ".join(required)}"')
            raise exc
        return True
