"""Measure the API on the bench database the production way (see bench/run).

gunicorn (sync workers, DEBUG off, DJANGO_ENV=production, rate limits in Redis)
serves the bench database; wrk drives it from 127.0.0.1. Queries per request,
EXPLAIN plans and the report's in-process time are measured in this process with
the same settings and database (Django test client + CaptureQueriesContext).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _common  # noqa: E402
from bench._common import Progress  # noqa: E402

LUA = _common.BENCH_DIR / "wrk" / "replay.lua"
SQL_DIR = _common.BENCH_DIR / "sql"

# Who lists: the biggest receiver, the biggest sender, a district office, a mid-size
# partner, the coalition admin (sees all referrals) and one small partner (added at run time).
LIST_PRINCIPALS = ["camba-legal", "idc-hotline", "sd13-peralta-office", "cala", "idc"]
# Who creates referrals, through which intake channel.
CREATORS = {"idc-hotline": "hotline", "sd13-peralta-office": "district-office",
            "jackson-heights-defense": "community-group", "camba-legal": "partner"}
# Receivers whose tokens move referrals along.
TRANSITIONERS = ["camba-legal", "vera-nyifup", "cuny-citizenship-now", "cala", "nyic"]
FUNDER = "nyc-council"
ADMIN = "idc"

REPORT_DIMENSIONS = "receiving_org,service_type,period"
COUNT_MEASURES = ("referrals_sent,referrals_received,accepted,rejected,completed,failed,open,"
                  "overdue,unique_clients_served")

TARGETS = {
    "list_p95_ms": 50,
    "report_ratio": 1.5,
    "create_per_second": 300,
}

GRAPHQL_SELECTION = (
    "edges { node { id status priority neededBy overdue intakeChannel createdAt updatedAt "
    "version district sendingOrg { slug } receivingOrg { slug } serviceType { code } "
    "client { id givenName familyName primaryLanguage preferredLanguages contactPreference } "
    "outcomes { code } } } pageInfo { hasNextPage endCursor }")


# --- the machine ---------------------------------------------------------------------


def machine() -> dict:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal"):
            mem_kb = int(line.split()[1])
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        pg = cursor.fetchone()[0]
        settings = {}
        for name in ("shared_buffers", "work_mem", "effective_cache_size", "random_page_cost",
                     "jit", "max_parallel_workers_per_gather", "synchronous_commit"):
            cursor.execute(f"SHOW {name}")
            settings[name] = cursor.fetchone()[0]
    import django
    import gunicorn

    wrk_version = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
    return {
        "nproc": os.cpu_count(),
        "ram_gb": round(mem_kb / 1024 / 1024, 1),
        "cpu": cpu,
        "kernel": platform.release(),
        "postgresql": pg.split(" on ")[0],
        "postgresql_settings": settings,
        "python": platform.python_version(),
        "django": django.get_version(),
        "gunicorn": gunicorn.__version__,
        "wrk": (wrk_version.stdout or wrk_version.stderr).splitlines()[0].strip(),
    }


def data_counts() -> dict:
    from django.db import connection

    tables = {"organizations": "orgs_organization", "clients": "referrals_client",
              "referrals": "referrals_referral", "events": "referrals_referralevent",
              "consents": "referrals_consent", "outcomes": "referrals_referraloutcome",
              "notes": "referrals_referralnote", "service_events": "reporting_serviceevent",
              "audit_records": "audit_auditrecord"}
    counts = {}
    with connection.cursor() as cursor:
        for name, table in tables.items():
            cursor.execute(f"SELECT count(*) FROM {table}")
            counts[name] = cursor.fetchone()[0]
        cursor.execute("SELECT min(created_at), max(created_at) FROM referrals_referral")
        first, last = cursor.fetchone()
    counts["created_from"] = first.date().isoformat() if first else None
    counts["created_to"] = last.date().isoformat() if last else None
    return counts


# --- the server ----------------------------------------------------------------------


class Server:
    def __init__(self, port: int, workers: int, log_path: Path):
        self.port = port
        self.workers = workers
        self.log_path = log_path
        self.process = None
        self.base = f"http://127.0.0.1:{port}"

    def start(self) -> None:
        command = [str(_common.ROOT / ".venv" / "bin" / "gunicorn"), "config.wsgi:application",
                   "--bind", f"127.0.0.1:{self.port}", "--workers", str(self.workers),
                   "--worker-class", "sync", "--timeout", "300", "--log-level", "warning",
                   "--chdir", str(_common.ROOT)]
        self.command = command
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(command, env=_common.django_env(production=True),
                                        stdout=log, stderr=log, cwd=_common.ROOT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited; see {self.log_path}")
            try:
                urllib.request.urlopen(f"{self.base}/api/v1/organizations/", timeout=2)
            except urllib.error.HTTPError as exc:
                if exc.code == 401:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise SystemExit(f"gunicorn did not answer on {self.base}; see {self.log_path}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def token(self, slug: str) -> str:
        from orgs.models import OAuthApplication

        app = OAuthApplication.objects.get(client_id=_common.client_id(slug))
        data = urllib.parse.urlencode({"grant_type": "client_credentials",
                                       "scope": app.allowed_scopes}).encode()
        request = urllib.request.Request(f"{self.base}/o/token/", data=data, method="POST")
        import base64

        basic = base64.b64encode(
            f"{_common.client_id(slug)}:{_common.client_secret(slug)}".encode()).decode()
        request.add_header("Authorization", f"Basic {basic}")
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)["access_token"]

    def timed_get(self, path: str, token: str) -> tuple[float, int, bytes]:
        request = urllib.request.Request(f"{self.base}{path}")
        request.add_header("Authorization", f"Bearer {token}")
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=300) as response:
            body = response.read()
            status = response.status
        return (time.perf_counter() - started) * 1000, status, body


# --- the load tool ---------------------------------------------------------------------


def ensure_wrk() -> str:
    path = shutil.which("wrk")
    if path:
        return path
    if os.geteuid() != 0:
        raise SystemExit("wrk is not installed: sudo apt-get install -y wrk")
    print("installing wrk (apt-get install -y wrk)", flush=True)
    result = subprocess.run(["apt-get", "install", "-y", "wrk"], capture_output=True)
    if result.returncode != 0:
        subprocess.run(["apt-get", "update"], capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "wrk"], check=True, capture_output=True)
    return shutil.which("wrk")


def schedstat(pid) -> tuple[int, int]:
    """(ns on a CPU, ns runnable but waiting for a CPU) of a process's main thread."""
    with open(f"/proc/{pid}/schedstat") as handle:
        run_ns, wait_ns, _ = handle.read().split()
    return int(run_ns), int(wait_ns)


