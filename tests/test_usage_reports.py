"""Monthly usage reports: generation, exact points, the review workflow and the suspension."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from tests.factories import make_customer, make_provider, make_user, token_for
from vdc_graph import clock
from vdc_graph.db.models import Customer, LicensedUsersMonth, SoftwareUsage, UsageReport
from vdc_graph.enums import Permission, SoftwareWorkload, UsageReportStatus
from vdc_graph.resolvers.usage import reject_report
from vdc_graph.usage_reports import generate_report

W = SoftwareWorkload

REPORT = """query($id: ID!) { usageReport(id: $id) {
  id number rentalAgreementNumber month status rejectionReason purchaseOrderNumber comment
  saasLines(first: 100) { totalCount nodes { customerName product unit reportedUnits
    pointsPerUnit points } }
  softwareLines { product unit licensed reportedPreviousMonth autoReported currentMonthUsage
    pointsPerUnit points }
  totals { softwarePoints saasPoints reportedPoints minimumCommitPoints
    minimumCommitEnforcementPoints subtotalPoints overagePoints totalPoints } } }"""

LIST = """query($filter: UsageReportFilter) { usageReports(filter: $filter) {
  totalCount nodes { id month status } } }"""

SUBMIT = """mutation($input: UsageReportSubmitInput!) { usageReportSubmit(input: $input) {
  usageReport { id status purchaseOrderNumber comment rejectionReason }
  userErrors { field message code } } }"""

CONFIRM = """mutation($input: UsageReportConfirmInput!) { usageReportConfirm(input: $input) {
  usageReport { id status } userErrors { field message code } } }"""

REGISTER = """mutation($input: CustomerRegisterInput!) { customerRegister(input: $input) {
  customer { id } created userErrors { field message code } } }"""

SUSPENSION = "{ licenseManagement { suspended unsubmittedMonths } }"


def at(year: int, month: int, day: int = 10) -> None:
    clock.set_clock(lambda: datetime(year, month, day, 12, 0, tzinfo=UTC))


@pytest.fixture
async def provider(db):
    return await make_provider(rental_agreement_number="RA-7", minimum_commit_points=300)


async def admin_token(provider, settings) -> str:
    """Minted after the test has set its clock, so the token is valid at that time."""
    user = await make_user(provider, [Permission.SITE_SETTINGS, Permission.CUSTOMER_MANAGEMENT])
    return token_for(settings, user)


@pytest.fixture
async def admin(provider, settings):
    return await admin_token(provider, settings)


@pytest.fixture
async def reader(provider, settings):
    return token_for(settings, await make_user(provider, []))


async def seed_example(provider) -> None:
    """The seed's example: three customers with 14, 21 and 31 users in March 2025."""
    for name, users in (("Contoso", 14), ("Fabrikam", 21), ("Northwind", 31)):
        customer = await make_customer(provider, display_name=name)
        await LicensedUsersMonth.create(
            provider=provider, customer=customer, month=date(2025, 3, 1), licensed_users=users
        )
    march, february = date(2025, 3, 1), date(2025, 2, 1)
    await SoftwareUsage.bulk_create(
        [
            SoftwareUsage(
                provider=provider,
                month=march,
                workload=W.CLOUD_CONNECT_BACKUP_VM,
                units=7,
                licensed_units=10,
            ),
            # Backups from a tenant with its own rental licence consume no Cloud Connect licence…
            SoftwareUsage(
                provider=provider,
                month=march,
                workload=W.CLOUD_CONNECT_BACKUP_VM,
                units=3,
                tenant_has_rental_license=True,
            ),
            # …but replicas are not backups: they count.
            SoftwareUsage(
                provider=provider,
                month=march,
                workload=W.CLOUD_CONNECT_REPLICA,
                units=2,
                tenant_has_rental_license=True,
            ),
            SoftwareUsage(
                provider=provider,
                month=march,
                workload=W.PUBLIC_CLOUD_DATABASE,
                units=1,
                auto_reported=False,
            ),
            SoftwareUsage(
                provider=provider, month=february, workload=W.CLOUD_CONNECT_BACKUP_VM, units=5
            ),
        ]
    )


