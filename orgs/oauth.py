"""django-oauth-toolkit hooks: what scopes a client (and its user) may be granted."""

from oauth2_provider.scopes import SettingsScopes

from .policy import scopes_for_kind, scopes_for_role


def grantable_scopes(application, user=None) -> set[str]:
    """Scopes an application may be granted: its own list, within its org kind, and,
    when a person authorises it, within that person's role."""
    if application is None:
        return set()
    scopes = set(application.allowed_scope_set) & scopes_for_kind(application.organization.kind)
    if user is not None and getattr(user, "is_authenticated", False):
        membership = getattr(user, "membership", None)
        if membership is None or not membership.active or not membership.organization.active:
            return set()
        scopes &= scopes_for_role(membership.role) & scopes_for_kind(
            membership.organization.kind
        )
    return scopes


class CoalitionScopes(SettingsScopes):
    def get_available_scopes(self, application=None, request=None, *args, **kwargs):
        user = getattr(request, "user", None) if request is not None else None
        return sorted(grantable_scopes(application, user))

    def get_default_scopes(self, application=None, request=None, *args, **kwargs):
        return self.get_available_scopes(application, request)