class CpuMeter:
    """CPU time of the server side of the bench: the gunicorn workers (children of our
    master) and the PostgreSQL backends of the bench database, sampled every 0.2 s
    from /proc/<pid>/schedstat (nanoseconds). Other processes on a shared machine do
    not count, so CPU per request does not depend on how busy the machine is;
    runqueue wait says how long our processes waited for a CPU."""

    def __init__(self, master_pid: int, database: str, interval: float = 0.2):
        self.master = master_pid
        self.database = database.encode()
        self.interval = interval
        self.first: dict[int, tuple] = {}
        self.last: dict[int, tuple] = {}
        self.kind: dict[int, str] = {}

    def _scan(self, initial: bool) -> None:
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            pid = int(entry.name)
            try:
                kind = self.kind.get(pid)
                if kind is None:
                    with open(f"/proc/{pid}/stat") as handle:
                        ppid = int(handle.read().rsplit(")", 1)[1].split()[1])
                    if ppid == self.master:
                        kind = "app"
                    else:
                        with open(f"/proc/{pid}/cmdline", "rb") as handle:
                            cmdline = handle.read()
                        if cmdline.startswith(b"postgres:") and self.database in cmdline:
                            kind = "db"
                        else:
                            continue
                    self.kind[pid] = kind
                value = schedstat(pid)
            except (OSError, ValueError, IndexError):
                continue
            if pid not in self.first:
                self.first[pid] = value if initial else (0, 0)
            self.last[pid] = value

    def start(self) -> None:
        import threading

        self._stop = threading.Event()
        self._scan(initial=True)

        def loop():
            while not self._stop.wait(self.interval):
                self._scan(initial=False)

        self._thread = threading.Thread(target=loop, daemon=True)
        self._thread.start()

    def stop(self) -> dict:
        self._stop.set()
        self._thread.join()
        self._scan(initial=False)
        totals = {"app_cpu": 0, "db_cpu": 0, "wait": 0}
        for pid, (run_ns, wait_ns) in self.last.items():
            first_run, first_wait = self.first[pid]
            totals[f"{self.kind[pid]}_cpu"] += run_ns - first_run
            totals["wait"] += wait_ns - first_wait
        return {name: value / 1e6 for name, value in totals.items()}


def cpu_busy(seconds: float = 1.0) -> float:
    """Percent of all CPUs busy over ``seconds`` (taken while the bench sends nothing:
    what other processes on the machine are using)."""

    def sample():
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = fields[3] + fields[4]
        return sum(fields), idle

    total0, idle0 = sample()
    time.sleep(seconds)
    total1, idle1 = sample()
    return round(100.0 * (1 - (idle1 - idle0) / max(total1 - total0, 1)), 1)


class Load:
    def __init__(self, server: Server, workdir: Path, duration: int, idle_wait: int = 0,
                 idle_busy: float = 25.0):
        self.server = server
        self.workdir = workdir
        self.duration = duration
        self.idle_wait = idle_wait
        self.idle_busy = idle_busy

    def background(self) -> dict:
        """Wait (up to idle_wait s) for the machine to be quiet; report how busy it was."""
        deadline = time.monotonic() + self.idle_wait
        busy = cpu_busy()
        while busy > self.idle_busy and time.monotonic() < deadline:
            busy = cpu_busy()
        return {"other_cpu_busy_pct": busy,
                "load1": float(Path("/proc/loadavg").read_text().split()[0])}

    def run(self, name: str, lines: list[str], connections: int, *, duration: int | None = None,
            mode: str = "cycle", idempotency: bool = False) -> dict:
        threads = min(connections, 2)
        requests_file = self.workdir / f"{name}.requests"
        requests_file.write_text("\n".join(lines) + "\n")
        out = self.workdir / f"{name}-{connections}.json"
        env = dict(os.environ, WRK_REQUESTS=str(requests_file), WRK_MODE=mode,
                   WRK_IDEMPOTENCY="1" if idempotency else "0", WRK_THREADS=str(threads),
                   WRK_RUN_ID=uuid.uuid4().hex[:12], WRK_OUT=str(out))
        seconds = duration or self.duration
        background = self.background() if duration is None else {}
        meter = CpuMeter(self.server.process.pid, _common.database_name())
        meter.start()
        subprocess.run(["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s",
                        "--timeout", "60s", "-s", str(LUA), self.server.base],
                       check=True, env=env, capture_output=True, text=True)
        cpu = meter.stop()
        raw = json.loads(out.read_text())
        ok = sum(n for code, n in raw["status_codes"].items() if code.startswith("2"))
        seconds_run = raw["duration_us"] / 1e6
        lat = raw["latency_us"]
        errors = raw["errors"]
        return {
            "concurrency": connections,
            "seconds": round(seconds_run, 1),
            "requests": raw["requests"],
            "ok": ok,
            "non_2xx": raw["requests"] - ok,
            "socket_errors": errors["connect"] + errors["read"] + errors["write"]
            + errors["timeout"],
            "status_codes": raw["status_codes"],
            "rps": round(ok / seconds_run, 1),
            "p50_ms": round(lat["p50"] / 1000, 1),
            "p95_ms": round(lat["p95"] / 1000, 1),
            "p99_ms": round(lat["p99"] / 1000, 1),
            "max_ms": round(lat["max"] / 1000, 1),
            "cpu_ms_per_request": {
                "app": round(cpu["app_cpu"] / max(ok, 1), 1),
                "db": round(cpu["db_cpu"] / max(ok, 1), 1),
                "total": round((cpu["app_cpu"] + cpu["db_cpu"]) / max(ok, 1), 1)},
            "runqueue_wait_ms_per_request": round(cpu["wait"] / max(ok, 1), 1),
            # What two cores doing nothing else would serve, if CPU is the limit.
            "cpu_bound_rps_on_2_cores": round(
                2000 / max((cpu["app_cpu"] + cpu["db_cpu"]) / max(ok, 1), 0.001), 1),
            **background,
        }


