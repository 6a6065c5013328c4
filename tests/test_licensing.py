"""The licensing loop end to end through GraphQL: a customer registered and onboarded, its
tenant's directory backed up, its users licensed, released after 31 days, the month's figure,
the usage report with review, submission and confirmation, and the CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from tests.backup_support import connected_customer, ended, fast_settings, gid, make_policy
from tests.factories import make_provider, make_user, token_for
from tests.test_outbox import Clock
from vdc_graph import clock
from vdc_graph.db.models import (
    AuditRecord,
    Customer,
    UsageReport,
    UsageReportSaasLine,
)
from vdc_graph.engine.simulator import _volume
from vdc_graph.enums import AuditOutcome, M365Service, Permission
from vdc_graph.identity import tenant_directory
from vdc_graph.identity.simulator import complete_login
from vdc_graph.licensing import refresh_customers, storage_gb
from vdc_graph.usage_reports import generate_reports

ADMIN = [
    Permission.CUSTOMER_MANAGEMENT,
    Permission.BACKUP_MANAGEMENT,
    Permission.SITE_SETTINGS,
]

REGISTER = """mutation($input: CustomerRegisterInput!) { customerRegister(input: $input) {
  customer { id contractType } userErrors { field message code } } }"""
STEP = """mutation($input: %s!) { %s(input: $input) {
  customer { id onboarding { step deviceLogin { userCode } } } userErrors { code message } } }"""
FINISH = """mutation($input: OnboardingFinishInput!) { onboardingFinish(input: $input) {
  customer { contractType } policiesCreated userErrors { code message } } }"""
POLICIES = """query($id: ID!) { backupPolicies(filter: {customerId: $id}, first: 10) {
  nodes { id name } } }"""
START = """mutation($input: BackupPolicyActionInput!) { backupPolicyStart(input: $input) {
  session { id } userErrors { code message } } }"""
SESSION = """query($id: ID!) { backupSession(id: $id) { status processedObjects endedAt } }"""
FIGURES = """query($id: ID!) { customer(id: $id) {
  licensesUsed backedUpAccounts totalActiveAccounts storageConsumedGb userChange
  licensedUsersHistory { month licensedUsers }
  licensedUsers(first: 3) { totalCount nodes { email protectionStatus lastBackupAt } } } }"""
INTAKE = """mutation($input: SoftwareUsageReportInput!) { softwareUsageReport(input: $input) {
  changed softwareUsage { workload units tenantHasRentalLicense }
  userErrors { field code message } } }"""
REPORTS = """query($months: [Month!]) { usageReports(filter: {months: $months}) {
  nodes { id number month status } } }"""
REPORT = """query($id: ID!) { usageReport(id: $id) {
  number month status usageReportingAdministrator aggregatorAccount
  saasLines(first: 100) { nodes { customerName customer { id } startDate tenantCrmId
    reportedUnits pointsPerUnit points } }
  softwareLines { workload product currentMonthUsage automaticUsage changedFromAutomatic
    points }
  totals { softwarePoints saasPoints reportedPoints minimumCommitPoints
    minimumCommitEnforcementPoints subtotalPoints overagePoints totalPoints } } }"""
CORRECT = """mutation($input: UsageReportCorrectSoftwareLineInput!) {
  usageReportCorrectSoftwareLine(input: $input) {
    softwareLine { workload currentMonthUsage automaticUsage changedFromAutomatic points }
    usageReport { totals { softwarePoints totalPoints } } userErrors { field code message } } }"""
ADD = """mutation($input: UsageReportAddSoftwareLineInput!) {
  usageReportAddSoftwareLine(input: $input) {
    softwareLine { workload product currentMonthUsage automaticUsage changedFromAutomatic
      points }
    userErrors { field code message } } }"""
SUBMIT = """mutation($input: UsageReportSubmitInput!) { usageReportSubmit(input: $input) {
  usageReport { status } userErrors { code } } }"""
CONFIRM = """mutation($input: UsageReportConfirmInput!) { usageReportConfirm(input: $input) {
  usageReport { status } userErrors { code } } }"""


@pytest.fixture
def settings(tmp_path):
    return fast_settings(tmp_path)


def at(c: Clock, *parts: int) -> None:
    c.now = datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


@pytest.fixture
def now() -> Clock:
    c = Clock()
    clock.set_clock(lambda: c.now)
    return c


def codes(payload: dict) -> list[str]:
    return [e["code"] for e in payload["userErrors"]]


async def step(api, token, name, input_type, input):
    data = await api.data(STEP % (input_type, name), {"input": input}, token=token)
    assert data[name]["userErrors"] == [], data
    return data[name]["customer"]


async def backup(api, token, policy_id: str) -> dict:
    started = (await api.data(START, {"input": {"id": policy_id}}, token=token))[
        "backupPolicyStart"
    ]
    assert started["userErrors"] == []
    key = started["session"]["id"]
    from strawberry.relay import from_base64

    await ended(from_base64(key)[1], timeout=60)
    return (await api.data(SESSION, {"id": key}, token=token))["backupSession"]


async def test_register_onboard_back_up_license_report_review_submit(api, settings, now):
    at(now, 2026, 3, 10, 9, 0)
    provider = await make_provider(
        rental_agreement_number="RA-1",
        minimum_commit_points=200,
        usage_reporting_administrator="billing@provider.example",
        aggregator_account="Aggregator Europe",
    )
    user = await make_user(provider, ADMIN)

    def token() -> str:  # minted at the test's time, so the moved clock never expires it
        return token_for(settings, user)

    registered = (
        await api.data(
            REGISTER,
            {
                "input": {
                    "displayName": "Contoso",
                    "externalId": "SUB-CONTOSO",
                    "sourceType": "VCSP_PULSE",
                    "veeamAccountId": "VAC-4711",
                }
            },
            token=token(),
        )
    )["customerRegister"]
    assert registered["userErrors"] == [] and registered["customer"]["contractType"] == "PENDING"
    cid = registered["customer"]["id"]

    # Managed onboarding; the Global Administrator signs in to a 400-user tenant.
    await step(
        api, token(), "onboardingAcceptLegalAgreement", "OnboardingStepInput", {"customerId": cid}
    )
    connect = {"customerId": cid, "region": "EMEA", "retentionYears": 1, "services": ["EXCHANGE"]}
    shown = await step(
        api, token(), "onboardingConnectTenant", "OnboardingConnectTenantInput", connect
    )
    await complete_login(
        shown["onboarding"]["deviceLogin"]["userCode"],
        "tenant-contoso",
        "contoso.onmicrosoft.com",
        users=400,
    )
    await step(
        api, token(), "onboardingCheckDeviceLogin", "OnboardingStepInput", {"customerId": cid}
    )
    finished = (
        await api.data(
            FINISH, {"input": {"customerId": cid, "applyRecommendedPolicies": True}}, token=token()
        )
    )["onboardingFinish"]
    assert finished["userErrors"] == [] and finished["policiesCreated"] == 1

    # The recommended Exchange policy backs up the entire organisation: 400 users, 10 groups.
    listed = await api.data(POLICIES, {"id": cid}, token=token())
    [policy] = listed["backupPolicies"]["nodes"]
    session = await backup(api, token(), policy["id"])
    assert session["status"] == "SUCCESS" and session["processedObjects"] == 410

    customer = await Customer.get(external_id="SUB-CONTOSO")
    directory = await tenant_directory(settings, customer)
    held = sum(_volume(o, {M365Service.EXCHANGE})[0] for o in directory.users + directory.groups)
    figures = (await api.data(FIGURES, {"id": cid}, token=token()))["customer"]
    assert figures["licensesUsed"] == 400
    assert figures["backedUpAccounts"] == 400
    assert figures["totalActiveAccounts"] == 400
    assert figures["storageConsumedGb"] == storage_gb(held) > 0
    assert figures["userChange"] == 400
    assert figures["licensedUsersHistory"] == [{"month": "2026-03", "licensedUsers": 400}]
    assert figures["licensedUsers"]["totalCount"] == 400
    first = figures["licensedUsers"]["nodes"][0]
    assert first["protectionStatus"] == "PROTECTED"
    assert first["lastBackupAt"] == session["endedAt"]
    assert first["email"] in {u.external_id for u in directory.users}

    # Cloud Connect usage arrives through the intake; a repeat changes nothing.
    intake = {
        "month": "2026-03",
        "workloads": [
            {"workload": "CLOUD_CONNECT_BACKUP_VM", "units": 20, "licensedUnits": 30},
            {
                "workload": "CLOUD_CONNECT_BACKUP_VM",
                "units": 5,
                "tenantHasRentalLicense": True,
            },
            {"workload": "PUBLIC_CLOUD_VM", "units": 4},
        ],
    }
    for expected in (True, False):
        got = (await api.data(INTAKE, {"input": intake}, token=token()))["softwareUsageReport"]
        assert got["userErrors"] == [] and got["changed"] is expected

    # April: the server's job generates March's report.
    at(now, 2026, 4, 2, 3, 0)
    await generate_reports(date(2026, 3, 1), refresh=False)
    [listed] = (await api.data(REPORTS, {"months": ["2026-03"]}, token=token()))["usageReports"][
        "nodes"
    ]
    rid = listed["id"]
    report = (await api.data(REPORT, {"id": rid}, token=token()))["usageReport"]
    assert report["status"] == "PENDING_REVIEW"
    assert report["usageReportingAdministrator"] == "billing@provider.example"
    assert report["aggregatorAccount"] == "Aggregator Europe"
    assert report["saasLines"]["nodes"] == [
        {
            "customerName": "Contoso",
            "customer": {"id": cid},
            "startDate": "2026-03-10",
            "tenantCrmId": "VAC-4711",
            "reportedUnits": 400,
            "pointsPerUnit": "2.5",
            "points": "1000.0",
        }
    ]
    lines = {line["workload"]: line for line in report["softwareLines"]}
    # The rental-licence tenants' backups consume nothing: 20 of the 25 count.
    assert lines["CLOUD_CONNECT_BACKUP_VM"]["currentMonthUsage"] == 20
    assert lines["CLOUD_CONNECT_BACKUP_VM"]["points"] == "100.0"
    assert lines["PUBLIC_CLOUD_VM"]["points"] == "44.0"
    assert report["totals"] == {
        "softwarePoints": "144.0",
        "saasPoints": "1000.0",
        "reportedPoints": "1144.0",
        "minimumCommitPoints": "200.0",
        "minimumCommitEnforcementPoints": "0.0",
        "subtotalPoints": "1144.0",
        "overagePoints": "944.0",
        "totalPoints": "1144.0",
    }

    # Review: correct a software line, add a product line; bad values change nothing.
    fix = {"id": rid, "workload": "CLOUD_CONNECT_BACKUP_VM", "currentMonthUsage": 22}
    bad = (await api.data(CORRECT, {"input": {**fix, "currentMonthUsage": -1}}, token=token()))[
        "usageReportCorrectSoftwareLine"
    ]
    assert bad["userErrors"][0]["field"] == ["input", "currentMonthUsage"]
    assert codes(bad) == ["OUT_OF_RANGE"]
    missing = (
        await api.data(
            CORRECT, {"input": {**fix, "workload": "PUBLIC_CLOUD_DATABASE"}}, token=token()
        )
    )["usageReportCorrectSoftwareLine"]
    assert codes(missing) == ["NOT_FOUND"]
    corrected = (await api.data(CORRECT, {"input": fix}, token=token()))[
        "usageReportCorrectSoftwareLine"
    ]
    assert corrected["userErrors"] == []
    assert corrected["softwareLine"] == {
        "workload": "CLOUD_CONNECT_BACKUP_VM",
        "currentMonthUsage": 22,
        "automaticUsage": 20,
        "changedFromAutomatic": True,
        "points": "110.0",
    }
    assert corrected["usageReport"]["totals"] == {
        "softwarePoints": "154.0",
        "totalPoints": "1154.0",
    }
    added = (
        await api.data(
            ADD,
            {"input": {"id": rid, "workload": "PUBLIC_CLOUD_DATABASE", "currentMonthUsage": 2}},
            token=token(),
        )
    )["usageReportAddSoftwareLine"]
    assert added["softwareLine"] == {
        "workload": "PUBLIC_CLOUD_DATABASE",
        "product": "Public Cloud Database",
        "currentMonthUsage": 2,
        "automaticUsage": None,
        "changedFromAutomatic": True,
        "points": "22.0",
    }
    twice = (
        await api.data(
            ADD,
            {"input": {"id": rid, "workload": "PUBLIC_CLOUD_DATABASE", "currentMonthUsage": 1}},
            token=token(),
        )
    )["usageReportAddSoftwareLine"]
    assert codes(twice) == ["DUPLICATE"]
    [audited] = await AuditRecord.filter(
        action="usageReportCorrectSoftwareLine", outcome=AuditOutcome.SUCCESS
    )
    assert (audited.after["current_month_usage"], audited.after["automatic_usage"]) == (22, 20)

    # New intake figures rebuild the report under review, keeping the review's changes.
    intake["workloads"][0]["units"] = 25
    assert (await api.data(INTAKE, {"input": intake}, token=token()))["softwareUsageReport"][
        "changed"
    ]
    report = (await api.data(REPORT, {"id": rid}, token=token()))["usageReport"]
    lines = {line["workload"]: line for line in report["softwareLines"]}
    assert lines["CLOUD_CONNECT_BACKUP_VM"]["automaticUsage"] == 25
    assert lines["CLOUD_CONNECT_BACKUP_VM"]["currentMonthUsage"] == 22
    assert lines["PUBLIC_CLOUD_DATABASE"]["currentMonthUsage"] == 2
    assert report["totals"]["softwarePoints"] == "176.0"  # 110 + 44 + 22
    assert report["totals"]["totalPoints"] == "1176.0"

    # The CSV names the report and carries the same totals, written the same way.
    response = await api.http.get(
        f"/exports/usage-report.csv?id={rid}", headers={"Authorization": f"Bearer {token()}"}
    )
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.text.lstrip("\ufeff"))))
    assert {(r["Report"], r["Month"]) for r in rows} == {(report["number"], "2026-03")}
    csv_totals = {r["Product"]: r["Points"] for r in rows if r["Line"] == "Total"}
    t = report["totals"]
    assert csv_totals == {
        "Reported points (software)": t["softwarePoints"],
        "Reported points (SaaS)": t["saasPoints"],
        "Reported points": t["reportedPoints"],
        "Minimum commit": t["minimumCommitPoints"],
        "Minimum commit enforcement": t["minimumCommitEnforcementPoints"],
        "Subtotal": t["subtotalPoints"],
        "Overage": t["overagePoints"],
        "Total": t["totalPoints"],
    }

    # Submitted, the report never changes: no correction, no new line, no intake.
    submitted = (await api.data(SUBMIT, {"input": {"id": rid}}, token=token()))["usageReportSubmit"]
    assert submitted["usageReport"]["status"] == "SAVED"
    late = (await api.data(CORRECT, {"input": {**fix, "currentMonthUsage": 1}}, token=token()))[
        "usageReportCorrectSoftwareLine"
    ]
    assert codes(late) == ["INVALID_STATE"]
    late_add = (
        await api.data(
            ADD,
            {"input": {"id": rid, "workload": "PUBLIC_CLOUD_FILE_SHARE", "currentMonthUsage": 1}},
            token=token(),
        )
    )["usageReportAddSoftwareLine"]
    assert codes(late_add) == ["INVALID_STATE"]
    intake["workloads"][0]["units"] = 99
    late_intake = (await api.data(INTAKE, {"input": intake}, token=token()))["softwareUsageReport"]
    assert codes(late_intake) == ["INVALID_STATE"]
    assert late_intake["userErrors"][0]["field"] == ["input", "month"]
    confirmed = (await api.data(CONFIRM, {"input": {"id": rid}}, token=token()))[
        "usageReportConfirm"
    ]
    assert confirmed["usageReport"]["status"] == "CONFIRMED"
    after = (await api.data(REPORT, {"id": rid}, token=token()))["usageReport"]
    assert after["totals"] == report["totals"]
    assert after["softwareLines"] == report["softwareLines"]


async def test_licences_are_released_after_31_days_and_months_keep_their_highest_figure(
    api, settings, now
):
    at(now, 2025, 12, 20, 10, 0)
    provider = await make_provider()
    user = await make_user(provider, ADMIN)
    customer = await connected_customer(
        provider, users=12, microsoft_tenant_id="tenant-fabrikam", retention_years=1
    )
    policy = await make_policy(customer, "Mail", services=["EXCHANGE"])
    cid = gid("Customer", customer.id)

    async def figures() -> dict:
        return (await api.data(FIGURES, {"id": cid}, token=token_for(settings, user)))["customer"]

    session = await backup(api, token_for(settings, user), gid("BackupPolicy", policy.id))
    assert session["status"] == "SUCCESS"
    got = await figures()
    assert (got["licensesUsed"], got["userChange"]) == (12, 12)
    assert got["storageConsumedGb"] > 0

    # A new year: the daily job records January's figure; December is reported.
    at(now, 2026, 1, 2, 1, 0)
    await refresh_customers(settings.engine_seed)
    got = await figures()
    assert got["licensedUsersHistory"] == [
        {"month": "2025-12", "licensedUsers": 12},
        {"month": "2026-01", "licensedUsers": 12},
    ]
    assert (got["licensesUsed"], got["userChange"]) == (12, 0)
    await generate_reports(date(2025, 12, 1))
    report = await UsageReport.get(provider_id=provider.id, month=date(2025, 12, 1))
    line = await UsageReportSaasLine.get(report_id=report.id)
    assert (line.reported_units, line.points) == (12, Decimal("30"))

    # 31 days without a backup: still licensed at the mark, released just after it.
    at(now, 2026, 1, 20, 10, 0)
    await refresh_customers(settings.engine_seed)
    assert (await figures())["licensesUsed"] == 12
    at(now, 2026, 1, 20, 10, 1)
    await refresh_customers(settings.engine_seed)
    got = await figures()
    assert got["licensesUsed"] == 0 and got["licensedUsers"]["totalCount"] == 0
    # January keeps its highest daily count: the month is billed for 12.
    assert got["licensedUsersHistory"][-1] == {"month": "2026-01", "licensedUsers": 12}
    assert got["userChange"] == 0
    # Backup data is kept (within retention) after the licence is released.
    assert got["backedUpAccounts"] == 12 and got["storageConsumedGb"] > 0

    # February: no licensed user, no figure; the change is the loss of all twelve.
    at(now, 2026, 2, 3, 1, 0)
    await refresh_customers(settings.engine_seed)
    got = await figures()
    assert len(got["licensedUsersHistory"]) == 2
    assert got["userChange"] == -12

    # A year after the last backup the one-year retention expires it: no storage left.
    at(now, 2026, 12, 20, 10, 1)
    await refresh_customers(settings.engine_seed)
    got = await figures()
    assert (got["backedUpAccounts"], got["storageConsumedGb"]) == (0, 0.0)


async def test_a_backup_again_within_the_window_keeps_the_licence(api, settings, now):
    at(now, 2026, 5, 1, 8, 0)
    provider = await make_provider()
    user = await make_user(provider, ADMIN)
    customer = await connected_customer(provider, users=5, microsoft_tenant_id="tenant-tailspin")
    policy = await make_policy(customer, "Mail", services=["EXCHANGE"])
    await backup(api, token_for(settings, user), gid("BackupPolicy", policy.id))
    at(now, 2026, 5, 30, 8, 0)
    second = await backup(api, token_for(settings, user), gid("BackupPolicy", policy.id))
    at(now, 2026, 6, 20, 8, 0)  # 51 days after the first backup, 21 after the second
    await refresh_customers(settings.engine_seed)
    got = (
        await api.data(
            FIGURES, {"id": gid("Customer", customer.id)}, token=token_for(settings, user)
        )
    )["customer"]
    assert got["licensesUsed"] == 5
    assert {u["lastBackupAt"] for u in got["licensedUsers"]["nodes"]} == {second["endedAt"]}
    # June's figure was recorded by the daily job, May's by the sessions.
    assert [m["month"] for m in got["licensedUsersHistory"]] == ["2026-05", "2026-06"]


async def test_a_large_tenant_backed_up_again_keeps_every_licence(api, settings, now):
    """The second backup of 5,000 users updates each licence and object (more rows than one
    statement may carry parameters for, on either database)."""
    settings.engine_step_seconds = 0.0
    at(now, 2026, 5, 1, 8, 0)
    provider = await make_provider()
    user = await make_user(provider, ADMIN)
    token = token_for(settings, user)
    customer = await connected_customer(provider, users=5000)
    policy = gid("BackupPolicy", (await make_policy(customer, "Mail", services=["EXCHANGE"])).id)
    assert (await backup(api, token, policy))["status"] == "SUCCESS"
    at(now, 2026, 5, 2, 8, 0)
    token = token_for(settings, user)
    second = await backup(api, token, policy)
    assert second["status"] == "SUCCESS"
    got = (await api.data(FIGURES, {"id": gid("Customer", customer.id)}, token=token))["customer"]
    assert got["licensesUsed"] == 5000
    assert got["licensedUsers"]["totalCount"] == 5000
    assert {u["lastBackupAt"] for u in got["licensedUsers"]["nodes"]} == {second["endedAt"]}


async def test_the_guides_example_report_and_its_csv(api, settings, now):
    at(now, 2025, 4, 3, 9, 0)
    provider = await make_provider(minimum_commit_points=200)
    user = await make_user(provider, ADMIN)
    token = token_for(settings, user)
    # Software 604 points: 100 backup VMs (500), 8 workstations (24), 8 replicas (80).
    intake = {
        "month": "2025-03",
        "workloads": [
            {"workload": "CLOUD_CONNECT_BACKUP_VM", "units": 100},
            {"workload": "CLOUD_CONNECT_WORKSTATION", "units": 8},
            {"workload": "CLOUD_CONNECT_REPLICA", "units": 8},
        ],
    }
    assert (await api.data(INTAKE, {"input": intake}, token=token))["softwareUsageReport"][
        "changed"
    ]
    await generate_reports(date(2025, 3, 1))
    report = await UsageReport.get(provider_id=provider.id)
    # The guide's SaaS column (512) is no multiple of 2.5 points per user: its line is
    # stored as the guide prints it, 256 units at 2 points.
    await UsageReportSaasLine.create(
        report=report,
        customer_name="Guide example",
        product="Guide example SaaS",
        unit="User",
        reported_units=256,
        points_per_unit=2,
        points=512,
    )
    rid = gid("UsageReport", report.id)
    totals = (await api.data(REPORT, {"id": rid}, token=token))["usageReport"]["totals"]
    assert totals == {
        "softwarePoints": "604.0",
        "saasPoints": "512.0",
        "reportedPoints": "1116.0",
        "minimumCommitPoints": "200.0",
        "minimumCommitEnforcementPoints": "0.0",
        "subtotalPoints": "1116.0",
        "overagePoints": "916.0",
        "totalPoints": "1116.0",
    }
    response = await api.http.get(
        f"/exports/usage-report.csv?id={rid}", headers={"Authorization": f"Bearer {token}"}
    )
    rows = list(csv.DictReader(io.StringIO(response.text.lstrip("\ufeff"))))
    got = {r["Product"]: r["Points"] for r in rows if r["Line"] == "Total"}
    assert got["Reported points"] == "1116.0" and got["Overage"] == "916.0"
    assert got["Subtotal"] == got["Total"] == "1116.0"


async def test_software_usage_intake_refuses_bad_input_and_writes_nothing(api, settings, now):
    at(now, 2025, 4, 3, 9, 0)
    provider = await make_provider()
    token = token_for(settings, await make_user(provider, ADMIN))
    bad = {
        "month": "2025-05",
        "workloads": [
            {"workload": "PUBLIC_CLOUD_VM", "units": -1},
            {"workload": "PUBLIC_CLOUD_VM", "units": 2, "licensedUnits": 2_000_000},
        ],
    }
    refused = (await api.data(INTAKE, {"input": bad}, token=token))["softwareUsageReport"]
    assert {(tuple(e["field"]), e["code"]) for e in refused["userErrors"]} == {
        (("input", "month"), "INVALID"),
        (("input", "workloads", "0", "units"), "OUT_OF_RANGE"),
        (("input", "workloads", "1", "workload"), "DUPLICATE"),
        (("input", "workloads", "1", "licensedUnits"), "OUT_OF_RANGE"),
    }
    empty = (await api.data(INTAKE, {"input": {"month": "2025-03", "workloads": []}}, token=token))[
        "softwareUsageReport"
    ]
    assert [e["code"] for e in empty["userErrors"]] == ["REQUIRED"]
    from vdc_graph.db.models import SoftwareUsage

    assert not await SoftwareUsage.exists()


async def test_review_and_intake_refusals_write_nothing(api, settings, now):
    at(now, 2025, 4, 3, 9, 0)
    provider = await make_provider()
    admin = token_for(settings, await make_user(provider, ADMIN))
    intake = {"month": "2025-03", "workloads": [{"workload": "PUBLIC_CLOUD_VM", "units": 3}]}
    await api.data(INTAKE, {"input": intake}, token=admin)
    await generate_reports(date(2025, 3, 1))
    report = await UsageReport.get(provider_id=provider.id)
    rid = gid("UsageReport", report.id)
    fix = {"id": rid, "workload": "PUBLIC_CLOUD_VM", "currentMonthUsage": 9}
    add = {"id": rid, "workload": "PUBLIC_CLOUD_DATABASE", "currentMonthUsage": 1}

    reader = token_for(settings, await make_user(provider, [Permission.BACKUP_MANAGEMENT]))
    other = await make_provider()
    stranger = token_for(settings, await make_user(other, ADMIN))
    customer = await connected_customer(provider)
    scoped_user = await make_user(provider, ADMIN, email="admin@scoped.example")
    from vdc_graph.db.models import CustomerAdminUser, SoftwareUsage, UsageReportSoftwareLine

    await CustomerAdminUser.create(
        customer=customer,
        email=scoped_user.email,
        email_key=scoped_user.email,
        first_name="S",
        last_name="U",
    )
    scoped = token_for(settings, scoped_user, customer_id=customer.id)
    for query, variables in ((CORRECT, fix), (ADD, add), (INTAKE, {**intake, "month": "2025-04"})):
        errors = await api.errors(query, {"input": variables}, token=reader)
        assert errors[0]["extensions"]["code"] == "FORBIDDEN"
        errors = await api.errors(query, {"input": variables}, token=scoped)
        assert errors[0]["extensions"]["code"] in ("FORBIDDEN", "NOT_FOUND")
    for query, variables in ((CORRECT, fix), (ADD, add)):
        errors = await api.errors(query, {"input": variables}, token=stranger)
        assert errors[0]["extensions"]["code"] == "NOT_FOUND"
    [line] = await UsageReportSoftwareLine.filter(report_id=report.id)
    assert (line.current_month_usage, line.corrected_at) == (3, None)
    assert await SoftwareUsage.filter(provider_id=provider.id).count() == 1
    assert not await SoftwareUsage.filter(provider_id=other.id).exists()
