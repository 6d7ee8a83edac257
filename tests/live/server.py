"""A real gunicorn process serving the API, and helpers for the live tests."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import dj_database_url
import requests

BASE_DIR = Path(__file__).resolve().parents[2]
DATABASE_URL = os.environ.get("DATABASE_URL", "")

# Log lines that mean the server failed a request itself (core.problems, schema.views).
SERVER_FAILURE_MARKERS = ("unhandled error on", "database error on", "GraphQL resolver failed",
                          "GraphQL request failed", "Internal Server Error", "Traceback")


class LiveServer:
    """gunicorn on a 127.0.0.1 port the test process bound itself (passed as fd://,
    so no other process can take the port between choosing and binding it)."""

    def __init__(self, database_url: str, *, log_dir: Path, env: dict | None = None,
                 workers: int = 2, threads: int = 2):
        self.database_url = database_url
        self.log_path = log_dir / "gunicorn.log"
        self.extra_env = env or {}
        self.workers = workers
        self.threads = threads
        self.process: subprocess.Popen | None = None
        self.url = ""
        self._tokens: dict[str, str] = {}

    def start(self, timeout: float = 60) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(128)
        listener.set_inheritable(True)
        port = listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        env = {**os.environ, "DATABASE_URL": self.database_url, "DEBUG": "false",
               "DJANGO_SETTINGS_MODULE": "config.settings",
               # The fuzzers send thousands of requests a minute from one application.
               "API_RATE_LIMIT": "1000000/min",
               # No worker listens unless a test starts one (tests/live/worker.py).
               "CELERY_BROKER_URL": "memory://", **self.extra_env}
        env.pop("DJANGO_ENV", None)
        command = [
            str(Path(sys.executable).with_name("gunicorn")), "config.wsgi:application",
            "--bind", f"fd://{listener.fileno()}",
            "--workers", str(self.workers), "--threads", str(self.threads),
            "--timeout", "60", "--graceful-timeout", "5",
            # The app, not gunicorn, answers every URL the fuzzers make up (gunicorn's
            # own 4094-byte request-line limit would answer 414 in HTML).
            "--limit-request-line", "0",
        ]
        self._log = open(self.log_path, "ab")
        self.process = subprocess.Popen(command, cwd=BASE_DIR, env=env, stdout=self._log,
                                        stderr=subprocess.STDOUT, pass_fds=(listener.fileno(),))
        listener.close()
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}:\n"
                                   f"{self.log_tail()}")
            try:
                # No token, so no database access: 401 means Django is up.
                if requests.get(f"{self.url}/api/v1/organizations/", timeout=2).status_code \
                        == 401:
                    return
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"gunicorn did not answer in {timeout}s:\n{self.log_tail()}")
            time.sleep(0.2)

    def stop(self) -> None:
        stop_process(self.process)
        if getattr(self, "_log", None):
            self._log.close()

    def token(self, client_id: str) -> str:
        """An access token for a demo client, by client credentials at /o/token/."""
        if client_id not in self._tokens:
            response = requests.post(f"{self.url}/o/token/",
                                     data={"grant_type": "client_credentials"},
                                     auth=(client_id, f"{client_id}-secret"), timeout=30)
            assert response.status_code == 200, response.text
            self._tokens[client_id] = response.json()["access_token"]
        return self._tokens[client_id]

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_offset(self) -> int:
        return self.log_path.stat().st_size if self.log_path.exists() else 0

    def log_since(self, offset: int) -> str:
        with open(self.log_path, "rb") as log:
            log.seek(offset)
            return log.read().decode(errors="replace")

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def failures_since(self, offset: int, extra: tuple[str, ...] = ()) -> list[str]:
        """Log lines since offset that mean the server failed a request."""
        markers = SERVER_FAILURE_MARKERS + extra
        return [line for line in self.log_since(offset).splitlines()
                if any(marker in line for marker in markers)]


def stop_process(process: subprocess.Popen | None, timeout: float = 15) -> None:
    """SIGTERM, then SIGKILL if the process has not exited after ``timeout`` seconds."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout)


def database_url(name: str, host: str | None = None, port: int | None = None) -> str:
    """DATABASE_URL naming another database (and optionally host/port) on this server."""
    config = dj_database_url.parse(DATABASE_URL)
    user = quote(config["USER"] or "postgres", safe="")
    password = f":{quote(config['PASSWORD'], safe='')}" if config["PASSWORD"] else ""
    return (f"postgres://{user}{password}@{host or config['HOST'] or '127.0.0.1'}:"
            f"{port or config['PORT'] or 5432}/{name}")


def wait_until(predicate, timeout: float, interval: float = 0.1):
    """Poll predicate() until it returns something truthy; return it (or the last
    falsy value once timeout seconds have passed)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def schemathesis_command() -> str:
    """The `st` of this virtualenv (installed from requirements-dev.txt)."""
    command = Path(sys.executable).with_name("st")
    return str(command) if command.exists() else shutil.which("st") or "st"
