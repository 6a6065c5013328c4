"""Four-eyes approval across two real server processes sharing one database: a request made
at one is approved at the other and runs once; two people approving at once, one at each
process, run it once between them."""

from __future__ import annotations

import asyncio
import os

import httpx
import pytest

from tests.backup_support import connected_customer, gid, make_policy
from tests.cluster_support import cross_process_broker
from tests.factories import make_provider, make_user, token_for
from tests.test_approvals import APPROVALS, APPROVE, DELETE, SETTINGS
from tests.test_cli import free_port, start, stop, wait_until_healthy
from vdc_graph.db.models import AuditRecord, BackupPolicy
from vdc_graph.enums import Permission

BM = Permission.BACKUP_MANAGEMENT


@pytest.fixture
def servers(db, database_url, settings, tmp_path):
    """Two ``vdc-graph serve`` processes on the test's database, with its token secret and a
    broker that crosses processes (Redis: several processes refuse the in-memory one)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("VDC_")}
    env = {
        **clean,
        "VDC_DATABASE_URL": database_url,
        **cross_process_broker(),
        "VDC_STATE_DIR": str(tmp_path / "state"),
        "VDC_DEV_TOKEN_SECRET": settings.development_secret(),
        "VDC_ALARM_CHECK_SECONDS": "0",
        "VDC_SCHEDULER_INTERVAL_SECONDS": "3600",
    }
    ports = [free_port(), free_port()]
    processes = [start(env, "serve", "--port", str(p)) for p in ports]
    try:
        for port, process in zip(ports, processes, strict=True):
            wait_until_healthy(port, process)
        yield [f"http://127.0.0.1:{p}" for p in ports]
    finally:
        for process in processes:  # every one, even when another failed to start
            # The servers' logs, shown when the test fails.
            print(stop(process) if process.poll() is None else process.stderr.read())


async def call(base: str, query: str, variables: dict, token: str) -> dict:
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        response = await http.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {token}"},
        )
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


async def people(settings):
    provider = await make_provider()
    customer = await connected_customer(provider)
    policy = await make_policy(customer)
    admin = token_for(settings, await make_user(provider, [Permission.SITE_SETTINGS, BM]))
    requester = token_for(settings, await make_user(provider, [BM]))
    approvers = [token_for(settings, await make_user(provider, [BM])) for _ in range(2)]
    return policy, admin, requester, approvers


async def request(base, policy, admin, requester):
    await call(base, SETTINGS, {"input": {"enabled": True}}, admin)
    policy_id = gid("BackupPolicy", policy.id)
    held = await call(base, DELETE, {"input": {"id": policy_id}}, requester)
    return held["backupPolicyDelete"]["approval"]


async def test_a_request_at_one_process_approved_at_the_other_runs_once(servers, settings):
    first, second = servers
    policy, admin, requester, approvers = await people(settings)
    approval = await request(first, policy, admin, requester)
    listed = await call(second, APPROVALS, {"states": ["PENDING"]}, approvers[0])
    assert [a["id"] for a in listed["approvals"]["nodes"]] == [approval["id"]]
    decided = await call(second, APPROVE, {"input": {"id": approval["id"]}}, approvers[0])
    assert decided["approvalApprove"]["decided"]["state"] == "APPROVED"
    assert not await BackupPolicy.exists(id=policy.id)
    again = await call(first, APPROVE, {"input": {"id": approval["id"]}}, approvers[1])
    assert again["approvalApprove"]["userErrors"][0]["code"] == "INVALID_STATE"
    deletions = AuditRecord.filter(action="backupPolicyDelete", target_type="BackupPolicy")
    assert await deletions.count() == 1


async def test_two_approvers_at_once_at_two_processes_run_it_once(servers, settings, database_url):
    if database_url.startswith("sqlite"):
        pytest.skip("several server processes share PostgreSQL; SQLite serves one process")
    policy, admin, requester, approvers = await people(settings)
    approval = await request(servers[0], policy, admin, requester)
    answers = await asyncio.gather(
        *(
            call(base, APPROVE, {"input": {"id": approval["id"]}}, token)
            for base, token in zip(servers, approvers, strict=True)
        )
    )
    outcomes = sorted(
        (a["approvalApprove"]["decided"] or {}).get("state")
        or a["approvalApprove"]["userErrors"][0]["code"]
        for a in answers
    )
    assert outcomes == ["APPROVED", "INVALID_STATE"]
    assert not await BackupPolicy.exists(id=policy.id)
    deletions = AuditRecord.filter(action="backupPolicyDelete", target_type="BackupPolicy")
    assert await deletions.count() == 1