def line(method: str, path: str, body: str | None, headers: dict) -> str:
    fields = [method, path, body if body is not None else "-"]
    fields += [f"{name}: {value}" for name, value in headers.items()]
    return "\t".join(fields)


# --- the workloads ---------------------------------------------------------------------


def list_filters(principal: str, now: datetime) -> list[tuple[str, dict]]:
    """Typical filters of a partner's case system and of the coalition admin."""
    day_ago = (now - timedelta(hours=24)).isoformat(timespec="seconds")
    quarter_ago = (now - timedelta(days=90)).isoformat(timespec="seconds")
    counterpart = ({"sender": ["idc-hotline"]} if principal == "camba-legal"
                   else {"receiver": ["camba-legal"]})
    return [
        ("newest first", {}),
        ("open caseload", {"status": ["accepted", "in-progress", "on-hold"]}),
        ("urgent intake queue", {"status": ["requested"], "priority": ["urgent", "asap"]}),
        ("service type, last 90 days", {"service_type": ["asylum"],
                                        "created_after": [quarter_ago]}),
        ("overdue", {"overdue": ["true"]}),
        ("incremental sync (updated_after, by updated_at)",
         {"updated_after": [day_ago], "ordering": ["updated_at"]}),
        ("senate district", {"district": ["13"]}),
        ("counterpart organisation", counterpart),
    ]


def rest_path(filters: dict, page_size: int = 50) -> str:
    query = [("page_size", str(page_size))] + [(k, v) for k, values in filters.items()
                                              for v in values]
    return "/api/v1/referrals/?" + urllib.parse.urlencode(query)


GRAPHQL_ARGUMENTS = {"status": "status", "priority": "priority", "service_type": "serviceType",
                     "created_after": "createdAfter", "updated_after": "updatedAfter",
                     "ordering": "ordering", "overdue": "overdue", "district": "district",
                     "receiver": "receiver", "sender": "sender"}


def graphql_body(filters: dict, first: int = 50) -> str:
    arguments = [f"first: {first}"]
    for key, values in filters.items():
        name = GRAPHQL_ARGUMENTS[key]
        if key in ("status", "priority"):
            arguments.append(f"{name}: {json.dumps(values)}")
        elif key == "overdue":
            arguments.append(f"{name}: {values[0]}")
        elif key == "district":
            arguments.append(f"{name}: {int(values[0])}")
        else:
            arguments.append(f"{name}: {json.dumps(values[0])}")
    query = f"{{ referrals({', '.join(arguments)}) {{ {GRAPHQL_SELECTION} }} }}"
    return json.dumps({"query": query}, separators=(",", ":"))


def auth(token: str, **extra) -> dict:
    return {"Authorization": f"Bearer {token}", **extra}


def create_lines(tokens: dict, rng: random.Random, count: int = 400) -> list[str]:
    from orgs.models import Organization

    offered = {}
    for org in Organization.objects.filter(accepting_referrals=True, active=True).exclude(
            kind="funder").prefetch_related("service_types"):
        for service in org.service_types.all():
            offered.setdefault(org.slug, []).append(service.code)
    receivers = ["camba-legal", "vera-nyifup", "cuny-citizenship-now", "cala", "nyic",
                 "her-justice", "chhaya-cdc", "iana"]
    names = [("Ana", "Lopez", "es"), ("Rahim", "Uddin", "bn"), ("Wei", "Chen", "zh"),
             ("Marie", "Joseph", "ht"), ("Omar", "Haddad", "ar"), ("Grace", "Mensah", "en")]
    lines = []
    for _ in range(count):
        sender = rng.choice(list(CREATORS))
        receiver = rng.choice([r for r in receivers if r != sender and r in offered])
        service = rng.choice(offered[receiver])
        given, family, language = rng.choice(names)
        body = {
            "client": {"given_name": given, "family_name": family,
                       "preferred_languages": [language]},
            "consent": {"method": rng.choice(["verbal", "written"])},
            "receiving_org": receiver, "service_type": service,
            "priority": rng.choice(["routine", "routine", "urgent", "asap"]),
            "intake_channel": CREATORS[sender],
            "summary": "Bench referral",
        }
        lines.append(line("POST", "/api/v1/referrals/", json.dumps(body, separators=(",", ":")),
                          auth(tokens[sender], **{"Content-Type": "application/json"})))
    return lines


def transition_request(referral_id, status: str, version: int, token: str,
                       rng: random.Random) -> str:
    if status == "requested":
        body = {"to": "accepted"}
    elif status == "accepted":
        body = {"to": "in-progress"}
    elif status == "on-hold":
        body = {"to": "in-progress"}
    elif rng.random() < 0.7:
        body = {"to": "on-hold", "reason": "Waiting for documents from the client"}
    else:
        body = {"to": "completed", "outcomes": [{"code": "advice-given"}]}
    return line("POST", f"/api/v1/referrals/{referral_id}/transition/",
                json.dumps(body, separators=(",", ":")),
                auth(token, **{"Content-Type": "application/json", "If-Match": f'"{version}"'}))


def transition_lines(tokens: dict, rng: random.Random, limit: int) -> list[str]:
    """Open referrals of the receivers we hold tokens for, each at its current version:
    every line is good for exactly one request."""
    from referrals.models import Referral

    rows = list(Referral.objects.filter(
        receiving_org__slug__in=TRANSITIONERS,
        status__in=["requested", "accepted", "in-progress", "on-hold"],
    ).order_by("?").values_list("id", "status", "version", "receiving_org__slug")[:limit])
    return [transition_request(rid, status, version, tokens[slug], rng)
            for rid, status, version, slug in rows]


# --- in-process: queries per request, server-side time, plans ----------------------------


