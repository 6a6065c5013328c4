"""Several server processes as one service: two real ``vdc-graph serve`` processes (two
"hosts") sharing PostgreSQL and a broker (Redis, or PostgreSQL LISTEN/NOTIFY), and two sharing
one SQLite file. Nothing is lost, nothing is done twice."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from tortoise import Tortoise
from websockets.exceptions import ConnectionClosed

from tests.backup_support import connected_customer, gid, make_policy, until
from tests.cluster_support import (
    REDIS_URL,
    RedisServer,
    cluster_factory,  # noqa: F401  (a fixture)
    needs,
    open_database,
    postgres_database,  # noqa: F401  (a fixture)
    redis_url,  # noqa: F401  (a fixture)
)
from tests.factories import make_provider, make_user, token_for
from tests.smtp_server import SmtpServer
from tests.test_session_live import (
    SESSION_LOG,
    Socket,
    queued_session,
    sequences,
    start_policy,
    stored_sequences,
)
from tests.webhook_receiver import WebhookReceiver
from vdc_graph import clock
from vdc_graph.db.models import BackupPolicy, BackupSession, ClusterLease, Customer, Webhook
from vdc_graph.db.transactions import atomic
from vdc_graph.enums import OutboxKind, Permission, WebhookEvent
from vdc_graph.notify.outbox import enqueue
from vdc_graph.notify.webhooks import emit


async def backup_manager(cluster):
    provider = await make_provider()
    customer = await connected_customer(provider)
    policy = await make_policy(customer)
    token = token_for(cluster.settings, await make_user(provider, [Permission.BACKUP_MANAGEMENT]))
    return provider, customer, policy, token


def owner_pid(session: BackupSession) -> int:
    return int(session.owner.split(":")[1])


def log_of(payloads: list[dict]) -> list[dict]:
    return [r for p in payloads for r in p["data"]["sessionLog"]["records"]]


async def session_on_one(cluster, database: str):
    """Two processes; a session started through the first: (one, two, session, token)."""
    one, two = cluster.add(), cluster.add()
    await open_database(database)
    _, _, policy, token = await backup_manager(cluster)
    await start_policy(one, token, policy.id)
    return one, two, await queued_session(policy), token


async def read_records(socket, payloads: list[dict], count: int) -> None:
    """Receive ``next`` payloads until ``count`` records arrived in all."""
    while len(log_of(payloads)) < count:
        message = await socket.receive()
        assert message["type"] == "next", message
        payloads.append(message["payload"])


@pytest.fixture(params=["redis", "postgres"])
def broker_url(request, postgres_database) -> str:  # noqa: F811
    if request.param == "redis":
        return needs("Redis", REDIS_URL)
    return postgres_database  # LISTEN/NOTIFY on the same PostgreSQL


async def test_a_session_started_on_one_process_streams_to_a_subscriber_on_the_other(
    postgres_database,  # noqa: F811
    broker_url,
    cluster_factory,  # noqa: F811
):
    cluster = cluster_factory(postgres_database, broker_url, VDC_ENGINE_STEP_SECONDS="0.1")
    one, two, session, token = await session_on_one(cluster, postgres_database)
    async with Socket(two.ws_url, token) as socket:
        await socket.subscribe("1", SESSION_LOG, {"id": gid("BackupSession", session.id)})
        payloads = await socket.until_complete("1")

    stored = await stored_sequences(session.id)
    assert sequences(payloads) == stored == list(range(1, len(stored) + 1)), cluster.logs()
    assert len(payloads) > 3  # live batches from the other process, not one replay
    assert payloads[-1]["data"]["sessionLog"]["session"]["status"] == "SUCCESS"
    assert owner_pid(await BackupSession.get(id=session.id)) == one.pid


async def test_a_large_message_crosses_the_postgres_broker_whole(postgres_database):  # noqa: F811
    """NOTIFY carries 8000 bytes at most: a larger message arrives in parts, joined."""
    from vdc_graph.events.postgres import PART_BYTES, PostgresBroker

    publisher = PostgresBroker(postgres_database, "big")
    receiver = PostgresBroker(postgres_database, "big")
    await receiver.start()
    try:
        await until(lambda: _connected(receiver))
        message = {"records": [{"message": "x" * 1000, "seq": i} for i in range(40)]}
        assert len(str(message)) > 4 * PART_BYTES
        async with receiver.subscribe("topic") as subscription:
            await publisher.publish("topic", message)
            await publisher.publish("topic", {"after": True})
            received = aiter(subscription)
            assert await asyncio.wait_for(anext(received), 10) == message
            assert await asyncio.wait_for(anext(received), 10) == {"after": True}
    finally:
        await receiver.close()
        await publisher.close()


async def _connected(broker) -> bool:
    return broker.state() == "connected"


async def test_kill_9_of_the_owner_the_other_process_takes_the_session_over(
    postgres_database,  # noqa: F811
    redis_url,  # noqa: F811
    cluster_factory,  # noqa: F811
):
    lease = 5.0
    cluster = cluster_factory(
        postgres_database, redis_url, VDC_ENGINE_STEP_SECONDS="0.4", VDC_LEASE_SECONDS=str(lease)
    )
    one, two, session, token = await session_on_one(cluster, postgres_database)
    variables = {"id": gid("BackupSession", session.id)}

    async def watch_on_two() -> list[dict]:
        async with Socket(two.ws_url, token) as socket:
            await socket.subscribe("b", SESSION_LOG, variables)
            return await socket.until_complete("b")

    watcher = asyncio.create_task(watch_on_two())
    before: list[dict] = []
    async with Socket(one.ws_url, token) as socket:  # a subscriber on the process to be killed
        await socket.subscribe("a", SESSION_LOG, variables)
        await read_records(socket, before, 5)
        cursor = before[-1]["data"]["sessionLog"]["cursor"]
        one.kill()
        killed_at = time.monotonic()
        with pytest.raises((ConnectionClosed, TimeoutError)):
            while True:
                before.append((await socket.receive(timeout=5))["payload"])
    # It reconnects, to the other process, from its cursor.
    async with Socket(two.ws_url, token) as socket:
        await socket.subscribe("a", SESSION_LOG, {**variables, "after": cursor})
        after = await socket.until_complete("a")
    taken_over_in = time.monotonic() - killed_at
    whole = await asyncio.wait_for(watcher, 30)

    stored = await stored_sequences(session.id)
    assert stored == list(range(1, len(stored) + 1))
    assert sequences(whole) == stored, cluster.logs()
    assert sequences(before) + sequences(after) == stored
    ended = await BackupSession.get(id=session.id)
    assert ended.status == "FAILED" and owner_pid(ended) == two.pid
    last = log_of(whole)[-1]
    assert last["status"] == "FAILED" and "stopped renewing its claim" in last["message"]
    assert f":{one.pid}:" in last["message"]
    # Within the lease and one renewal round (plus the time to write and deliver it).
    assert taken_over_in < lease + lease / 3 + 3, taken_over_in


async def test_redis_stopped_and_started_mid_session_the_subscriber_misses_nothing(
    postgres_database,  # noqa: F811
    cluster_factory,  # noqa: F811
    tmp_path: Path,
):
    redis = RedisServer(tmp_path).start()
    try:
        cluster = cluster_factory(postgres_database, redis.url, VDC_ENGINE_STEP_SECONDS="0.25")
        _, two, session, token = await session_on_one(cluster, postgres_database)
        payloads: list[dict] = []
        async with Socket(two.ws_url, token) as socket:
            await socket.subscribe("1", SESSION_LOG, {"id": gid("BackupSession", session.id)})
            await read_records(socket, payloads, 3)
            redis.stop()

            async def unready() -> bool:
                answer = httpx.get(two.http_url + "/readyz", timeout=2)
                return answer.status_code == 503 and answer.json()["broker"] == "disconnected"

            await until(unready, 20)
            written = len(await stored_sequences(session.id))
            await until(lambda: _grew(session.id, written + 2), 20)  # records pass unheard
            redis.start()
            while True:
                message = await socket.receive(timeout=20)
                if message["type"] == "complete":
                    break
                payloads.append(message["payload"])
        stored = await stored_sequences(session.id)
        assert sequences(payloads) == stored == list(range(1, len(stored) + 1)), cluster.logs()
        assert payloads[-1]["data"]["sessionLog"]["session"]["status"] == "SUCCESS"
        assert httpx.get(two.http_url + "/readyz", timeout=2).json()["broker"] == "connected"
    finally:
        redis.stop()


async def _grew(session_id, count: int) -> bool:
    return len(await stored_sequences(session_id)) >= count


async def test_one_scheduler_starts_each_due_policy_once_and_a_new_leader_follows_a_kill(
    postgres_database,  # noqa: F811
    redis_url,  # noqa: F811
    cluster_factory,  # noqa: F811
):
    lease = 5.0
    cluster = cluster_factory(
        postgres_database,
        redis_url,
        VDC_SCHEDULER_INTERVAL_SECONDS="0.1",
        VDC_LEASE_SECONDS=str(lease),
        VDC_ENGINE_STEP_SECONDS="0.01",
    )
    one, two = cluster.add(), cluster.add()
    await open_database(postgres_database)
    provider = await make_provider()
    customer = await connected_customer(provider)
    due = clock.now() - timedelta(minutes=1)
    policies = [
        await make_policy(customer, name=f"Policy {i}", next_run=due, schedule_interval_hours=1)
        for i in range(6)
    ]

    async def sessions_per_policy() -> dict:
        return {p.id: await BackupSession.filter(policy_id=p.id).count() for p in policies}

    async def all_ended(count: int) -> bool:
        counts = await sessions_per_policy()
        active = await BackupSession.filter(status__in=("QUEUED", "RUNNING")).exists()
        return not active and all(c >= count for c in counts.values())

    await until(lambda: all_ended(1), 30)
    await asyncio.sleep(2)  # an observation window of some twenty scheduler ticks
    assert set((await sessions_per_policy()).values()) == {1}
    leader = cluster.by_pid(int((await ClusterLease.get(name="scheduler")).holder.split(":")[1]))
    sessions = await BackupSession.all()
    assert {owner_pid(s) for s in sessions} == {leader.pid}, [  # started where they were queued
        (s.owner, s.created_at, s.policy_name) for s in sessions
    ] + [cluster.logs()]

    leader.kill()
    survivor = two if leader is one else one
    await BackupPolicy.filter(id__in=[p.id for p in policies]).update(
        next_run=clock.now() - timedelta(seconds=1)
    )
    killed_at = time.monotonic()
    await until(lambda: all_ended(2), 30)
    assert time.monotonic() - killed_at < lease + 10
    await asyncio.sleep(1)
    assert set((await sessions_per_policy()).values()) == {2}
    holder = (await ClusterLease.get(name="scheduler")).holder
    assert int(holder.split(":")[1]) == survivor.pid


async def test_each_outbox_message_and_webhook_delivery_is_sent_once_with_two_draining(
    postgres_database,  # noqa: F811
    redis_url,  # noqa: F811
    cluster_factory,  # noqa: F811
):
    smtp = SmtpServer().start()
    try:
        with WebhookReceiver() as receiver:
            receiver.secret = "whsec_cluster"
            cluster = cluster_factory(
                postgres_database,
                redis_url,
                VDC_SMTP_HOST="127.0.0.1",
                VDC_SMTP_PORT=str(smtp.port),
                VDC_SMTP_TLS="none",
            )
            cluster.add(), cluster.add()
            await open_database(postgres_database)
            provider = await make_provider()
            await Webhook.create(
                provider=provider,
                url=receiver.url,
                event_types=[WebhookEvent.USAGE_REPORT_STATUS.value],
                secret=receiver.secret,
            )
            count = 40
            async with atomic():  # all due at once, while both processes poll
                for i in range(count):
                    await enqueue(
                        OutboxKind.EMAIL, f"user{i}@example.com", subject=f"Message {i}", body="Hi"
                    )
                    await emit(provider.id, WebhookEvent.USAGE_REPORT_STATUS, {"n": i})

            async def all_arrived() -> bool:
                return len(smtp.messages) >= count and len(receiver.received) >= count

            await until(all_arrived, 60)
            await asyncio.sleep(2)  # an observation window: a second send would show now
            subjects = sorted(m["Subject"] for m in smtp.messages)
            assert subjects == sorted(f"Message {i}" for i in range(count)), cluster.logs()
            ids = [r.headers["vdc-delivery-id"] for r in receiver.received]
            assert len(ids) == len(set(ids)) == count
            assert sorted(r.json["data"]["n"] for r in receiver.received) == list(range(count))
            assert all(r.signature_valid for r in receiver.received)
    finally:
        smtp.stop()


REGISTER = """mutation($input: CustomerRegisterInput!) { customerRegister(input: $input) {
  created customer { id } userErrors { field message code } } }"""


async def test_fifty_concurrent_writers_across_two_processes_on_sqlite(
    sqlite_template,
    cluster_factory,  # noqa: F811
    tmp_path: Path,
):
    database = tmp_path / "shared.db"
    shutil.copyfile(sqlite_template, database)
    url = f"sqlite://{database}"
    cluster = cluster_factory(url, needs("Redis", REDIS_URL))
    servers = [cluster.add(), cluster.add()]
    await open_database(url)
    try:
        provider = await make_provider()
        token = token_for(
            cluster.settings, await make_user(provider, [Permission.CUSTOMER_MANAGEMENT])
        )

        async def register(http: httpx.AsyncClient, i: int) -> dict:
            variables = {
                "input": {
                    "displayName": f"Writer {i}",
                    "externalId": f"W-{i}",
                    "sourceType": "DIRECT",
                }
            }
            response = await http.post(
                servers[i % 2].http_url + "/graphql",
                json={"query": REGISTER, "variables": variables},
                headers={"Authorization": f"Bearer {token}"},
            )
            return response.json()

        async with httpx.AsyncClient(timeout=60) as http:
            answers = await asyncio.gather(*(register(http, i) for i in range(50)))
        errors = [
            a for a in answers if a.get("errors") or a["data"]["customerRegister"]["userErrors"]
        ]
        assert errors == [], errors[:3]
        assert all(a["data"]["customerRegister"]["created"] for a in answers)
        names = await Customer.filter(provider=provider).values_list("display_name", flat=True)
        assert sorted(names) == sorted(f"Writer {i}" for i in range(50))  # none lost
        assert "database is locked" not in cluster.logs()
    finally:
        # Closed here, in the test's context: the SQLite connection's thread would outlive
        # the run (a fixture's teardown runs in another context and cannot see it).
        await Tortoise.close_connections()


async def test_a_second_process_with_the_in_memory_broker_is_refused(
    sqlite_template,
    cluster_factory,  # noqa: F811
    tmp_path: Path,
):
    database = tmp_path / "shared.db"
    shutil.copyfile(sqlite_template, database)
    cluster = cluster_factory(f"sqlite://{database}", "memory://")
    cluster.add()
    second = cluster.add(wait=False)
    assert second.process.wait(timeout=60) != 0
    assert "VDC_BROKER_URL" in second.log() and "in-memory events broker" in second.log()
    refused = subprocess.run(
        [sys.executable, "-m", "vdc_graph", "serve", "--workers", "2", "--port", "0"],
        env=cluster.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 2 and "VDC_BROKER_URL" in refused.stderr


async def test_a_graceful_stop_ends_its_sessions_at_once_with_a_reason(
    postgres_database,  # noqa: F811
    redis_url,  # noqa: F811
    cluster_factory,  # noqa: F811
):
    """A rolling restart: the stopping process ends what it runs (nothing waits for a lease
    to lapse) and a subscriber on the other process sees the whole story."""
    cluster = cluster_factory(
        postgres_database, redis_url, VDC_ENGINE_STEP_SECONDS="0.4", VDC_LEASE_SECONDS="60"
    )
    one, two, session, token = await session_on_one(cluster, postgres_database)
    payloads: list[dict] = []
    async with Socket(two.ws_url, token) as socket:
        await socket.subscribe("1", SESSION_LOG, {"id": gid("BackupSession", session.id)})
        await read_records(socket, payloads, 4)
        one.stop()
        payloads += await socket.until_complete("1")
    stored = await stored_sequences(session.id)
    assert sequences(payloads) == stored == list(range(1, len(stored) + 1))
    last = log_of(payloads)[-1]
    assert last["status"] == "FAILED" and "shut down" in last["message"], cluster.logs()
    assert await ClusterLease.filter(holder__contains=f":{one.pid}:").count() == 0


async def test_the_rate_limit_holds_across_the_two_processes(
    postgres_database,  # noqa: F811
    broker_url,
    cluster_factory,  # noqa: F811
):
    """Redis keeps the budget with a Redis broker, the database with a PostgreSQL one."""
    cluster = cluster_factory(postgres_database, broker_url, VDC_RATE_LIMIT_POINTS_PER_HOUR="12")
    servers = [cluster.add(), cluster.add()]
    await open_database(postgres_database)
    _, _, _, token = await backup_manager(cluster)
    answers = [servers[i % 2].graphql("{ viewer { __typename } }", None, token) for i in range(14)]
    spent = [a["extensions"]["rateLimit"] for a in answers]
    assert [s["remaining"] for s in spent[:12]] == list(range(11, -1, -1))  # one budget
    assert all(s["cost"] == 1 and s["limit"] == 12 for s in spent)
    for refused in answers[12:]:
        assert refused["errors"][0]["extensions"]["code"] == "RATE_LIMITED", refused
        assert "data" not in refused or refused["data"] is None
