"""Writes to the directory: seeding the coalition and issuing OAuth clients."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from oauth2_provider.generators import generate_client_id, generate_client_secret

from . import coalition
from .models import Language, OAuthApplication, Organization, SenateDistrict, ServiceType
from .policy import ALL_SCOPES, scopes_for_kind

GRANTS = {
    "client-credentials": OAuthApplication.GRANT_CLIENT_CREDENTIALS,
    "authorization-code": OAuthApplication.GRANT_AUTHORIZATION_CODE,
}


def _sync_m2m(manager, wanted) -> bool:
    current = set(manager.all())
    wanted = set(wanted)
    if current == wanted:
        return False
    manager.set(wanted)
    return True


@transaction.atomic
def coalition_seed() -> dict[str, int]:
    """Load or refresh the coalition directory. Idempotent: returns how many rows
    were created or changed, all zero on a second run."""
    changed = {"service_types": 0, "languages": 0, "districts": 0, "organizations": 0}

    for code, name, description in coalition.SERVICE_TYPES:
        _, touched = _upsert(ServiceType, {"code": code},
                             {"name": name, "description": description})
        changed["service_types"] += touched
    for code, name in coalition.LANGUAGES:
        _, touched = _upsert(Language, {"code": code}, {"name": name})
        changed["languages"] += touched
    for number in range(1, 64):
        _, touched = _upsert(SenateDistrict, {"number": number},
                             {"region": coalition.REGION_OF[number]})
        changed["districts"] += touched

    services = {s.code: s for s in ServiceType.objects.all()}
    languages = {lang.code: lang for lang in Language.objects.all()}
    districts = {d.number: d for d in SenateDistrict.objects.all()}
    for spec in coalition.ORGANIZATIONS:
        available, maximum = spec.get("capacity", (None, None))
        org, touched = _upsert(Organization, {"slug": spec["slug"]}, {
            "name": spec["name"],
            "kind": spec["kind"],
            "accepting_referrals": spec["accepting_referrals"],
            "capacity_available": available,
            "capacity_maximum": maximum,
            "phone": spec.get("phone", ""),
            "address_city": spec.get("address_city", ""),
            "active": True,
        })
        relinked = _sync_m2m(org.senate_districts, [districts[n] for n in spec["districts"]])
        relinked |= _sync_m2m(org.languages, [languages[c] for c in spec["languages"]])
        relinked |= _sync_m2m(org.service_types, [services[c] for c in spec["services"]])
        if relinked and not touched:
            org.save(update_fields=["updated_at"])
        changed["organizations"] += touched or relinked
    return changed


def _upsert(model, lookup: dict, values: dict):
    """Create or update one row; returns (row, whether anything changed)."""
    obj = model.objects.filter(**lookup).first()
    if obj is None:
        return model.objects.create(**lookup, **values), True
    dirty = [name for name, value in values.items() if getattr(obj, name) != value]
    for name in dirty:
        setattr(obj, name, values[name])
    if dirty:
        obj.save(update_fields=dirty + (["updated_at"] if hasattr(obj, "updated_at") else []))
    return obj, bool(dirty)


@dataclass(frozen=True)
class IssuedClient:
    application: OAuthApplication
    client_secret: str | None  # plaintext, available only at creation

    def as_dict(self) -> dict:
        app = self.application
        return {
            "client_id": app.client_id,
            "client_secret": self.client_secret,
            "name": app.name,
            "organization": app.organization.slug,
            "grant": app.authorization_grant_type,
            "client_type": app.client_type,
            "scopes": app.allowed_scopes.split(),
            "redirect_uris": app.redirect_uris.split(),
        }


def oauth_client_create(*, organization: Organization, name: str, scopes: list[str],
                        grant: str = "client-credentials", redirect_uris: list[str] = (),
                        public: bool = False, client_id: str | None = None,
                        client_secret: str | None = None) -> IssuedClient:
    """Issue an OAuth2 client for an organisation. The secret is returned once and
    stored hashed. Raises ValidationError for scopes the org kind may not hold."""
    if grant not in GRANTS:
        raise ValidationError(f"Unknown grant {grant!r}; use one of {', '.join(GRANTS)}.",
                              code="invalid_grant")
    requested = set(scopes)
    if not requested:
        raise ValidationError("Give at least one scope.", code="invalid_scope")
    unknown = requested - ALL_SCOPES
    if unknown:
        raise ValidationError(
            f"Unknown scope(s): {', '.join(sorted(unknown))}. Known: {', '.join(sorted(ALL_SCOPES))}.",
            code="invalid_scope")
    forbidden = requested - scopes_for_kind(organization.kind)
    if forbidden:
        raise ValidationError(
            f"An organisation of kind {organization.kind!r} may not hold: "
            f"{', '.join(sorted(forbidden))}.", code="scope_not_allowed")
    grant_type = GRANTS[grant]
    if grant_type == OAuthApplication.GRANT_CLIENT_CREDENTIALS and public:
        raise ValidationError("Client credentials need a confidential client.",
                              code="invalid_client_type")
    if grant_type == OAuthApplication.GRANT_AUTHORIZATION_CODE and not redirect_uris:
        raise ValidationError("The authorization-code grant needs --redirect-uri.",
                              code="redirect_uri_required")
    secret = None if public else (client_secret or generate_client_secret())
    app = OAuthApplication(
        name=name,
        organization=organization,
        client_id=client_id or generate_client_id(),
        client_type=(OAuthApplication.CLIENT_PUBLIC if public
                     else OAuthApplication.CLIENT_CONFIDENTIAL),
        authorization_grant_type=grant_type,
        redirect_uris=" ".join(redirect_uris),
        allowed_scopes=" ".join(sorted(requested)),
        client_secret=secret or "",
        hash_client_secret=True,
        skip_authorization=False,
    )
    app.full_clean()
    app.save()
    return IssuedClient(application=app, client_secret=secret)
