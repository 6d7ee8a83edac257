"""The staff web app's journeys in a real browser (Debian's chromium, headless,
driven by Playwright) against a live server. Each page passes axe-core with no
serious or critical violation and no console error (a CSP refusal would be one),
and is saved as a screenshot under var/screenshots/."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from referrals.models import Referral, Status

from .conftest import check_page, sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_hotline_intake_from_sign_in_to_submitted_referral(page, axe, screenshots, member):
    member("idc-hotline", "intake", username="volunteer.hotline")
    page.goto("/")
    check_page(page, axe, screenshots, "01-landing")
    page.get_by_role("link", name="Sign in").first.click()
    check_page(page, axe, screenshots, "02-sign-in")
    sign_in(page, "volunteer.hotline")
    page.get_by_role("link", name="New intake").click()
    page.get_by_label("Given name").fill("Maria")
    page.get_by_label("Family name").fill("Torres")
    page.get_by_label("Phone").fill("718-555-0142")
    page.select_option("#id_preferred_languages", ["es"])
    page.select_option("#id_service_type", "asylum")
    page.select_option("#id_priority", "urgent")
    page.get_by_label("Summary").fill("Caller has an asylum interview next week")
    # Routing suggestions arrive beside the form (htmx) once the need is chosen.
    camba = page.locator('input[name="receiving_org"][value="camba-legal"]')
    camba.wait_for()
    camba.check()
    page.get_by_label("Verbal").check()
    check_page(page, axe, screenshots, "03-intake")
    page.get_by_role("button", name="Send referral").click()
    page.wait_for_url(re.compile(r"/referrals/[0-9a-f-]+/$"))
    assert page.get_by_role("heading", level=1).inner_text() == "Asylum for Maria Torres"
    check_page(page, axe, screenshots, "04-referral-sent")
    referral = Referral.objects.get(client__given_name="Maria")
    assert referral.sending_org.slug == "idc-hotline"
    assert referral.receiving_org.slug == "camba-legal"
    assert referral.priority == "urgent"


def test_receiver_accepts_and_completes_from_its_inbox_and_sender_sees_the_outcome(
        browser, page, axe, screenshots, member, make_referral, live_server):
    office = member("sd13-peralta-office", "intake", username="intake.sd13")
    member("camba-legal", "caseworker", username="caseworker.cb")
    make_referral(office, given_name="Rahim", family_name="Uddin", priority="asap",
                  summary="ICE check-in next week")
    for index in range(3):
        make_referral(office, given_name=f"Client{index}", family_name="Routine")
    sign_in(page, "caseworker.cb")
    assert page.url.endswith("/inbox/")
    assert "4" in page.get_by_role("link", name=re.compile("Incoming")).inner_text()
    # Filtering goes through htmx and the API's FilterSet.
    page.select_option("#id_priority", ["asap"])
    expect(page.locator("tbody tr")).to_have_count(1)
    check_page(page, axe, screenshots, "05-inbox")
    page.get_by_role("link", name="Rahim Uddin").click()
    page.locator("summary", has_text="Accept").click()
    page.get_by_role("button", name="Accept").click()
    page.get_by_text("The referral is now Accepted.").wait_for()
    page.locator("summary", has_text="Complete").click()
    complete = page.locator('form:has(button[data-action="completed"])')
    complete.get_by_label("Stay of removal granted").check()
    complete.get_by_label("Outcome note").fill("Six-month stay granted")
    page.get_by_role("button", name="Complete").click()
    page.get_by_text("The referral is now Completed.").wait_for()
    check_page(page, axe, screenshots, "06-referral-completed")

    sender = browser.new_context(base_url=live_server.url, viewport={"width": 1280,
                                                                     "height": 900})
    try:
        office_page = sender.new_page()
        sign_in(office_page, "intake.sd13")
        office_page.get_by_role("link", name=re.compile("Outgoing")).click()
        office_page.get_by_role("link", name="Rahim Uddin").click()
        outcomes = office_page.locator("#h-outcomes + ul").inner_text()
        assert "Stay of removal granted" in outcomes and "Six-month stay granted" in outcomes
        assert "Completed" in office_page.locator(".meta").inner_text()
    finally:
        sender.close()


def test_a_funder_views_the_dashboard(page, axe, screenshots, member, settings, coalition):
    from reporting.demo import demo_grants_seed, demo_history_seed

    settings.DEBUG = True  # the demo generators refuse to run otherwise
    demo_grants_seed()
    demo_history_seed()  # make demo's size, so the screenshot shows what a funder sees
    settings.DEBUG = False
    member("nyc-council", "funder_analyst", username="analyst.nyc")
    sign_in(page, "analyst.nyc")
    assert page.url.endswith("/dashboard/")
    page.select_option("#id_fiscal_year", "2017-18")
    page.select_option("#id_grantee", "camba-legal")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile("fiscal_year=2017-18"))
    assert page.locator("svg").count() >= 4
    assert page.get_by_text("Suppressed aggregates.").is_visible()
    # Rolled up for the funder: the budget request's table shows numbers, not hatching.
    assert page.get_by_text("Rolled up so that small numbers stay hidden").is_visible()
    assert page.get_by_role("heading", name=re.compile("Budget request: CAMBA")).is_visible()
    assert page.get_by_role("link", name="Inbox").count() == 0
    check_page(page, axe, screenshots, "07-dashboard-funder")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the budget request as CSV").click()
    assert download.value.suggested_filename == "budget-request-camba-legal-2017-18.csv"


def test_a_stale_page_is_told_and_reloaded_never_overwritten(browser, page, axe, screenshots,
                                                            member, make_referral):
    office = member("sd13-peralta-office", "intake", username="intake.stale")
    member("camba-legal", "caseworker", username="caseworker.stale")
    referral = make_referral(office, given_name="Jean", family_name="Baptiste")
    sign_in(page, "caseworker.stale")
    page.goto(f"/referrals/{referral.pk}/")
    other = page.context.new_page()  # a second tab of the same caseworker
    other.goto(f"/referrals/{referral.pk}/")
    other.locator("summary", has_text="Accept").click()
    other.get_by_role("button", name="Accept").click()
    other.get_by_text("The referral is now Accepted.").wait_for()
    # The first tab still shows version 1 and tries to reject.
    page.locator("summary", has_text="Reject").click()
    page.locator("#id_rejected_reason").fill("Outside our catchment")
    page.get_by_role("button", name="Reject").click()
    alert = page.get_by_role("alert")
    assert "The referral changed: it is at version 2, not 1." in alert.inner_text()
    assert page.get_by_role("button", name="Reject").count() == 0
    check_page(page, axe, screenshots, "08-stale-version", status=412)
    page.get_by_role("link", name="Reload the referral").click()
    assert "Accepted" in page.locator(".meta").inner_text()
    referral.refresh_from_db()
    assert referral.status == Status.ACCEPTED and referral.version == 2


def test_graphiql_works_offline(page, axe, screenshots, settings, live_server, coalition):
    settings.GRAPHIQL_ENABLED = True  # as with DEBUG on (make demo)
    outside = []

    def only_local(route):
        if route.request.url.startswith(live_server.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_local)
    page.goto("/graphql/", wait_until="networkidle")
    page.locator(".graphiql-container").wait_for()
    assert page.locator(".graphiql-editor").count() >= 1
    assert not outside, outside
    # Without a bearer token the schema fetch is refused (401); nothing else fails.
    errors = [e for e in page.console_errors if "status of 401" not in e]
    assert not errors, errors
    page.screenshot(path=str(screenshots / "09-graphiql-offline.png"))
