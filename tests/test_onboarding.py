"""Managed onboarding through GraphQL: every step, wrong orders, the simulated device login."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.factories import make_customer, make_provider, make_user, token_for
from tests.test_outbox import Clock
from vdc_graph import clock
from vdc_graph.db.models import BackupPolicy, Customer, Onboarding
from vdc_graph.enums import ContractType, OnboardingStep, Permission
from vdc_graph.identity.simulator import complete_login
from vdc_graph.resolvers.recommended_policies import create_recommended_policies

STATE = """
query($id: ID!) { customer(id: $id) { contractType activationDate microsoftTenantId
  settings { region retentionYears retentionUnlimited protectedServices }
  onboarding { step legalAcceptedBy legalAcceptedAt region retentionYears retentionUnlimited
    services tenantConnectedAt finishedAt customAppId appliedRecommendedPolicies
    deviceLogin { userCode verificationUrl expiresAt intervalSeconds expired } } } }
"""


def step_mutation(name: str, input_type: str = "OnboardingStepInput") -> str:
    return f"""
mutation($input: {input_type}!) {{ {name}(input: $input) {{
  customer {{ id onboarding {{ step deviceLogin {{ userCode expired }} }} }}
  userErrors {{ message field code }} }} }}
"""


ACCEPT = step_mutation("onboardingAcceptLegalAgreement")
CONNECT = step_mutation("onboardingConnectTenant", "OnboardingConnectTenantInput")
RENEW = step_mutation("onboardingRenewDeviceCode")
CHECK = step_mutation("onboardingCheckDeviceLogin")
BACK = step_mutation("onboardingGoBack")
SIMULATE = step_mutation("onboardingSimulateDeviceLogin", "OnboardingSimulateDeviceLoginInput")
FINISH = """
mutation($input: OnboardingFinishInput!) { onboardingFinish(input: $input) {
  customer { contractType activationDate onboarding { step appliedRecommendedPolicies } }
  policiesCreated userErrors { message field code } } }
