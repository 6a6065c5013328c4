"""Self-service onboarding: invitations emailed through a real SMTP server, then accepted."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

import pytest

from tests.factories import make_customer, make_provider, make_user, token_for
from tests.smtp_server import SmtpServer, free_port
from tests.test_email import smtp_settings
from tests.test_onboarding import clock_from_now, gid, pending_customer
from vdc_graph.db.models import BackupPolicy, Customer, Invitation, OutboxMessage
from vdc_graph.enums import ContractType, DeliveryStatus, Permission
from vdc_graph.identity.simulator import complete_login
from vdc_graph.notify.deliverers import deliverers
from vdc_graph.notify.outbox import OutboxWorker, RetryPolicy

INVITE = """
mutation($input: CustomerInviteInput!) { customerInvite(input: $input) {
  invitations { id email sendCount sentAt expiresAt acceptedAt }
  customer { invitations { email sendCount } }
  userErrors { message field code } } }
"""
ACCEPT = """
mutation($input: InvitationStepInput!) { invitationAccept(input: $input) {
  customerDisplayName activationDate policiesCreated userErrors { message field code } } }
"""
VIEW = "email customerName invitedBy expiresAt expired step deviceLogin { userCode expired }"
STEP = (
    "mutation($input: %s!) { %s(input: $input) { invitation { "
    + VIEW
    + " } userErrors { message field code } } }"
)
LOOKUP = "query($token: String!) { invitation(token: $token) { " + VIEW + " } }"
LINK = re.compile(r"token=([A-Za-z0-9_\-%]+)")


@pytest.fixture
async def provider():
    return await make_provider()


@pytest.fixture
async def manager(provider, settings):
    return token_for(settings, await make_user(provider, [Permission.CUSTOMER_MANAGEMENT]))


def token_in(message) -> str:
    from urllib.parse import unquote

    return unquote(LINK.search(message.get_content()).group(1))


async def anonymous(api, query: str, variables: dict) -> dict:
    """What the holder of a link sees: no bearer token at all."""
    response = await api.post(query, variables)
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body["errors"]
    return body["data"]


async def step(api, name: str, token: str, **extra) -> dict:
    input_type = "InvitationConnectTenantInput" if name == "invitationConnectTenant" else None
    query = STEP % (input_type or "InvitationStepInput", name)
    return (await anonymous(api, query, {"input": {"token": token, **extra}}))[name]


async def accept(api, token: str) -> dict:
    return (await anonymous(api, ACCEPT, {"input": {"token": token}}))["invitationAccept"]


async def connect_tenant(api, token: str, domain: str, tenant_id=None, **choices) -> dict:
    """The invitee's steps up to the device login, then the Global Administrator signs in at the
    simulated Microsoft; the answer is that of checking the login."""
    legal = await step(api, "invitationAcceptLegalAgreement", token)
    assert legal["userErrors"] == [], legal
    choices = {"region": "EMEA", "retentionYears": 3, **choices}
    connected = await step(api, "invitationConnectTenant", token, **choices)
    assert connected["userErrors"] == [], connected
    await complete_login(connected["invitation"]["deviceLogin"]["userCode"], tenant_id, domain)
    return await step(api, "invitationCheckDeviceLogin", token)


async def onboard(api, token: str, domain: str, **choices) -> dict:
    checked = await connect_tenant(api, token, domain, **choices)
    assert checked["userErrors"] == [], checked
    return await accept(api, token)


async def test_the_whole_invite_flow_through_smtp(api, provider, manager, settings):
    customer = await pending_customer(provider)
    cid = gid(customer)
    server = SmtpServer().start()
    try:
        worker = OutboxWorker(deliverers(smtp_settings(settings, server.port)))
        data = await api.data(
            INVITE,
            {
                "input": {
                    "customerId": cid,
                    "emails": "anna@contoso.com, bob@contoso.com  ANNA@contoso.com",
                }
            },
            token=manager,
        )
        result = data["customerInvite"]
        assert result["userErrors"] == []
        assert [(i["email"], i["sendCount"]) for i in result["invitations"]] == [
            ("anna@contoso.com", 1),
            ("bob@contoso.com", 1),
        ]
        assert await worker.run_once() == 2
        # Sending again is a resend: the count goes up and only the newest link works.
        data = await api.data(
            INVITE, {"input": {"customerId": cid, "emails": "anna@contoso.com"}}, token=manager
        )
        assert data["customerInvite"]["customer"]["invitations"] == [
            {"email": "anna@contoso.com", "sendCount": 2},
            {"email": "bob@contoso.com", "sendCount": 1},
        ]
        assert await worker.run_once() == 1
    finally:
        server.stop()
    assert [m["To"] for m in server.messages] == [
        "anna@contoso.com",
        "bob@contoso.com",
        "anna@contoso.com",
    ]
    first_link, _, resent_link = (token_in(m) for m in server.messages)
    assert first_link != resent_link
    assert customer.display_name in server.messages[0]["Subject"]

    stale = await step(api, "invitationAcceptLegalAgreement", first_link)
    assert [e["code"] for e in stale["userErrors"]] == ["NOT_FOUND"]
    accepted = await onboard(api, resent_link, customer.m365_account, services=["EXCHANGE"])
    assert accepted["userErrors"] == []
    assert accepted["customerDisplayName"] == customer.display_name
    assert accepted["activationDate"] and accepted["policiesCreated"] == 1
    stored = await Customer.get(id=customer.id)
    assert stored.contract_type is ContractType.MONTH_TO_MONTH and stored.activation_date
    assert [p.services for p in await BackupPolicy.filter(customer_id=customer.id)] == [
        ["EXCHANGE"]
    ]
    # Single use.
    again = await accept(api, resent_link)
    assert [e["code"] for e in again["userErrors"]] == ["NOT_FOUND"]


async def test_no_policies_when_auto_create_is_off(api, provider, manager, settings):
    customer = await pending_customer(provider)
    customer.auto_create_policies = False
    await customer.save()
    await api.data(
        INVITE, {"input": {"customerId": gid(customer), "emails": "a@contoso.com"}}, token=manager
    )
    message = await OutboxMessage.get(recipient="a@contoso.com")
    token = LINK.search(message.body).group(1)
    accepted = await onboard(
        api, token, customer.m365_account, retentionYears=None, retentionUnlimited=True
    )
    assert accepted["userErrors"] == [] and accepted["policiesCreated"] == 0
    assert await BackupPolicy.filter(customer_id=customer.id).count() == 0


async def test_an_expired_or_bad_invitation_is_refused(api, provider, manager, settings):
    now = clock_from_now()
    customer = await pending_customer(provider)
    await api.data(
        INVITE, {"input": {"customerId": gid(customer), "emails": "a@contoso.com"}}, token=manager
    )
    token = LINK.search((await OutboxMessage.get(recipient="a@contoso.com")).body).group(1)
    await step(api, "invitationAcceptLegalAgreement", token)
    bad = await step(api, "invitationConnectTenant", token, region="EMEA", retentionYears=30)
    assert [(e["code"], e["field"]) for e in bad["userErrors"]] == [
        ("OUT_OF_RANGE", ["input", "retentionYears"])
    ]
    now.advance(hours=settings.invitation_ttl_hours + 1)
    expired = await step(api, "invitationConnectTenant", token, region="EMEA", retentionYears=3)
    assert [e["code"] for e in expired["userErrors"]] == ["EXPIRED"]
    # The accept page still shows what the link was for, and that it expired.
    seen = (await anonymous(api, LOOKUP, {"token": token}))["invitation"]
    assert seen["expired"] is True and seen["step"] == "CONNECT_TENANT"
    assert (await Customer.get(id=customer.id)).contract_type is ContractType.PENDING
    assert (await Invitation.get(customer_id=customer.id)).accepted_at is None


async def test_one_bad_address_sends_nothing(api, provider, manager):
    customer = await pending_customer(provider)
    data = await api.data(
        INVITE,
        {
            "input": {
                "customerId": gid(customer),
                "emails": "ok@contoso.com bad@ worse, fine@contoso.com",
            }
        },
        token=manager,
    )
    errors = data["customerInvite"]["userErrors"]
    assert [(e["code"], e["message"].split()[0]) for e in errors] == [
        ("INVALID_EMAIL", "bad@"),
        ("INVALID_EMAIL", "worse"),
    ]
    assert await Invitation.all().count() == 0 and await OutboxMessage.all().count() == 0
    empty = await api.data(
        INVITE, {"input": {"customerId": gid(customer), "emails": " , "}}, token=manager
    )
    assert [e["code"] for e in empty["customerInvite"]["userErrors"]] == ["REQUIRED"]


async def test_an_active_customer_is_not_invited(api, provider, manager):
    customer = await make_customer(provider)
    data = await api.data(
        INVITE, {"input": {"customerId": gid(customer), "emails": "a@b.com"}}, token=manager
    )
    assert [e["code"] for e in data["customerInvite"]["userErrors"]] == ["INVALID_STATE"]


async def test_rights_and_tenancy(api, provider, settings):
    customer = await pending_customer(provider)
    variables = {"input": {"customerId": gid(customer), "emails": "a@contoso.com"}}
    reader = token_for(settings, await make_user(provider, []))
    assert (await api.errors(INVITE, variables, token=reader))[0]["extensions"][
        "code"
    ] == "FORBIDDEN"
    stranger = token_for(
        settings, await make_user(await make_provider("Other"), [Permission.CUSTOMER_MANAGEMENT])
    )
    assert (await api.errors(INVITE, variables, token=stranger))[0]["extensions"][
        "code"
    ] == "NOT_FOUND"
    assert await Invitation.all().count() == 0
    manager = token_for(settings, await make_user(provider, [Permission.CUSTOMER_MANAGEMENT]))
    sent = await api.data(INVITE, variables, token=manager)
    invitation_id = sent["customerInvite"]["invitations"][0]["id"]
    node = "query($id: ID!) { node(id: $id) { ... on Invitation { email sendCount } } }"
    seen = await api.data(node, {"id": invitation_id}, token=reader)
    assert seen["node"] == {"email": "a@contoso.com", "sendCount": 1}
    hidden = await api.errors(node, {"id": invitation_id}, token=stranger)
    assert hidden[0]["extensions"]["code"] == "NOT_FOUND"
    # Without a token only invitationAccept runs.
    response = await api.http.post("/graphql", json={"query": "{ customers { totalCount } }"})
    assert response.status_code == 401
    mixed = (
        'mutation { invitationAccept(input: {token: "x"})'
        ' { policiesCreated } customerInvite(input: {customerId: "x", emails: "a@b.com"})'
        " { userErrors { code } } }"
    )
    assert (await api.http.post("/graphql", json={"query": mixed})).status_code == 401
    peek = '{ invitation(token: "x") { email } customers { totalCount } }'
    assert (await api.http.post("/graphql", json={"query": peek})).status_code == 401


async def test_the_server_delivers_invitations_in_the_background_once_smtp_is_up(db, settings):
    """A real server whose SMTP relay is down at first: the invitation is kept and sent later."""
    import uvicorn
    from httpx import AsyncClient

    from vdc_graph.app import create_app

    provider = await make_provider()
    token = token_for(settings, await make_user(provider, [Permission.CUSTOMER_MANAGEMENT]))
    customer = await pending_customer(provider)
    port = free_port()
    configured = smtp_settings(settings, port)
    import vdc_graph.background as background

    original = background.OutboxWorker
    background.OutboxWorker = lambda d: original(  # fast retries for the test
        d, retry=RetryPolicy(base_delay=timedelta(milliseconds=200)), poll_interval=0.05
    )
    server = uvicorn.Server(
        uvicorn.Config(create_app(configured, manage_database=False), port=0, log_level="warning")
    )
    task = asyncio.ensure_future(server.serve())
    smtp = None
    try:
        while not server.started:
            await asyncio.sleep(0.01)
        url = f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
        async with AsyncClient(base_url=url) as http:
            response = await http.post(
                "/graphql",
                json={
                    "query": INVITE,
                    "variables": {
                        "input": {"customerId": gid(customer), "emails": "late@contoso.com"}
                    },
                },
                headers={"Authorization": f"Bearer {token}"},
            )
            assert response.json()["data"]["customerInvite"]["userErrors"] == []
        async with asyncio.timeout(10):
            while (await OutboxMessage.get(recipient="late@contoso.com")).attempts == 0:
                await asyncio.sleep(0.05)
        smtp = SmtpServer(port=port).start()
        async with asyncio.timeout(10):
            while not smtp.messages:
                await asyncio.sleep(0.05)
        assert smtp.messages[0]["To"] == "late@contoso.com"
        stored = await OutboxMessage.get(recipient="late@contoso.com")
        async with asyncio.timeout(5):
            while stored.status is not DeliveryStatus.SUCCEEDED:
                await asyncio.sleep(0.05)
                stored = await OutboxMessage.get(recipient="late@contoso.com")
        assert stored.attempts >= 2
    finally:
        background.OutboxWorker = original
        server.should_exit = True
        await task
        if smtp:
            smtp.stop()
