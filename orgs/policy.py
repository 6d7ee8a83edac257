"""Which scopes an organisation kind and a member's role may hold.

The one table that keeps funders away from referral data: a funder's
applications and analysts can never be granted a referrals scope.
"""

from .models import OrganizationKind, Role

ORGS_READ = "orgs:read"
REFERRALS_READ = "referrals:read"
REFERRALS_WRITE = "referrals:write"
REPORTS_READ = "reports:read"
ADMIN = "admin"

ALL_SCOPES = frozenset({ORGS_READ, REFERRALS_READ, REFERRALS_WRITE, REPORTS_READ, ADMIN})
_CASEWORK = frozenset({ORGS_READ, REFERRALS_READ, REFERRALS_WRITE, REPORTS_READ})

SCOPES_BY_KIND: dict[str, frozenset[str]] = {
    OrganizationKind.CAUCUS: ALL_SCOPES,
    OrganizationKind.DISTRICT_OFFICE: _CASEWORK,
    OrganizationKind.HOTLINE: _CASEWORK,
    OrganizationKind.LEGAL_NONPROFIT: _CASEWORK,
    OrganizationKind.COMMUNITY_GROUP: _CASEWORK,
    OrganizationKind.LAW_FIRM: _CASEWORK,
    OrganizationKind.FUNDER: frozenset({ORGS_READ, REPORTS_READ}),
}

SCOPES_BY_ROLE: dict[str, frozenset[str]] = {
    Role.INTAKE: frozenset({ORGS_READ, REFERRALS_READ, REFERRALS_WRITE}),
    Role.CASEWORKER: _CASEWORK,
    Role.ORG_ADMIN: _CASEWORK,
    Role.FUNDER_ANALYST: frozenset({ORGS_READ, REPORTS_READ}),
    Role.COALITION_ADMIN: ALL_SCOPES,
}


def scopes_for_kind(kind: str) -> frozenset[str]:
    return SCOPES_BY_KIND.get(kind, frozenset())


def scopes_for_role(role: str) -> frozenset[str]:
    return SCOPES_BY_ROLE.get(role, frozenset())
