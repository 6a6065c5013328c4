"""The demo data generator: deterministic, idempotent, and shaped like a real portal's data."""

from __future__ import annotations

import hashlib
import itertools
import os
import shutil
import subprocess
import sys
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from tortoise import connections

from vdc_graph import clock
from vdc_graph.db import models
from vdc_graph.db.models import (
    BackupPolicy,
    BackupSession,
    Customer,
    CustomerAdminUser,
    LicensedUser,
    LicensedUsersMonth,
    MaintenanceWindow,
    NotificationContact,
    Onboarding,
    PortalUser,
    Restore,
    Role,
    ServiceProvider,
    ServiceStatus,
    SessionLogRecord,
    SimulatedTenant,
    SoftwareUsage,
    Subscription,
    UsageReport,
    UsageReportSaasLine,
    UsageReportSoftwareLine,
    Webhook,
)
from vdc_graph.demo import DemoSummary, seed_demo, volume_for
from vdc_graph.enums import (
    ContactKind,
    ContractType,
    OnboardingStep,
    Permission,
    PolicyStatus,
    ProtectionStatus,
    Region,
    ServiceHealth,
    ServiceName,
    SessionStatus,
    SourceType,
    SubscriptionPlan,
    UsageReportStatus,
)

ANCHOR = datetime(2025, 6, 15, tzinfo=UTC)
CUSTOMERS = 30


async def snapshot() -> dict[str, Any]:
    """Every row of every table (the role links included), in primary-key order."""
    tables: dict[str, Any] = {}
    for name in models.__all__:
        tables[name] = await (m := getattr(models, name)).all().order_by(m._meta.pk_attr).values()
    _, links = await connections.get("default").execute_query(
        "SELECT portal_user_id, role_id FROM portal_user_role"
    )
    tables["portal_user_role"] = sorted(
        (str(r["portal_user_id"]), str(r["role_id"])) for r in links
    )
    return tables


async def row_count() -> int:
    data = await snapshot()
    return sum(len(rows) for rows in data.values())


async def wipe() -> None:
    """Delete the demo data (children go by ON DELETE CASCADE) and check nothing is left."""
    await ServiceProvider.all().delete()
    await ServiceStatus.all().delete()
    await MaintenanceWindow.all().delete()
    await SimulatedTenant.all().delete()  # the simulated identity platform's, not a provider's
    assert await row_count() == 0


async def log_digest() -> str:
    rows = (
        await SessionLogRecord.all()
        .order_by("session_id", "seq")
        .values_list("session_id", "seq", "at", "status", "message")
    )
    digest = hashlib.sha256()
    for row in rows:
        digest.update(repr(tuple(str(v) for v in row)).encode())
    return digest.hexdigest()


async def demo_provider() -> ServiceProvider:
    return await ServiceProvider.get(display_name="Demo Provider")


# --- determinism and idempotency -------------------------------------------------------------


async def test_same_seed_and_anchor_give_identical_data(db: str) -> None:
    first = await seed_demo(customers=CUSTOMERS, seed=7, anchor=ANCHOR)
    assert first.created
    data, digest = await snapshot(), await log_digest()
    customers = sorted(
        await Customer.all().values_list("id", "display_name", "contract_type", "external_id")
    )

    await wipe()
    second = await seed_demo(customers=CUSTOMERS, seed=7, anchor=ANCHOR)

    assert second == first
    assert (
        sorted(
            await Customer.all().values_list("id", "display_name", "contract_type", "external_id")
        )
        == customers
    )
    assert await log_digest() == digest
    again = await snapshot()
    assert again.keys() == data.keys()
    for table in data:  # table by table, for a readable failure
        assert again[table] == data[table], table


