"""What bench/generate and bench/run share: where the bench database is, the
production-like environment the API runs with, and the known OAuth credentials.

Nothing here is used by the application; the secrets below are for a throwaway
benchmark database on 127.0.0.1 only.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "bench"
RESULTS_DIR = BENCH_DIR / "results"
PYTHON = ROOT / ".venv" / "bin" / "python"

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/coalition_bench"
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL") or DEFAULT_DATABASE_URL

# Bench-only values: the bench database is generated, never real data.
BENCH_SECRET_KEY = "bench-only-secret-key-not-for-any-real-deployment-0123456789abcdefghij"
BENCH_FERNET_KEY = "mVc4qEbcLWa6UqnMFJQ4JVW9Ejb42LLDxxnDqzHgiaY="


def client_id(slug: str) -> str:
    return f"bench-{slug}"


def client_secret(slug: str) -> str:
    return f"bench-{slug}-secret"


def database_name(url: str = DATABASE_URL) -> str:
    return urlsplit(url).path.lstrip("/")


def maintenance_url(url: str = DATABASE_URL) -> str:
    """The same server, database ``postgres`` (to create or drop the bench one)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/postgres"))


def django_env(*, production: bool) -> dict[str, str]:
    """Environment for manage.py, gunicorn and the in-process measurements."""
    env = dict(os.environ)
    env.update({
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": DATABASE_URL,
        "PYTHONPATH": str(ROOT),
    })
    if production:
        env.update({
            "DJANGO_ENV": "production",
            "DEBUG": "false",
            "SECRET_KEY": BENCH_SECRET_KEY,
            "FIELD_ENCRYPTION_KEYS": BENCH_FERNET_KEY,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "false",
            # Shared by every gunicorn worker, as in production.
            "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/1"),
            # The bench measures the API, not the rate limiter's refusals.
            "API_RATE_LIMIT": "1000000/min",
            "LOG_LEVEL": "WARNING",
        })
    else:
        for name in ("DJANGO_ENV", "DEBUG", "SECRET_KEY"):
            env.pop(name, None)
        env["FIELD_ENCRYPTION_KEYS"] = BENCH_FERNET_KEY
    return env


def setup_django(*, production: bool) -> None:
    """Configure Django in this process against the bench database."""
    os.environ.update(django_env(production=production))
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def manage(*args: str, production: bool = False) -> None:
    subprocess.run([str(PYTHON), str(ROOT / "manage.py"), *args], check=True, cwd=ROOT,
                   env=django_env(production=production))


class Progress:
    """One line per step, with the time since the start."""

    def __init__(self, title: str):
        self.start = time.monotonic()
        print(f"== {title}", flush=True)

    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def say(self, message: str) -> None:
        print(f"[{self.elapsed():7.1f}s] {message}", flush=True)
