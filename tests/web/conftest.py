"""Fixtures for the staff web app: members who sign in with a password, referrals
made through the services, and (for the browser tests) one headless Debian
chromium per test session driven by Playwright, with axe-core from
axe-playwright-python. Nothing is downloaded at test time."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.test import Client

from referrals import services
from referrals.services import ClientInput, ConsentInput
from web.principal import session_principal

PASSWORD = "pw-for-tests-only"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"

# Playwright's sync API runs an event loop in the test thread; the ORM calls the
# tests make between page actions are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def staff(member):
    """A member and a Django test client signed in as them: staff("camba-legal")."""

    def make(slug: str, role: str = "caseworker", username: str | None = None, **kwargs):
        user = member(slug, role, username=username)
        client = Client(**kwargs)
        client.force_login(user)
        client.user = user
        client.principal = session_principal(user)
        return client

    return make


@pytest.fixture
def make_referral():
    """A referral made through the service, as a member of the sending org."""

    def make(sender_user, receiver: str = "camba-legal", service_type: str = "asylum",
             given_name: str = "Ana", family_name: str = "Lopez", **kwargs):
        principal = session_principal(sender_user)
        client = kwargs.pop("client", None) or ClientInput(
            given_name=given_name, family_name=family_name, preferred_languages=["es"],
            phone=kwargs.pop("phone", "718-555-0101"),
            contact_preference=kwargs.pop("contact_preference", "phone"))
        return services.referral_create(
            principal=principal, receiving_org=receiver, service_type=service_type,
            intake_channel=kwargs.pop("intake_channel", "district-office"), client=client,
            consent=ConsentInput(method="verbal"), **kwargs)

    return make


# --- browser ------------------------------------------------------------------------

@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (make test does).")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280,
                                                                      "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.console_errors = errors
    yield page
    context.close()


@pytest.fixture(scope="session")
def axe():
    from axe_playwright_python.sync_playwright import Axe

    return Axe()


@pytest.fixture(scope="session")
def screenshots():
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


def check_page(page, axe, screenshots, name: str, status: int | None = None) -> None:
    """An axe-core run with no serious or critical violation, no console error (CSP
    refusals included; ``status``: the one HTTP error this page is expected to
    answer with), and a full-page screenshot under var/screenshots/."""
    results = axe.run(page)
    bad = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert not bad, "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in bad)
    expected = f"the server responded with a status of {status} "
    errors = [e for e in page.console_errors if not (status and expected in e)]
    assert not errors, errors
    page.screenshot(path=str(screenshots / f"{name}.png"), full_page=True)


def sign_in(page, username: str, password: str = PASSWORD) -> None:
    page.goto("/sign-in/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()

