"""The notification history: every email and Teams message with its state, read through
GraphQL, delivered by the real outbox worker to a real SMTP server; a failed one resent."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.backup_support import connected_customer, fast_settings, make_policy
from tests.factories import make_customer, make_provider, make_user, switched_token, token_for
from tests.smtp_server import SmtpServer, free_port
from tests.test_backup_notifications import contact, run
from tests.test_email import smtp_settings
from tests.test_onboarding import clock_from_now, gid, pending_customer
from vdc_graph.db.models import OutboxMessage
from vdc_graph.enums import ContactKind, MessageTopic, OutboxKind, Permission
from vdc_graph.notify.deliverers import deliverers
from vdc_graph.notify.failure_reasons import MAIL_REFUSED, UNREACHABLE
from vdc_graph.notify.outbox import OutboxWorker, RetryPolicy, enqueue

INVITE = """
mutation($input: CustomerInviteInput!) { customerInvite(input: $input) {
  userErrors { message field code } } }
"""
HISTORY = """
query($filter: NotificationFilter) { notifications(filter: $filter) {
  totalCount
  nodes { id kind topic recipient subject state failureReason attempts createdAt
          lastAttemptAt sentAt customer { displayName } resendOf { id } } } }
"""
RESEND = """
mutation($input: NotificationResendInput!) { notificationResend(input: $input) {
  notification { id state attempts topic recipient resendOf { id } }
  userErrors { message field code } } }
