"""A suspended provider (two consecutive past months' usage reports unsubmitted) is refused every
licence-management change, and only those; submitting one report lifts it."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest

from tests.factories import make_customer, make_provider, make_user, token_for
from tests.test_customer_import import HEADER, run_cli, write_csv
from vdc_graph import clock
from vdc_graph.db.models import (
    Customer,
    Invitation,
    OffboardingRequest,
    Onboarding,
    UsageReport,
)
from vdc_graph.enums import (
    ContractType,
    OnboardingStep,
    Permission,
    UsageReportStatus,
)
from vdc_graph.usage_reports import generate_report, month_start, previous_month

SUSPENDED = ["LICENSE_MANAGEMENT_SUSPENDED"]


def gid(type_name: str, key) -> str:
    return base64.b64encode(f"{type_name}:{key}".encode()).decode()


@pytest.fixture
async def provider(db):
    return await make_provider("Suspended")


async def suspend(provider) -> list[UsageReport]:
    last = previous_month(month_start(clock.now()))
    return [
        await generate_report(provider.id, previous_month(last)),
        await generate_report(provider.id, last),
    ]


@pytest.fixture
async def manager(provider, settings):
    user = await make_user(provider, [Permission.CUSTOMER_MANAGEMENT], email="m@p.example")
    return token_for(settings, user)


def codes(payload: dict) -> list[str]:
    return [e["code"] for e in payload["userErrors"]]


OFFBOARD = """mutation($input: OffboardingRequestCreateInput!) {
  offboardingRequestCreate(input: $input) { offboardingRequest { id } userErrors { code } } }"""


INVITE = """mutation($input: CustomerInviteInput!) { customerInvite(input: $input) {
  invitations { id } userErrors { code } } }"""
FINISH = """mutation($input: OnboardingFinishInput!) { onboardingFinish(input: $input) {
  customer { contractType } userErrors { code } } }"""
SUBMIT = """mutation($input: UsageReportSubmitInput!) { usageReportSubmit(input: $input) {
  usageReport { status } userErrors { code } } }"""


async def test_an_offboarding_request_is_refused(api, provider, manager):
    """Support's review and the deletion job are the operator's, not licence management."""
    await suspend(provider)
    created = await api.data(
        OFFBOARD,
        {
            "input": {
                "customerId": gid("Customer", (await make_customer(provider)).id),
                "desiredDeletionDate": (clock.now().date() + timedelta(days=1)).isoformat(),
                "reason": "Moving on",
            }
        },
        token=manager,
    )
    assert codes(created["offboardingRequestCreate"]) == SUSPENDED
    assert await OffboardingRequest.all().count() == 0


async def test_inviting_and_finishing_onboarding_are_refused(api, provider, manager):
    pending = await make_customer(provider, contract_type=ContractType.PENDING)
    await Onboarding.create(customer=pending, step=OnboardingStep.TENANT_CONNECTED)
    await suspend(provider)
    cid = gid("Customer", pending.id)

    invited = await api.data(
        INVITE, {"input": {"customerId": cid, "emails": "it@contoso.example"}}, token=manager
    )
    assert codes(invited["customerInvite"]) == SUSPENDED
    assert not await Invitation.exists()
    finished = await api.data(
        FINISH, {"input": {"customerId": cid, "applyRecommendedPolicies": False}}, token=manager
    )
    assert codes(finished["onboardingFinish"]) == SUSPENDED
    assert (await Customer.get(id=pending.id)).contract_type is ContractType.PENDING


async def test_submitting_a_report_lifts_the_suspension(api, provider, manager, settings):
    pending = await make_customer(provider, contract_type=ContractType.PENDING)
    await Onboarding.create(customer=pending, step=OnboardingStep.TENANT_CONNECTED)
    earlier, _ = await suspend(provider)
    variables = {"input": {"customerId": gid("Customer", pending.id)}}
    variables["input"]["applyRecommendedPolicies"] = False
    assert codes((await api.data(FINISH, variables, token=manager))["onboardingFinish"]) == (
        SUSPENDED
    )
    site = token_for(settings, await make_user(provider, [Permission.SITE_SETTINGS]))
    submitted = await api.data(
        SUBMIT, {"input": {"id": gid("UsageReport", earlier.id)}}, token=site
    )
    assert submitted["usageReportSubmit"]["usageReport"]["status"] == UsageReportStatus.SAVED
    finished = (await api.data(FINISH, variables, token=manager))["onboardingFinish"]
    assert finished == {"customer": {"contractType": "MONTH_TO_MONTH"}, "userErrors": []}


async def test_the_command_line_import_imports_nothing(provider, db, tmp_path):
    await suspend(provider)
    path = write_csv(tmp_path / "c.csv", HEADER, [["Contoso", "EXT-1", "DIRECT", "", ""]])
    result = run_cli(db, tmp_path, "import-customers", str(path), "--provider", "Suspended")
    assert result.returncode == 2, result.stderr
    assert "Licence management is suspended" in result.stderr
    assert not await Customer.exists()
