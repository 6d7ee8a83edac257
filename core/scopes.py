"""The OAuth scopes of the API. Which organisation kinds and roles may hold which
is orgs.policy's table; every app names its scopes from here."""

ORGS_READ = "orgs:read"
REFERRALS_READ = "referrals:read"
REFERRALS_WRITE = "referrals:write"
REPORTS_READ = "reports:read"
WEBHOOKS_MANAGE = "webhooks:manage"
ADMIN = "admin"

ALL_SCOPES = frozenset({ORGS_READ, REFERRALS_READ, REFERRALS_WRITE, REPORTS_READ,
                        WEBHOOKS_MANAGE, ADMIN})


def missing_scopes_message(scopes) -> str:
    """What both channels say to a token without the scopes an operation needs."""
    return f"This operation needs the scope(s): {' '.join(scopes)}."
