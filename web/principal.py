"""The Principal of a signed-in staff member: the same core Principal a token gets.

The acting organisation is the user's Membership; the scopes are what
``orgs.oauth.grantable_scopes`` grants the staff web app's application for that
user (its org kind and the member's role), exactly as for an interactive token.
Each organisation has one application for the staff web app, so that events,
consents and Idempotency-Keys name the client application that made them, as for
any partner system. It issues no tokens: its secret is never shown."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from core.principal import Principal
from core.scopes import ADMIN, ORGS_READ, REFERRALS_READ, REFERRALS_WRITE, REPORTS_READ
from orgs.models import OAuthApplication, Organization
from orgs.oauth import grantable_scopes
from orgs.policy import acting_organization, scopes_for_kind
from orgs.services import oauth_client_create

STAFF_APP_SCOPES = frozenset({ORGS_READ, REFERRALS_READ, REFERRALS_WRITE, REPORTS_READ, ADMIN})


def staff_client_id(organization: Organization) -> str:
    return f"staff-web-{organization.slug}"


def staff_application(organization: Organization) -> OAuthApplication:
    """The organisation's staff web app application, issued on first use."""
    client_id = staff_client_id(organization)
    app = OAuthApplication.objects.filter(client_id=client_id).first()
    if app is not None:
        return app
    try:
        with transaction.atomic():
            return oauth_client_create(
                organization=organization, name="Staff web app (browser sessions)",
                scopes=sorted(STAFF_APP_SCOPES & scopes_for_kind(organization.kind)),
                client_id=client_id).application
    except IntegrityError:  # issued meanwhile by a concurrent first request
        return OAuthApplication.objects.get(client_id=client_id)


def session_principal(user) -> Principal:
    """The Principal for a signed-in user; DomainError when the user may not act."""
    organization = acting_organization(user)
    application = staff_application(organization)
    return Principal(organization=organization, application=application, user=user,
                     scopes=frozenset(grantable_scopes(application, user)))
