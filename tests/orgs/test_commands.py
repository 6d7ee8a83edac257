"""Management commands: seeding the coalition, issuing OAuth clients, demo accounts."""

from __future__ import annotations

import base64
import io
import json

import pytest
from django.contrib.auth.hashers import check_password, identify_hasher
from django.core.management import CommandError, call_command
from django.test import Client, override_settings

from orgs.demo import demo_accounts_seed
from orgs.models import (
    Language, Membership, OAuthApplication, Organization, SenateDistrict, ServiceType,
)


def run(*args, **options) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, **options)
    return out.getvalue()


def snapshot() -> dict:
    """Everything the seed writes, including when each organisation last changed."""
    return {
        "service_types": sorted(ServiceType.objects.values_list("code", "name", "description")),
        "languages": sorted(Language.objects.values_list("code", "name")),
        "districts": SenateDistrict.objects.count(),
        "organizations": sorted(Organization.objects.values_list(
            "slug", "name", "kind", "accepting_referrals", "capacity_available",
            "capacity_maximum", "updated_at")),
        "links": sorted(
            (org.slug, tuple(sorted(d.number for d in org.senate_districts.all())),
             tuple(sorted(lang.code for lang in org.languages.all())),
             tuple(sorted(s.code for s in org.service_types.all())))
            for org in Organization.objects.prefetch_related(
                "senate_districts", "languages", "service_types")),
    }


def token_for(client_id: str, secret: str):
    credentials = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return Client().post("/o/token/", {"grant_type": "client_credentials"},
                         headers={"Authorization": f"Basic {credentials}"})


# --- seed_coalition -----------------------------------------------------------


def test_seed_coalition_loads_the_directory_once(db):
    first = run("seed_coalition")
    after_first = snapshot()

    second = run("seed_coalition")

    assert "Coalition loaded" in first
    assert "24 organizations" in first
    assert "nothing changed" in second
    assert snapshot() == after_first
    assert len(after_first["organizations"]) == 24
    assert after_first["districts"] == 63
    assert len(after_first["service_types"]) == 13


def test_seed_coalition_repairs_drift_and_touches_only_what_changed(db):
    run("seed_coalition")
    cala = Organization.objects.get(slug="cala")
    cala.name = "Renamed by hand"
    cala.save()
    cala.languages.remove(Language.objects.get(code="es"))
    untouched = Organization.objects.get(slug="iana").updated_at

    output = run("seed_coalition")

    cala.refresh_from_db()
    assert "1 organizations" in output
    assert cala.name == "Central American Legal Assistance (CALA)"
    assert sorted(cala.languages.values_list("code", flat=True)) == ["en", "es"]
    assert Organization.objects.get(slug="iana").updated_at == untouched


# --- create_oauth_client ------------------------------------------------------


def test_create_oauth_client_prints_credentials_that_work(coalition):
    output = run("create_oauth_client", org="camba-legal", name="CAMBA case system",
                 scopes="orgs:read referrals:read")

    issued = json.loads(output)  # exactly one JSON document
    assert issued["organization"] == "camba-legal"
    assert issued["scopes"] == ["orgs:read", "referrals:read"]
    assert issued["grant"] == "client-credentials"
    app = OAuthApplication.objects.get(client_id=issued["client_id"])
    assert app.client_secret != issued["client_secret"]
    assert identify_hasher(app.client_secret)
    assert check_password(issued["client_secret"], app.client_secret)

    response = token_for(issued["client_id"], issued["client_secret"])
    assert response.status_code == 200, response.content
    assert set(response.json()["scope"].split()) == {"orgs:read", "referrals:read"}


def test_create_oauth_client_for_an_interactive_public_client(coalition):
    issued = json.loads(run("create_oauth_client", org="idc", name="Web console",
                            scopes="orgs:read admin", grant="authorization-code",
                            redirect_uri=["https://console.example.org/cb"], public=True))

    assert issued["client_secret"] is None
    assert issued["client_type"] == "public"
    assert issued["redirect_uris"] == ["https://console.example.org/cb"]


@pytest.mark.parametrize("options, message", [
    ({"org": "nyc-council", "scopes": "orgs:read referrals:read"}, "may not hold"),
    ({"org": "no-such-org", "scopes": "orgs:read"}, "No organisation"),
    ({"org": "camba-legal", "scopes": "orgs:read", "grant": "authorization-code"},
     "--redirect-uri"),
    ({"org": "camba-legal", "scopes": "orgs:read everything"}, "Unknown scope"),
    ({"org": "camba-legal", "scopes": "admin"}, "may not hold"),
    ({"org": "camba-legal", "scopes": "orgs:read", "public": True}, "confidential"),
])
def test_create_oauth_client_refuses(coalition, options, message):
    with pytest.raises(CommandError, match=message):
        run("create_oauth_client", name="Refused", **options)

    assert not OAuthApplication.objects.exists()


# --- seed_demo ----------------------------------------------------------------


def test_seed_demo_refuses_outside_debug(coalition):
    with override_settings(DEBUG=False), pytest.raises(CommandError, match="DEBUG"):
        run("seed_demo")

    assert not OAuthApplication.objects.exists()
    assert not Membership.objects.exists()


def test_demo_accounts_load_once_and_work(coalition):
    """The foundation part of `seed_demo` (the command also loads referral and report
    data, tested with those apps)."""
    with override_settings(DEBUG=True):
        first = demo_accounts_seed()
        second = demo_accounts_seed()

    assert {"demo-peralta-office", "demo-funder", "demo-web", "admin.idc"} <= set(first)
    assert second == []
    assert OAuthApplication.objects.count() == 7
    assert Membership.objects.get(user__username="analyst.council").role == "funder_analyst"
    response = token_for("demo-peralta-office", "demo-peralta-office-secret")
    assert response.status_code == 200
    funder = token_for("demo-funder", "demo-funder-secret")
    assert set(funder.json()["scope"].split()) == {"orgs:read", "reports:read"}


def test_demo_accounts_refuse_outside_debug(coalition):
    with override_settings(DEBUG=False), pytest.raises(RuntimeError):
        demo_accounts_seed()