def gid(report: UsageReport) -> str:
    import base64

    return base64.b64encode(f"UsageReport:{report.id}".encode()).decode()


async def test_the_seed_example_gives_exact_points_and_totals(api, provider, reader):
    await seed_example(provider)
    report = await generate_report(provider.id, date(2025, 3, 1))

    data = (await api.data(REPORT, {"id": gid(report)}, token=reader))["usageReport"]
    assert data["month"] == "2025-03" and data["status"] == "PENDING_REVIEW"
    assert data["rentalAgreementNumber"] == "RA-7"
    assert data["number"] == f"UR-{provider.pro_partner_id}-202503"
    saas = data["saasLines"]["nodes"]
    assert [(s["customerName"], s["reportedUnits"], s["points"]) for s in saas] == [
        ("Contoso", 14, "35.0"),
        ("Fabrikam", 21, "52.5"),
        ("Northwind", 31, "77.5"),
    ]
    assert {s["product"] for s in saas} == {"Veeam Data Cloud for Microsoft 365 Flex Per User"}
    assert {(s["unit"], s["pointsPerUnit"]) for s in saas} == {("User", "2.5")}
    software = {s["product"]: s for s in data["softwareLines"]}
    assert software["Cloud Connect Backup VM"] == {
        "product": "Cloud Connect Backup VM",
        "unit": "VM",
        "licensed": 10,
        "reportedPreviousMonth": 5,
        "autoReported": True,
        "currentMonthUsage": 7,
        "pointsPerUnit": "5.0",
        "points": "35.0",
    }
    assert software["Cloud Connect Replica VM"]["points"] == "20.0"
    assert software["Public Cloud Database"]["points"] == "11.0"
    assert software["Public Cloud Database"]["autoReported"] is False
    assert set(software) == {
        "Cloud Connect Backup VM",
        "Cloud Connect Replica VM",
        "Public Cloud Database",
    }
    assert data["totals"] == {
        "softwarePoints": "66.0",
        "saasPoints": "165.0",
        "reportedPoints": "231.0",
        "minimumCommitPoints": "300.0",
        "minimumCommitEnforcementPoints": "69.0",  # below the commit: the rest is billed
        "subtotalPoints": "300.0",
        "overagePoints": "0.0",
        "totalPoints": "300.0",
    }


async def test_overage_is_the_points_above_the_minimum_commit(api, settings, db):
    provider = await make_provider(minimum_commit_points=Decimal("200.5"))
    await seed_example(provider)
    report = await generate_report(provider.id, date(2025, 3, 1))
    user = await make_user(provider, [])
    data = await api.data(REPORT, {"id": gid(report)}, token=token_for(settings, user))
    totals = data["usageReport"]["totals"]
    assert totals["overagePoints"] == "30.5"
    assert totals["minimumCommitEnforcementPoints"] == "0.0"
    assert totals["subtotalPoints"] == "231.0"
    assert totals["totalPoints"] == "231.0"


async def test_thousands_of_lines_sum_without_rounding_error(api, provider, reader):
    # 1,500 lines of 3 users: 7.5 points each, 11,250 in all, to the last digit.
    await Customer.bulk_create(
        [
            Customer(provider=provider, display_name=f"Bulk {i:05d}", external_id=f"B-{i}")
            for i in range(1500)
        ]
    )
    many = await Customer.filter(provider=provider)
    await LicensedUsersMonth.bulk_create(
        [
            LicensedUsersMonth(
                provider=provider, customer=c, month=date(2025, 3, 1), licensed_users=3
            )
            for c in many
        ]
    )
    report = await generate_report(provider.id, date(2025, 3, 1))
    data = (await api.data(REPORT, {"id": gid(report)}, token=reader))["usageReport"]
    assert data["saasLines"]["totalCount"] == 1500
    assert data["totals"]["saasPoints"] == "11250.0"
    assert data["totals"]["overagePoints"] == "10950.0"


