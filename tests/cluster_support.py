"""Several real server processes sharing one database and one broker, as "hosts" behind a
load balancer would: each a ``vdc-graph serve`` subprocess on a free port, killed on teardown
whatever happened."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tortoise import Tortoise
from tortoise.backends.base.executor import EXECUTOR_CACHE

from tests.conftest import POSTGRES_URL, REDIS_URL, _drop_database, clone_template
from tests.smtp_server import free_port
from vdc_graph.db.config import tortoise_config
from vdc_graph.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SECRET = "cluster-test-secret-" + "x" * 40


def needs(what: str, url: str | None) -> str:
    if not url:
        variable = "VDC_TEST_POSTGRES_URL" if what == "PostgreSQL" else "VDC_TEST_REDIS_URL"
        pytest.skip(f"two-process tests need {what}: set {variable}")
    return url


class ServerProcess:
    """One ``vdc-graph serve`` process; its output goes to a file read on failure."""

    def __init__(self, env: dict[str, str], log_dir: Path, name: str) -> None:
        self.env, self.name = env, name
        self.port = free_port()
        self.log_path = log_dir / f"{name}-{self.port}.log"
        self.process: subprocess.Popen | None = None

    def start(self, *, wait: bool = True) -> ServerProcess:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "vdc_graph", "serve", "--port", str(self.port)],
            env=self.env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        if wait:
            self.wait_ready()
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                raise AssertionError(f"{self.name} exited:\n{self.log()[-4000:]}")
            try:
                if httpx.get(self.http_url + "/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"{self.name} did not become ready:\n{self.log()[-4000:]}")

    def kill(self) -> None:
        """kill -9: no shutdown, no hand-back."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> int:
        """A graceful stop (SIGTERM), as a rolling restart does."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)

    def graphql(self, query: str, variables: dict | None, token: str) -> dict:
        response = httpx.post(
            self.http_url + "/graphql",
            json={"query": query, "variables": variables or {}},
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        return response.json()


class Cluster:
    """The processes of a test; ``settings`` mints tokens they accept."""

    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.env, self.log_dir = env, log_dir
        self.servers: list[ServerProcess] = []
        self.settings = Settings(dev_token_secret=SECRET, state_dir=log_dir / "state")

    def add(self, *, wait: bool = True, **overrides: str) -> ServerProcess:
        server = ServerProcess(
            {**self.env, **overrides}, self.log_dir, f"server{len(self.servers) + 1}"
        )
        self.servers.append(server)
        return server.start(wait=wait)

    def by_pid(self, pid: int) -> ServerProcess:
        return next(s for s in self.servers if s.pid == pid)

    def logs(self) -> str:
        return "\n".join(f"--- {s.name}\n{s.log()[-3000:]}" for s in self.servers)

    def kill_all(self) -> None:
        for server in self.servers:
            server.kill()


def cross_process_broker() -> dict[str, str]:
    """The settings several server processes need: a Redis broker, on channels of their own."""
    return {
        "VDC_BROKER_URL": needs("Redis", REDIS_URL),
        "VDC_BROKER_PREFIX": f"vdc-test-{uuid.uuid4().hex[:12]}",
    }


def base_env(database_url: str, broker_url: str, state: Path, **overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VDC_")}
    env.update(
        VDC_DATABASE_URL=database_url,
        VDC_BROKER_URL=broker_url,
        VDC_BROKER_PREFIX=f"vdc-test-{uuid.uuid4().hex[:12]}",
        VDC_DEV_TOKEN_SECRET=SECRET,
        VDC_STATE_DIR=str(state),
        VDC_ENGINE_STEP_SECONDS="0.05",
        VDC_ENGINE_WARNING_RATE="0",
        VDC_ENGINE_FAILURE_RATE="0",
        VDC_LEASE_SECONDS="10",  # generous: a loaded machine must not lose a live lease
        VDC_SCHEDULER_INTERVAL_SECONDS="3600",
        VDC_USAGE_REPORT_CHECK_SECONDS="0",
        VDC_LICENCE_REFRESH_SECONDS="0",  # no contract moves under the tests' feet
        VDC_OUTBOUND_ALLOWED_NETWORKS='["127.0.0.0/8"]',  # the tests' local webhook receiver
        VDC_WEBHOOK_POLL_SECONDS="0.1",
        VDC_WEBHOOK_RETRY_BASE_SECONDS="1",
        PYTHONUNBUFFERED="1",
    )
    env.update(overrides)
    return env


@pytest.fixture
def postgres_database(request: pytest.FixtureRequest) -> Iterator[str]:
    """A migrated PostgreSQL database of this test's own, dropped afterwards."""
    needs("PostgreSQL", POSTGRES_URL)
    name, url = clone_template(request.getfixturevalue("postgres_template"))
    try:
        yield url
    finally:
        asyncio.run(_drop_database(name))


@pytest.fixture
def redis_url() -> str:
    return needs("Redis", REDIS_URL)


async def open_database(url: str) -> None:
    """Tortoise in the test process on the processes' database (to arrange and to check)."""
    EXECUTOR_CACHE.clear()
    await Tortoise.init(config=tortoise_config(url))


class RedisServer:
    """A redis-server of the test's own on a free port (so it can be stopped and started)."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.directory = directory
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("the outage test needs redis-server on PATH")
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                import socket

                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.05)
        raise AssertionError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)


@pytest.fixture
async def cluster_factory(tmp_path: Path) -> AsyncIterator[Any]:
    """Makes the test's cluster; every process is killed at teardown, even after a failure."""
    made: list[Cluster] = []

    def make(database_url: str, broker_url: str, **overrides: str) -> Cluster:
        cluster = Cluster(
            base_env(database_url, broker_url, tmp_path / "state", **overrides), tmp_path
        )
        made.append(cluster)
        return cluster

    try:
        yield make
    finally:
        for cluster in made:
            cluster.kill_all()
        await Tortoise.close_connections()
