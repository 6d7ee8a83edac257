"""A real Celery worker (with its embedded beat, which runs the outbox sweeper)
consuming a queue of its own on the local Redis, for the live webhook tests."""

from __future__ import annotations

import os
import signal
import secrets
import subprocess
import sys
from pathlib import Path

import redis

BASE_DIR = Path(__file__).resolve().parents[2]
# Database 15 of the local Redis: away from a `make demo` worker on database 0.
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def redis_reachable() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


def queue_env(**overrides) -> dict[str, str]:
    """Settings for a server and its worker: a queue of their own, fast sweeps,
    short leases, and delivery to 127.0.0.1 allowed (the test's receiver)."""
    return {"CELERY_BROKER_URL": REDIS_URL,
            "CELERY_QUEUE": f"coalition-test-{secrets.token_hex(4)}",
            "WEBHOOK_ALLOW_LOCAL_TARGETS": "true", "WEBHOOK_SWEEP_SECONDS": "1",
            "WEBHOOK_LEASE_SECONDS": "4", "WEBHOOK_REQUEUE_SECONDS": "3",
            "CELERY_VISIBILITY_TIMEOUT": "30", **overrides}


class CeleryWorker:
    def __init__(self, database_url: str, env: dict[str, str], log_dir: Path):
        self.database_url = database_url
        self.env = env
        self.log_path = log_dir / "celery.log"
        self.schedule_path = log_dir / "celerybeat-schedule"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        env = {**os.environ, "DATABASE_URL": self.database_url, "DEBUG": "false",
               "DJANGO_SETTINGS_MODULE": "config.settings",
               "CELERY_BEAT_SCHEDULE_FILENAME": str(self.schedule_path), **self.env}
        env.pop("DJANGO_ENV", None)
        command = [str(Path(sys.executable).with_name("celery")), "-A", "config", "worker",
                   "-B", "--loglevel", "INFO", "--concurrency", "2",
                   "--without-mingle", "--without-gossip",
                   "--queues", env["CELERY_QUEUE"], "--hostname", f"{env['CELERY_QUEUE']}@%h"]
        self._log = open(self.log_path, "ab")
        # Its own process group, so kill() takes the pool's children down with it.
        self.process = subprocess.Popen(command, cwd=BASE_DIR, env=env, stdout=self._log,
                                        stderr=subprocess.STDOUT, start_new_session=True)

    def kill(self) -> None:
        """SIGKILL the worker and its pool: no shutdown, no acknowledgement."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=15)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
        if getattr(self, "_log", None):
            self._log.close()

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def purge_queue(env: dict[str, str]) -> None:
    """Drop what the test left in Redis under its queue name."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    queue = env["CELERY_QUEUE"]
    for key in client.scan_iter(match=f"*{queue}*"):
        client.delete(key)