async def test_generation_is_idempotent_and_never_changes_a_submitted_report(
    api, provider, settings
):
    at(2025, 4)
    admin = await admin_token(provider, settings)
    await seed_example(provider)
    first = await generate_report(provider.id, date(2025, 3, 1))
    again = await generate_report(provider.id, date(2025, 3, 14))
    assert first.id == again.id and await UsageReport.filter(provider=provider).count() == 1

    # While pending review, a late count is picked up when the report is generated again.
    late = await make_customer(provider, display_name="Late")
    await LicensedUsersMonth.create(
        provider=provider, customer=late, month=date(2025, 3, 1), licensed_users=2
    )
    await generate_report(provider.id, date(2025, 3, 1))
    data = (await api.data(REPORT, {"id": gid(first)}, token=admin))["usageReport"]
    assert data["totals"]["saasPoints"] == "170.0"

    await api.data(SUBMIT, {"input": {"id": gid(first)}}, token=admin)
    await LicensedUsersMonth.filter(customer=late).update(licensed_users=200)
    await generate_report(provider.id, date(2025, 3, 1))
    data = (await api.data(REPORT, {"id": gid(first)}, token=admin))["usageReport"]
    assert data["totals"]["saasPoints"] == "170.0"


async def test_the_workflow_submit_confirm_reject_and_resubmit(api, provider, admin):
    await seed_example(provider)
    report = await generate_report(provider.id, date(2025, 3, 1))
    rid = gid(report)

    result = (
        await api.data(
            SUBMIT,
            {"input": {"id": rid, "purchaseOrderNumber": " PO-42 ", "comment": "As agreed"}},
            token=admin,
        )
    )["usageReportSubmit"]
    assert result["userErrors"] == []
    assert result["usageReport"] == {
        "id": rid,
        "status": "SAVED",
        "purchaseOrderNumber": "PO-42",
        "comment": "As agreed",
        "rejectionReason": None,
    }
    twice = (await api.data(SUBMIT, {"input": {"id": rid}}, token=admin))["usageReportSubmit"]
    assert twice["usageReport"] is None
    assert [e["code"] for e in twice["userErrors"]] == ["INVALID_STATE"]

    confirmed = await api.data(CONFIRM, {"input": {"id": rid}}, token=admin)
    assert confirmed["usageReportConfirm"]["usageReport"]["status"] == "CONFIRMED"
    again = (await api.data(CONFIRM, {"input": {"id": rid}}, token=admin))["usageReportConfirm"]
    assert [e["code"] for e in again["userErrors"]] == ["INVALID_STATE"]

    await reject_report(report.id, "The Contoso count is wrong")
    data = (await api.data(REPORT, {"id": rid}, token=admin))["usageReport"]
    assert data["status"] == "REJECTED"
    assert data["rejectionReason"] == "The Contoso count is wrong"
    listed = await api.data(LIST, {"filter": {"statuses": ["REJECTED"]}}, token=admin)
    assert [n["id"] for n in listed["usageReports"]["nodes"]] == [rid]

    resubmitted = await api.data(SUBMIT, {"input": {"id": rid}}, token=admin)
    assert resubmitted["usageReportSubmit"]["usageReport"]["status"] == "SAVED"
    assert resubmitted["usageReportSubmit"]["usageReport"]["rejectionReason"] is None


async def test_submit_refuses_overlong_fields_and_writes_nothing(api, provider, admin):
    report = await generate_report(provider.id, date(2025, 3, 1))
    result = (
        await api.data(
            SUBMIT,
            {"input": {"id": gid(report), "purchaseOrderNumber": "P" * 101, "comment": "c" * 2001}},
            token=admin,
        )
    )["usageReportSubmit"]
    assert {(tuple(e["field"]), e["code"]) for e in result["userErrors"]} == {
        (("input", "purchaseOrderNumber"), "TOO_LONG"),
        (("input", "comment"), "TOO_LONG"),
    }
    assert (await UsageReport.get(id=report.id)).status is UsageReportStatus.PENDING_REVIEW


