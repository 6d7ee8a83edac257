"""Live tests: a real gunicorn serving the API from a real PostgreSQL database.

Each test module gets its own database, ``coalition_live_<pid>_<random>_<n>``,
cloned from a template this worker migrates and seeds once (coalition directory and
demo data), and dropped afterwards; so pytest-xdist workers and other test runs
never share one. Tokens come from ``/o/token/`` like any partner system's. ``make test`` runs
with ``--dist loadfile`` so that a module's tests share one worker and one server;
under other schedules they pass too, starting more servers.
"""

from __future__ import annotations

import itertools
import os
import secrets
import subprocess
import sys
from pathlib import Path

import dj_database_url
import psycopg
import pytest
from psycopg import sql

from .server import DATABASE_URL, LiveServer, database_url

BASE_DIR = Path(__file__).resolve().parents[2]
ENGINE = dj_database_url.parse(DATABASE_URL)["ENGINE"] if DATABASE_URL else "sqlite3"
ON_POSTGRES = "postgresql" in ENGINE
SKIP_REASON = ("live tests run a real server on PostgreSQL, each module on its own database; "
               "set DATABASE_URL=postgres://... to run them (this run uses SQLite)")

# Names this process's databases: pids repeat across containers sharing a server.
RUN_ID = f"{os.getpid()}_{secrets.token_hex(3)}"
_numbers = itertools.count(1)


def pytest_collection_modifyitems(config, items):
    if ON_POSTGRES:
        return
    skip = pytest.mark.skip(reason=SKIP_REASON)
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(skip)


def _admin_connection() -> psycopg.Connection:
    config = dj_database_url.parse(DATABASE_URL)
    return psycopg.connect(
        dbname="postgres", user=config["USER"] or "postgres",
        password=config["PASSWORD"] or None, host=config["HOST"] or "127.0.0.1",
        port=config["PORT"] or 5432, autocommit=True, connect_timeout=5)


def _drop(name: str) -> None:
    with _admin_connection() as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(name)))


def _seed(url: str) -> None:
    """Migrate and load the coalition and the demo data (demo clients have known
    secrets, so seed_demo needs DEBUG on; the server itself runs with DEBUG off)."""
    script = ("import django; django.setup()\n"
              "from django.core.management import call_command\n"
              "call_command('migrate', verbosity=0, interactive=False)\n"
              "call_command('seed_coalition', verbosity=0)\n"
              "call_command('seed_demo', verbosity=0)\n")
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "true",
           "DJANGO_SETTINGS_MODULE": "config.settings"}
    env.pop("DJANGO_ENV", None)
    result = subprocess.run([sys.executable, "-c", script], cwd=BASE_DIR, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"seeding {url} failed:\n{result.stdout}\n{result.stderr}"


@pytest.fixture(scope="session")
def live_template():
    """A migrated, seeded database this worker clones for each module."""
    if not ON_POSTGRES:
        pytest.skip(SKIP_REASON)
    # Every request the live tests make (and schemathesis's) goes to 127.0.0.1 only.
    for variable in ("NO_PROXY", "no_proxy"):
        os.environ[variable] = ",".join(filter(None, [os.environ.get(variable),
                                                      "127.0.0.1", "localhost"]))
    name = f"coalition_live_{RUN_ID}_template"
    _drop(name)
    with _admin_connection() as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        _seed(database_url(name))
        yield name
    finally:
        _drop(name)


@pytest.fixture(scope="module")
def live_database(live_template):
    """This module's own database: a copy of the seeded template, dropped afterwards."""
    name = f"coalition_live_{RUN_ID}_{next(_numbers)}"
    _drop(name)
    with _admin_connection() as conn:
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
            sql.Identifier(name), sql.Identifier(live_template)))
    try:
        yield name
    finally:
        _drop(name)


@pytest.fixture(scope="module")
def api_server(live_database, tmp_path_factory):
    """gunicorn serving this module's database on a free 127.0.0.1 port."""
    server = LiveServer(database_url(live_database),
                        log_dir=tmp_path_factory.mktemp("live-server"))
    server.start()
    try:
        yield server
    finally:
        server.stop()

