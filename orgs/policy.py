"""Which scopes an organisation kind and a member's role may hold.

The one table that keeps funders away from referral data: a funder's
applications and analysts can never be granted a referrals scope.
"""

from core.errors import DomainError
from core.scopes import (
    ALL_SCOPES,
    ORGS_READ,
    REFERRALS_READ,
    REFERRALS_WRITE,
    REPORTS_READ,
    WEBHOOKS_MANAGE,
)

from .models import OrganizationKind, Role
_CASEWORK = frozenset({ORGS_READ, REFERRALS_READ, REFERRALS_WRITE, REPORTS_READ})
# Organisations that hold referrals may also register webhooks (integration set-up).
_INTEGRATING = _CASEWORK | {WEBHOOKS_MANAGE}

SCOPES_BY_KIND: dict[str, frozenset[str]] = {
    OrganizationKind.CAUCUS: ALL_SCOPES,
    OrganizationKind.DISTRICT_OFFICE: _INTEGRATING,
    OrganizationKind.HOTLINE: _INTEGRATING,
    OrganizationKind.LEGAL_NONPROFIT: _INTEGRATING,
    OrganizationKind.COMMUNITY_GROUP: _INTEGRATING,
    OrganizationKind.LAW_FIRM: _INTEGRATING,
    OrganizationKind.FUNDER: frozenset({ORGS_READ, REPORTS_READ}),
}

SCOPES_BY_ROLE: dict[str, frozenset[str]] = {
    Role.INTAKE: frozenset({ORGS_READ, REFERRALS_READ, REFERRALS_WRITE}),
    Role.CASEWORKER: _CASEWORK,
    Role.ORG_ADMIN: _INTEGRATING,
    Role.FUNDER_ANALYST: frozenset({ORGS_READ, REPORTS_READ}),
    Role.COALITION_ADMIN: ALL_SCOPES,
}


def scopes_for_kind(kind: str) -> frozenset[str]:
    return SCOPES_BY_KIND.get(kind, frozenset())


def scopes_for_role(role: str) -> frozenset[str]:
    return SCOPES_BY_ROLE.get(role, frozenset())


def acting_organization(user, application=None):
    """The organisation a caller acts for: a person's active membership, else the OAuth
    application's. Refused (DomainError) when a person belongs to none or the
    organisation is inactive: the same words for a token and a staff sign-in."""
    if user is not None:
        membership = getattr(user, "membership", None)
        if membership is None or not membership.active:
            raise DomainError("no_membership", "This user belongs to no organisation of the "
                              "coalition; ask your organisation admin to add you.")
        organization = membership.organization
    else:
        organization = application.organization
    if not organization.active:
        raise DomainError("organization_inactive",
                          "Your organisation is not active in the coalition.")
    return organization