async def test_listing_filters_by_month_and_status_newest_first(api, provider, admin):
    for month in (1, 2, 3):
        await generate_report(provider.id, date(2025, month, 1))
    data = await api.data(LIST, {}, token=admin)
    assert [n["month"] for n in data["usageReports"]["nodes"]] == ["2025-03", "2025-02", "2025-01"]
    data = await api.data(LIST, {"filter": {"months": ["2025-02", "2024-12"]}}, token=admin)
    assert [n["month"] for n in data["usageReports"]["nodes"]] == ["2025-02"]


async def test_submitting_needs_site_settings(api, provider, reader):
    report = await generate_report(provider.id, date(2025, 3, 1))
    errors = await api.errors(SUBMIT, {"input": {"id": gid(report)}}, token=reader)
    assert errors[0]["extensions"]["code"] == "FORBIDDEN"
    assert "SITE_SETTINGS" in errors[0]["message"]
    assert (await UsageReport.get(id=report.id)).status is UsageReportStatus.PENDING_REVIEW


async def test_another_providers_report_is_not_found_by_any_path(api, provider, admin):
    other = await make_provider()
    theirs = await generate_report(other.id, date(2025, 3, 1))
    errors = await api.errors(REPORT, {"id": gid(theirs)}, token=admin)
    assert errors[0]["extensions"]["code"] == "NOT_FOUND"
    node = await api.post(
        "query($id: ID!) { node(id: $id) { id } }", {"id": gid(theirs)}, token=admin
    )
    assert node.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert (await api.data(LIST, {}, token=admin))["usageReports"]["totalCount"] == 0
    errors = await api.errors(SUBMIT, {"input": {"id": gid(theirs)}}, token=admin)
    assert errors[0]["extensions"]["code"] == "NOT_FOUND"
    assert (await UsageReport.get(id=theirs.id)).status is UsageReportStatus.PENDING_REVIEW
    response = await api.http.get(
        f"/exports/usage-report.csv?id={gid(theirs)}",
        headers={"Authorization": f"Bearer {admin}"},
    )
    assert response.status_code == 404


async def test_two_consecutive_unsubmitted_months_suspend_licence_management(
    api, provider, settings
):
    at(2025, 6)
    admin = await admin_token(provider, settings)
    march = await generate_report(provider.id, date(2025, 3, 1))
    april = await generate_report(provider.id, date(2025, 4, 1))
    await generate_report(provider.id, date(2025, 6, 1))  # the current month is not past
    await api.data(SUBMIT, {"input": {"id": gid(march)}}, token=admin)
    # March submitted, April not, May not generated yet: one month only, so not suspended.
    assert (await api.data(SUSPENSION, token=admin))["licenseManagement"]["suspended"] is False

    await generate_report(provider.id, date(2025, 5, 1))
    status = (await api.data(SUSPENSION, token=admin))["licenseManagement"]
    assert status == {"suspended": True, "unsubmittedMonths": ["2025-04", "2025-05"]}
    register = {"input": {"displayName": "New", "externalId": "X-1", "sourceType": "DIRECT"}}
    refused = (await api.data(REGISTER, register, token=admin))["customerRegister"]
    assert refused["customer"] is None and refused["created"] is False
    assert [e["code"] for e in refused["userErrors"]] == ["LICENSE_MANAGEMENT_SUSPENDED"]
    assert "April 2025 and May 2025" in refused["userErrors"][0]["message"]

    await api.data(SUBMIT, {"input": {"id": gid(april)}}, token=admin)
    assert (await api.data(SUSPENSION, token=admin))["licenseManagement"]["suspended"] is False
    accepted = (await api.data(REGISTER, register, token=admin))["customerRegister"]
    assert accepted["created"] is True and accepted["userErrors"] == []


async def test_a_rejected_month_counts_as_unsubmitted(api, provider, settings):
    at(2026, 1)  # across the year boundary: November and December 2025
    admin = await admin_token(provider, settings)
    november = await generate_report(provider.id, date(2025, 11, 1))
    await generate_report(provider.id, date(2025, 12, 1))
    await api.data(SUBMIT, {"input": {"id": gid(november)}}, token=admin)
    assert (await api.data(SUSPENSION, token=admin))["licenseManagement"]["suspended"] is False
    await reject_report(november.id, "Missing PO")
    status = (await api.data(SUSPENSION, token=admin))["licenseManagement"]
    assert status == {"suspended": True, "unsubmittedMonths": ["2025-11", "2025-12"]}


