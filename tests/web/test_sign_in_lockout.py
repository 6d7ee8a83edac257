"""Password sign-ins are protected from guessing (django-axes): after five failures for
one username from one address, that username is refused from that address, even with
the right password, on every sign-in form, until the pause ends or an admin lifts it."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from axes.utils import reset
from django.test import Client

from .conftest import PASSWORD

SIGN_IN = "/sign-in/"
OAUTH_SIGN_IN = "/accounts/login/"


def attempt(client, username, password, url=SIGN_IN, address="203.0.113.7"):
    return client.post(url, {"username": username, "password": password},
                       REMOTE_ADDR=address)


def test_five_failures_pause_that_username_from_that_address(member, settings):
    user = member("camba-legal")
    browser = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        wrong = attempt(browser, user.username, "not-the-password")
        assert wrong.status_code == 200  # the form again, with its error

    fifth = attempt(browser, user.username, "not-the-password")
    right_password = attempt(browser, user.username, PASSWORD)

    for locked in (fifth, right_password):
        assert locked.status_code == 429
        text = locked.content.decode()
        assert "Too many failed sign-ins" in text and "15 minutes" in text
        assert "unsafe-inline" not in locked["Content-Security-Policy"].split("script-src")[1]
    assert "_auth_user_id" not in browser.session
    # The OAuth sign-in page (authorization code + PKCE) is the same door.
    assert attempt(Client(), user.username, PASSWORD, OAUTH_SIGN_IN).status_code == 429


def test_the_pause_is_per_address_and_lifted_by_an_admin(member, settings):
    user = member("camba-legal")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt(Client(), user.username, "not-the-password")

    elsewhere = attempt(Client(), user.username, PASSWORD, address="198.51.100.4")
    assert elsewhere.status_code == 302  # signed in from another address

    assert attempt(Client(), user.username, PASSWORD).status_code == 429
    reset(username=user.username)  # what `manage.py axes_reset_username` does
    assert attempt(Client(), user.username, PASSWORD).status_code == 302


def test_a_success_resets_the_count(member, settings):
    user = member("camba-legal")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        attempt(Client(), user.username, "not-the-password")
    assert attempt(Client(), user.username, PASSWORD).status_code == 302
    assert not AccessAttempt.objects.filter(username=user.username).exists()

    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        attempt(Client(), user.username, "not-the-password")
    assert attempt(Client(), user.username, PASSWORD).status_code == 302


@pytest.mark.parametrize("language, words", [("es", "Demasiados intentos fallidos")])
def test_the_pause_page_speaks_the_reader_s_language(member, settings, language, words):
    user = member("camba-legal")
    browser = Client(HTTP_ACCEPT_LANGUAGE=language)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt(browser, user.username, "not-the-password")
    assert words in attempt(browser, user.username, PASSWORD).content.decode()
