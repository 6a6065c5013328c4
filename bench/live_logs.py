"""Live logs over WebSocket (``sessionLog``), against the real server (one uvicorn process):

1. one subscriber of a session run at full speed (``VDC_ENGINE_STEP_SECONDS=0``): records a
   second the engine wrote (from the times of the objects' records) and the subscriber received
   (from their arrivals), target >= 20,000; the medians of ``--rounds`` runs of the policy;
2. 1,000 subscribers, 100 on each of 10 sessions run at the product's pace: every subscriber
   gets every record; the p99 lag from a record's time to its delivery (target < 1 s; records
   written while the subscriber was live, not those its replay caught up on) and the server's
   peak RSS (target < 300 MB).

    .venv/bin/python -m bench.live_logs [--backend sqlite|postgres] [--users 10000]
        [--watchers 100] [--sessions 10] [--pace 0.5] [--rounds 3]

The database (``bench/.data/live-logs.db`` or ``vdc_bench_live_logs``) is built afresh each run:
one provider, one connected customer with a tenant of ``--users`` users for part 1, and 10
customers with small tenants for part 2. Client and server run on separate cores.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import threading
import time
from datetime import UTC, datetime

import httpx
import websockets

from bench.harness import (
    DATA,
    LOAD_CPU,
    Database,
    create_admin,
    postgres_url,
    server,
    token,
    wait_until_idle,
)

ADMIN = "admin@live.example"
SUBSCRIBE = """subscription($id: ID!) { sessionLog(sessionId: $id) {
  cursor records { sequence at status message } session { status progress } } }"""
START = """mutation($id: ID!) { backupPolicyStart(input: {id: $id}) {
  session { id } userErrors { code message } } }"""


def _database(backend: str) -> Database:
    DATA.mkdir(parents=True, exist_ok=True)
    if backend == "sqlite":
        path = DATA / "live-logs.db"
        path.unlink(missing_ok=True)
        url = f"sqlite://{path}"
    else:
        url = postgres_url("vdc_bench_live_logs", fresh=True)
    return Database(backend, url, DATA / "state")


async def _fill(db: Database, users: int, sessions: int) -> list[str]:
    """The policies to run: the large tenant's first, then one per small tenant."""
    from strawberry import relay
    from tortoise import Tortoise

    from vdc_graph import clock
    from vdc_graph.db.config import migrate, tortoise_config
    from vdc_graph.db.models import (
        BackupPolicy,
        Customer,
        Onboarding,
        SimulatedTenant,
    )
    from vdc_graph.enums import (
        BackupType,
        ContractType,
        OnboardingStep,
        PolicyStatus,
        SourceType,
    )

    config = tortoise_config(db.url)
    await migrate(config)
    await Tortoise.init(config=config)
    try:
        provider = await create_admin("Live", "PRA-2", ADMIN)
        policies = []
        for n, size in enumerate([users] + [40] * sessions):
            tenant = f"tenant-{n}"
            customer = await Customer.create(
                provider=provider,
                display_name=f"Customer {n}",
                m365_account=f"customer{n}.onmicrosoft.com",
                contract_type=ContractType.ANNUAL,
                source_type=SourceType.VCSP_PULSE,
                microsoft_tenant_id=tenant,
            )
            await SimulatedTenant.create(tenant_id=tenant, user_count=size)
            await Onboarding.create(
                customer=customer, step=OnboardingStep.FINISHED, tenant_connected_at=clock.now()
            )
            policy = await BackupPolicy.create(
                provider_id=provider.id,
                customer=customer,
                name="Entire organization",
                name_key="entire organization",
                backup_type=BackupType.ENTIRE_ORGANIZATION,
                services=["EXCHANGE", "ONEDRIVE_SHAREPOINT", "TEAMS"],
                last_status=PolicyStatus.NEVER_RUN,
            )
            policies.append(str(relay.GlobalID("BackupPolicy", str(policy.id))))
        return policies
    finally:
        await Tortoise.close_connections()


def _start(url: str, bearer: str, policy: str) -> str:
    response = httpx.post(
        f"{url}/graphql",
        json={"query": START, "variables": {"id": policy}},
        headers={"Authorization": f"Bearer {bearer}"},
        timeout=60,
    ).json()
    started = response["data"]["backupPolicyStart"]
    assert not started["userErrors"], started
    return started["session"]["id"]


class Watcher:
    """One subscriber: every record it received, with when it arrived."""

    def __init__(self) -> None:
        self.sequences: list[int] = []
        self.written: list[float] = []  # each record's time, as the server wrote it
        self.arrived: list[float] = []  # when each record arrived here
        self.lags: list[float] = []

    async def watch(self, ws_url: str, bearer: str, session: str, ready: asyncio.Event) -> None:
        async with websockets.connect(
            ws_url, subprotocols=["graphql-transport-ws"], max_size=None, open_timeout=120
        ) as ws:
            auth = {"authorization": f"Bearer {bearer}"}
            await ws.send(json.dumps({"type": "connection_init", "payload": auth}))
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            variables = {"id": session}
            payload = {"query": SUBSCRIBE, "variables": variables}
            await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
            ready.set()
            live_since = None  # once the first event (the replay) is in, the rest is live
            async for raw in ws:
                message = json.loads(raw)
                if message["type"] == "complete":
                    return
                assert message["type"] == "next", message
                now = time.time()
                records = message["payload"]["data"]["sessionLog"]["records"]
                for record in records:
                    self.sequences.append(record["sequence"])
                    at = datetime.fromisoformat(record["at"]).replace(tzinfo=UTC).timestamp()
                    self.written.append(at)
                    self.arrived.append(now)
                    if live_since is not None and at >= live_since:
                        self.lags.append(now - at)
                live_since = live_since or now


