"""Which scopes an organisation kind and a member's role may hold.

The one table that keeps funders away from referral data: a funder's
applications and analysts can never be granted a referrals scope.
"""

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
