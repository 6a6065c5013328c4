"""Live operations across two real server processes sharing PostgreSQL and Redis: a caller
who loses its rights through one process is cut off on the other within a second, and
approval updates made through one process reach a subscriber on the other."""

from __future__ import annotations

import time

import pytest
from redis.asyncio import Redis
from websockets.exceptions import ConnectionClosed

from tests.backup_support import connected_customer, gid, make_policy, until
from tests.cluster_support import (
    cluster_factory,  # noqa: F401  (a fixture)
    open_database,
    postgres_database,  # noqa: F401  (a fixture)
    redis_url,  # noqa: F401  (a fixture)
)
from tests.factories import make_provider, make_user, token_for
from tests.test_approvals import APPROVAL_UPDATES, APPROVE, DELETE, SETTINGS
from tests.test_live_rights import (
    KEY_CREATE,
    KEY_REVOKE,
    ROLE_DELETE,
    UPDATES,
    USER_DELETE,
    mutate,
)
from tests.test_session_live import Socket
from vdc_graph.approvals.holding import updates_topic
from vdc_graph.db.models import BackupPolicy, Role
from vdc_graph.enums import Permission

BM = Permission.BACKUP_MANAGEMENT


def two_processes(cluster_factory, database: str, broker: str):  # noqa: F811
    # The backstop re-check is ten minutes away: only the broker's event can close in time.
    cluster = cluster_factory(database, broker, VDC_WS_RIGHTS_RECHECK_SECONDS="600")
    return cluster, cluster.add(), cluster.add()


async def _user_deleted(one, admin: str, watcher) -> dict:
    return await mutate(one, admin, USER_DELETE, {"input": {"id": gid("PortalUser", watcher.id)}})


async def _role_deleted(one, admin: str, watcher) -> dict:
    role = await Role.get(users__id=watcher.id)
    return await mutate(one, admin, ROLE_DELETE, {"input": {"id": gid("Role", role.id)}})


@pytest.mark.parametrize("change", ["user deleted", "role deleted", "key revoked"])
async def test_rights_taken_on_one_process_close_the_subscription_on_the_other(
    postgres_database,  # noqa: F811
    redis_url,  # noqa: F811
    cluster_factory,  # noqa: F811
    change: str,
):
    cluster, one, two = two_processes(cluster_factory, postgres_database, redis_url)
    await open_database(postgres_database)
    provider = await make_provider()
    admin = token_for(cluster.settings, await make_user(provider, [Permission.USER_MANAGEMENT]))
    watcher = await make_user(provider, [])  # MONITORING_ACCESS only, from its one role
    if change == "key revoked":
        key = await mutate(one, admin, KEY_CREATE, {"input": {"name": "CI", "permissions": []}})
        credential = key["secret"]
    else:
        credential = token_for(cluster.settings, watcher)

    async with Socket(two.ws_url, credential) as socket:  # acknowledged: its watch listens
        await socket.send({"id": "1", "type": "subscribe", "payload": UPDATES})
        if change == "user deleted":
            await _user_deleted(one, admin, watcher)
        elif change == "role deleted":
            await _role_deleted(one, admin, watcher)
        else:
            await mutate(one, admin, KEY_REVOKE, {"input": {"id": key["apiKey"]["id"]}})
        answered = time.monotonic()
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                message = await socket.receive(timeout=5)
                assert message["type"] not in ("next", "error"), message
        elapsed = time.monotonic() - answered
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403, cluster.logs()
    assert elapsed < 1.0, (elapsed, cluster.logs())


async def test_approval_updates_made_on_one_process_reach_a_subscriber_on_the_other(
    postgres_database,  # noqa: F811
    redis_url,  # noqa: F811
    cluster_factory,  # noqa: F811
):
    cluster, one, two = two_processes(cluster_factory, postgres_database, redis_url)
    await open_database(postgres_database)
    provider = await make_provider()
    policy = await make_policy(await connected_customer(provider), "Daily")
    admin, requester, approver = [
        token_for(cluster.settings, await make_user(provider, rights, email=f"{name}@p.example"))
        for name, rights in [
            ("admin", [Permission.SITE_SETTINGS, BM]),
            ("anna", [BM]),
            ("ben", [BM]),
        ]
    ]
    await mutate(one, admin, SETTINGS, {"input": {"enabled": True}})
    channel = f"{cluster.env['VDC_BROKER_PREFIX']}:{updates_topic(provider.id)}"
    redis = Redis.from_url(redis_url)
    try:
        async with Socket(two.ws_url, approver) as watcher:
            await watcher.subscribe("w", APPROVAL_UPDATES, {})

            async def two_listens() -> bool:  # the second process has subscribed in Redis
                return dict(await redis.pubsub_numsub(channel)).get(channel.encode(), 0) >= 1

            await until(two_listens, 30)
            held = await mutate(
                one, requester, DELETE, {"input": {"id": gid("BackupPolicy", policy.id)}}
            )
            approval_id = held["approval"]["id"]
            pending = await watcher.receive(timeout=10)
            await mutate(one, approver, APPROVE, {"input": {"id": approval_id}})
            approved = await watcher.receive(timeout=10)
    finally:
        await redis.aclose()
    seen = [m["payload"]["data"]["approvalUpdates"] for m in (pending, approved)]
    assert [(a["id"], a["state"], a["action"]) for a in seen] == [
        (approval_id, "PENDING", "backupPolicyDelete"),
        (approval_id, "APPROVED", "backupPolicyDelete"),
    ], cluster.logs()
    assert not await BackupPolicy.exists(id=policy.id)