class InProcess:
    def __init__(self):
        from django.test import Client

        self.client = Client(HTTP_HOST="127.0.0.1")
        self.last_cpu_ms = None

    @staticmethod
    def backend_pid() -> int:
        """The PostgreSQL backend serving this process (to read its CPU time)."""
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            return cursor.fetchone()[0]

    def request(self, method: str, path: str, body: str | None, headers: dict,
                repeat: int = 5, fresh_key: bool = False):
        """(status, queries of the last run, median ms over ``repeat`` runs after one
        warm-up, parsed JSON of the last response)."""
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        timings = []
        cpu = []
        for attempt in range(repeat + 1):
            request_headers = dict(headers)
            if fresh_key:
                request_headers["Idempotency-Key"] = str(uuid.uuid4())
            backend = self.backend_pid()
            with CaptureQueriesContext(connection) as captured:
                db_before = schedstat(backend)[0]
                app_before = time.thread_time_ns()
                started = time.perf_counter()
                response = self.client.generic(
                    method, path, data=body or "",
                    content_type=request_headers.pop("Content-Type", "application/json"),
                    headers=request_headers)
                elapsed = (time.perf_counter() - started) * 1000
                app_ms = (time.thread_time_ns() - app_before) / 1e6
                db_ms = (schedstat(backend)[0] - db_before) / 1e6
            if attempt or not repeat:
                timings.append(elapsed)
                cpu.append(app_ms + db_ms)
        self.last_cpu_ms = statistics.median(cpu)
        try:
            payload = json.loads(response.content or b"null")
        except ValueError:
            payload = None
        return response.status_code, list(captured.captured_queries), statistics.median(
            timings), payload


def main_list_query(queries: list[dict], count: bool = False) -> str | None:
    for query in queries:
        sql = query["sql"]
        if 'FROM "referrals_referral"' not in sql:
            continue
        if count and sql.startswith("SELECT COUNT(*)"):
            return sql
        if not count and " LIMIT " in sql and not sql.startswith("SELECT COUNT(*)"):
            return sql
    return None


def explain(sql: str) -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    names = re.findall(r"Index (?:Only )?Scan(?: Backward)? using (\S+) on", plan)
    bitmap = re.findall(r"Bitmap Index Scan on (\S+)", plan)
    seq = bool(re.search(r"Seq Scan on referrals_referral\b", plan))
    execution = re.search(r"Execution Time: ([\d.]+) ms", plan)
    sort = re.search(r"Sort Method: ([^\n]+)", plan)
    return {
        "execution_ms": float(execution.group(1)) if execution else None,
        "referral_indexes": sorted(set(names + bitmap)),
        "seq_scan_on_referrals": seq,
        "sort": sort.group(1).strip() if sort else None,
        "plan": plan,
    }


# --- the report ------------------------------------------------------------------------


def raw_sql(name: str) -> str:
    return (SQL_DIR / name).read_text()


def time_raw(sql: str, repeat: int, warmup: bool = True) -> tuple[float, list]:
    import psycopg

    timings = []
    with psycopg.connect(_common.DATABASE_URL) as conn:
        if warmup:
            rows = conn.execute(sql).fetchall()
        for _ in range(repeat):
            started = time.perf_counter()
            rows = conn.execute(sql).fetchall()
            timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings), rows


def principal_for(token: str):
    from django.test import RequestFactory

    from orgs.auth import authenticate_request

    return authenticate_request(RequestFactory(HTTP_HOST="127.0.0.1").get(
        "/", HTTP_AUTHORIZATION=f"Bearer {token}"))


