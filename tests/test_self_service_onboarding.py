"""Self-service onboarding end to end, and one Microsoft 365 tenant per customer.

The invitee takes the wizard's steps anonymously with the link's token: legal agreement, region
and retention, device login, finish. The customer is active only once its tenant is connected,
and its first backup then succeeds.
"""

from __future__ import annotations

import pytest
from tortoise.exceptions import IntegrityError

from tests.backup_support import connected_customer, ended, fast_settings
from tests.factories import make_customer, make_provider, make_user, token_for
from tests.smtp_server import SmtpServer
from tests.test_email import smtp_settings
from tests.test_invitations import (
    ACCEPT,
    INVITE,
    LOOKUP,
    anonymous,
    connect_tenant,
    step,
    token_in,
)
from tests.test_onboarding import ACCEPT as LEGAL
from tests.test_onboarding import CHECK, CONNECT, gid, pending_customer, run
from vdc_graph import clock
from vdc_graph.db.models import BackupPolicy, BackupSession, Customer, Invitation, Onboarding
from vdc_graph.enums import ContractType, OnboardingStep, Permission, SessionStatus
from vdc_graph.identity.simulator import complete_login
from vdc_graph.notify.deliverers import deliverers
from vdc_graph.notify.outbox import OutboxWorker

START = """
mutation($id: ID!) { backupPolicyStart(input: {id: $id}) {
  session { id status } userErrors { message field code } } }
"""
CUSTOMER = """
query($id: ID!) {
  customer(id: $id) { contractType microsoftTenantId onboarding { step legalAcceptedBy } }
  backupPolicies(filter: {customerId: $id}) { nodes { id name } } }
"""


@pytest.fixture
def settings(tmp_path):
    return fast_settings(tmp_path)


@pytest.fixture
async def provider():
    return await make_provider()


@pytest.fixture
async def manager_user(provider):
    return await make_user(provider, [Permission.CUSTOMER_MANAGEMENT, Permission.BACKUP_MANAGEMENT])


@pytest.fixture
async def manager(manager_user, settings):
    return token_for(settings, manager_user)


async def invite_by_email(api, settings, manager, customer, address: str) -> str:
    """Invite through a real SMTP server; the token is the one in the delivered email's link."""
    server = SmtpServer().start()
    try:
        sent = await api.data(
            INVITE, {"input": {"customerId": gid(customer), "emails": address}}, token=manager
        )
        assert sent["customerInvite"]["userErrors"] == []
        worker = OutboxWorker(deliverers(smtp_settings(settings, server.port)))
        assert await worker.run_once() == 1
    finally:
        server.stop()
    (message,) = server.messages
    assert message["To"] == address
    return token_in(message)


async def test_invitation_email_to_connected_tenant_to_a_successful_first_backup(
    api, settings, provider, manager_user, manager
):
    customer = await pending_customer(provider)
    token = await invite_by_email(api, settings, manager, customer, "it@contoso.com")

    # The accept page: the customer, who invited, until when, where onboarding stands.
    seen = (await anonymous(api, LOOKUP, {"token": token}))["invitation"]
    assert seen["customerName"] == customer.display_name
    assert seen["invitedBy"] == manager_user.email and seen["email"] == "it@contoso.com"
    assert seen["step"] == "LEGAL_AGREEMENT" and seen["expired"] is False
    assert seen["deviceLogin"] is None and seen["expiresAt"]

    # Finishing before the tenant is connected is refused, and nothing changes.
    early = await anonymous(api, ACCEPT, {"input": {"token": token}})
    assert [e["code"] for e in early["invitationAccept"]["userErrors"]] == ["WRONG_STEP"]
    assert (await Customer.get(id=customer.id)).contract_type is ContractType.PENDING
    assert (await Invitation.get(customer_id=customer.id)).accepted_at is None

    # The invitee confirms the legal agreement themselves, and it is recorded as theirs.
    legal = await step(api, "invitationAcceptLegalAgreement", token)
    assert legal["userErrors"] == [] and legal["invitation"]["step"] == "CONNECT_TENANT"
    onboarding = await Onboarding.get(customer_id=customer.id)
    assert onboarding.legal_accepted_by == "it@contoso.com" and onboarding.legal_accepted_at

    connected = await step(api, "invitationConnectTenant", token, region="EMEA", retentionYears=5)
    assert connected["userErrors"] == []
    login = connected["invitation"]["deviceLogin"]
    assert connected["invitation"]["step"] == "AWAITING_DEVICE_LOGIN" and login["userCode"]
    waiting = await step(api, "invitationCheckDeviceLogin", token)
    assert waiting["userErrors"] == [] and waiting["invitation"]["step"] == "AWAITING_DEVICE_LOGIN"

    # The Global Administrator signs in at (simulated) Microsoft with the code.
    await complete_login(login["userCode"], None, customer.m365_account)
    checked = await step(api, "invitationCheckDeviceLogin", token)
    assert checked["userErrors"] == [] and checked["invitation"]["step"] == "TENANT_CONNECTED"

    accepted = (await anonymous(api, ACCEPT, {"input": {"token": token}}))["invitationAccept"]
    assert accepted["userErrors"] == [] and accepted["policiesCreated"] == 3
    assert (await anonymous(api, LOOKUP, {"token": token}))["invitation"] is None  # used

    seen = await api.data(CUSTOMER, {"id": gid(customer)}, token=manager)
    state = seen["customer"]
    assert state["contractType"] == "MONTH_TO_MONTH" and state["microsoftTenantId"]
    assert state["onboarding"] == {"step": "FINISHED", "legalAcceptedBy": "it@contoso.com"}

    # The first backup of the self-onboarded customer succeeds (its tenant is connected).
    first = seen["backupPolicies"]["nodes"][0]
    started = (await api.data(START, {"id": first["id"]}, token=manager))["backupPolicyStart"]
    assert started["userErrors"] == []
    (session,) = await BackupSession.filter(customer_id=customer.id)
    assert (await ended(session.id)).status is SessionStatus.SUCCESS


