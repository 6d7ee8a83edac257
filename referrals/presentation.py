"""What of a client each caller is shown: one policy for every channel (REST,
GraphQL, the staff app). Channels name the view they render; the policy says which
fields it carries, and every other field is withheld (null)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from core.context import note_read

from .models import Client, Consent, ContactPreference


class View(Enum):
    LIST = "list"      # a page or feed of many: REST lists and sync, GraphQL lists
    RESULT = "result"  # the one object a write returns (create, transition, forward, ...)
    DETAIL = "detail"  # a read of one client or one referral


@dataclass(frozen=True)
class ClientFieldPolicy:
    """Which client fields each view carries (minimum necessary).

    - ``list_fields``: wherever a client is shown, lists included;
    - ``detail_fields``: contact details, only where one client or referral is shown
      (a read or a write's result), and withheld from other organisations when the
      client asked not to be contacted;
    - ``protected_fields``: identifiers only on a read of one client or one referral
      (never in lists, nor in a write's result, which an idempotent replay stores),
      to the organisation that recorded the client or one the client has an active
      consent to share with."""

    list_fields: tuple[str, ...]
    detail_fields: tuple[str, ...]
    protected_fields: tuple[str, ...]

    @property
    def fields(self) -> tuple[str, ...]:
        return self.list_fields + self.detail_fields + self.protected_fields

    def shown(self, principal, client: Client, view: View) -> frozenset[str]:
        """The fields of ``client`` this principal is shown in ``view``."""
        cache = client.__dict__.setdefault("_fields_shown", {})
        organization = getattr(principal, "organization", None)
        key = (getattr(organization, "pk", None), view)
        if key not in cache:
            shown = set(self.list_fields)
            if view is not View.LIST and contact_details_visible(principal, client):
                shown.update(self.detail_fields)
            if view is View.DETAIL and has_consent(principal, client):
                shown.update(self.protected_fields)
            cache[key] = frozenset(shown)
        return cache[key]


CLIENT_FIELDS = ClientFieldPolicy(
    list_fields=("id", "given_name", "family_name", "preferred_languages",
                 "primary_language", "contact_preference", "created_by_org", "created_at",
                 "updated_at", "erased_at"),
    detail_fields=("phone", "email"),
    protected_fields=("a_number", "date_of_birth"),
)

WITHHELD_HELP = {
    "detail": "Only where one client or referral is shown (null in lists), and withheld "
              "(null) from other organisations when the client asked not to be contacted.",
    "protected": "Protected: shown only when you read one referral or one client (null in "
                 "lists and in a write's response), and only to the organisation that "
                 "recorded the client or one the client consented to share with.",
}


def contact_details_visible(principal, client: Client) -> bool:
    """A client who asked not to be contacted keeps phone and email within the
    organisation that recorded them."""
    if client.contact_preference != ContactPreference.DO_NOT_CONTACT:
        return True
    return principal is not None and principal.organization.pk == client.created_by_org_id


def has_consent(principal, client: Client) -> bool:
    """The principal's organisation recorded the client, or the client consented
    (and has not revoked it) to share their details with it."""
    if principal is None or principal.organization is None:
        return False
    org_id = principal.organization.pk
    if org_id == client.created_by_org_id:
        return True
    return Consent.objects.filter(client=client, shared_with_id=org_id,
                                  revoked_at__isnull=True).exists()


def chain_as_dict(principal, links) -> dict:
    """A chain as REST and GraphQL show it: each link's organisations, service,
    status, dates and outcome codes; ``yours`` where the caller is on the link."""
    org_id = principal.organization.pk
    root = links[0].chain_root_pk
    for link in links:
        note_read("referral", link.pk)
    return {
        "root": root,
        "chain_updated_at": max((link.chain_updated_at for link in links
                                 if link.chain_updated_at), default=None),
        "links": [{
            "id": link.pk, "parent": link.parent_id,
            "sending_org": link.sending_org.slug, "receiving_org": link.receiving_org.slug,
            "service_type": link.service_type.code, "status": link.status,
            "priority": link.priority, "created_at": link.created_at,
            "accepted_at": link.accepted_at, "closed_at": link.closed_at,
            "outcomes": [{"code": o.code, "recorded_at": o.recorded_at}
                         for o in link.outcomes.all()],
            "yours": org_id in (link.sending_org_id, link.receiving_org_id),
        } for link in links],
    }
