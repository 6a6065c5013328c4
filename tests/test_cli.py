"""The command line as a newcomer runs it: real processes on a fresh SQLite database."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from vdc_graph.schema.root import build_schema
from vdc_graph.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fresh_env(folder: Path) -> dict[str, str]:
    """The environment without any VDC_* setting, on a new SQLite database in ``folder``."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("VDC_")}
    return {
        **clean,
        "VDC_DATABASE_URL": f"sqlite://{folder}/cli.db",
        "VDC_STATE_DIR": str(folder / "state"),
    }


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return fresh_env(tmp_path)


def run(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "vdc_graph", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


def start(env: dict[str, str], *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "vdc_graph", *args],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@contextmanager
def seeded_server(folder: Path, **settings: str) -> Iterator[tuple[str, str, dict[str, str]]]:
    """A real ``vdc-graph serve`` on demo data (3 customers) with ``settings`` (VDC_* values):
    its URL, a token of admin@demo.example and the environment it runs in."""
    env = fresh_env(folder)
    run(env, "seed", "--customers", "3")
    token = run(env, "token", "--email", "admin@demo.example").stdout.strip()
    port = free_port()
    process = start(env | settings, "serve", "--port", str(port))
    try:
        wait_until_healthy(port, process)
        yield f"http://127.0.0.1:{port}", token, env
    finally:
        stop(process)


def wait_until_healthy(port: int, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited: {process.stderr.read()}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise AssertionError("server did not start")


def stop(process: subprocess.Popen) -> str:
    """Sends SIGTERM and returns the server's log once it has exited."""
    process.send_signal(signal.SIGTERM)
    code = process.wait(timeout=30)
    # uvicorn re-raises the signal after a clean shutdown, so the process ends "by SIGTERM".
    assert code in (0, -signal.SIGTERM), code
    return process.stderr.read()


def test_migrate_applies_once(env):
    migrations = sorted(ROOT.glob("vdc_graph/db/migrations/0*.py"))
    assert f"applied {len(migrations)} migration(s)" in run(env, "migrate").stdout
    assert "up to date" in run(env, "migrate").stdout


def test_serve_refuses_an_unmigrated_database_and_says_what_to_run(env):
    port = free_port()
    process = start(env, "serve", "--port", str(port))
    assert process.wait(timeout=60) != 0
    assert "vdc-graph migrate" in process.stderr.read()


def test_seed_token_and_serve_end_to_end(env):
    seeded = run(env, "seed", "--customers", "8", "--seed", "3").stdout
    assert "seeded" in seeded
    assert "already present" in run(env, "seed", "--customers", "8").stdout
    token = run(env, "token", "--email", "ADMIN@demo.example", "--expires", "10m").stdout.strip()
    assert run(env, "token", "--email", "nobody@demo.example", check=False).returncode != 0
    port = free_port()
    process = start(env, "serve", "--port", str(port))
    try:
        wait_until_healthy(port, process)
        assert httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200
        response = httpx.post(
            f"http://127.0.0.1:{port}/graphql",
            json={"query": "{ viewer { user { email } permissions } customers { totalCount } }"},
            headers={"Authorization": f"Bearer {token}"},
        )
        data = response.json()["data"]
        assert data["viewer"]["user"]["email"] == "admin@demo.example"
        assert "USER_MANAGEMENT" in data["viewer"]["permissions"]
        assert data["customers"]["totalCount"] == 8
    finally:
        log = stop(process)
    assert "Application shutdown complete" in log  # graceful: the lifespan ran to its end


def test_demo_prints_the_explorer_url_and_a_working_token(env):
    port = free_port()
    process = start(env, "demo", "--customers", "6", "--port", str(port))
    try:
        lines = []
        while not any(line.strip().startswith('{"Authorization"') for line in lines):
            line = process.stdout.readline()
            assert line, process.stderr.read()
            lines.append(line)
        assert f"http://localhost:{port}/graphql" in "".join(lines)
        token = lines[-1].split("Bearer ")[1].split('"')[0]
        wait_until_healthy(port, process)
        page = httpx.get(f"http://127.0.0.1:{port}/graphql", headers={"Accept": "text/html"})
        assert "graphiql" in page.text.lower()
        response = httpx.post(
            f"http://127.0.0.1:{port}/graphql",
            json={"query": "{ customers { totalCount } }"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.json()["data"]["customers"]["totalCount"] == 6
    finally:
        stop(process)


def test_export_schema_writes_the_sdl(env, tmp_path):
    target = tmp_path / "schema.graphql"
    run(env, "export-schema", "--output", str(target))
    assert "type Query" in target.read_text()


def test_the_committed_schema_is_current():
    current = str(build_schema(Settings(dev_token_secret="x" * 40))) + "\n"
    committed = (ROOT / "schema.graphql").read_text()
    assert committed == current, (
        "schema.graphql is stale: run `vdc-graph export-schema --output schema.graphql`"
    )


def test_usage_reports_and_service_status_administration(env, tmp_path):
    import sqlite3

    run(env, "migrate")
    providers = (
        "import asyncio\n"
        "from vdc_graph.cli import database\n"
        "from vdc_graph.db.models import ServiceProvider\n"
        "from vdc_graph.settings import get_settings\n"
        "async def main():\n"
        "    async with database(get_settings()):\n"
        "        for n in ('1', '2'):\n"
        "            await ServiceProvider.create(display_name=n, pro_partner_id=f'PRA-{n}')\n"
        "asyncio.run(main())\n"
    )
    subprocess.run([sys.executable, "-c", providers], env=env, cwd=ROOT, check=True, timeout=60)
    out = run(env, "usage-reports", "generate", "--month", "2025-03").stdout
    assert "usage reports for 2025-03 generated for 2 provider(s)" in out
    run(env, "usage-reports", "generate", "--month", "2025-03")  # idempotent

    refused = run(
        env,
        "usage-reports",
        "reject",
        "--provider",
        "PRA-0",
        "--month",
        "2025-03",
        "--reason",
        "x",
        check=False,
    )
    assert refused.returncode != 0 and "no provider" not in refused.stderr

    out = run(
        env,
        "service-status",
        "set",
        "--service",
        "EXCHANGE_BACKUP",
        "--region",
        "ALL",
        "--health",
        "OUTAGE",
        "--message",
        "Investigating",
    ).stdout
    assert "EXCHANGE_BACKUP is OUTAGE in AMER, EMEA, APJ" in out
    run(
        env,
        "service-status",
        "maintenance",
        "--service",
        "SSO",
        "--region",
        "EMEA",
        "--starts",
        "2030-01-01T22:00Z",
        "--ends",
        "2030-01-01T23:00Z",
        "--description",
        "Keys",
    )
    bad = run(
        env,
        "service-status",
        "maintenance",
        "--service",
        "SSO",
        "--region",
        "EMEA",
        "--starts",
        "2030-01-01T22:00Z",
        "--ends",
        "2030-01-01T21:00Z",
        check=False,
    )
    assert bad.returncode != 0 and "must end after it starts" in bad.stderr

    with sqlite3.connect(tmp_path / "cli.db") as db:
        reports = db.execute("SELECT month, status FROM usage_report").fetchall()
        statuses = db.execute(
            "SELECT region, health, message FROM service_status ORDER BY region"
        ).fetchall()
        windows = db.execute("SELECT service, region, description FROM maintenance_window")
        windows = windows.fetchall()
    assert sorted(reports) == [("2025-03-01", "PENDING_REVIEW")] * 2
    assert statuses == [
        ("AMER", "OUTAGE", "Investigating"),
        ("APJ", "OUTAGE", "Investigating"),
        ("EMEA", "OUTAGE", "Investigating"),
    ]
    assert windows == [("SSO", "EMEA", "Keys")]


def test_software_usage_is_imported_idempotently(env, tmp_path):
    import sqlite3

    run(env, "migrate")
    provider = (
        "import asyncio\n"
        "from vdc_graph.cli import database\n"
        "from vdc_graph.db.models import ServiceProvider\n"
        "from vdc_graph.settings import get_settings\n"
        "async def main():\n"
        "    async with database(get_settings()):\n"
        "        await ServiceProvider.create(display_name='P', pro_partner_id='PRA-7')\n"
        "asyncio.run(main())\n"
    )
    subprocess.run([sys.executable, "-c", provider], env=env, cwd=ROOT, check=True, timeout=60)
    usage = tmp_path / "usage.csv"
    usage.write_text(
        "month,workload,units,licensed_units,tenant_has_rental_license\n"
        "2025-02,CLOUD_CONNECT_BACKUP_VM,12,20,false\n"
        "2025-02,CLOUD_CONNECT_BACKUP_VM,3,0,true\n"
        "2025-03,public_cloud_vm,4,,\n"
    )
    out = run(env, "import-software-usage", str(usage), "--provider", "PRA-7").stdout
    assert out.splitlines() == ["2025-02: updated", "2025-03: updated"]
    again = run(env, "import-software-usage", str(usage)).stdout
    assert again.splitlines() == ["2025-02: unchanged", "2025-03: unchanged"]
    rows = sqlite3.connect(str(tmp_path / "cli.db")).execute(
        "SELECT month, workload, units, licensed_units, tenant_has_rental_license"
        " FROM software_usage ORDER BY month, workload, tenant_has_rental_license"
    )
    assert [tuple(r) for r in rows] == [
        ("2025-02-01", "CLOUD_CONNECT_BACKUP_VM", 12, 20, 0),
        ("2025-02-01", "CLOUD_CONNECT_BACKUP_VM", 3, 0, 1),
        ("2025-03-01", "PUBLIC_CLOUD_VM", 4, 0, 0),
    ]
    usage.write_text("month,workload,units\n2025-04,CLOUD_CONNECT_BACKUP_VM,many\n")
    bad = run(env, "import-software-usage", str(usage), check=False)
    assert bad.returncode == 2 and "line 2: bad units" in bad.stderr
    usage.write_text("month,workload,units\n2999-01,CLOUD_CONNECT_BACKUP_VM,1\n")
    future = run(env, "import-software-usage", str(usage), check=False)
    assert future.returncode == 2 and "future month" in future.stderr