def measure_report(server: Server, tokens: dict, repeat: int, progress: Progress) -> dict:
    """The funder report against the same numbers computed by one hand-written query.

    Timed: the raw SQL (psycopg, median of ``repeat`` after a warm-up), the selector
    in-process (median of ``repeat``), the endpoint over HTTP through gunicorn (median
    of ``repeat``). Counted in-process: the SQL queries of each request. The report
    with every default measure (medians, outcomes, workshops too) and the funder's
    view are run once each, in-process: they take long and say the same thing."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from reporting import selectors

    results = {"dimensions": REPORT_DIMENSIONS, "period": "sfy", "repeat": repeat}
    raw_ms, raw_rows = time_raw(raw_sql("funder_report.sql"), repeat)
    results["raw_sql_ms"] = round(raw_ms, 1)
    results["raw_sql_cells"] = len(raw_rows)
    progress.say(f"report: hand-written SQL GROUP BY {raw_ms:.0f} ms ({len(raw_rows)} cells)")
    results["_plan"] = explain(raw_sql("funder_report.sql"))["plan"]
    cube_ms, cube_rows = time_raw(raw_sql("funder_report_cube.sql"), 1, warmup=False)
    results["raw_sql_cube_ms"] = round(cube_ms, 1)
    results["raw_sql_cube_rows"] = len(cube_rows)
    progress.say(f"report: hand-written SQL GROUP BY CUBE (with totals) {cube_ms:.0f} ms")
    one_pass_ms, one_pass_rows = time_raw(raw_sql("funder_report_one_pass.sql"), 1, warmup=False)
    results["raw_sql_one_pass_ms"] = round(one_pass_ms, 1)
    progress.say(f"report: one pass, client-level pre-aggregate then CUBE {one_pass_ms:.0f} ms")

    admin = principal_for(tokens[ADMIN])
    spec = selectors.ReportSpec(dimensions=tuple(REPORT_DIMENSIONS.split(",")), period="sfy",
                                measures=tuple(COUNT_MEASURES.split(",")))
    timings = []
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            report = selectors.service_numbers(admin, spec)
            timings.append((time.perf_counter() - started) * 1000)
    selector_ms = statistics.median(timings)
    results["selector_ms"] = round(selector_ms, 1)
    results["selector_queries"] = len(captured.captured_queries)
    results["selector_query_ms"] = [round(float(q["time"]) * 1000) for q in
                                    captured.captured_queries]
    results["selector_cells"] = len(report.cells)
    results["selector_totals"] = len(report.totals)
    results["consistency"] = compare_cells(report, raw_rows)
    progress.say(f"report: service_numbers() in-process {selector_ms:.0f} ms, "
                 f"{len(captured.captured_queries)} queries; cells equal to the raw SQL's: "
                 f"{results['consistency']}")

    base = f"/api/v1/reports/service-numbers/?dimensions={REPORT_DIMENSIONS}&period=sfy"
    in_process = InProcess()
    results["endpoint"] = {}
    path = f"{base}&measures={COUNT_MEASURES}"
    timings = []
    for _ in range(repeat):
        ms, status, body = server.timed_get(path, tokens[ADMIN])
        if status != 200:
            raise SystemExit(f"report: HTTP {status}: {body[:300]!r}")
        timings.append(ms)
    data = json.loads(body)
    _, queries, _, _ = in_process.request("GET", path, None, auth(tokens[ADMIN]), repeat=0)
    results["endpoint"]["admin_counts"] = {
        "path": path, "as": ADMIN, "how": f"HTTP through gunicorn, median of {repeat}",
        "median_ms": round(statistics.median(timings), 1), "min_ms": round(min(timings), 1),
        "rows": len(data["rows"]), "totals": len(data["totals"]), "queries": len(queries)}
    progress.say(f"report endpoint (coalition admin, count measures): "
                 f"{statistics.median(timings):.0f} ms, {len(queries)} queries")
    for name, who, measures in (("admin_default_measures", ADMIN, ""),
                                ("funder_counts", FUNDER, f"&measures={COUNT_MEASURES}")):
        path = base + measures
        status, queries, ms, data = in_process.request("GET", path, None, auth(tokens[who]),
                                                       repeat=0)
        if status != 200:
            raise SystemExit(f"report {name}: HTTP {status}: {data}")
        results["endpoint"][name] = {
            "path": path, "as": who, "how": "in-process, one run", "median_ms": round(ms, 1),
            "rows": len(data["rows"]), "totals": len(data["totals"]),
            "queries": len(queries)}
        progress.say(f"report endpoint {name}: {ms:.0f} ms, {len(queries)} queries")
    endpoint_ms = results["endpoint"]["admin_counts"]["median_ms"]
    results["ratio_endpoint_to_raw"] = round(endpoint_ms / raw_ms, 2)
    results["ratio_selector_to_raw"] = round(selector_ms / raw_ms, 2)
    results["ratio_endpoint_to_cube"] = round(endpoint_ms / cube_ms, 2)
    return results


def compare_cells(report, raw_rows) -> dict:
    """The API's unsuppressed cells equal the hand-written query's numbers."""
    measures = COUNT_MEASURES.split(",")
    raw = {}
    for row in raw_rows:
        org, service, sfy = row[:3]
        label = f"SFY {sfy}-{(sfy + 1) % 100:02d}"
        raw[(org, service, label)] = dict(zip(measures, row[3:]))
    compared = mismatched = 0
    for entry in report.cells:
        values = raw.get(tuple(entry.key))
        if values is None:
            mismatched += 1
            continue
        for measure in measures:
            value = entry.values.get(measure)
            if value is None:
                continue  # suppressed
            compared += 1
            if value != values[measure]:
                mismatched += 1
    return {"values_compared": compared, "mismatches": mismatched}


# --- the table ---------------------------------------------------------------------------


def table(results: dict) -> str:
    rows = ["| scenario | clients | p50 ms | p95 ms | p99 ms | req/s | non-2xx | "
            "SQL queries/request | CPU ms/request (app + db) | CPU-bound req/s on 2 cores | "
            "other load: CPU % busy before |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for scenario in results["scenarios"]:
        for level in scenario["levels"]:
            cpu = level.get("cpu_ms_per_request", {})
            rows.append(
                f"| {scenario['name']} | {level['concurrency']} | {level['p50_ms']} | "
                f"{level['p95_ms']} | {level['p99_ms']} | {level['rps']} | {level['non_2xx']} | "
                f"{scenario['queries']} | {cpu.get('total', '')} ({cpu.get('app', '')} + "
                f"{cpu.get('db', '')}) | {level.get('cpu_bound_rps_on_2_cores', '')} | "
                f"{level.get('other_cpu_busy_pct', '')} |")
    report = results.get("report")
    if report:
        rows.append("")
        rows.append("| funder report (org x service type x SFY) | median ms | ratio to raw SQL | "
                    "SQL queries |")
        rows.append("|---|---:|---:|---:|")
        rows.append(f"| hand-written SQL, one GROUP BY (cells only) | {report['raw_sql_ms']} | "
                    f"1.0 | 1 |")
        rows.append(f"| hand-written SQL, GROUP BY CUBE (cells and totals) | "
                    f"{report['raw_sql_cube_ms']} | "
                    f"{round(report['raw_sql_cube_ms'] / report['raw_sql_ms'], 2)} | 1 |")
        if "raw_sql_one_pass_ms" in report:
            rows.append(f"| hand-written SQL, one pass: per-client pre-aggregate, then CUBE | "
                        f"{report['raw_sql_one_pass_ms']} | "
                        f"{round(report['raw_sql_one_pass_ms'] / report['raw_sql_ms'], 2)} | 1 |")
        rows.append(f"| `service_numbers()` in-process, count measures | "
                    f"{report['selector_ms']} | {report['ratio_selector_to_raw']} | "
                    f"{report['selector_queries']} |")
        for name, endpoint in report["endpoint"].items():
            rows.append(f"| endpoint {name.replace('_', ' ')} | {endpoint['median_ms']} | "
                        f"{round(endpoint['median_ms'] / report['raw_sql_ms'], 2)} | "
                        f"{endpoint['queries']} |")
    return "\n".join(rows)


def evaluate(results: dict) -> dict:
    by_name = {s["key"]: s for s in results["scenarios"]}
    verdicts = {}
    requests = results.get("list_requests") or []
    for key, field in (("rest_list", "rest_cpu_ms"), ("graphql_list", "graphql_cpu_ms")):
        if key in by_name:
            first = by_name[key]["levels"][0]
            cpu = sorted(r[field] for r in requests if r.get(field) is not None)
            verdicts[f"{key}_p95_under_{TARGETS['list_p95_ms']}ms_at_{first['concurrency']}"] = {
                "value": first["p95_ms"], "met": first["p95_ms"] < TARGETS["list_p95_ms"],
                # Without other load: the p95 of the mix's CPU time per request.
                "cpu_p95_ms_of_the_mix": cpu[min(len(cpu) - 1, int(0.95 * len(cpu)))]
                if cpu else None}
    report = results.get("report")
    if report:
        verdicts["report_within_1.5x_of_raw_sql"] = {
            "value": report["ratio_endpoint_to_raw"],
            "met": report["ratio_endpoint_to_raw"] <= TARGETS["report_ratio"]}
    constant = results.get("queries_constant")
    if constant is not None:
        verdicts["queries_per_request_constant"] = {"value": constant["detail"],
                                                    "met": constant["met"]}
    if "rest_create" in by_name:
        levels = by_name["rest_create"]["levels"]
        best = max(level["rps"] for level in levels)
        verdicts["create_at_least_300_per_second"] = {
            "value": best, "met": best >= TARGETS["create_per_second"],
            "cpu_bound_rps_on_2_cores": max(level.get("cpu_bound_rps_on_2_cores", 0)
                                            for level in levels)}
    return verdicts


PLANS_FOR = ("camba-legal", "idc")


def plans_text(plans: dict) -> str:
    """EXPLAIN ANALYZE of the biggest partner's and the coalition admin's list queries
    (every filter), of their GraphQL counts, and of the report's hand-written SQL. The
    select lists are elided: they are the same long column list every time."""
    out = []
    for title, (sql, plan) in plans.items():
        if title.startswith(("REST", "GraphQL")) and not any(
                f" {who}:" in title for who in PLANS_FOR):
            continue
        if title.startswith(("REST", "GraphQL")):
            sql = re.sub(r"^SELECT (DISTINCT )?.*? FROM ", r"SELECT \1... FROM ", sql or "",
                         count=1, flags=re.S)
            sql = re.sub(r"(FROM \(SELECT (DISTINCT )?).*? FROM ", r"\1... FROM ", sql,
                         count=1, flags=re.S)
        # Sort keys of a DISTINCT list every column: keep the start of long lines.
        plan = "\n".join(line if len(line) <= 200 else line[:200] + " ..."
                         for line in plan.splitlines())
        out.append(f"### {title}\n{sql}\n\n{plan}\n\n")
    return "".join(out)


def bench_indexes(action: str) -> None:
    """Drop or create the indexes of referrals/migrations/0010_bench_indexes with the
    migration's own functions (the migration stays applied)."""
    import importlib

    from django.db import connection

    module = importlib.import_module("referrals.migrations.0010_bench_indexes")
    with connection.schema_editor(atomic=False) as editor:
        getattr(module, action)(None, editor)