async def _session_times(db: Database, session_ids: list[str]) -> list[tuple[int, float]]:
    """(records, seconds from start to end) of each session, as the database has them."""
    from strawberry import relay
    from tortoise import Tortoise

    from vdc_graph.db.config import tortoise_config
    from vdc_graph.db.models import BackupSession

    await Tortoise.init(config=tortoise_config(db.url))
    try:
        found = []
        for gid in session_ids:
            row = await BackupSession.get(id=relay.GlobalID.from_id(gid).node_id)
            found.append((row.last_seq, (row.ended_at - row.started_at).total_seconds()))
        return found
    finally:
        await Tortoise.close_connections()


def _peak_rss(running, stop: threading.Event, peak: list[float]) -> None:
    while not stop.is_set():
        peak[0] = max(peak[0], running.rss_mb())
        time.sleep(0.2)


async def _one_run(db: Database, url: str, bearer: str, policy: str) -> tuple[float, float]:
    """One session watched by one subscriber: (records/s written, records/s received)."""
    started = time.time()
    session = _start(url, bearer, policy)
    watcher = Watcher()
    ws_url = url.replace("http", "ws", 1) + "/graphql"
    await watcher.watch(ws_url, bearer, session, asyncio.Event())
    ((records, seconds),) = await _session_times(db, [session])
    assert watcher.sequences == list(range(1, records + 1)), "records missing or out of order"
    # The objects' records: from the first written after the opening lines to the last one
    # before the closing lines (the session's start and end do other work: the directory, the
    # licences).
    first, last = 4, records - 3
    count = last - first
    written = count / (watcher.written[last - 1] - watcher.written[first - 1])
    received = count / (watcher.arrived[last - 1] - watcher.arrived[first - 1])
    whole = records / (watcher.arrived[-1] - started)
    print(
        f"    {records} records in {seconds:.2f} s: written {written:.0f}/s, received "
        f"{received:.0f}/s, {whole:.0f}/s from the start request to the last record"
    )
    return written, received


def one_subscriber(db: Database, running, bearer: str, policy: str, rounds: int) -> None:
    """``rounds`` runs of the same policy one after the other, each once the server is idle
    (``server`` waited for the first); the medians (a shared machine's load varies from one
    second to the next)."""
    results = []
    for _ in range(rounds):
        if results:
            wait_until_idle(running)  # the last session's end may still be at work
        results.append(asyncio.run(_one_run(db, running.url, bearer, policy)))
    written = statistics.median(w for w, _ in results)
    received = statistics.median(r for _, r in results)
    print(f"  one subscriber, median of {rounds} sessions:")
    print(f"  records/s the engine wrote {written:14.0f}  (target >= 20,000)")
    print(f"  records/s the subscriber received {received:7.0f}  (target >= 20,000)")


async def many_subscribers(
    db: Database, url: str, bearer: str, policies: list[str], watchers: int, running
) -> None:
    ws_url = url.replace("http", "ws", 1) + "/graphql"
    sessions = [_start(url, bearer, policy) for policy in policies]
    stop, peak = threading.Event(), [running.rss_mb()]
    sampler = threading.Thread(target=_peak_rss, args=(running, stop, peak), daemon=True)
    sampler.start()
    everyone: list[tuple[str, Watcher]] = []
    tasks = []
    for session in sessions:
        for _ in range(watchers):
            watcher, ready = Watcher(), asyncio.Event()
            everyone.append((session, watcher))
            tasks.append(asyncio.ensure_future(watcher.watch(ws_url, bearer, session, ready)))
    await asyncio.gather(*tasks)
    stop.set()
    totals = dict(zip(sessions, [r for r, _ in await _session_times(db, sessions)], strict=True))
    complete = all(w.sequences == list(range(1, totals[s] + 1)) for s, w in everyone)
    lags = sorted(lag for _, w in everyone for lag in w.lags)
    p50 = statistics.median(lags)
    p99 = lags[int(len(lags) * 0.99)]
    print(f"  {len(everyone)} subscribers on {len(sessions)} sessions: {len(lags)} deliveries")
    print(f"  every subscriber got every record, in order: {complete}")
    print(f"  lag p50 {p50:.3f} s, p99 {p99:.3f} s  (target p99 < 1 s)")
    print(f"  server peak RSS {peak[0]:.0f} MB  (target < 300 MB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--users", type=int, default=10000)
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--watchers", type=int, default=100)
    parser.add_argument("--pace", type=float, default=0.5)
    parser.add_argument("--rounds", type=int, default=3, help="sessions of part 1")
    args = parser.parse_args()
    if (os.cpu_count() or 1) >= 2:
        os.sched_setaffinity(0, {int(LOAD_CPU)})  # the clients, beside the server's core
    db = _database(args.backend)
    policies = asyncio.run(_fill(db, args.users, args.sessions))
    bearer = token(db, ADMIN)
    print(f"{db.backend}: part 1, a tenant of {args.users} users at full speed")
    fast = {
        "VDC_ENGINE_STEP_SECONDS": "0",
        "VDC_ENGINE_WARNING_RATE": "0.1",
        "VDC_ENGINE_FAILURE_RATE": "0.03",
    }
    with server(db, "graphql", fast) as running:
        one_subscriber(db, running, bearer, policies[0], args.rounds)
    print(f"{db.backend}: part 2, engine step {args.pace} s")
    with server(db, "graphql", {"VDC_ENGINE_STEP_SECONDS": str(args.pace)}) as running:
        asyncio.run(many_subscribers(db, running.url, bearer, policies[1:], args.watchers, running))


if __name__ == "__main__":
    main()