_DIGEST_SCRIPT = """
import asyncio, hashlib, json, sys
from datetime import UTC, datetime
from tortoise import Tortoise, connections
from vdc_graph.db import models
from vdc_graph.db.config import tortoise_config
from vdc_graph.demo import seed_demo

async def main(url):
    await Tortoise.init(config=tortoise_config(url))
    await seed_demo(customers=12, seed=5, anchor=datetime(2025, 6, 15, tzinfo=UTC))
    digest = hashlib.sha256()
    for name in models.__all__:
        rows = await (m := getattr(models, name)).all().order_by(m._meta.pk_attr).values()
        digest.update(json.dumps(rows, default=str, sort_keys=True).encode())
    _, links = await connections.get("default").execute_query(
        "SELECT portal_user_id, role_id FROM portal_user_role")
    digest.update(repr(sorted((str(r[0]), str(r[1])) for r in links)).encode())
    print(digest.hexdigest())
    await Tortoise.close_connections()

asyncio.run(main(sys.argv[1]))
"""


def test_data_is_identical_across_processes(sqlite_template: Path, tmp_path: Path) -> None:
    """Separate interpreters with different string-hash seeds write the same rows: nothing
    depends on set order, object identity or the time of the run."""
    digests = []
    for hash_seed in ("0", "4242"):
        path = tmp_path / f"demo-{hash_seed}.db"
        shutil.copyfile(sqlite_template, path)
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        result = subprocess.run(
            [sys.executable, "-c", _DIGEST_SCRIPT, f"sqlite://{path}"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        digests.append(result.stdout.strip())
    assert len(digests[0]) == 64
    assert digests[0] == digests[1]


async def test_a_different_seed_gives_different_data(db: str) -> None:
    await seed_demo(customers=CUSTOMERS, seed=7, anchor=ANCHOR)
    names_7 = set(await Customer.all().values_list("display_name", flat=True))
    ids_7 = set(await Customer.all().values_list("id", flat=True))
    digest_7 = await log_digest()

    await wipe()
    await seed_demo(customers=CUSTOMERS, seed=8, anchor=ANCHOR)

    assert set(await Customer.all().values_list("display_name", flat=True)) != names_7
    assert not ids_7 & set(await Customer.all().values_list("id", flat=True))
    assert await log_digest() != digest_7


async def test_a_different_anchor_moves_the_data_in_time(db: str) -> None:
    await seed_demo(customers=5, seed=7, anchor=ANCHOR)
    latest = await BackupSession.all().order_by("-started_at").first()
    assert latest is not None and latest.started_at < ANCHOR

    await wipe()
    later = ANCHOR + timedelta(days=40)
    await seed_demo(customers=5, seed=7, anchor=later)
    moved = await BackupSession.all().order_by("-started_at").first()
    assert moved is not None and ANCHOR < moved.started_at < later


async def test_the_default_anchor_is_the_start_of_today_by_the_clock(db: str) -> None:
    clock.set_clock(lambda: datetime(2025, 6, 15, 13, 45, 12, tzinfo=UTC))
    await seed_demo(customers=6, seed=3)
    data = await snapshot()

    await wipe()
    clock.set_clock(lambda: datetime(2030, 1, 1, tzinfo=UTC))  # must not matter now
    await seed_demo(customers=6, seed=3, anchor=datetime(2025, 6, 15, tzinfo=UTC))
    assert await snapshot() == data


async def test_second_call_writes_nothing(db: str) -> None:
    first = await seed_demo(customers=CUSTOMERS, seed=1, anchor=ANCHOR)
    assert first.created
    before = await snapshot()

    second = await seed_demo(customers=CUSTOMERS + 5, seed=2, anchor=ANCHOR + timedelta(days=1))

    assert second == DemoSummary(False, 0, 0, 0, 0, 0, 0, 0)
    assert await snapshot() == before


async def test_summary_counts_what_was_written(db: str) -> None:
    summary = await seed_demo(customers=CUSTOMERS, seed=1, anchor=ANCHOR)
    assert summary.providers == await ServiceProvider.all().count() == 2
    assert summary.users == await PortalUser.all().count()
    assert summary.customers == await Customer.all().count() == CUSTOMERS + 5
    assert summary.policies == await BackupPolicy.all().count() > 0
    assert summary.sessions == await BackupSession.all().count() > 0
    assert summary.log_records == await SessionLogRecord.all().count() > summary.sessions
    assert summary.licensed_users == await LicensedUser.all().count() > 0


async def test_existing_platform_status_rows_are_left_alone(db: str) -> None:
    kept = await ServiceStatus.create(
        service=ServiceName.SSO, region=Region.EMEA, health=ServiceHealth.OUTAGE, message="down"
    )
    await seed_demo(customers=3, seed=1, anchor=ANCHOR)
    assert await ServiceStatus.all().count() == len(ServiceName) * len(Region)
    again = await ServiceStatus.get(id=kept.id)
    assert (again.health, again.message) == (ServiceHealth.OUTAGE, "down")


# --- what the data set holds --------------------------------------------------------------


async def permissions_of(user: PortalUser) -> set[str]:
    roles = await user.roles.all()
    return {p for role in roles for p in role.permissions}


async def test_users_roles_and_permissions(db: str) -> None:
    await seed_demo(customers=3, seed=1, anchor=ANCHOR)
    demo = await demo_provider()
    other = await ServiceProvider.get(display_name="Other Provider")
    assert demo.pro_partner_id.startswith("PRA-") and demo.pro_partner_id[4:].isdigit()
    assert other.pro_partner_id.startswith("PRA-") and other.pro_partner_id != demo.pro_partner_id
    assert demo.entra_tenant_id and demo.rental_agreement_number
    assert demo.minimum_commit_points > 0

    admin = await PortalUser.get(email_key="admin@demo.example")
    assert admin.provider_id == demo.id and admin.first_name and admin.last_name
    administrator = await Role.get(provider_id=demo.id, name="Administrator")
    assert administrator.built_in
    assert set(administrator.permissions) == {p.value for p in Permission}
    assert [r.id for r in await admin.roles.all()] == [administrator.id]
    assert await permissions_of(admin) == {p.value for p in Permission}

    monitor = await PortalUser.get(email_key="monitor@demo.example")
    assert monitor.provider_id == demo.id
    assert await permissions_of(monitor) == {Permission.MONITORING_ACCESS.value}

    other_admin = await PortalUser.get(email_key="admin@other.example")
    assert other_admin.provider_id == other.id
    assert await permissions_of(other_admin) == {p.value for p in Permission}
    other_roles = await Role.filter(provider_id=other.id, built_in=True)
    assert [r.name for r in other_roles] == ["Administrator"]

    assert await PortalUser.filter(provider_id=demo.id).count() > 2
    for role in await Role.all():
        assert role.name_key == role.name.lower()
        assert Permission.MONITORING_ACCESS.value in role.permissions
        if Permission.ADVANCED_BACKUP_MANAGEMENT.value in role.permissions:
            assert Permission.BACKUP_MANAGEMENT.value in role.permissions
    for user in await PortalUser.all():
        assert user.email_key == user.email.lower()


async def test_customers_cover_every_contract_and_source_type(db: str) -> None:
    await seed_demo(customers=CUSTOMERS, seed=1, anchor=ANCHOR)
    demo = await demo_provider()
    customers = await Customer.filter(provider_id=demo.id)
    assert len(customers) == CUSTOMERS
    assert {c.contract_type for c in customers} == set(ContractType)
    assert {c.source_type for c in customers} == set(SourceType)
    assert len({c.display_name for c in customers}) == CUSTOMERS
    assert len({c.external_id for c in customers}) == CUSTOMERS
    assert all(
        c.m365_account == "" or c.m365_account.endswith(".onmicrosoft.example") for c in customers
    )

    other = await ServiceProvider.get(display_name="Other Provider")
    assert await Customer.filter(provider_id=other.id).count() >= 3

    subscriptions = defaultdict(dict)
    for row in await Subscription.all():
        subscriptions[row.customer_id][row.plan] = row.subscription_id
    onboarding = {row.customer_id: row for row in await Onboarding.all()}
    policies = defaultdict(list)
    for row in await BackupPolicy.all():
        policies[row.customer_id].append(row)

    pending = [c for c in customers if c.contract_type is ContractType.PENDING]
    assert pending
    for customer in pending:
        assert customer.activation_date is None
        assert customer.licenses_used == 0 and customer.region is None
        assert not policies[customer.id]
        assert onboarding[customer.id].step in (
            OnboardingStep.LEGAL_AGREEMENT,
            OnboardingStep.CONNECT_TENANT,
            OnboardingStep.AWAITING_DEVICE_LOGIN,
        )
        assert await BackupSession.filter(customer_id=customer.id).count() == 0

    for customer in customers:
        if customer.contract_type is ContractType.PENDING:
            continue
        assert customer.activation_date is not None and customer.activation_date < ANCHOR
        assert customer.microsoft_tenant_id and customer.region is not None
        assert customer.flex_subscription_id
        expected = {SubscriptionPlan.FLEX: customer.flex_subscription_id}
        if customer.express_subscription_id:
            expected[SubscriptionPlan.EXPRESS] = customer.express_subscription_id
        if customer.premium_subscription_id:
            expected[SubscriptionPlan.PREMIUM] = customer.premium_subscription_id
        assert subscriptions[customer.id] == expected
        assert onboarding[customer.id].step is OnboardingStep.FINISHED
        assert customer.backed_up_accounts <= customer.total_active_accounts
        assert customer.licenses_used == customer.backed_up_accounts > 0
        own = policies[customer.id]
        assert 1 <= len(own) <= 3
        assert len({p.name_key for p in own}) == len(own)
        assert all(p.name_key == p.name.lower() for p in own)


async def test_the_demo_admin_can_switch_into_two_customers(db: str) -> None:
    await seed_demo(customers=CUSTOMERS, seed=1, anchor=ANCHOR)
    demo = await demo_provider()
    rows = await CustomerAdminUser.filter(email_key="admin@demo.example").prefetch_related(
        "customer"
    )
    assert len(rows) == 2
    for row in rows:
        assert row.customer.provider_id == demo.id
        assert row.customer.contract_type not in (ContractType.PENDING, ContractType.SUSPENDED)
        assert not row.customer.restrict_access_to_ip_ranges


async def test_sessions_have_complete_logs(db: str) -> None:
    await seed_demo(customers=CUSTOMERS, seed=1, anchor=ANCHOR)
    logs: dict[Any, list[tuple[int, datetime, str]]] = defaultdict(list)
    for session_id, seq, at, message in await SessionLogRecord.all().values_list(
        "session_id", "seq", "at", "message"
    ):
        logs[session_id].append((seq, at, message))
    sessions = await BackupSession.all()
    assert sessions and len(logs) == len(sessions)
    statuses = {s.status for s in sessions}
    assert {SessionStatus.SUCCESS, SessionStatus.WARNING, SessionStatus.FAILED} <= statuses
    assert all(s.status is not SessionStatus.RUNNING for s in sessions)
    for session in sessions:
        records = sorted(logs[session.id])
        seqs = [seq for seq, _, _ in records]
        assert seqs[0] == 1
        assert all(b > a for a, b in itertools.pairwise(seqs))
        assert session.last_seq == seqs[-1]
        assert records[0][2].startswith("Job started at: ")
        assert records[-1][2].startswith("Job finished at: ")
        times = [at for _, at, _ in records]
        assert times == sorted(times)
        assert session.started_at is not None and session.ended_at is not None
        assert session.started_at <= times[0] and times[-1] <= session.ended_at < ANCHOR
        if session.status is SessionStatus.DISCONNECTED:
            continue
        assert session.progress == 100
        assert any(m.startswith("Found ") and m.endswith(" objects") for _, _, m in records)
        assert any(m.startswith("Transferred: ") for _, _, m in records)
        assert session.service_counts
        for counts in session.service_counts.values():
            assert counts["success"] + counts["warning"] + counts["error"] == counts["total"]


async def test_policies_summarise_their_sessions(db: str) -> None:
    await seed_demo(customers=CUSTOMERS, seed=1, anchor=ANCHOR)
    for policy in await BackupPolicy.all():
        sessions = await BackupSession.filter(policy_id=policy.id).order_by("-started_at")
        if not sessions:
            assert policy.last_status is PolicyStatus.NEVER_RUN and policy.last_run is None
            continue
        assert policy.last_run == sessions[0].started_at
        assert policy.last_status.value == sessions[0].status.value
        assert policy.policy_type.value == "FLEX"
        if policy.enabled:
            assert policy.next_run is not None and policy.next_run > ANCHOR
        else:
            assert policy.next_run is None


async def test_licensed_users_history_has_twelve_months(db: str) -> None:
    await seed_demo(customers=CUSTOMERS, seed=1, anchor=ANCHOR)
    history: dict[Any, dict[date, int]] = defaultdict(dict)
    for customer_id, month, users in await LicensedUsersMonth.all().values_list(
        "customer_id", "month", "licensed_users"
    ):
        history[customer_id][month] = users
    months = [date(2025, m, 1) for m in range(6, 0, -1)] + [
        date(2024, m, 1) for m in range(12, 6, -1)
    ]
    for customer in await Customer.all():
        if customer.contract_type is ContractType.PENDING:
            assert customer.id not in history
            continue
        own = history[customer.id]
        assert sorted(own, reverse=True) == months
        assert own[months[0]] == customer.licenses_used
        assert customer.user_change == own[months[0]] - own[months[1]]
        # The licensed users are the tenant's users its last backup processed.
        listed = await LicensedUser.filter(customer_id=customer.id)
        assert len(listed) == customer.licenses_used <= customer.total_active_accounts
        assert all(u.protection_status is ProtectionStatus.PROTECTED for u in listed)
        assert len({u.email for u in listed}) == len(listed)


async def test_platform_rows(db: str) -> None:
    await seed_demo(customers=3, seed=1, anchor=ANCHOR)
    statuses = await ServiceStatus.all()
    assert {(s.service, s.region) for s in statuses} == {
        (service, region) for service in ServiceName for region in Region
    }
    assert sum(s.health is ServiceHealth.DEGRADED for s in statuses) == 1
    assert all(s.health in (ServiceHealth.OPERATIONAL, ServiceHealth.DEGRADED) for s in statuses)
    window = await MaintenanceWindow.get()
    assert ANCHOR < window.starts_at < window.ends_at
    demo = await demo_provider()
    assert await SoftwareUsage.filter(provider_id=demo.id).count() > 0


async def test_small_data_sets(db: str) -> None:
    for count in range(6):
        await seed_demo(customers=count, seed=1, anchor=ANCHOR)
        demo = await demo_provider()
        customers = await Customer.filter(provider_id=demo.id)
        assert len(customers) == count
        if count:
            assert customers and any(c.contract_type is ContractType.ANNUAL for c in customers)
        if count >= 2:
            assert any(c.contract_type is ContractType.PENDING for c in customers)
        await wipe()


def test_volume_shrinks_per_customer_as_the_data_set_grows() -> None:
    small, large = volume_for(40), volume_for(10_000)
    assert small.session_days == 14
    assert large.session_days < small.session_days
    assert large.licensed_user_rows < small.licensed_user_rows
    assert large.processing_lines >= 1


# --- usage reports, webhooks and contacts ------------------------------------------------------


def _lines(rows: list, *fields: str) -> list[tuple]:
    return sorted(tuple(str(getattr(r, f)) for f in fields) for r in rows)


SAAS_FIELDS = (
    "customer_id",
    "customer_name",
    "start_date",
    "tenant_crm_id",
    "reported_units",
    "points_per_unit",
    "points",
)
SOFTWARE_FIELDS = (
    "workload",
    "automatic_usage",
    "product",
    "licensed",
    "reported_previous_month",
    "auto_reported",
    "current_month_usage",
    "points",
)


async def test_usage_reports_are_what_the_server_would_generate(db: str) -> None:
    from vdc_graph.usage_reports import generate_report

    await seed_demo(customers=CUSTOMERS, seed=1, anchor=ANCHOR)
    demo = await demo_provider()
    reports = await UsageReport.filter(provider_id=demo.id).order_by("-month")
    assert [r.month for r in reports] == [date(2025, m, 1) for m in (5, 4, 3, 2, 1)] + [
        date(2024, 12, 1)
    ]
    assert [r.status for r in reports] == [
        UsageReportStatus.PENDING_REVIEW,
        UsageReportStatus.SAVED,
        *[UsageReportStatus.CONFIRMED] * 4,
    ]
    assert reports[0].submitted_at is None and reports[1].confirmed_at is None
    assert all(r.submitted_at < r.confirmed_at < ANCHOR for r in reports[2:])
    for report in reports:
        saas = await UsageReportSaasLine.filter(report_id=report.id)
        software = await UsageReportSoftwareLine.filter(report_id=report.id)
        assert (
            len(saas)
            == await LicensedUsersMonth.filter(provider_id=demo.id, month=report.month).count()
        )
        assert len(software) == 7
        # Rebuilt by the server from the seeded usage, the lines are the same.
        report.status = UsageReportStatus.PENDING_REVIEW
        await report.save()
        await generate_report(demo.id, report.month)
        assert _lines(await UsageReportSaasLine.filter(report_id=report.id), *SAAS_FIELDS) == (
            _lines(saas, *SAAS_FIELDS)
        )
        rebuilt = await UsageReportSoftwareLine.filter(report_id=report.id)
        assert _lines(rebuilt, *SOFTWARE_FIELDS) == _lines(software, *SOFTWARE_FIELDS)


REGISTER = """mutation($input: CustomerRegisterInput!) { customerRegister(input: $input) {
  customer { displayName } created userErrors { code } } }"""


async def test_the_demo_provider_is_not_suspended_and_registers_customers(api, settings) -> None:
    from tests.factories import token_for

    await seed_demo(customers=CUSTOMERS, seed=1)  # today's data
    admin = await PortalUser.get(email_key="admin@demo.example")
    token = token_for(settings, admin)
    seen = await api.data("{ licenseManagement { suspended } }", token=token)
    assert seen == {"licenseManagement": {"suspended": False}}
    registered = await api.data(
        REGISTER,
        {"input": {"displayName": "New Co", "externalId": "NEW-1", "sourceType": "DIRECT"}},
        token=token,
    )
    assert registered["customerRegister"] == {
        "customer": {"displayName": "New Co"},
        "created": True,
        "userErrors": [],
    }


async def test_webhooks_contacts_and_recent_restores(db: str) -> None:
    from vdc_graph.notify.webhooks import url_problem

    await seed_demo(customers=CUSTOMERS, seed=1, anchor=ANCHOR)
    demo = await demo_provider()
    hooks = await Webhook.filter(provider_id=demo.id)
    assert len(hooks) == 2
    assert all(url_problem(h.url, development=False) is None for h in hooks)
    assert all(h.enabled and h.event_types and h.secret.startswith("whsec_") for h in hooks)
    other = await ServiceProvider.get(display_name="Other Provider")
    assert not await Webhook.filter(provider_id=other.id).exists()
    defaults = await NotificationContact.filter(provider_id=demo.id, customer_id__isnull=True)
    assert {c.kind for c in defaults} == {ContactKind.EMAIL, ContactKind.TEAMS_WEBHOOK}
    months = {
        (r.requested_at.year, r.requested_at.month)
        for r in await Restore.filter(provider_id=demo.id)
    }
    assert {(2025, 4), (2025, 5), (2025, 6)} <= months