async def test_a_token_opens_its_own_customer_only_and_dies_with_a_resend(
    api, settings, provider, manager
):
    mine = await pending_customer(provider)
    other = await pending_customer(provider)
    token = await invite_by_email(api, settings, manager, mine, "a@contoso.com")
    await step(api, "invitationAcceptLegalAgreement", token)
    assert (await Onboarding.get(customer_id=mine.id)).step is OnboardingStep.CONNECT_TENANT
    assert (await Onboarding.get(customer_id=other.id)).step is OnboardingStep.LEGAL_AGREEMENT
    # A resend replaces the link: the old token opens nothing and changes nothing.
    await invite_by_email(api, settings, manager, mine, "a@contoso.com")
    assert (await anonymous(api, LOOKUP, {"token": token}))["invitation"] is None
    old = await step(api, "invitationConnectTenant", token, region="EMEA", retentionYears=1)
    assert [e["code"] for e in old["userErrors"]] == ["NOT_FOUND"]
    assert (await Onboarding.get(customer_id=mine.id)).step is OnboardingStep.CONNECT_TENANT


async def test_a_tenant_connected_to_another_providers_customer_is_refused(
    api, settings, provider, manager
):
    elsewhere = await connected_customer(
        await make_provider("Other"), microsoft_tenant_id="tenant-shared"
    )
    customer = await pending_customer(provider)
    customer.m365_account = elsewhere.m365_account
    await customer.save()
    token = await invite_by_email(api, settings, manager, customer, "a@contoso.com")
    checked = await connect_tenant(api, token, elsewhere.m365_account, tenant_id="tenant-shared")
    (error,) = checked["userErrors"]
    assert error["code"] == "DUPLICATE" and "tenant-shared" in error["message"]
    assert error["field"] == ["input", "token"]
    stored = await Customer.get(id=customer.id)
    assert not stored.microsoft_tenant_id and stored.contract_type is ContractType.PENDING
    onboarding = await Onboarding.get(customer_id=customer.id)
    assert onboarding.step is OnboardingStep.AWAITING_DEVICE_LOGIN
    assert onboarding.tenant_connected_at is None

    # Once the other customer is deleted (offboarded), the tenant may connect here.
    elsewhere.deleted_at = clock.now()
    await elsewhere.save()
    again = await step(api, "invitationCheckDeviceLogin", token)
    assert again["userErrors"] == [] and again["invitation"]["step"] == "TENANT_CONNECTED"


async def test_the_database_keeps_one_existing_customer_per_tenant(db):
    first = await make_customer(await make_provider(), microsoft_tenant_id="t-1")
    with pytest.raises(IntegrityError):
        await make_customer(await make_provider("B"), microsoft_tenant_id="t-1")
    # Customers without a tenant yet, and deleted ones, do not count.
    await make_customer(await make_provider("C"), microsoft_tenant_id="")
    await make_customer(await make_provider("D"), microsoft_tenant_id="")
    first.deleted_at = clock.now()
    await first.save()
    await make_customer(await make_provider("E"), microsoft_tenant_id="t-1")


async def managed_sign_in(api, manager, customer, tenant_id: str, domain: str) -> dict:
    """The provider's wizard up to the device login, the sign-in at Microsoft, and the check."""
    cid = gid(customer)
    await run(api, manager, LEGAL, "onboardingAcceptLegalAgreement", {"customerId": cid})
    r = await run(
        api,
        manager,
        CONNECT,
        "onboardingConnectTenant",
        {"customerId": cid, "region": "EMEA", "retentionYears": 1},
    )
    await complete_login(r["customer"]["onboarding"]["deviceLogin"]["userCode"], tenant_id, domain)
    return await run(api, manager, CHECK, "onboardingCheckDeviceLogin", {"customerId": cid})


async def test_managed_sign_in_for_another_domain_is_refused_naming_both(api, provider, manager):
    customer = await pending_customer(provider)
    r = await managed_sign_in(api, manager, customer, "tenant-x", "fabrikam.onmicrosoft.com")
    (error,) = r["userErrors"]
    assert error["code"] == "MISMATCH"
    assert "fabrikam.onmicrosoft.com" in error["message"]
    assert customer.m365_account in error["message"]
    stored = await Customer.get(id=customer.id)
    assert not stored.microsoft_tenant_id and stored.m365_account == customer.m365_account
    assert (await Onboarding.get(customer_id=customer.id)).step is (
        OnboardingStep.AWAITING_DEVICE_LOGIN
    )


async def test_an_unregistered_account_is_filled_in_from_the_sign_in(api, provider, manager):
    customer = await pending_customer(provider)
    customer.m365_account = ""
    await customer.save()
    r = await managed_sign_in(api, manager, customer, "t-9", "Fabrikam.OnMicrosoft.com")
    assert r["userErrors"] == []
    stored = await Customer.get(id=customer.id)
    assert stored.m365_account == "fabrikam.onmicrosoft.com" and stored.microsoft_tenant_id == "t-9"
    assert await BackupPolicy.filter(customer_id=customer.id).count() == 0