def markdown(results: dict) -> str:
    """Every table of a run, ready for docs/benchmarks.md."""
    out = [table(results), ""]
    if results.get("list_requests"):
        out += ["| organisation | filter | rows | REST ms (CPU ms) | GraphQL ms (CPU ms) | "
                "list SQL ms | GraphQL count SQL ms | index used by the list query |",
                "|---|---|---:|---:|---:|---:|---:|---|"]
        for r in results["list_requests"]:
            indexes = [i for i in (r["list_sql_indexes"] or [])
                       if i.startswith(("referral_", "referrals_r"))]
            plan = ", ".join(sorted(set(indexes))) or "none"
            if r["list_sql_seq_scan"]:
                plan += " + Seq Scan"
            if r["list_sql_sort"] and "external" in r["list_sql_sort"]:
                plan += f" (sort: {r['list_sql_sort']})"
            out.append(f"| {r['principal']} | {r['filter']} | {r['rows']} | {r['rest_ms']} "
                       f"({r.get('rest_cpu_ms')}) | {r['graphql_ms']} "
                       f"({r.get('graphql_cpu_ms')}) | "
                       f"{r['list_sql_ms']} | {r['graphql_count_sql_ms']} | {plan} |")
        out.append("")
    what_if = results.get("what_if")
    if what_if:
        out += ["| list mix, in-process (48 requests) | p50 ms | p95 ms | CPU p50 ms | "
                "CPU p95 ms | SQL queries |", "|---|---:|---:|---:|---:|---:|"]
        for api, label in (("rest", "REST"), ("graphql", "GraphQL")):
            for when, what in (("before", "as it is"),
                               ("after", "without DISTINCT and COUNT (what-if)")):
                v = what_if["summary"][api][when]
                out.append(f"| {label}, {what} | {round(v['p50_ms'], 1)} | {v['p95_ms']} | "
                           f"{round(v['cpu_p50_ms'], 1)} | {v['cpu_p95_ms']} | "
                           f"{', '.join(map(str, v['queries']))} |")
        out.append(f"\nSame rows with the fixes: {what_if['all_same_rows']}.\n")
    if results.get("targets"):
        out += ["| target | value | met |", "|---|---|---|"]
        for name, verdict in results["targets"].items():
            extra = {k: v for k, v in verdict.items() if k not in ("value", "met")}
            value = f"{verdict['value']}" + (f" ({extra})" if extra else "")
            out.append(f"| {name} | {value} | {'yes' if verdict['met'] else 'no'} |")
    return "\n".join(out) + "\n"