async def test_a_reports_lines_download_as_csv(api, provider, reader):
    await seed_example(provider)
    report = await generate_report(provider.id, date(2025, 3, 1))
    response = await api.http.get(
        f"/exports/usage-report.csv?id={gid(report)}",
        headers={"Authorization": f"Bearer {reader}"},
    )
    assert response.status_code == 200, response.text
    assert 'filename="usage-report-2025-03.csv"' in response.headers["content-disposition"]
    lines = response.text.lstrip("\ufeff").splitlines()
    assert lines[0].startswith("Report,Month,Line,Customer,Start date,Tenant CRM ID,Product")
    ident = f"{report.number},2025-03"
    [contoso] = [line for line in lines if line.startswith(f"{ident},SaaS,Contoso,,VAC-")]
    assert contoso.endswith(
        ",Veeam Data Cloud for Microsoft 365 Flex Per User,User,,,,,14,2.5,35.0"
    )
    assert f"{ident},Software,,,,Cloud Connect Backup VM,VM,10,5,yes,7,7,5.0,35.0" in lines
    assert len(lines) == 1 + 3 + 3 + 8


async def test_the_server_job_generates_last_months_missing_reports(provider):
    import asyncio

    from vdc_graph.usage_reports import keep_reports_generated

    at(2026, 1, 1)  # a new year: the report due is December's
    await seed_example(provider)
    other = await make_provider()
    submitted = await generate_report(other.id, date(2025, 12, 1))
    await UsageReport.filter(id=submitted.id).update(status=UsageReportStatus.SAVED)
    job = asyncio.create_task(keep_reports_generated(3600))
    try:
        async with asyncio.timeout(10):
            while await UsageReport.filter(month=date(2025, 12, 1)).count() < 2:
                await asyncio.sleep(0.02)
    finally:
        job.cancel()
    reports = await UsageReport.filter(month=date(2025, 12, 1)).order_by("number")
    assert {r.provider_id for r in reports} == {provider.id, other.id}
    assert (await UsageReport.get(id=submitted.id)).status is UsageReportStatus.SAVED


async def test_a_customer_scoped_caller_sees_no_reports(api, provider, settings):
    from vdc_graph.db.models import CustomerAdminUser

    report = await generate_report(provider.id, date(2025, 3, 1))
    customer = await make_customer(provider)
    user = await make_user(provider, [Permission.SITE_SETTINGS])
    await CustomerAdminUser.create(
        customer=customer,
        email=user.email,
        email_key=user.email_key,
        first_name="A",
        last_name="B",
    )
    token = token_for(settings, user, customer_id=customer.id)
    assert (await api.data(LIST, {}, token=token))["usageReports"]["totalCount"] == 0
    errors = await api.errors(REPORT, {"id": gid(report)}, token=token)
    assert errors[0]["extensions"]["code"] == "NOT_FOUND"
    errors = await api.errors(SUBMIT, {"input": {"id": gid(report)}}, token=token)
    assert errors[0]["extensions"]["code"] == "NOT_FOUND"


async def test_statement_count_does_not_grow_with_the_number_of_reports(
    api, provider, reader, caplog
):
    import logging

    await seed_example(provider)
    for year in (2023, 2024):
        for month in range(1, 13):
            await generate_report(provider.id, date(year, month, 1))
    query = """query($n: Int) { usageReports(first: $n) { nodes { month
      softwareLines { points } totals { totalPoints saasPoints } } } }"""

    async def statements(size: int) -> int:
        caplog.clear()
        with caplog.at_level(logging.DEBUG, logger="tortoise.db_client"):
            data = await api.data(query, {"n": size}, token=reader)
        assert len(data["usageReports"]["nodes"]) == size
        return sum(
            1
            for r in caplog.records
            if r.name == "tortoise.db_client" and "SELECT" in r.getMessage().upper()
        )

    await statements(2)  # the caller is authenticated afresh once, then remembered
    few = await statements(2)
    assert await statements(20) == few
