"""What every bench script shares: a seeded database of its own, the real server started as a
separate process (pinned to one core), a token, and ``wrk`` (pinned to the other core).

``wrk`` is not a Python package: install it with ``apt-get update && apt-get install -y wrk``
(Debian/Ubuntu) or ``brew install wrk`` (macOS).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import httpx

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
DATA = ROOT / "bench" / ".data"
SERVER_CPU, LOAD_CPU = "0", "1"
ADMIN = "admin@demo.example"

WRK_MISSING = (
    "wrk is not installed: run `apt-get update && apt-get install -y wrk` (Debian/Ubuntu) or "
    "`brew install wrk` (macOS), then run this script again"
)


def pinned(cpu: str) -> list[str]:
    """Run on one core when the machine has two or more and taskset exists."""
    if (os.cpu_count() or 1) >= 2 and shutil.which("taskset"):
        return ["taskset", "-c", cpu]
    return []


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Database:
    backend: str  # sqlite or postgres
    url: str
    state_dir: Path

    def env(self, **extra: str) -> dict[str, str]:
        return {
            **os.environ,
            "VDC_DATABASE_URL": self.url,
            "VDC_STATE_DIR": str(self.state_dir),
            # The bench sends far more than a caller's hourly budget of cost points.
            "VDC_RATE_LIMIT_POINTS_PER_HOUR": "1000000000",
            **extra,
        }


def _with_database(url: str, name: str) -> str:
    return urlunparse(urlparse(url)._replace(path=f"/{name}"))


def database(backend: str, customers: int) -> Database:
    """A database seeded with the demo data set of ``customers`` customers, built once and kept
    in ``bench/.data`` (SQLite) or as ``vdc_bench_<customers>`` next to
    ``VDC_TEST_POSTGRES_URL`` (PostgreSQL); ``bench/reset.py`` removes them."""
    DATA.mkdir(parents=True, exist_ok=True)
    state = DATA / "state"
    if backend == "sqlite":
        url = f"sqlite://{DATA / f'customers-{customers}.db'}"
    else:
        url = postgres_url(f"vdc_bench_{customers}")
    db = Database(backend, url, state)
    marker = DATA / f"{backend}-{customers}.seeded"
    if not marker.exists():
        print(f"seeding {customers} customers on {backend} (once; kept in bench/.data)", flush=True)
        subprocess.run(
            [str(VENV_BIN / "vdc-graph"), "seed", "--customers", str(customers), "--seed", "7"],
            env=db.env(),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        asyncio.run(_quiet_scheduler(db))
        marker.touch()
    return db


def _create_postgres_database(base: str, name: str, fresh: bool = False) -> None:
    """Database ``name`` next to ``base``, created if missing (dropped first when ``fresh``)."""
    import asyncpg

    async def create() -> None:
        conn = await asyncpg.connect(base.replace("postgres://", "postgresql://", 1))
        try:
            if fresh:
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
            if not exists:
                await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    asyncio.run(create())


def postgres_url(name: str, fresh: bool = False) -> str:
    """The URL of database ``name`` next to ``VDC_TEST_POSTGRES_URL``, created if missing."""
    base = os.environ.get("VDC_TEST_POSTGRES_URL")
    if not base:
        raise SystemExit(
            "PostgreSQL needs VDC_TEST_POSTGRES_URL (e.g. postgres://postgres@127.0.0.1:5432/test)"
        )
    _create_postgres_database(base, name, fresh)
    return _with_database(base, name)


async def create_admin(provider_name: str, partner_id: str, email: str):
    """A provider with one user holding every permission (for ``token``); the provider."""
    from vdc_graph.db.models import PortalUser, Role, ServiceProvider
    from vdc_graph.enums import Permission

    provider = await ServiceProvider.create(display_name=provider_name, pro_partner_id=partner_id)
    role = await Role.create(
        provider=provider,
        name="All",
        name_key="all",
        permissions=sorted(p.value for p in Permission),
    )
    admin = await PortalUser.create(
        provider=provider, email=email, email_key=email, first_name="A", last_name="B"
    )
    await admin.roles.add(role)
    return provider


async def _quiet_scheduler(db: Database) -> None:
    """Move every policy's next run a year ahead, so no backup starts during a measurement."""
    from tortoise import Tortoise, connections

    from vdc_graph.db.config import tortoise_config

    await Tortoise.init(config=tortoise_config(db.url))
    try:
        conn = connections.get("default")
        if db.backend == "sqlite":
            await conn.execute_script(
                "UPDATE backup_policy SET next_run = datetime('now', '+1 year') "
                "WHERE next_run IS NOT NULL"
            )
        else:
            await conn.execute_script(
                "UPDATE backup_policy SET next_run = now() + interval '1 year' "
                "WHERE next_run IS NOT NULL"
            )
            # Statistics for the planner now, as autovacuum would give them a little later.
            await conn.execute_script("ANALYZE")
    finally:
        await Tortoise.close_connections()