"""


def clock_from_now() -> Clock:
    """A clock the test moves by hand, starting now (tokens are minted with the real time)."""
    c = Clock()
    c.now = datetime.now(UTC).replace(microsecond=0)
    clock.set_clock(lambda: c.now)
    return c


def gid(customer: Customer) -> str:
    import base64

    return base64.b64encode(f"Customer:{customer.id}".encode()).decode()


@pytest.fixture
async def provider():
    return await make_provider()


@pytest.fixture
async def manager(provider, settings):
    return token_for(settings, await make_user(provider, [Permission.CUSTOMER_MANAGEMENT]))


async def pending_customer(provider) -> Customer:
    customer = await make_customer(provider, contract_type=ContractType.PENDING)
    await Onboarding.create(customer=customer)
    return customer


async def run(api, token, mutation, name, input):
    data = await api.data(mutation, {"input": input}, token=token)
    return data[name]


async def test_the_whole_managed_wizard(api, provider, manager):
    now = clock_from_now()
    customer = await pending_customer(provider)
    cid = gid(customer)
    state = (await api.data(STATE, {"id": cid}, token=manager))["customer"]
    assert state["onboarding"]["step"] == "LEGAL_AGREEMENT"
    assert state["contractType"] == "PENDING" and state["activationDate"] is None

    r = await run(api, manager, ACCEPT, "onboardingAcceptLegalAgreement", {"customerId": cid})
    assert r["userErrors"] == [] and r["customer"]["onboarding"]["step"] == "CONNECT_TENANT"

    r = await run(
        api,
        manager,
        CONNECT,
        "onboardingConnectTenant",
        {
            "customerId": cid,
            "region": "EMEA",
            "retentionYears": 7,
            "services": ["EXCHANGE", "TEAMS"],
        },
    )
    assert r["userErrors"] == []
    login = r["customer"]["onboarding"]["deviceLogin"]
    assert r["customer"]["onboarding"]["step"] == "AWAITING_DEVICE_LOGIN"
    assert len(login["userCode"]) == 9 and login["expired"] is False

    # Not signed in yet: still waiting, not an error.
    r = await run(api, manager, CHECK, "onboardingCheckDeviceLogin", {"customerId": cid})
    assert r["userErrors"] == [] and r["customer"]["onboarding"]["step"] == "AWAITING_DEVICE_LOGIN"

    # The code expires; it cannot be used, and is renewed.
    now.advance(minutes=16)
    r = await run(api, manager, CHECK, "onboardingCheckDeviceLogin", {"customerId": cid})
    assert [e["code"] for e in r["userErrors"]] == ["EXPIRED"]
    state = (await api.data(STATE, {"id": cid}, token=manager))["customer"]
    assert state["onboarding"]["deviceLogin"]["expired"] is True
    r = await run(api, manager, RENEW, "onboardingRenewDeviceCode", {"customerId": cid})
    renewed = r["customer"]["onboarding"]["deviceLogin"]
    assert renewed["userCode"] != login["userCode"] and renewed["expired"] is False
    # A valid code is not renewed.
    r = await run(api, manager, RENEW, "onboardingRenewDeviceCode", {"customerId": cid})
    assert [e["code"] for e in r["userErrors"]] == ["INVALID_STATE"]

    # The Global Administrator signs in at (simulated) Microsoft.
    await complete_login(renewed["userCode"], "tenant-123", customer.m365_account)
    r = await run(api, manager, CHECK, "onboardingCheckDeviceLogin", {"customerId": cid})
    assert r["customer"]["onboarding"]["step"] == "TENANT_CONNECTED"
    # No going back once connected.
    r = await run(api, manager, BACK, "onboardingGoBack", {"customerId": cid})
    assert [e["code"] for e in r["userErrors"]] == ["WRONG_STEP"]

    r = await run(
        api,
        manager,
        FINISH,
        "onboardingFinish",
        {"customerId": cid, "applyRecommendedPolicies": True},
    )
    assert r["userErrors"] == [] and r["policiesCreated"] == 2
    assert r["customer"]["contractType"] == "MONTH_TO_MONTH"
    activated = (now.now).isoformat().replace("+00:00", "Z")
    assert r["customer"]["activationDate"] == activated
    assert r["customer"]["onboarding"] == {"step": "FINISHED", "appliedRecommendedPolicies": True}
    state = (await api.data(STATE, {"id": cid}, token=manager))["customer"]
    assert state["microsoftTenantId"] == "tenant-123"
    assert state["settings"] == {
        "region": "EMEA",
        "retentionYears": 7,
        "retentionUnlimited": False,
        "protectedServices": ["EXCHANGE", "TEAMS"],
    }
    assert state["onboarding"]["legalAcceptedBy"].endswith("@example.com")
    assert state["onboarding"]["services"] == ["EXCHANGE", "TEAMS"]
    policies = await BackupPolicy.filter(customer_id=customer.id).order_by("name")
    assert [p.services for p in policies] == [["EXCHANGE"], ["TEAMS"]]
    assert all(
        p.enabled and p.next_run and p.backup_type.value == "ENTIRE_ORGANIZATION" for p in policies
    )

    # Finished: every step is refused.
    r = await run(api, manager, ACCEPT, "onboardingAcceptLegalAgreement", {"customerId": cid})
    assert [e["code"] for e in r["userErrors"]] == ["INVALID_STATE"]


async def test_finishing_without_policies_and_the_development_simulation(api, provider, manager):
    customer = await pending_customer(provider)
    cid = gid(customer)
    await run(api, manager, ACCEPT, "onboardingAcceptLegalAgreement", {"customerId": cid})
    await run(
        api,
        manager,
        CONNECT,
        "onboardingConnectTenant",
        {"customerId": cid, "region": "AMER", "retentionUnlimited": True},
    )
    r = await run(api, manager, SIMULATE, "onboardingSimulateDeviceLogin", {"customerId": cid})
    assert r["userErrors"] == []
    r = await run(api, manager, CHECK, "onboardingCheckDeviceLogin", {"customerId": cid})
    assert r["customer"]["onboarding"]["step"] == "TENANT_CONNECTED"
    r = await run(
        api,
        manager,
        FINISH,
        "onboardingFinish",
        {"customerId": cid, "applyRecommendedPolicies": False},
    )
    assert r["policiesCreated"] == 0 and r["customer"]["contractType"] == "MONTH_TO_MONTH"
    assert await BackupPolicy.filter(customer_id=customer.id).count() == 0
    stored = await Customer.get(id=customer.id)
    assert stored.retention_years is None and stored.protected_services == [
        "EXCHANGE",
        "ONEDRIVE_SHAREPOINT",
        "TEAMS",
    ]


async def test_wrong_order_repeats_and_bad_values_change_nothing(api, provider, manager):
    customer = await pending_customer(provider)
    cid = gid(customer)
    r = await run(api, manager, CHECK, "onboardingCheckDeviceLogin", {"customerId": cid})
    assert [e["code"] for e in r["userErrors"]] == ["WRONG_STEP"] and r["customer"] is None
    r = await run(
        api,
        manager,
        FINISH,
        "onboardingFinish",
        {"customerId": cid, "applyRecommendedPolicies": True},
    )
    assert [e["code"] for e in r["userErrors"]] == ["WRONG_STEP"]
    r = await run(
        api,
        manager,
        CONNECT,
        "onboardingConnectTenant",
        {"customerId": cid, "region": "EMEA", "retentionYears": 3},
    )
    assert [e["code"] for e in r["userErrors"]] == ["WRONG_STEP"]
    await run(api, manager, ACCEPT, "onboardingAcceptLegalAgreement", {"customerId": cid})
    r = await run(api, manager, ACCEPT, "onboardingAcceptLegalAgreement", {"customerId": cid})
    assert [e["code"] for e in r["userErrors"]] == ["WRONG_STEP"]
    for bad, code, field in [
        ({"retentionYears": 0}, "OUT_OF_RANGE", "retentionYears"),
        ({"retentionYears": 26}, "OUT_OF_RANGE", "retentionYears"),
        ({}, "REQUIRED", "retentionYears"),
        ({"retentionYears": 3, "retentionUnlimited": True}, "INVALID", "retentionYears"),
        ({"retentionYears": 3, "services": []}, "REQUIRED", "services"),
        (
            {"retentionYears": 3, "customApp": {"applicationId": "x", "credentialReference": "k"}},
            "INVALID",
            "customApp",
        ),
        (
            {"retentionYears": 3, "customApp": {"applicationId": "", "credentialReference": "k"}},
            "REQUIRED",
            "customApp",
        ),
    ]:
        r = await run(
            api,
            manager,
            CONNECT,
            "onboardingConnectTenant",
            {"customerId": cid, "region": "EMEA", **bad},
        )
        assert [e["code"] for e in r["userErrors"]] == [code], bad
        assert r["userErrors"][0]["field"][:2] == ["input", field]
    onboarding = await Onboarding.get(customer_id=customer.id)
    assert onboarding.step is OnboardingStep.CONNECT_TENANT and onboarding.region is None
    assert onboarding.device_code is None
    # Going back: to the legal agreement, which is then asked again.
    r = await run(api, manager, BACK, "onboardingGoBack", {"customerId": cid})
    assert r["customer"]["onboarding"]["step"] == "LEGAL_AGREEMENT"
    r = await run(api, manager, BACK, "onboardingGoBack", {"customerId": cid})
    assert [e["code"] for e in r["userErrors"]] == ["WRONG_STEP"]


async def test_custom_app_registration_is_kept(api, provider, manager):
    customer = await pending_customer(provider)
    cid = gid(customer)
    await run(api, manager, ACCEPT, "onboardingAcceptLegalAgreement", {"customerId": cid})
    app_id = "0f0e0d0c-0b0a-0908-0706-050403020100"
    r = await run(
        api,
        manager,
        CONNECT,
        "onboardingConnectTenant",
        {
            "customerId": cid,
            "region": "APJ",
            "retentionYears": 25,
            "customApp": {"applicationId": app_id, "credentialReference": "vault://certs/contoso"},
        },
    )
    assert r["userErrors"] == []
    state = (await api.data(STATE, {"id": cid}, token=manager))["customer"]
    assert state["onboarding"]["customAppId"] == app_id
    assert state["onboarding"]["retentionYears"] == 25


async def test_refusals_rights_tenancy_and_production(api, provider, manager, settings):
    customer = await pending_customer(provider)
    cid = gid(customer)
    reader = token_for(settings, await make_user(provider, []))
    errors = await api.errors(ACCEPT, {"input": {"customerId": cid}}, token=reader)
    assert errors[0]["extensions"]["code"] == "FORBIDDEN"
    other = await make_provider("Other")
    stranger = token_for(settings, await make_user(other, [Permission.CUSTOMER_MANAGEMENT]))
    for mutation, extra in [
        (ACCEPT, {}),
        (CONNECT, {"region": "EMEA", "retentionYears": 2}),
        (RENEW, {}),
        (CHECK, {}),
        (BACK, {}),
        (SIMULATE, {}),
        (FINISH, {"applyRecommendedPolicies": True}),
    ]:
        errors = await api.errors(mutation, {"input": {"customerId": cid, **extra}}, token=stranger)
        assert errors[0]["extensions"]["code"] == "NOT_FOUND"
        errors = await api.errors(mutation, {"input": {"customerId": cid, **extra}}, token=reader)
        assert errors[0]["extensions"]["code"] == "FORBIDDEN"
    onboarding = await Onboarding.get(customer_id=customer.id)
    assert (
        onboarding.step is OnboardingStep.LEGAL_AGREEMENT and onboarding.legal_accepted_at is None
    )


async def test_the_simulation_is_refused_in_production(db, provider, settings):
    from vdc_graph.context import RequestContext
    from vdc_graph.errors import Forbidden
    from vdc_graph.resolvers import onboarding
    from vdc_graph.resolvers.ids import Ref

    prod = settings.model_copy(update={"mode": "production"})
    ctx = RequestContext(settings=prod)
    customer = await pending_customer(provider)
    with pytest.raises(Forbidden):
        await onboarding.simulate_device_login(ctx, Ref("Customer", str(customer.id)), None, "")


async def test_recommended_policy_names_stay_unique(db, provider):
    customer = await make_customer(provider)
    first = await create_recommended_policies(customer)
    second = await create_recommended_policies(customer)
    assert len(first) == len(second) == 3
    names = {p.name for p in first + second}
    assert len(names) == 6 and "Exchange - entire organization (2)" in names
    assert all(p.next_run > p.created_at - timedelta(seconds=1) for p in first)


async def test_the_command_line_completes_a_device_login(api, provider, manager, db, tmp_path):
    from tests.test_customer_import import run_cli

    customer = await pending_customer(provider)
    cid = gid(customer)
    await run(api, manager, ACCEPT, "onboardingAcceptLegalAgreement", {"customerId": cid})
    r = await run(
        api,
        manager,
        CONNECT,
        "onboardingConnectTenant",
        {"customerId": cid, "region": "EMEA", "retentionYears": 1},
    )
    code = r["customer"]["onboarding"]["deviceLogin"]["userCode"]
    unknown = run_cli(db, tmp_path, "complete-device-login", "NOSUCHCODE")
    assert unknown.returncode != 0 and "no pending device login" in unknown.stderr
    result = run_cli(
        db,
        tmp_path,
        "complete-device-login",
        code.lower(),
        "--tenant-domain",
        customer.m365_account.upper(),  # domains compare case-insensitively
    )
    assert result.returncode == 0, result.stderr
    r = await run(api, manager, CHECK, "onboardingCheckDeviceLogin", {"customerId": cid})
    assert r["customer"]["onboarding"]["step"] == "TENANT_CONNECTED"
    stored = await Customer.get(id=customer.id)
    assert stored.microsoft_tenant_id  # a new tenant ID was reported


DEVICE_STATE = """
query($id: ID!) { customer(id: $id) { onboarding { step deviceLogin { userCode state } } } }
"""


async def test_the_device_login_is_followed_by_a_query(api, provider, manager, settings):
    """The wizard polls a query (no change, a query's rate cost) until the sign-in happened;
    then one mutation connects the tenant."""
    customer = await pending_customer(provider)
    cid = gid(customer)
    await run(api, manager, ACCEPT, "onboardingAcceptLegalAgreement", {"customerId": cid})
    confirmed = await api.data(
        "query($id: ID!) { platform { legalAgreement { version } } "
        "customer(id: $id) { onboarding { legalAgreementVersion } } }",
        {"id": cid},
        token=manager,
    )
    assert (
        confirmed["customer"]["onboarding"]["legalAgreementVersion"]
        == (confirmed["platform"]["legalAgreement"]["version"])
    )
    await run(
        api,
        manager,
        CONNECT,
        "onboardingConnectTenant",
        {"customerId": cid, "region": "EMEA", "retentionYears": 3},
    )
    reader = token_for(settings, await make_user(provider, []))  # reading is enough
    response = await api.post(DEVICE_STATE, {"id": cid}, token=reader)
    onboarding = response.json()["data"]["customer"]["onboarding"]
    assert onboarding["deviceLogin"]["state"] == "PENDING"
    assert response.json()["extensions"]["rateLimit"]["cost"] == 1
    await complete_login(onboarding["deviceLogin"]["userCode"], "tenant-9", customer.m365_account)
    again = (await api.data(DEVICE_STATE, {"id": cid}, token=reader))["customer"]["onboarding"]
    # Reading changed nothing: still waiting for the one mutation that connects.
    assert again == {
        **onboarding,
        "deviceLogin": {**onboarding["deviceLogin"], "state": "COMPLETED"},
    }
    r = await run(api, manager, CHECK, "onboardingCheckDeviceLogin", {"customerId": cid})
    assert r["customer"]["onboarding"] == {"step": "TENANT_CONNECTED", "deviceLogin": None}