# --- main ------------------------------------------------------------------------------


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="bench/run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=int(os.environ.get("BENCH_DURATION", 20)),
                        help="seconds per measurement")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of warm-up per scenario")
    parser.add_argument("--concurrency", default="1,8,32")
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1,
                        help="gunicorn workers (default 2 x cores + 1)")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--report-repeat", type=int, default=3)
    parser.add_argument("--idle-wait", type=int, default=10,
                        help="before each measurement, wait up to this many seconds for "
                             "other processes to use under 25%% of the CPUs")
    parser.add_argument("--only", default="lists,writes,report",
                        help="comma-separated subset of: lists, writes, report")
    parser.add_argument("--no-what-if", dest="what_if", action="store_false",
                        help="skip the in-process measurement of the recommended list fixes")
    parser.add_argument("--output", default=str(_common.RESULTS_DIR / "latest.json"))
    parser.add_argument("--without-bench-indexes", action="store_true",
                        help="drop the indexes of referrals/migrations/0010_bench_indexes for "
                             "this run (to measure what they change); re-created at the end")
    args = parser.parse_args(argv)
    levels = [int(c) for c in args.concurrency.split(",")]
    only = set(args.only.split(","))

    progress = Progress(f"bench/run against {_common.database_name()}")
    ensure_wrk()
    _common.manage("migrate", "--noinput", "-v", "0", production=True)
    progress.say("migrations applied (bench database)")
    _common.setup_django(production=True)
    if args.without_bench_indexes:
        bench_indexes("drop")
        progress.say("bench indexes dropped for this run (referrals 0010_bench_indexes)")
    from django.db import connection

    from referrals.models import Referral

    if not Referral.objects.exists():
        raise SystemExit("The bench database has no referrals: run bench/generate first.")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    counts = data_counts()
    progress.say(f"data: {counts['referrals']:,} referrals, {counts['events']:,} events, "
                 f"{counts['clients']:,} clients")

    workdir = Path(tempfile.mkdtemp(prefix="coalition-bench-"))
    server = Server(args.port, args.workers, workdir / "gunicorn.log")
    server.start()
    progress.say(f"gunicorn: {args.workers} sync workers on {server.base} (log {server.log_path})")
    results = {
        "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(),
        "data": counts,
        "server": {"command": " ".join(server.command[1:]), "workers": args.workers,
                   "worker_class": "sync", "settings": "DJANGO_ENV=production, DEBUG off, "
                   "REDIS_URL rate limits, DB_CONN_MAX_AGE 60"},
        "load_tool": {"tool": "wrk", "duration_s": args.duration, "warmup_s": args.warmup,
                      "threads": "min(2, clients)"},
        "commands": ["bench/generate", "bench/run"],
        "scenarios": [],
    }
    generate_summary = _common.RESULTS_DIR / "generate.json"
    if generate_summary.exists():
        results["generate"] = json.loads(generate_summary.read_text())
    results["bench_indexes"] = not args.without_bench_indexes
    try:
        run_all(args, levels, only, server, workdir, results, progress)
    finally:
        server.stop()
        if args.without_bench_indexes:
            bench_indexes("create")
            progress.say("bench indexes re-created")
    results["targets"] = evaluate(results)
    results["wall_seconds"] = round(progress.elapsed(), 1)

    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    plans = results.pop("plans", {})
    output.write_text(json.dumps(results, indent=2, default=str) + "\n")
    plans_path = output.with_name(output.stem + "-plans.txt")
    plans_path.write_text(plans_text(plans))
    output.with_suffix(".md").write_text(markdown(results))
    print()
    print(table(results))
    print()
    for name, verdict in results["targets"].items():
        extra = {k: v for k, v in verdict.items() if k not in ("value", "met")}
        print(f"{'MET   ' if verdict['met'] else 'MISSED'} {name}: {verdict['value']}"
              + (f" {extra}" if extra else ""))
    print(f"\nwritten: {output}, {output.with_suffix('.md')} and {plans_path} "
          f"({results['wall_seconds']:.0f}s)")
    return 0


