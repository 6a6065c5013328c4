"""Sessions: the simulator's runs, their logs, stop, recovery after a restart, the scheduler."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest

from tests.backup_support import (
    all_ended,
    connected_customer,
    ended,
    fast_settings,
    gid,
    make_policy,
    until,
)
from tests.factories import loaded_state, make_customer, make_provider, make_user, token_for
from vdc_graph import clock, licensing
from vdc_graph.background import backup_engine_job
from vdc_graph.db.models import BackupPolicy, BackupSession, SessionLogRecord
from vdc_graph.db.transactions import atomic
from vdc_graph.engine.runs import append, queue_session
from vdc_graph.engine.scheduler import Scheduler
from vdc_graph.enums import (
    BackupType,
    LogStatus,
    Permission,
    PolicyStatus,
    SessionStatus,
    SessionTrigger,
)
from vdc_graph.events import broker
from vdc_graph.events.sessions import SESSION_FINISHED, log_topic, record_from_snapshot

BM = Permission.BACKUP_MANAGEMENT


@pytest.fixture
def settings(tmp_path):
    return fast_settings(tmp_path)


async def run_policy(settings, policy) -> BackupSession:
    async with atomic():
        session = await queue_session(settings, policy, SessionTrigger.USER)
    return await ended(session.id)


async def messages(session) -> list[tuple[int, str, str]]:
    rows = await SessionLogRecord.filter(session_id=session.id).order_by("seq")
    return [(r.seq, r.status.value, r.message) for r in rows]


async def test_a_session_runs_with_a_log_like_the_products(db, settings):
    provider = await make_provider()
    customer = await connected_customer(provider, m365_account="contoso.onmicrosoft.com")
    policy = await make_policy(customer)
    session = await run_policy(settings, policy)
    assert session.status == SessionStatus.SUCCESS
    log = await messages(session)
    assert [seq for seq, _, _ in log] == list(range(1, len(log) + 1))
    assert session.last_seq == len(log)
    texts = [m for _, _, m in log]
    assert texts[0].startswith("Job started at: ")
    assert texts[1] == "Connecting to Microsoft 365 organization: contoso.onmicrosoft.com"
    found = int(texts[2].split()[1])
    assert texts[2] == f"Found {found} objects" and texts[3] == "Found 0 excluded objects"
    processing = [m for m in texts if m.startswith("Processing ")]
    assert len(processing) == found == session.processed_objects
    assert any(m.startswith("Processing user: ") and "@contoso.onmicrosoft.com" in m for m in texts)
    assert texts[-2].startswith("Transferred: ") and texts[-1].startswith("Job finished at: ")
    assert session.progress == 100 and session.transferred_bytes > 0
    assert session.started_at <= session.ended_at
    counts = session.service_counts
    assert counts["EXCHANGE"]["total"] == counts["EXCHANGE"]["success"] > 0
    assert set(counts) == {"EXCHANGE", "ONEDRIVE", "SHAREPOINT", "TEAMS"}


async def test_the_simulator_is_deterministic_for_a_seed(db, settings):
    runs = []
    for name in ("Provider A", "Provider B"):
        provider = await make_provider(name)
        customer = await connected_customer(
            provider, m365_account="fabrikam.onmicrosoft.com", microsoft_tenant_id="fabrikam"
        )
        policy = await make_policy(customer, "Daily")
        session = await run_policy(settings, policy)
        runs.append(
            [
                (status, text)
                for _, status, text in await messages(session)
                if not text.startswith(("Job started", "Job finished", "Transferred"))
            ]
        )
        # A tenant belongs to one existing customer: offboarded, it may be connected again.
        customer.deleted_at = clock.now()
        await customer.save(update_fields=["deleted_at"])
    assert runs[0] == runs[1]


async def test_warning_and_failure_rates_decide_the_outcome(db, tmp_path):
    provider = await make_provider()
    customer = await connected_customer(provider)
    warned = fast_settings(tmp_path, engine_warning_rate=1.0)
    session = await run_policy(warned, await make_policy(customer, "Warned"))
    assert session.status == SessionStatus.WARNING
    assert LogStatus.WARNING.value in {s for _, s, _ in await messages(session)}
    failing = fast_settings(tmp_path, engine_failure_rate=1.0)
    policy = await make_policy(customer, "Failing")
    session = await run_policy(failing, policy)
    assert session.status == SessionStatus.FAILED
    assert any(s == "FAILED" and "failed" in m for _, s, m in await messages(session))
    assert (await BackupPolicy.get(id=policy.id)).last_status == PolicyStatus.FAILED


async def test_selected_items_and_exclusions_are_what_is_processed(db, settings):
    from vdc_graph.identity import tenant_directory

    provider = await make_provider()
    customer = await connected_customer(provider, m365_account="contoso.onmicrosoft.com")
    ceo, cfo = (await tenant_directory(settings, customer)).users[:2]
    policy = await make_policy(
        customer,
        "Execs",
        backup_type=BackupType.SELECTED_ITEMS,
        services=["EXCHANGE"],
        selected_objects=[
            {"type": "USER", "externalId": ceo.external_id, "name": ceo.name},
            {"type": "USER", "externalId": cfo.external_id, "name": cfo.name},
            {"type": "USER", "externalId": "gone@contoso.com", "name": "Left Company"},
        ],
        excluded_objects=[{"type": "USER", "externalId": cfo.external_id, "name": cfo.name}],
    )
    session = await run_policy(settings, policy)
    texts = [m for _, _, m in await messages(session)]
    assert "Found 1 objects" in texts and "Found 1 excluded objects" in texts
    assert f"Processing user: {ceo.name} ({ceo.external_id})" in texts
    assert not any(cfo.external_id in m for m in texts)
    # A selected object the tenant no longer has is a warning, not a processed object.
    assert "Left Company was not found in the organization and is skipped" in texts
    assert session.status == SessionStatus.WARNING
    assert session.service_counts == {
        "EXCHANGE": {"total": 1, "success": 1, "warning": 0, "error": 0}
    }


@pytest.mark.parametrize("pending", [False, True])
async def test_a_customer_without_a_connected_tenant_ends_disconnected(db, settings, pending):
    from vdc_graph.enums import ContractType

    provider = await make_provider()
    if pending:  # pending: its tenant cannot be connected yet
        customer = await connected_customer(provider, contract_type=ContractType.PENDING)
    else:  # never connected: no onboarding finished
        customer = await make_customer(provider)
    policy = await make_policy(customer)
    session = await run_policy(settings, policy)
    assert session.status == SessionStatus.DISCONNECTED
    log = await messages(session)
    assert any(s == "FAILED" and "Cannot connect" in m for _, s, m in log)
    assert (await BackupPolicy.get(id=policy.id)).last_status == PolicyStatus.DISCONNECTED


async def test_a_stop_mid_run_ends_stopped_within_a_second(api):
    settings = api_settings(api)
    settings.engine_step_seconds = 0.3  # a watchable pace: the stop lands mid-run
    provider = await make_provider()
    customer = await connected_customer(provider)
    policy = await make_policy(customer)
    token = token_for(settings, await make_user(provider, [BM]))
    pid = gid("BackupPolicy", policy.id)
    run = (
        "mutation($id: ID!) { backupPolicy%s(input: {id: $id}) "
        "{ session { id } userErrors { code } } }"
    )
    await api.data(run % "Start", {"id": pid}, token=token)
    session = await BackupSession.get(policy_id=policy.id)
    await until(
        lambda: SessionLogRecord.filter(
            session_id=session.id, message__startswith="Processing"
        ).exists()
    )
    asked = time.monotonic()
    stopped = await api.data(run % "Stop", {"id": pid}, token=token)
    assert stopped["backupPolicyStop"]["userErrors"] == []
    session = await ended(session.id, timeout=1.0)
    assert time.monotonic() - asked < 1.0
    assert session.status == SessionStatus.STOPPED
    texts = [m for _, _, m in await messages(session)]
    assert "The job was stopped at the user's request" in texts
    assert texts[-1].startswith("Job finished at: ")
    assert session.processed_objects < int(texts[2].split()[1])
    assert (await BackupPolicy.get(id=policy.id)).last_status == PolicyStatus.STOPPED


def api_settings(api):
    return api.http._transport.app.state.settings  # the settings the app runs with


async def test_sessions_whose_owner_stopped_renewing_are_taken_over(db, settings):
    """A running session whose process died ends FAILED saying why; a queued one that no
    process ever claimed runs here; a session whose owner renews its lease is left alone."""
    settings.lease_seconds = 1
    provider = await make_provider()
    customer = await connected_customer(provider)
    policy = await make_policy(customer, last_status=PolicyStatus.RUNNING)
    lapsed = clock.now() - timedelta(seconds=5)
    running = await BackupSession.create(
        provider_id=provider.id,
        customer=customer,
        policy=policy,
        policy_name=policy.name,
        status=SessionStatus.RUNNING,
        started_at=clock.now(),
        last_seq=1,
        owner="gone-host:4242:abcdef",
        lease_until=lapsed,
    )
    await SessionLogRecord.create(
        session=running, seq=1, at=clock.now(), status=LogStatus.INFO, message="Job started at: x"
    )
    other = await make_policy(customer, name="Other policy")
    alive = await BackupSession.create(
        provider_id=provider.id,
        customer=customer,
        policy=other,
        policy_name=other.name,
        status=SessionStatus.RUNNING,
        owner="live-host:1:abcdef",
        lease_until=clock.now() + timedelta(hours=1),
    )
    third = await make_policy(customer, name="Third policy")
    queued = await BackupSession.create(
        provider_id=provider.id,
        customer=customer,
        policy=third,
        policy_name=third.name,
        status=SessionStatus.QUEUED,
    )
    await BackupSession.filter(id=queued.id).update(created_at=lapsed)  # its creator died
    finished = []
    async with broker().subscribe(SESSION_FINISHED) as events:
        job = asyncio.create_task(backup_engine_job(settings)())  # what every process runs
        try:
            for session in (running, queued):
                await ended(session.id)
            async for event in events:
                finished.append(event)
                if len(finished) == 2:
                    break
        finally:
            job.cancel()
    log = await messages(running)
    assert log[0] == (1, "INFO", "Job started at: x")
    assert log[1][0] == 2 and log[1][1] == "FAILED"
    assert "gone-host:4242:abcdef" in log[1][2] and "stopped renewing its claim" in log[1][2]
    assert (await BackupSession.get(id=running.id)).status == SessionStatus.FAILED
    assert (await BackupPolicy.get(id=policy.id)).last_status == PolicyStatus.FAILED
    ran = await BackupSession.get(id=queued.id)
    assert ran.status != SessionStatus.FAILED and ran.started_at is not None
    assert (await messages(queued))[0][2].startswith("Job started at:")
    assert (await BackupSession.get(id=alive.id)).status == SessionStatus.RUNNING
    assert {e["sessionId"] for e in finished} == {str(running.id), str(queued.id)}


async def test_a_fault_while_ending_fails_the_session_with_a_log_without_gaps(
    db, settings, monkeypatch
):
    """The ending transaction rolls back (its closing records with it); the failure is then
    written right after the last record that was committed."""

    async def failing(*args, **kwargs):
        raise RuntimeError("the licence figures could not be written")

    monkeypatch.setattr(licensing, "record_session", failing)
    customer = await connected_customer(await make_provider())
    session = await run_policy(settings, await make_policy(customer))
    assert session.status == SessionStatus.FAILED
    log = await messages(session)
    assert [seq for seq, _, _ in log] == list(range(1, len(log) + 1))
    assert log[-1][1:] == ("FAILED", "The job failed: RuntimeError")
    assert log[-2][2].startswith("Processed ")  # the closing records were rolled back
    assert session.last_seq == len(log)


async def test_the_records_an_event_carries_are_the_rows_the_database_reads(db):
    """Subscribers build the announced records from the event alone: each must be the row a
    read of the database gives, value for value."""
    provider = await make_provider()
    customer = await connected_customer(provider)
    policy = await make_policy(customer)
    session = await BackupSession.create(
        provider_id=provider.id,
        customer=customer,
        policy=policy,
        policy_name=policy.name,
        status=SessionStatus.RUNNING,
    )
    entries = [(LogStatus.INFO, "Found 2 objects"), (LogStatus.WARNING, "Ann Lee was skipped")]
    async with broker().subscribe(log_topic(session.id)) as events:
        await append(session, entries, progress=50)
        message = await anext(aiter(events))
    carried = [record_from_snapshot(snapshot) for snapshot in message["records"]]
    stored = await SessionLogRecord.filter(session_id=session.id).order_by("seq")
    assert [(r.seq, r.status, r.message) for r in carried] == [
        (1, LogStatus.INFO, "Found 2 objects"),
        (2, LogStatus.WARNING, "Ann Lee was skipped"),
    ]
    assert [loaded_state(r) for r in carried] == [loaded_state(r) for r in stored]


async def test_the_scheduler_runs_a_due_policy_and_skips_a_disabled_one(db, settings):
    now = datetime(2025, 6, 1, 2, 0, tzinfo=UTC)
    clock.set_clock(lambda: now)
    provider = await make_provider()
    customer = await connected_customer(provider)
    due = await make_policy(customer, "Due", next_run=now - timedelta(minutes=5))
    disabled = await make_policy(
        customer, "Disabled", enabled=False, next_run=now - timedelta(minutes=5)
    )
    later = await make_policy(customer, "Later", next_run=now + timedelta(hours=1))
    gone = await connected_customer(provider, deleted_at=now - timedelta(days=1))
    offboarded = await make_policy(gone, "Offboarded", next_run=now - timedelta(minutes=5))
    scheduler = Scheduler(settings)

    assert await scheduler.run_once() == 1
    session = await BackupSession.get(policy_id=due.id)
    assert session.trigger == SessionTrigger.SCHEDULE
    stored = await BackupPolicy.get(id=due.id)
    assert stored.next_run == now - timedelta(minutes=5) + timedelta(hours=24)
    assert not await BackupSession.filter(
        policy_id__in=[disabled.id, later.id, offboarded.id]
    ).exists()
    await ended(session.id)
    assert await scheduler.run_once() == 0  # nothing is due any more

    now += timedelta(hours=24)
    assert await scheduler.run_once() == 2  # "Due" again, and "Later"
    assert await BackupSession.filter(policy_id=due.id).count() == 2
    assert not await BackupSession.filter(policy_id=disabled.id).exists()
    await all_ended()
    stored = await BackupPolicy.get(id=due.id)
    assert stored.last_status == PolicyStatus.SUCCESS and stored.last_run is not None
    assert stored.average_processing_seconds is not None


SESSIONS = """query($filter: BackupSessionFilter, $after: String) {
  backupSessions(filter: $filter, first: 2, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { id status policyName trigger startedBy progress processedObjects transferredBytes
            serviceCounts { service total success warning error }
            policy { name } customer { displayName } }
  }
}"""


async def test_a_sessions_list_shows_each_sessions_policy_and_null_once_deleted(api):
    settings = api_settings(api)
    provider = await make_provider()
    kept_customer, gone_customer = (
        await connected_customer(provider),
        await connected_customer(provider),
    )
    kept, gone = await make_policy(kept_customer, "Kept"), await make_policy(gone_customer, "Gone")
    token = token_for(settings, await make_user(provider, []))
    older = await run_policy(settings, gone)
    newer = await run_policy(settings, kept)
    await BackupPolicy.filter(id=gone.id).delete()

    nodes = (await api.data(SESSIONS, {}, token=token))["backupSessions"]["nodes"]
    assert [(n["id"], n["policyName"], n["policy"], n["customer"]) for n in nodes] == [
        (
            gid("BackupSession", newer.id),
            "Kept",
            {"name": "Kept"},
            {"displayName": kept_customer.display_name},
        ),
        (gid("BackupSession", older.id), "Gone", None, {"displayName": gone_customer.display_name}),
    ]


async def test_sessions_list_newest_first_with_filters(api, tmp_path):
    settings = api_settings(api)
    provider = await make_provider()
    other = await make_provider("Other")
    a, b = await connected_customer(provider), await connected_customer(provider)
    await make_policy(await connected_customer(other), "Theirs")
    pa, pb = await make_policy(a, "A"), await make_policy(b, "B")
    token = token_for(settings, await make_user(provider, []))
    first = await run_policy(settings, pa)
    second = await run_policy(settings, pb)
    third = await run_policy(settings, pa)
    await BackupSession.filter(id=second.id).update(status=SessionStatus.FAILED)

    page = (await api.data(SESSIONS, {}, token=token))["backupSessions"]
    assert page["totalCount"] == 3
    assert [n["id"] for n in page["nodes"]] == [
        gid("BackupSession", third.id),
        gid("BackupSession", second.id),
    ]
    rest = await api.data(SESSIONS, {"after": page["pageInfo"]["endCursor"]}, token=token)
    assert [n["id"] for n in rest["backupSessions"]["nodes"]] == [gid("BackupSession", first.id)]
    node = page["nodes"][0]
    assert node["policyName"] == "A" and node["policy"] == {"name": "A"}
    assert node["trigger"] == "USER" and node["progress"] == 100
    assert node["customer"]["displayName"] == a.display_name
    assert {c["service"] for c in node["serviceCounts"]} == {
        "EXCHANGE",
        "ONEDRIVE",
        "SHAREPOINT",
        "TEAMS",
    }

    async def ids(flt):
        data = await api.data(SESSIONS, {"filter": flt}, token=token)
        return {n["id"] for n in data["backupSessions"]["nodes"]}

    assert await ids({"policyId": gid("BackupPolicy", pb.id)}) == {gid("BackupSession", second.id)}
    assert await ids({"customerId": gid("Customer", b.id)}) == {gid("BackupSession", second.id)}
    assert await ids({"statuses": ["FAILED"]}) == {gid("BackupSession", second.id)}
    assert await ids({"from": "2000-01-01T00:00:00Z", "to": "2000-01-02T00:00:00Z"}) == set()


async def test_a_sessions_log_pages_and_filters_by_status(api):
    settings = api_settings(api)
    provider, other = await make_provider(), await make_provider("Other")
    customer = await connected_customer(provider)
    session = await run_policy(settings, await make_policy(customer))
    theirs = await run_policy(settings, await make_policy(await connected_customer(other)))
    token = token_for(settings, await make_user(provider, []))
    query = """query($id: ID!, $after: String, $filter: SessionLogFilter) {
      backupSession(id: $id) { status logs(filter: $filter, first: 3, after: $after) {
        totalCount pageInfo { hasNextPage endCursor } nodes { sequence status message at } } } }"""
    sid = gid("BackupSession", session.id)
    seen, after = [], None
    while True:
        data = await api.data(query, {"id": sid, "after": after}, token=token)
        logs = data["backupSession"]["logs"]
        seen += [n["sequence"] for n in logs["nodes"]]
        if not logs["pageInfo"]["hasNextPage"]:
            break
        after = logs["pageInfo"]["endCursor"]
    assert seen == list(range(1, session.last_seq + 1))
    successes = await api.data(query, {"id": sid, "filter": {"statuses": ["SUCCESS"]}}, token=token)
    nodes = successes["backupSession"]["logs"]["nodes"]
    assert nodes and all(n["status"] == "SUCCESS" for n in nodes)
    hidden = await api.errors(query, {"id": gid("BackupSession", theirs.id)}, token=token)
    assert hidden[0]["extensions"]["code"] == "NOT_FOUND"


async def test_node_and_nodes_resolve_backup_objects_within_the_provider(api):
    settings = api_settings(api)
    provider, other = await make_provider(), await make_provider("Other")
    policy = await make_policy(await connected_customer(provider), "Mine")
    session = await run_policy(settings, policy)
    record = await SessionLogRecord.filter(session_id=session.id).order_by("seq").first()
    theirs = await run_policy(settings, await make_policy(await connected_customer(other)))
    token = token_for(settings, await make_user(provider, []))
    query = """query($ids: [ID!]!) { nodes(ids: $ids) {
      ... on BackupPolicy { name } ... on BackupSession { policyName }
      ... on SessionLogRecord { sequence } } }"""
    ids = [
        gid("BackupPolicy", policy.id),
        gid("BackupSession", session.id),
        gid("SessionLogRecord", record.id),
        gid("BackupSession", theirs.id),
    ]
    data = await api.data(query, {"ids": ids}, token=token)
    assert data["nodes"] == [{"name": "Mine"}, {"policyName": "Mine"}, {"sequence": 1}, None]


async def test_statement_count_of_sessions_and_policies_does_not_grow_with_page_size(api, caplog):
    import logging

    settings = api_settings(api)
    provider = await make_provider()
    for i in range(6):
        customer = await connected_customer(provider)
        policy = await make_policy(customer, f"Policy {i}")
        for _ in range(2):
            await BackupSession.create(
                provider_id=provider.id,
                customer=customer,
                policy=policy,
                policy_name=policy.name,
                status=SessionStatus.SUCCESS,
            )
    token = token_for(settings, await make_user(provider, []))
    sessions = """query($n: Int) { list: backupSessions(first: $n) { nodes {
      policy { name runningSession { id } } customer { displayName } } } }"""
    policies = """query($n: Int) { list: backupPolicies(first: $n) { nodes {
      customer { displayName } runningSession { id } } } }"""

    async def statements(query: str, size: int) -> int:
        caplog.clear()
        with caplog.at_level(logging.DEBUG, logger="tortoise.db_client"):
            data = await api.data(query, {"n": size}, token=token)
        assert len(data["list"]["nodes"]) == size
        return sum(
            1
            for r in caplog.records
            if r.name == "tortoise.db_client" and "SELECT" in r.getMessage().upper()
        )

    await statements(sessions, 1)  # the caller is authenticated afresh once, then remembered
    for query in (sessions, policies):
        few = await statements(query, 2)
        assert await statements(query, 6) == few
