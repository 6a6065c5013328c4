"""Notifications of finished sessions and restores: emails received by a real local SMTP
server, and a Teams message card POSTed to a real local HTTP receiver by the outbox worker."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.backup_support import (
    backed_up_customer,
    connected_customer,
    ended,
    fast_settings,
    gid,
    make_policy,
)
from tests.factories import make_provider, make_user, token_for
from tests.smtp_server import SmtpServer
from tests.test_email import smtp_settings
from vdc_graph.db.models import CustomerAdminUser, NotificationContact, OutboxMessage, Restore
from vdc_graph.db.transactions import atomic
from vdc_graph.engine.runs import queue_session
from vdc_graph.enums import (
    ContactKind,
    DeliveryStatus,
    OutboxKind,
    Permission,
    SessionStatus,
    SessionTrigger,
)
from vdc_graph.notify.deliverers import deliverers
from vdc_graph.notify.outbox import OutboxWorker

BM = Permission.BACKUP_MANAGEMENT


@pytest.fixture
def settings(tmp_path):
    # The Teams receivers of these tests listen on loopback, allowed explicitly.
    return fast_settings(tmp_path, outbound_allowed_networks=["127.0.0.1/32"])


class Receiver:
    """A real HTTP server that records what is POSTed to it."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        self.arrived = asyncio.Event()

    async def webhook(self, request: Request) -> JSONResponse:
        self.received.append(await request.json())
        self.arrived.set()
        return JSONResponse({"ok": True})


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    found = Receiver()
    app = Starlette(routes=[Route("/webhook", found.webhook, methods=["POST"])])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    task = asyncio.ensure_future(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield found, f"http://127.0.0.1:{port}/webhook"
    finally:
        server.should_exit = True
        await task


async def contact(provider, customer, kind, address, topics):
    return await NotificationContact.create(
        provider=provider, customer=customer, kind=kind, address=address, topics=topics
    )


async def run(settings, policy):
    async with atomic():
        session = await queue_session(settings, policy, SessionTrigger.SCHEDULE)
    return await ended(session.id)


async def queued(kind=None) -> list[tuple[str, str, str]]:
    qs = OutboxMessage.all().order_by("created_at", "recipient")
    if kind is not None:
        qs = qs.filter(kind=kind)
    return [(m.kind.value, m.recipient, m.subject) for m in await qs]


async def test_a_finished_session_notifies_subscribed_contacts_by_email_and_teams(
    db, settings, receiver
):
    found, url = receiver
    provider = await make_provider()
    customer = await connected_customer(provider, display_name="Contoso")
    await contact(provider, None, ContactKind.EMAIL, "noc@provider.example", ["BACKUP_COMPLETE"])
    await contact(provider, None, ContactKind.EMAIL, "fails@provider.example", ["BACKUP_FAILED"])
    await contact(
        provider,
        customer,
        ContactKind.EMAIL,
        "it@contoso.com",
        ["BACKUP_COMPLETE", "BACKUP_FAILED"],
    )
    await contact(
        provider, customer, ContactKind.EMAIL, "restores@contoso.com", ["RESTORE_ACTIVITY"]
    )
    await contact(provider, customer, ContactKind.TEAMS_WEBHOOK, url, ["BACKUP_COMPLETE"])
    session = await run(settings, await make_policy(customer, "Daily"))
    assert session.status == SessionStatus.SUCCESS

    subject = "Backup completed: Daily (Contoso)"
    assert sorted(await queued(OutboxKind.EMAIL)) == [
        ("EMAIL", "it@contoso.com", subject),
        ("EMAIL", "noc@provider.example", subject),
    ]
    email = await OutboxMessage.get(recipient="it@contoso.com")
    assert "Policy: Daily" in email.body and "Status: SUCCESS" in email.body
    assert await queued(OutboxKind.TEAMS) == [("TEAMS", url, subject)]

    smtp = SmtpServer().start()
    try:
        worker = OutboxWorker(deliverers(smtp_settings(settings, smtp.port)))
        assert await worker.run_once() == 3  # two emails and the Teams card
    finally:
        smtp.stop()
    emails = {m["To"]: m for m in smtp.messages}
    assert sorted(emails) == ["it@contoso.com", "noc@provider.example"]
    assert emails["it@contoso.com"]["Subject"] == subject
    assert "Policy: Daily" in emails["it@contoso.com"].get_content()
    await asyncio.wait_for(found.arrived.wait(), 5)
    card = found.received[0]
    assert card["@type"] == "MessageCard" and card["title"] == subject
    facts = {f["name"]: f["value"] for f in card["sections"][0]["facts"]}
    assert facts["Policy"] == "Daily" and facts["Status"] == "SUCCESS"
    teams = await OutboxMessage.get(kind=OutboxKind.TEAMS)
    assert teams.status == DeliveryStatus.SUCCEEDED


async def test_a_refusing_teams_webhook_is_retried(db, settings):
    provider = await make_provider()
    customer = await connected_customer(provider)
    # Nothing listens on this port: the delivery fails and stays pending for a retry.
    await contact(
        provider,
        customer,
        ContactKind.TEAMS_WEBHOOK,
        "http://127.0.0.1:9/webhook",
        ["BACKUP_COMPLETE"],
    )
    await run(settings, await make_policy(customer))
    worker = OutboxWorker({OutboxKind.TEAMS: deliverers(settings)[OutboxKind.TEAMS]})
    assert await worker.run_once() == 1
    message = await OutboxMessage.get(kind=OutboxKind.TEAMS)
    assert message.status == DeliveryStatus.PENDING and message.attempts == 1
    assert message.last_error


async def test_failures_notify_backup_failed_and_the_customer_switch_is_honoured(db, tmp_path):
    provider = await make_provider()
    customer = await backed_up_customer(provider, allow_system_notifications=False)
    await contact(provider, None, ContactKind.EMAIL, "noc@provider.example", ["BACKUP_FAILED"])
    await contact(provider, customer, ContactKind.EMAIL, "it@contoso.com", ["BACKUP_FAILED"])
    failing = fast_settings(tmp_path, engine_failure_rate=1.0)
    session = await run(failing, await make_policy(customer, "Mail"))
    assert session.status == SessionStatus.FAILED
    # The customer does not allow system notifications: only the provider hears of it.
    assert [r for _, r, _ in await queued()] == ["noc@provider.example"]
    assert (await queued())[0][2].startswith("Backup failed: Mail")


async def test_a_stopped_session_notifies_nobody(db, settings):
    provider = await make_provider()
    customer = await backed_up_customer(provider)
    await contact(
        provider,
        customer,
        ContactKind.EMAIL,
        "it@contoso.com",
        ["BACKUP_COMPLETE", "BACKUP_FAILED"],
    )
    policy = await make_policy(customer)
    async with atomic():
        session = await queue_session(settings, policy, SessionTrigger.USER)
        session.stop_requested = True
        await session.save()
    assert (await ended(session.id)).status == SessionStatus.STOPPED
    assert await queued() == []


RECORD = """mutation($input: RestoreRecordInput!) { restoreRecord(input: $input) {
  restore { id requestedBy restoreType itemCount status requestedAt customer { displayName } }
  userErrors { code field } } }"""

RESTORES = """query($filter: RestoreFilter) { restores(filter: $filter) {
  totalCount nodes { requestedBy restoreType status } } }"""


async def test_restores_are_recorded_listed_and_notified(api):
    settings = api.http._transport.app.state.settings
    provider, other = await make_provider(), await make_provider("Other")
    customer = await backed_up_customer(provider, display_name="Contoso")
    second = await backed_up_customer(provider)
    theirs = await backed_up_customer(other)
    await contact(provider, customer, ContactKind.EMAIL, "it@contoso.com", ["RESTORE_ACTIVITY"])
    await contact(provider, customer, ContactKind.EMAIL, "ops@contoso.com", ["BACKUP_COMPLETE"])
    manager = token_for(settings, await make_user(provider, [BM]))
    reader = token_for(settings, await make_user(provider, []))
    base = {
        "customerId": gid("Customer", customer.id),
        "requestedBy": "anna@contoso.com",
        "restoreType": "ONEDRIVE_FILES",
        "itemCount": 12,
        "status": "SUCCESS",
    }

    recorded = (await api.data(RECORD, {"input": base}, token=manager))["restoreRecord"]
    assert recorded["userErrors"] == []
    assert recorded["restore"]["customer"] == {"displayName": "Contoso"}
    assert recorded["restore"]["requestedAt"].endswith("Z")
    assert await queued() == [("EMAIL", "it@contoso.com", "Restore success: Contoso")]
    await api.data(
        RECORD,
        {
            "input": {
                **base,
                "customerId": gid("Customer", second.id),
                "restoreType": "EXCHANGE_MAILBOX",
            }
        },
        token=manager,
    )

    listed = (await api.data(RESTORES, {}, token=reader))["restores"]
    assert listed["totalCount"] == 2
    assert [n["restoreType"] for n in listed["nodes"]] == ["EXCHANGE_MAILBOX", "ONEDRIVE_FILES"]
    only = await api.data(
        RESTORES, {"filter": {"customerId": gid("Customer", customer.id)}}, token=reader
    )
    assert [n["restoreType"] for n in only["restores"]["nodes"]] == ["ONEDRIVE_FILES"]

    invalid = (
        await api.data(
            RECORD,
            {"input": {**base, "requestedBy": " ", "itemCount": -1}},
            token=manager,
        )
    )["restoreRecord"]
    assert invalid["restore"] is None
    assert {e["code"] for e in invalid["userErrors"]} == {"REQUIRED", "OUT_OF_RANGE"}
    refused = await api.errors(RECORD, {"input": base}, token=reader)
    assert refused[0]["extensions"]["code"] == "FORBIDDEN"
    hidden = await api.errors(
        RECORD, {"input": {**base, "customerId": gid("Customer", theirs.id)}}, token=manager
    )
    assert hidden[0]["extensions"]["code"] == "NOT_FOUND"
    assert await Restore.all().count() == 2

    # A customer-scoped caller sees its own customer's restores only.
    admin = await make_user(provider, [BM], email="anna@contoso.com")
    await CustomerAdminUser.create(
        customer=customer, email=admin.email, email_key=admin.email, first_name="A", last_name="B"
    )
    scoped = token_for(settings, admin, customer_id=customer.id)
    mine = (await api.data(RESTORES, {}, token=scoped))["restores"]
    assert mine["totalCount"] == 1 and mine["nodes"][0]["restoreType"] == "ONEDRIVE_FILES"
