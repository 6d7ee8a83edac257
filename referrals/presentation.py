"""What of a client each caller is shown; shared by REST and GraphQL."""

from .models import Client, ContactPreference


def contact_details_visible(principal, client: Client) -> bool:
    """A client who asked not to be contacted keeps phone and email within the
    organisation that recorded them."""
    if client.contact_preference != ContactPreference.DO_NOT_CONTACT:
        return True
    return principal is not None and principal.organization.pk == client.created_by_org_id