"""


@pytest.fixture
def settings(tmp_path):
    return fast_settings(tmp_path)


@pytest.fixture
async def provider():
    return await make_provider()


@pytest.fixture
async def manager(provider, settings):
    return token_for(settings, await make_user(provider, [Permission.CUSTOMER_MANAGEMENT]))


async def history(api, token, **flt):
    data = await api.data(HISTORY, {"filter": flt or None}, token=token)
    return data["notifications"]["nodes"]


async def invite(api, token, customer, email):
    data = await api.data(
        INVITE, {"input": {"customerId": gid(customer), "emails": email}}, token=token
    )
    assert data["customerInvite"]["userErrors"] == []


def smtp_worker(settings, port, **retry):
    return OutboxWorker(
        deliverers(smtp_settings(settings, port)),
        retry=RetryPolicy(base_delay=timedelta(seconds=10), **retry),
    )


async def test_a_sent_invitation_is_listed_as_sent(api, provider, manager, settings):
    clock_from_now()
    customer = await pending_customer(provider)
    await invite(api, manager, customer, "anna@contoso.com")
    [queued] = await history(api, manager)
    assert queued["state"] == "PENDING" and queued["attempts"] == 0
    assert queued["lastAttemptAt"] is None and queued["sentAt"] is None

    server = SmtpServer().start()
    try:
        assert await smtp_worker(settings, server.port).run_once() == 1
    finally:
        server.stop()
    [sent] = await history(api, manager)
    assert sent["id"] == queued["id"]
    assert (sent["kind"], sent["topic"], sent["recipient"]) == (
        "EMAIL",
        "INVITATION",
        "anna@contoso.com",
    )
    assert sent["subject"] == server.messages[0]["Subject"]
    assert sent["customer"]["displayName"] == customer.display_name
    assert sent["state"] == "SENT" and sent["attempts"] == 1 and sent["failureReason"] is None
    assert sent["sentAt"] is not None and sent["lastAttemptAt"] == sent["sentAt"]


async def test_a_message_refused_once_then_sent_shows_each_state(api, provider, manager, settings):
    now = clock_from_now()
    customer = await pending_customer(provider)
    await invite(api, manager, customer, "bob@contoso.com")
    server = SmtpServer(refusals=1).start()
    try:
        worker = smtp_worker(settings, server.port)
        assert await worker.run_once() == 1
        [failing] = await history(api, manager)
        assert failing["state"] == "PENDING" and failing["attempts"] == 1
        # The reason is generic: nothing of the far side's answer or address leaks.
        assert failing["failureReason"] == MAIL_REFUSED
        assert failing["lastAttemptAt"] is not None and failing["sentAt"] is None
        now.advance(seconds=11)
        assert await worker.run_once() == 1
    finally:
        server.stop()
    [sent] = await history(api, manager)
    assert sent["state"] == "SENT" and sent["attempts"] == 2 and sent["failureReason"] is None
    assert [m["To"] for m in server.messages] == ["bob@contoso.com"]


async def test_a_permanently_failing_message_is_failed_and_can_be_resent(
    api, provider, manager, settings
):
    now = clock_from_now()
    customer = await pending_customer(provider)
    await invite(api, manager, customer, "carol@contoso.com")
    port = free_port()  # nothing listens: every attempt fails
    worker = smtp_worker(settings, port, max_attempts=2)
    for _ in range(2):
        assert await worker.run_once() == 1
        now.advance(minutes=5)
    [failed] = await history(api, manager)
    assert failed["state"] == "FAILED" and failed["attempts"] == 2
    assert failed["failureReason"] == UNREACHABLE
    assert await history(api, manager, states=["FAILED"]) == [failed]
    assert await history(api, manager, states=["SENT"]) == []

    data = await api.data(RESEND, {"input": {"id": failed["id"]}}, token=manager)
    resent = data["notificationResend"]
    assert resent["userErrors"] == []
    assert resent["notification"]["state"] == "PENDING"
    assert resent["notification"]["resendOf"] == {"id": failed["id"]}
    assert resent["notification"]["recipient"] == "carol@contoso.com"
    server = SmtpServer(port=port).start()
    try:
        assert await worker.run_once() == 1
    finally:
        server.stop()
    assert [m["To"] for m in server.messages] == ["carol@contoso.com"]
    newest, original = await history(api, manager)
    assert newest["state"] == "SENT" and newest["resendOf"] == {"id": failed["id"]}
    assert original["state"] == "FAILED"  # the failed attempt stays in the history

    # A message that was sent is not resent.
    data = await api.data(RESEND, {"input": {"id": newest["id"]}}, token=manager)
    [error] = data["notificationResend"]["userErrors"]
    assert error["code"] == "INVALID_STATE" and error["field"] == ["input", "id"]
    assert await OutboxMessage.all().count() == 2


async def test_backup_emails_and_teams_cards_are_listed_with_their_topic(
    api, provider, manager, settings
):
    customer = await connected_customer(provider, display_name="Contoso")
    await contact(provider, customer, ContactKind.EMAIL, "it@contoso.com", ["BACKUP_COMPLETE"])
    teams_url = "http://127.0.0.1:9/webhook/secret-path?key=credential"
    await contact(provider, customer, ContactKind.TEAMS_WEBHOOK, teams_url, ["BACKUP_COMPLETE"])
    # A fast, clean run: the tenant's whole directory is backed up.
    pace = {"engine_step_seconds": 0.002, "engine_warning_rate": 0.0, "engine_failure_rate": 0.0}
    await run(settings.model_copy(update=pace), await make_policy(customer, "Daily"))
    local = settings.model_copy(update={"outbound_allowed_networks": ["127.0.0.1/32"]})
    worker = OutboxWorker({OutboxKind.TEAMS: deliverers(local)[OutboxKind.TEAMS]})
    assert await worker.run_once() == 1  # nothing listens on port 9
    rows = await history(api, manager, customerId=gid(customer), topics=["BACKUP_COMPLETE"])
    by_kind = {r["kind"]: r for r in rows}
    assert by_kind["EMAIL"]["recipient"] == "it@contoso.com"
    assert by_kind["EMAIL"]["subject"] == "Backup completed: Daily (Contoso)"
    # A Teams webhook URL is a credential: only its host is shown.
    assert by_kind["TEAMS"]["recipient"] == "Teams webhook at 127.0.0.1"
    assert by_kind["TEAMS"]["failureReason"] == (
        "The receiver could not be reached or gave no valid HTTP answer in time"
    )
    assert await history(api, manager, kinds=["TEAMS"]) == [by_kind["TEAMS"]]


async def test_a_customer_scoped_caller_sees_only_its_customers_messages(
    api, provider, manager, settings
):
    ours = await make_customer(provider)
    theirs = await make_customer(provider)
    for customer, address in ((ours, "a@ours.com"), (theirs, "b@theirs.com")):
        await enqueue(
            OutboxKind.EMAIL,
            address,
            provider_id=provider.id,
            subject="Hello",
            customer_id=customer.id,
            topic=MessageTopic.WELCOME,
        )
    await enqueue(OutboxKind.EMAIL, "noc@provider.example", provider_id=provider.id)
    other_provider = await make_provider()
    await enqueue(OutboxKind.EMAIL, "x@elsewhere.com", provider_id=other_provider.id)

    everyone = await history(api, manager)
    assert sorted(r["recipient"] for r in everyone) == [
        "a@ours.com",
        "b@theirs.com",
        "noc@provider.example",
    ]
    assert [r["recipient"] for r in await history(api, manager, customerId=gid(theirs))] == [
        "b@theirs.com"
    ]

    user = await make_user(provider, [Permission.CUSTOMER_MANAGEMENT], email="pat@ours.com")
    switched = await switched_token(settings, user, ours.id)
    assert [r["recipient"] for r in await history(api, switched)] == ["a@ours.com"]
    [error] = await api.errors(HISTORY, {"filter": {"customerId": gid(theirs)}}, token=switched)
    assert error["extensions"]["code"] == "NOT_FOUND"

    # Neither may the switched caller resend another customer's message, even a failed one.
    await OutboxMessage.filter(recipient="b@theirs.com").update(status="FAILED")
    theirs_id = next(r["id"] for r in everyone if r["recipient"] == "b@theirs.com")
    [error] = await api.errors(RESEND, {"input": {"id": theirs_id}}, token=switched)
    assert error["extensions"]["code"] == "NOT_FOUND"
    assert await OutboxMessage.all().count() == 4


async def test_resending_needs_customer_management(api, provider, settings):
    customer = await make_customer(provider)
    message = await enqueue(
        OutboxKind.EMAIL, "a@ours.com", provider_id=provider.id, customer_id=customer.id
    )
    await OutboxMessage.filter(id=message.id).update(status="FAILED")
    reader = token_for(settings, await make_user(provider, []))
    [row] = await history(api, reader)
    [error] = await api.errors(RESEND, {"input": {"id": row["id"]}}, token=reader)
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert await OutboxMessage.all().count() == 1
