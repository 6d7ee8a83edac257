"""Demo accounts for `make demo`: known client ids and secrets so that README's
curl lines work as printed. Never loaded in production."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from .models import Membership, OAuthApplication, Organization, Role
from .services import oauth_client_create

DEMO_CLIENTS = [
    # client_id, org slug, scopes, grant
    ("demo-peralta-office", "sd13-peralta-office",
     "orgs:read referrals:read referrals:write reports:read webhooks:manage",
     "client-credentials"),
    ("demo-hotline", "idc-hotline",
     "orgs:read referrals:read referrals:write reports:read webhooks:manage",
     "client-credentials"),
    ("demo-camba", "camba-legal",
     "orgs:read referrals:read referrals:write reports:read webhooks:manage",
     "client-credentials"),
    ("demo-cala", "cala",
     "orgs:read referrals:read referrals:write reports:read webhooks:manage",
     "client-credentials"),
    ("demo-funder", "nyc-council", "orgs:read reports:read", "client-credentials"),
    ("demo-coalition-admin", "idc",
     "orgs:read referrals:read referrals:write reports:read webhooks:manage admin",
     "client-credentials"),
]
DEMO_WEB_CLIENT = ("demo-web", "idc", "orgs:read referrals:read referrals:write reports:read admin",
                   "http://127.0.0.1:8765/callback")
DEMO_USERS = [
    # username, org slug, role
    ("intake.peralta", "sd13-peralta-office", Role.INTAKE),
    ("caseworker.camba", "camba-legal", Role.CASEWORKER),
    ("analyst.council", "nyc-council", Role.FUNDER_ANALYST),
    ("admin.idc", "idc", Role.COALITION_ADMIN),
]
DEMO_PASSWORD = "coalition-demo-2017"


def demo_secret(client_id: str) -> str:
    return f"{client_id}-secret"


@transaction.atomic
def demo_accounts_seed() -> list[str]:
    if not settings.DEBUG:
        raise RuntimeError("Demo accounts have known secrets; they are loaded only with DEBUG on.")
    created = []
    for client_id, slug, scopes, grant in DEMO_CLIENTS:
        existing = OAuthApplication.objects.filter(client_id=client_id)
        if existing.exists():
            # A demo database from an older version: give the demo clients today's scopes.
            existing.update(allowed_scopes=" ".join(sorted(scopes.split())))
            continue
        oauth_client_create(organization=Organization.objects.get(slug=slug),
                            name=f"Demo {client_id}", scopes=scopes.split(), grant=grant,
                            client_id=client_id, client_secret=demo_secret(client_id))
        created.append(client_id)
    client_id, slug, scopes, redirect = DEMO_WEB_CLIENT
    if not OAuthApplication.objects.filter(client_id=client_id).exists():
        oauth_client_create(organization=Organization.objects.get(slug=slug),
                            name="Demo interactive client", scopes=scopes.split(),
                            grant="authorization-code", redirect_uris=[redirect], public=True,
                            client_id=client_id)
        created.append(client_id)
    User = get_user_model()
    for username, slug, role in DEMO_USERS:
        user, was_created = User.objects.get_or_create(username=username)
        if was_created:
            user.set_password(DEMO_PASSWORD)
            user.is_staff = user.is_superuser = role == Role.COALITION_ADMIN
            user.save()
            created.append(username)
        Membership.objects.update_or_create(
            user=user, defaults={"organization": Organization.objects.get(slug=slug),
                                 "role": role, "active": True})
    return created
