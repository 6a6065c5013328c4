"""Benchmark of several server processes on PostgreSQL and Redis (figures, not assertions).

Run from the project root with PostgreSQL and Redis reachable:

    VDC_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test \\
    VDC_TEST_REDIS_URL=redis://127.0.0.1:6379/0 .venv/bin/python bench/cluster.py

It creates a temporary PostgreSQL database next to that one (dropped afterwards), starts real
``vdc-graph serve`` processes and prints:
- live-log lag: 100 ``sessionLog`` subscribers on process 2 follow a session run by process 1;
  for each live record, the time from the record's commit (its ``at``) to its arrival at a
  subscriber, p50/p99, with the Redis broker and with the PostgreSQL broker;
- takeover time: the process running a session is killed (SIGKILL); seconds until the other
  process has ended it, for the lease given;
- customers-page throughput: requests per second of a 20-customer page from 16 concurrent
  clients against 1 process and against 2 (round robin), alternating rounds.
The load generator runs on the same machine as the servers and the databases.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path

import asyncpg
import httpx
import websockets
from tortoise import Tortoise

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.backup_support import connected_customer, gid, make_policy  # noqa: E402
from tests.cluster_support import SECRET, ServerProcess, base_env, open_database  # noqa: E402
from tests.factories import make_provider, make_user, token_for  # noqa: E402
from vdc_graph.db.config import migrate, tortoise_config  # noqa: E402
from vdc_graph.db.models import BackupSession  # noqa: E402
from vdc_graph.enums import BackupType, Permission  # noqa: E402
from vdc_graph.settings import Settings  # noqa: E402

SUBSCRIBERS = 100
PACE = os.environ.get("VDC_ENGINE_STEP_SECONDS", "0.5")  # the engine's default pace
OBJECTS = 30
LOG = """subscription($id: ID!) { sessionLog(sessionId: $id) { records { sequence at } } }"""
START = "mutation($id: ID!) { backupPolicyStart(input: {id: $id}) { userErrors { code } } }"
PAGE = "{ customers(first: 20) { totalCount nodes { id displayName contractType } } }"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def subscriber(url: str, token: str, session_id: str, lags: list[float]) -> None:
    async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as ws:
        await ws.send(
            json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
        )
        await ws.recv()
        await ws.send(
            json.dumps(
                {
                    "id": "1",
                    "type": "subscribe",
                    "payload": {"query": LOG, "variables": {"id": session_id}},
                }
            )
        )
        first = True
        while True:
            message = json.loads(await asyncio.wait_for(ws.recv(), 60))
            if message["type"] != "next":
                return
            arrived = time.time()
            if not first:  # the first event replays what was written before subscribing
                for record in message["payload"]["data"]["sessionLog"]["records"]:
                    lags.append(arrived - datetime.fromisoformat(record["at"]).timestamp())
            first = False


async def live_log_lag(env: dict[str, str], logs: Path, token: str, policy_id) -> list[float]:
    one = ServerProcess(env, logs, "lag1").start()
    two = ServerProcess(env, logs, "lag2").start()
    try:
        async with httpx.AsyncClient(base_url=one.http_url, timeout=30) as http:
            await http.post(
                "/graphql",
                json={"query": START, "variables": {"id": gid("BackupPolicy", policy_id)}},
                headers={"Authorization": f"Bearer {token}"},
            )
        session = await BackupSession.filter(policy_id=policy_id).order_by("-created_at").first()
        lags: list[float] = []
        await asyncio.gather(
            *(
                subscriber(two.ws_url, token, gid("BackupSession", session.id), lags)
                for _ in range(SUBSCRIBERS)
            )
        )
        return lags
    finally:
        one.kill()
        two.kill()


async def takeover(env: dict[str, str], logs: Path, token: str, policy_id, lease: float) -> float:
    env = {**env, "VDC_LEASE_SECONDS": str(lease), "VDC_ENGINE_STEP_SECONDS": "1"}
    one = ServerProcess(env, logs, "owner").start()
    two = ServerProcess(env, logs, "taker").start()
    try:
        async with httpx.AsyncClient(base_url=one.http_url, timeout=30) as http:
            await http.post(
                "/graphql",
                json={"query": START, "variables": {"id": gid("BackupPolicy", policy_id)}},
                headers={"Authorization": f"Bearer {token}"},
            )
        session = await BackupSession.filter(policy_id=policy_id).order_by("-created_at").first()
        await until_status(session.id, lambda status: status == "RUNNING")
        one.kill()
        killed = time.monotonic()
        await until_status(session.id, lambda status: status != "RUNNING")
        return time.monotonic() - killed
    finally:
        one.kill()
        two.kill()


async def until_status(session_id, wanted) -> None:
    for _ in range(100_000):
        if wanted((await BackupSession.get(id=session_id)).status):
            return
        await asyncio.sleep(0.05)


async def throughput(urls: list[str], token: str, seconds: float = 8, clients: int = 16) -> float:
    done = 0
    deadline = time.monotonic() + seconds

    async def client(i: int) -> None:
        nonlocal done
        async with httpx.AsyncClient(
            timeout=30, headers={"Authorization": f"Bearer {token}"}
        ) as http:
            n = i
            while time.monotonic() < deadline:
                response = await http.post(urls[n % len(urls)] + "/graphql", json={"query": PAGE})
                assert "errors" not in response.json(), response.text
                done += 1
                n += 1

    await asyncio.gather(*(client(i) for i in range(clients)))
    return done / seconds


async def main() -> None:
    pg, redis = os.environ.get("VDC_TEST_POSTGRES_URL"), os.environ.get("VDC_TEST_REDIS_URL")
    if not pg or not redis:
        sys.exit("set VDC_TEST_POSTGRES_URL and VDC_TEST_REDIS_URL")
    name = f"vdc_bench_cluster_{uuid.uuid4().hex[:8]}"
    dsn = pg.replace("postgres://", "postgresql://", 1)
    admin = await asyncpg.connect(dsn)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = pg.rsplit("/", 1)[0] + f"/{name}"
    logs = Path(tempfile.mkdtemp(prefix="vdc-bench-"))
    try:
        await migrate(tortoise_config(url))
        await Tortoise.close_connections()
        await open_database(url)
        settings = Settings(dev_token_secret=SECRET, state_dir=logs / "state")
        provider = await make_provider()
        customer = await connected_customer(provider)
        objects = [
            {"type": "USER", "name": f"User {i}", "externalId": f"user{i}@contoso.example"}
            for i in range(OBJECTS)
        ]
        policy = await make_policy(
            customer, backup_type=BackupType.SELECTED_ITEMS, selected_objects=objects
        )
        user = await make_user(
            provider, [Permission.BACKUP_MANAGEMENT, Permission.CUSTOMER_MANAGEMENT]
        )
        token = token_for(settings, user)
        for i in range(2000):
            await make_customer_row(provider, i)

        step = {"VDC_ENGINE_STEP_SECONDS": PACE}
        print(
            f"live-log lag, {SUBSCRIBERS} subscribers on the other process, {OBJECTS} objects,"
            f" one every {PACE} s"
        )
        rounds = [("redis", redis), ("postgres", url)] * 2
        for (broker, broker_url), subscribers in itertools.product(rounds, (1, SUBSCRIBERS)):
            env = base_env(url, broker_url, logs, **step)
            lags = await live_log_lag(env, logs, token, policy.id, subscribers)
            p50, p99, top = (1000 * v for v in (pct(lags, 0.5), pct(lags, 0.99), max(lags)))
            print(f"  {broker:8} {subscribers:3} subscriber(s) samples {len(lags):5}", end="")
            print(f"  p50 {p50:7.1f} ms  p99 {p99:7.1f} ms  max {top:7.1f} ms", flush=True)

        print("takeover after kill -9 (seconds from the kill to the session ended elsewhere)")
        for lease in (3.0, 15.0):
            took = await takeover(base_env(url, redis, logs), logs, token, policy.id, lease)
            print(f"  lease {lease:4.0f} s: {took:5.2f} s")

        print("customers page (20 of 2000), 16 concurrent clients, 8 s per round")
        env = base_env(url, redis, logs, VDC_RATE_LIMIT_POINTS_PER_HOUR="100000000")
        servers = [
            ServerProcess(env, logs, "page1").start(),
            ServerProcess(env, logs, "page2").start(),
        ]
        try:
            rounds: dict[int, list[float]] = {1: [], 2: []}
            for count in (1, 2, 1, 2):
                rounds[count].append(await throughput([s.http_url for s in servers[:count]], token))
                print(f"  {count} process(es): {rounds[count][-1]:7.1f} req/s")
            single, double = statistics.mean(rounds[1]), statistics.mean(rounds[2])
            print(f"  mean: 1 process {single:.1f} req/s, 2 processes {double:.1f} req/s", end="")
            print(f", ratio {double / single:.2f}")
        finally:
            for server in servers:
                server.kill()
    finally:
        await Tortoise.close_connections()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def make_customer_row(provider, i: int) -> None:
    from tests.factories import make_customer

    await make_customer(provider, display_name=f"Customer {i:05}")


if __name__ == "__main__":
    asyncio.run(main())