def run_all(args, levels, only, server: Server, workdir: Path, results: dict,
            progress: Progress) -> None:
    from referrals.models import Referral

    rng = random.Random(2017)
    # The smallest partner that still has referrals to list.
    from django.db.models import Count

    small = (Referral.objects.values("receiving_org__slug").annotate(n=Count("pk"))
             .filter(n__gte=200).order_by("n").first())
    principals = LIST_PRINCIPALS + ([small["receiving_org__slug"]] if small else [])
    slugs = sorted(set(principals) | set(CREATORS) | set(TRANSITIONERS) | {FUNDER, ADMIN})
    tokens = {slug: server.token(slug) for slug in slugs}
    progress.say(f"tokens from /o/token/ (client credentials) for {len(tokens)} organisations")
    results["list_principals"] = principals
    load = Load(server, workdir, args.duration, idle_wait=args.idle_wait)
    in_process = InProcess()
    now = datetime.now(timezone.utc)
    results["plans"] = {}

    if "lists" in only:
        rest_lines, graphql_lines = [], []
        per_request = []
        for who in principals:
            for label, filters in list_filters(who, now):
                path = rest_path(filters)
                body = graphql_body(filters)
                rest_lines.append(line("GET", path, None, auth(tokens[who])))
                json_auth = auth(tokens[who], **{"Content-Type": "application/json"})
                graphql_lines.append(line("POST", "/graphql/", body, json_auth))
                status, queries, ms, payload = in_process.request("GET", path, None,
                                                                  auth(tokens[who]), repeat=3)
                rest_cpu = in_process.last_cpu_ms
                if status != 200:
                    raise SystemExit(f"REST {who} {label}: HTTP {status}: {payload}")
                sql = main_list_query(queries)
                plan = explain(sql) if sql else {}
                results["plans"][f"REST {who}: {label}"] = (sql, plan.get("plan", ""))
                g_status, g_queries, g_ms, g_payload = in_process.request(
                    "POST", "/graphql/", body,
                    auth(tokens[who], **{"Content-Type": "application/json"}), repeat=3)
                graphql_cpu = in_process.last_cpu_ms
                if g_status != 200 or (g_payload or {}).get("errors"):
                    raise SystemExit(f"GraphQL {who} {label}: HTTP {g_status}: {g_payload}")
                count_sql = main_list_query(g_queries, count=True)
                count_plan = explain(count_sql) if count_sql else {}
                if count_sql:
                    results["plans"][f"GraphQL count {who}: {label}"] = (
                        count_sql, count_plan.get("plan", ""))
                per_request.append({
                    "principal": who, "filter": label, "rest_path": path, "filters": filters,
                    "ids": [r["id"] for r in payload["results"]],
                    "graphql_ids": [e["node"]["id"]
                                    for e in g_payload["data"]["referrals"]["edges"]],
                    "rows": len(payload["results"]),
                    "rest_queries": len(queries), "rest_ms": round(ms, 1),
                    "rest_cpu_ms": round(rest_cpu, 1),
                    "graphql_queries": len(g_queries), "graphql_ms": round(g_ms, 1),
                    "graphql_cpu_ms": round(graphql_cpu, 1),
                    "list_sql_ms": plan.get("execution_ms"),
                    "list_sql_indexes": plan.get("referral_indexes"),
                    "list_sql_seq_scan": plan.get("seq_scan_on_referrals"),
                    "list_sql_sort": plan.get("sort"),
                    "graphql_count_sql_ms": count_plan.get("execution_ms"),
                })
        results["list_requests"] = per_request
        progress.say(f"in-process: {len(per_request)} list requests checked, queries counted, "
                     "plans explained")

        # Page size must not change the number of queries (no N+1).
        sizes = {}
        who = "camba-legal"
        for size in (10, 25, 50, 100):
            status, rest_q, _, _ = in_process.request("GET", rest_path({}, size), None,
                                                      auth(tokens[who]), repeat=0)
            g_status, gql_q, _, g_payload = in_process.request(
                "POST", "/graphql/", graphql_body({}, size),
                auth(tokens[who], **{"Content-Type": "application/json"}), repeat=0)
            sizes[size] = {"rest": len(rest_q) if status == 200 else f"HTTP {status}",
                           "graphql": len(gql_q)}
            errors = (g_payload or {}).get("errors")
            if g_status != 200 or errors:
                # e.g. refused by the GraphQL cost limit before running: no page to count
                sizes[size]["graphql"] = (errors or [{}])[0].get("extensions", {}).get(
                    "code", f"HTTP {g_status}")
        with_rows = [r for r in per_request if r["rows"]]
        rest_counts = ({r["rest_queries"] for r in with_rows}
                       | {v["rest"] for v in sizes.values() if isinstance(v["rest"], int)})
        gql_counts = ({r["graphql_queries"] for r in with_rows}
                      | {v["graphql"] for v in sizes.values() if isinstance(v["graphql"], int)})
        results["queries_constant"] = {
            "by_page_size": sizes, "rest_distinct_counts": sorted(rest_counts),
            "graphql_distinct_counts": sorted(gql_counts),
            "met": len(rest_counts) == 1 and len(gql_counts) == 1,
            "detail": f"REST {sorted(rest_counts)}, GraphQL {sorted(gql_counts)} queries for "
                      "page sizes 10/25/50/100, every filter and organisation",
        }

        if args.what_if:
            from bench import what_if

            results["what_if"] = what_if.measure(in_process, per_request, tokens, graphql_body,
                                                 auth)
            summary = results["what_if"]["summary"]
            progress.say(
                "what-if (no DISTINCT, no GraphQL COUNT), in-process p95: REST "
                f"{summary['rest']['before']['p95_ms']} -> {summary['rest']['after']['p95_ms']}"
                f" ms, GraphQL {summary['graphql']['before']['p95_ms']} -> "
                f"{summary['graphql']['after']['p95_ms']} ms; same rows: "
                f"{results['what_if']['all_same_rows']}")
        for request in per_request:  # only needed for the comparison
            request.pop("ids", None)
            request.pop("graphql_ids", None)

        for key, name, lines in (("rest_list", "REST list, 50 referrals", rest_lines),
                                 ("graphql_list", "GraphQL list, 50 referrals", graphql_lines)):
            load.run(f"{key}-warmup", lines, 8, duration=args.warmup)
            scenario = {"key": key, "name": name, "queries": sorted(
                {r["rest_queries" if key == "rest_list" else "graphql_queries"]
                 for r in per_request}),
                "mix": f"{len(lines)} requests: {len(principals)} organisations x 8 filters",
                "levels": []}
            for connections in levels:
                level = load.run(key, lines, connections)
                scenario["levels"].append(level)
                progress.say(f"{name} @{connections}: p50 {level['p50_ms']} ms, p95 "
                             f"{level['p95_ms']} ms, {level['rps']} req/s, "
                             f"non-2xx {level['non_2xx']}")
            scenario["queries"] = ", ".join(str(q) for q in scenario["queries"])
            results["scenarios"].append(scenario)

    if "writes" in only:
        creates = create_lines(tokens, rng)
        method, path, body, *headers = creates[0].split("\t")
        header_dict = dict(h.split(": ", 1) for h in headers)
        status, queries, ms, payload = in_process.request(method, path, body, header_dict,
                                                          fresh_key=True)
        if status != 201:
            raise SystemExit(f"create: HTTP {status}: {payload}")
        create_queries = len(queries)
        results["create_in_process"] = {"queries": create_queries, "ms": round(ms, 1),
                                        "cpu_ms": round(in_process.last_cpu_ms, 1)}
        load.run("create-warmup", creates, 8, duration=args.warmup, idempotency=True)
        scenario = {"key": "rest_create", "name": "REST create referral (new client + consent)",
                    "queries": create_queries, "levels": []}
        for connections in levels:
            level = load.run("create", creates, connections, idempotency=True)
            scenario["levels"].append(level)
            progress.say(f"create @{connections}: {level['rps']} req/s, p95 {level['p95_ms']} ms,"
                         f" non-2xx {level['non_2xx']} {level['status_codes']}")
        results["scenarios"].append(scenario)

        pool = 30000
        sample = transition_lines(tokens, rng, 1)
        if not sample:
            raise SystemExit("no open referrals to transition")
        method, path, body, *headers = sample[0].split("\t")
        status, queries, ms, payload = in_process.request(
            method, path, body, dict(h.split(": ", 1) for h in headers), repeat=0)
        if status != 200:
            raise SystemExit(f"transition: HTTP {status}: {payload}")
        transition_queries = len(queries)
        results["transition_in_process"] = {"queries": transition_queries, "ms": round(ms, 1),
                                            "cpu_ms": round(in_process.last_cpu_ms, 1)}
        load.run("transition-warmup", transition_lines(tokens, rng, pool), 8,
                 duration=args.warmup, mode="once")
        scenario = {"key": "rest_transition",
                    "name": "REST transition (accept / start / hold / complete)",
                    "queries": transition_queries, "levels": []}
        for connections in levels:
            level = load.run("transition", transition_lines(tokens, rng, pool), connections,
                             mode="once")
            scenario["levels"].append(level)
            progress.say(f"transition @{connections}: {level['rps']} req/s, p95 "
                         f"{level['p95_ms']} ms, non-2xx {level['non_2xx']} "
                         f"{level['status_codes']}")
        results["scenarios"].append(scenario)

    if "report" in only:
        results["report"] = measure_report(server, tokens, args.report_repeat, progress)
        results["plans"]["report: hand-written SQL GROUP BY"] = (
            raw_sql("funder_report.sql"), results["report"].pop("_plan"))


if __name__ == "__main__":
    sys.exit(main())
