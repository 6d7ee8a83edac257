"""Who is calling: one Principal per request, for REST, GraphQL and the staff app.

The one rule for refusals (docs/security.md):
- a capability the caller's organisation kind can never hold (a funder and client
  records, a scope its token lacks) is **403**, with a code saying why;
- an object outside the caller's reach (another organisation's referral, a client
  never shared with it) is **404**, exactly as if it did not exist, so that ids
  cannot be probed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import DomainError
from .scopes import ADMIN

# orgs.models.OrganizationKind.FUNDER, named here so that every layer asks
# Principal.is_funder instead of comparing strings.
FUNDER_KIND = "funder"


@dataclass(frozen=True)
class Principal:
    """The organisation acted for (an ``orgs.Organization``), the scopes actually
    held, the OAuth application (None for a staff session) and the person (None for
    a client-credentials token)."""

    organization: Any
    scopes: frozenset[str]
    application: Any = None
    user: Any = None

    @property
    def is_funder(self) -> bool:
        return self.organization.kind == FUNDER_KIND

    @property
    def is_admin(self) -> bool:
        """A coalition admin: may read the audit trail and erase any client."""
        return ADMIN in self.scopes

    def has_scopes(self, *required: str) -> bool:
        return set(required) <= self.scopes

    def __str__(self) -> str:
        if self.user is not None:
            who = self.user.get_username()
        elif self.application is not None:
            who = f"app:{self.application.client_id}"
        else:
            who = "system"
        return f"{who} for {self.organization.slug}"


def require_casework(principal: Principal | None) -> Principal:
    """Client records are never a funder's: 403 funder_not_allowed (see the rule above)."""
    if principal is None or principal.is_funder:
        raise DomainError("funder_not_allowed", "Funders see aggregate reports; this "
                          "operation handles client records.")
    return principal
