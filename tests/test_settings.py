"""Settings come from the environment; production refuses unsafe values and passes
``manage.py check --deploy``."""

from __future__ import annotations

import os
import runpy
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
SETTINGS_FILE = BASE_DIR / "config" / "settings.py"
ENV_NAMES = ("DJANGO_ENV", "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "SECURE_SSL_REDIRECT",
             "SECURE_HSTS_SECONDS", "GRAPHQL_INTROSPECTION", "GRAPHQL_MAX_DEPTH",
             "CSRF_TRUSTED_ORIGINS", "FIELD_ENCRYPTION_KEYS")
GOOD_KEY = secrets.token_urlsafe(64)
# Everything production insists on, well formed.
PRODUCTION = {"DJANGO_ENV": "production", "SECRET_KEY": GOOD_KEY,
              "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode()}


@pytest.fixture
def load_settings(monkeypatch):
    """Evaluate config/settings.py afresh with the given environment (the running
    settings are not touched)."""

    def load(**env) -> dict:
        for name in ENV_NAMES:
            monkeypatch.delenv(name, raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        return runpy.run_path(str(SETTINGS_FILE))

    return load


def test_production_refuses_debug(load_settings):
    with pytest.raises(ImproperlyConfigured, match="DEBUG"):
        load_settings(**PRODUCTION, DEBUG="true")


@pytest.mark.parametrize("key", [None, "", "short-key"])
def test_production_refuses_a_missing_or_weak_secret_key(load_settings, key):
    env = {**PRODUCTION}
    del env["SECRET_KEY"]
    if key is not None:
        env["SECRET_KEY"] = key

    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY"):
        load_settings(**env)


def test_production_refuses_to_run_without_field_encryption_keys(load_settings):
    env = {**PRODUCTION}
    del env["FIELD_ENCRYPTION_KEYS"]

    with pytest.raises(ImproperlyConfigured, match="FIELD_ENCRYPTION_KEYS"):
        load_settings(**env)


def test_a_malformed_boolean_is_refused(load_settings):
    with pytest.raises(ImproperlyConfigured, match="DEBUG"):
        load_settings(DEBUG="maybe")


def test_production_settings_are_strict(load_settings):
    config = load_settings(**PRODUCTION, ALLOWED_HOSTS="api.example.org, www.example.org")

    assert config["DEBUG"] is False
    assert config["SECRET_KEY"] == GOOD_KEY
    assert config["ALLOWED_HOSTS"] == ["api.example.org", "www.example.org"]
    assert config["SECURE_SSL_REDIRECT"] is True
    assert config["SECURE_HSTS_SECONDS"] >= 31536000
    assert config["SESSION_COOKIE_SECURE"] and config["CSRF_COOKIE_SECURE"]
    assert config["OAUTH2_PROVIDER"]["ALLOWED_REDIRECT_URI_SCHEMES"] == ["https"]
    assert config["GRAPHIQL_ENABLED"] is False
    assert config["GRAPHQL_INTROSPECTION"] is False
    assert config["WHITENOISE_USE_FINDERS"] is False


def test_production_has_no_default_hosts(load_settings):
    config = load_settings(**PRODUCTION)

    assert config["ALLOWED_HOSTS"] == []


def test_development_works_without_configuration(load_settings):
    config = load_settings()

    assert config["DEBUG"] is True
    assert config["SECRET_KEY"]
    assert "testserver" in config["ALLOWED_HOSTS"]


def run_deploy_check(tmp_path, **extra_env) -> subprocess.CompletedProcess:
    # DJANGO_ALLOW_ASYNC_UNSAFE is the browser tests' (tests/web/conftest.py), never
    # production's: it must not reach the deployment check.
    env = {name: value for name, value in os.environ.items()
           if name not in ENV_NAMES
           and name not in ("DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")}
    env.update(PRODUCTION, ALLOWED_HOSTS="api.example.org",
               DATABASE_URL=f"sqlite:///{tmp_path / 'x.sqlite3'}", **extra_env)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120,
    )


def test_check_deploy_passes_in_production(tmp_path):
    result = run_deploy_check(tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_catches_a_weakened_production_setting(tmp_path):
    """The check above would notice a regression: switching HSTS off fails it."""
    result = run_deploy_check(tmp_path, SECURE_HSTS_SECONDS="0")

    assert result.returncode != 0
    assert "security.W004" in result.stdout + result.stderr