def token(db: Database, email: str = ADMIN) -> str:
    out = subprocess.run(
        [str(VENV_BIN / "vdc-graph"), "token", "--email", email, "--expires", "7d"],
        env=db.env(),
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return out.strip().splitlines()[-1].strip()


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    url: str

    def cpu_seconds(self) -> float:
        """User plus system CPU time the server process has used so far."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / ticks

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")


def wait_until_idle(target: Server, quiet_seconds: int = 8, deadline_seconds: float = 300) -> None:
    """Returns once the server has used under 5 % of a core for ``quiet_seconds`` in a row:
    the jobs it runs after it starts (the daily licence refresh, alarm evaluation, the outbox;
    the leader's begin within a lease tick, 5 s) would otherwise be measured as the cost of
    the first requests."""
    deadline = time.monotonic() + deadline_seconds
    quiet = 0
    while quiet < quiet_seconds:
        if time.monotonic() > deadline:
            raise SystemExit(f"the server was still busy {deadline_seconds:.0f} s after it started")
        before = target.cpu_seconds()
        time.sleep(1)
        quiet = quiet + 1 if target.cpu_seconds() - before < 0.05 else 0


@contextmanager
def server(db: Database, kind: str, settings: dict[str, str] | None = None) -> Iterator[Server]:
    """The real server (``vdc-graph serve``, one uvicorn process) or the raw endpoint
    (``uvicorn bench.raw_app:app``), pinned to the server core; ``settings`` are extra
    ``VDC_*`` variables."""
    port = free_port()
    if kind == "graphql":
        command = [str(VENV_BIN / "vdc-graph"), "serve", "--port", str(port)]
    else:
        # uvicorn's defaults, as ``serve`` uses them (access log included).
        command = [str(VENV_BIN / "uvicorn"), "bench.raw_app:app", "--port", str(port)]
    log = tempfile.TemporaryFile()  # noqa: SIM115  (closed when the server stops)
    process = subprocess.Popen(
        [*pinned(SERVER_CPU), *command],
        env=db.env(**(settings or {})),
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    probe = "/healthz" if kind == "graphql" else "/customers"
    try:
        while True:
            if process.poll() is not None:
                log.seek(0)
                raise SystemExit(f"{kind} server exited:\n{log.read().decode()[-3000:]}")
            try:
                httpx.request("GET" if kind == "graphql" else "POST", base + probe, timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise SystemExit(f"{kind} server did not start within 60 s") from None
                time.sleep(0.2)
        running = Server(process, base)
        wait_until_idle(running)
        yield running
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@dataclass(frozen=True)
class Load:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    cpu_ms_per_request: float
    errors: int


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s)", text)
    assert match, text
    return float(match[1]) * _UNITS[match[2]]


def wrk(
    target: Server,
    path: str,
    body: dict,
    bearer: str,
    *,
    connections: int = 16,
    seconds: int = 10,
) -> Load:
    """``wrk -t1 -c<connections>`` on the load core, POSTing ``body`` as JSON."""
    if shutil.which("wrk") is None:
        raise SystemExit(WRK_MISSING)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(
            'wrk.method = "POST"\n'
            f"wrk.body = {json.dumps(json.dumps(body))}\n"
            'wrk.headers["Content-Type"] = "application/json"\n'
            f'wrk.headers["Authorization"] = "Bearer {bearer}"\n'
        )
    try:
        cpu_before = target.cpu_seconds()
        out = subprocess.run(
            [
                *pinned(LOAD_CPU),
                "wrk",
                "-t1",
                f"-c{connections}",
                f"-d{seconds}s",
                "--latency",
                "-s",
                script.name,
                target.url + path,
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        cpu = target.cpu_seconds() - cpu_before
    finally:
        os.unlink(script.name)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1])  # type: ignore[index]
    total = int(re.search(r"(\d+) requests in", out)[1])  # type: ignore[index]
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.MULTILINE)[1])  # type: ignore[index]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.MULTILINE)[1])  # type: ignore[index]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = int(bad[1]) if bad else 0
    return Load(rps, p50, p99, 1000 * cpu / max(total, 1), errors)


def median(values: list[float]) -> float:
    return statistics.median(values)
