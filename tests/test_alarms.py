"""Alarms: raised once per condition by the built-in rules, acknowledged, resolved when the
condition clears, notified (email to a real SMTP server, webhook deliveries) and listed through
GraphQL; each rule's threshold checked with the injectable clock."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
import uvicorn

from tests.backup_support import (
    connected_customer,
    fast_settings,
    gid,
    make_policy,
    subscribed,
    until,
)
from tests.factories import make_customer, make_provider, make_user, switched_token, token_for
from tests.smtp_server import SmtpServer
from tests.test_backup_notifications import contact, run
from tests.test_email import smtp_settings
from tests.test_session_live import Socket
from vdc_graph import clock
from vdc_graph.alarms.evaluate import evaluate_alarms
from vdc_graph.alarms.lifecycle import updates_topic
from vdc_graph.app import create_app
from vdc_graph.db.models import (
    Alarm,
    AlarmRuleSetting,
    BackupSession,
    CustomerAdminUser,
    OutboxMessage,
    UsageReport,
    Webhook,
    WebhookDelivery,
)
from vdc_graph.enums import (
    ContactKind,
    MessageTopic,
    Permission,
    SessionStatus,
    UsageReportStatus,
)
from vdc_graph.notify.deliverers import deliverers
from vdc_graph.notify.outbox import OutboxWorker

ALARMS = """
query($filter: AlarmFilter) { alarms(filter: $filter) {
  totalCount
  nodes { id rule severity state message raisedAt acknowledgedBy resolvedAt
          object { typeName id name } customer { displayName }
          history { state actor comment } } } }
"""
ACK = """
mutation($input: AlarmAcknowledgeInput!) { alarmAcknowledge(input: $input) {
  alarm { state acknowledgedBy history { state actor comment } }
  userErrors { message field code } } }
"""
RESOLVE = """
mutation($input: AlarmResolveInput!) { alarmResolve(input: $input) {
  alarm { state resolvedAt history { state actor comment } }
  userErrors { message field code } } }
"""
RULE_UPDATE = """
mutation($input: AlarmRuleUpdateInput!) { alarmRuleUpdate(input: $input) {
  setting { rule enabled threshold defaultThreshold unit }
  userErrors { message field code } } }
"""
DASHBOARD = "{ dashboard { alarms { state severity count } } }"


@pytest.fixture
def settings(tmp_path):
    # The tests evaluate the rules themselves: the server's own evaluation is off.
    return fast_settings(tmp_path, engine_failure_rate=1.0, alarm_check_seconds=0)


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start
        clock.set_clock(lambda: self.now)

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
async def provider():
    return await make_provider()


def lasting_token(settings, user, **claims):
    """A token valid at every time these tests set the clock to."""
    clock.set_clock(lambda: datetime(2025, 1, 1, tzinfo=UTC))
    try:
        return token_for(settings, user, expires_in=timedelta(days=3 * 365), **claims)
    finally:
        clock.set_clock(None)


@pytest.fixture
async def admin(provider, settings):
    user = await make_user(
        provider,
        [Permission.SITE_SETTINGS, Permission.BACKUP_MANAGEMENT],
        email="ops@provider.example",
    )
    return lasting_token(settings, user)


async def alarms(api, token, **flt):
    data = await api.data(ALARMS, {"filter": flt or None}, token=token)
    return data["alarms"]["nodes"]


async def ended_session(customer, policy, status, at):
    return await BackupSession.create(
        provider_id=customer.provider_id,
        customer=customer,
        policy=policy,
        policy_name=policy.name,
        status=status,
        started_at=at - timedelta(minutes=5),
        ended_at=at,
    )


def alarm_emails():
    return OutboxMessage.filter(topic=MessageTopic.ALARM).order_by("created_at")


async def test_three_failed_runs_raise_one_alarm_and_a_success_resolves_it(
    api, provider, admin, settings, tmp_path
):
    customer = await connected_customer(provider, display_name="Contoso")
    policy = await make_policy(customer, "Daily")
    await contact(provider, None, ContactKind.EMAIL, "noc@provider.example", ["ALARM"])
    await contact(provider, None, ContactKind.EMAIL, "other@provider.example", ["BACKUP_FAILED"])
    await Webhook.create(
        provider=provider, url="https://hooks.example/a", event_types=["ALARM"], secret="s" * 32
    )
    for done in range(1, 4):
        session = await run(settings, policy)
        assert session.status == SessionStatus.FAILED
        await evaluate_alarms()
        raised = await alarms(api, admin)
        assert len(raised) == (1 if done == 3 else 0)
    await run(settings, policy)  # a fourth failure: the same condition, no second alarm
    await evaluate_alarms()
    await evaluate_alarms()
    [alarm] = await alarms(api, admin)
    assert alarm["rule"] == "POLICY_CONSECUTIVE_FAILURES"
    assert (alarm["state"], alarm["severity"]) == ("ACTIVE", "ERROR")
    assert alarm["object"] == {
        "typeName": "BackupPolicy",
        "id": gid("BackupPolicy", policy.id),
        "name": "Daily",
    }
    assert alarm["customer"] == {"displayName": "Contoso"}
    assert alarm["message"] == "Backup policy Daily failed its last 3 runs in a row"
    assert [h["state"] for h in alarm["history"]] == ["ACTIVE"]
    dashboard = (await api.data(DASHBOARD, token=admin))["dashboard"]["alarms"]
    assert {"state": "ACTIVE", "severity": "ERROR", "count": 1} in dashboard

    # One email to the contact subscribed to ALARM, received by a real SMTP server.
    server = SmtpServer().start()
    try:
        worker = OutboxWorker(deliverers(smtp_settings(settings, server.port)))
        await worker.run_once()
    finally:
        server.stop()
    alarm_mail = [m for m in server.messages if "Alarm" in m["Subject"]]
    assert [m["To"] for m in alarm_mail] == ["noc@provider.example"]
    assert "Backup policy Daily failed its last 3 runs" in alarm_mail[0]["Subject"]
    assert await WebhookDelivery.filter(event_type="ALARM").count() == 1

    succeeding = fast_settings(tmp_path, engine_failure_rate=0.0)
    assert (await run(succeeding, policy)).status == SessionStatus.SUCCESS
    await evaluate_alarms()
    [resolved] = await alarms(api, admin)
    assert resolved["state"] == "RESOLVED" and resolved["resolvedAt"] is not None
    assert [(h["state"], h["actor"]) for h in resolved["history"]] == [
        ("ACTIVE", None),
        ("RESOLVED", None),
    ]
    assert await alarm_emails().count() == 2  # raised, then resolved
    deliveries = await WebhookDelivery.filter(event_type="ALARM").order_by("created_at")
    assert [d.payload["data"]["alarm"]["state"] for d in deliveries] == ["ACTIVE", "RESOLVED"]
    assert await alarms(api, admin, states=["ACTIVE"]) == []


async def test_acknowledging_stops_the_renotification(api, provider, admin, settings):
    now = Clock(datetime(2026, 3, 10, 8, 0, tzinfo=UTC))
    customer = await connected_customer(provider)
    policy = await make_policy(customer, "Mail")
    await contact(provider, None, ContactKind.EMAIL, "noc@provider.example", ["ALARM"])
    # Only this rule: a day without success would raise an alarm of its own.
    await AlarmRuleSetting.create(
        provider=provider, rule="NO_RECENT_SUCCESS", enabled=False, threshold=24
    )
    for _ in range(3):
        now.advance(hours=1)
        await ended_session(customer, policy, SessionStatus.FAILED, now.now)
    await evaluate_alarms(renotify_hours=24)
    assert await alarm_emails().count() == 1
    now.advance(hours=23)
    await evaluate_alarms(renotify_hours=24)
    assert await alarm_emails().count() == 1  # not yet due again
    now.advance(hours=1)
    await evaluate_alarms(renotify_hours=24)
    assert await alarm_emails().count() == 2  # still active, nobody took it on

    [alarm] = await alarms(api, admin)
    data = await api.data(
        ACK, {"input": {"id": alarm["id"], "comment": "Looking into it"}}, token=admin
    )
    acked = data["alarmAcknowledge"]
    assert acked["userErrors"] == []
    assert acked["alarm"]["state"] == "ACKNOWLEDGED"
    assert acked["alarm"]["acknowledgedBy"] == "ops@provider.example"
    assert acked["alarm"]["history"][-1] == {
        "state": "ACKNOWLEDGED",
        "actor": "ops@provider.example",
        "comment": "Looking into it",
    }
    for _ in range(3):
        now.advance(hours=25)
        await evaluate_alarms(renotify_hours=24)
    assert await alarm_emails().count() == 2
    assert (await alarms(api, admin))[0]["state"] == "ACKNOWLEDGED"  # the condition holds

    # Acknowledging twice is refused; nothing changes.
    data = await api.data(ACK, {"input": {"id": alarm["id"]}}, token=admin)
    [error] = data["alarmAcknowledge"]["userErrors"]
    assert error["code"] == "INVALID_STATE" and error["field"] == ["input", "id"]

    # Resolved by hand: it is raised again at the next evaluation while the condition holds.
    data = await api.data(RESOLVE, {"input": {"id": alarm["id"], "comment": "Fixed"}}, token=admin)
    assert data["alarmResolve"]["alarm"]["state"] == "RESOLVED"
    await evaluate_alarms(renotify_hours=24)
    states = sorted(a["state"] for a in await alarms(api, admin))
    assert states == ["ACTIVE", "RESOLVED"]


async def test_policy_failures_threshold_is_tunable_and_a_rule_can_be_turned_off(
    api, provider, admin, settings
):
    now = Clock(datetime(2026, 3, 10, 8, 0, tzinfo=UTC))
    customer = await connected_customer(provider)
    policy = await make_policy(customer)
    data = await api.data(
        RULE_UPDATE, {"input": {"rule": "POLICY_CONSECUTIVE_FAILURES", "threshold": 2}}, token=admin
    )
    assert data["alarmRuleUpdate"]["setting"] == {
        "rule": "POLICY_CONSECUTIVE_FAILURES",
        "enabled": True,
        "threshold": 2.0,
        "defaultThreshold": 3.0,
        "unit": "runs",
    }
    await ended_session(customer, policy, SessionStatus.SUCCESS, now.now)
    now.advance(hours=1)
    await ended_session(customer, policy, SessionStatus.FAILED, now.now)
    await evaluate_alarms()
    assert await alarms(api, admin, rules=["POLICY_CONSECUTIVE_FAILURES"]) == []
    now.advance(hours=1)
    await ended_session(customer, policy, SessionStatus.DISCONNECTED, now.now)
    await evaluate_alarms()
    assert [
        a["state"] for a in await alarms(api, admin, rules=["POLICY_CONSECUTIVE_FAILURES"])
    ] == ["ACTIVE"]

    data = await api.data(
        RULE_UPDATE,
        {"input": {"rule": "POLICY_CONSECUTIVE_FAILURES", "enabled": False}},
        token=admin,
    )
    assert data["alarmRuleUpdate"]["setting"]["threshold"] == 2.0  # kept
    await evaluate_alarms()
    assert [
        a["state"] for a in await alarms(api, admin, rules=["POLICY_CONSECUTIVE_FAILURES"])
    ] == ["RESOLVED"]

    data = await api.data(
        RULE_UPDATE, {"input": {"rule": "POLICY_CONSECUTIVE_FAILURES", "threshold": 0}}, token=admin
    )
    [error] = data["alarmRuleUpdate"]["userErrors"]
    assert error["field"] == ["input", "threshold"] and error["code"] == "OUT_OF_RANGE"


async def test_no_recent_success_follows_its_hours(api, provider, admin):
    start = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)
    now = Clock(start)
    customer = await connected_customer(provider, display_name="Fabrikam")
    policy = await make_policy(customer)
    await ended_session(customer, policy, SessionStatus.SUCCESS, start)
    now.advance(hours=23, minutes=59)
    await evaluate_alarms()
    assert await alarms(api, admin) == []
    now.advance(minutes=2)
    await evaluate_alarms()
    [alarm] = await alarms(api, admin)
    assert alarm["rule"] == "NO_RECENT_SUCCESS" and alarm["object"]["name"] == "Fabrikam"
    await ended_session(customer, policy, SessionStatus.WARNING, now.now)
    await evaluate_alarms()
    assert (await alarms(api, admin))[0]["state"] == "RESOLVED"


async def test_tenant_disconnected_follows_its_hours(api, provider, admin):
    now = Clock(datetime(2026, 3, 10, 8, 0, tzinfo=UTC))
    await AlarmRuleSetting.create(provider=provider, rule="TENANT_DISCONNECTED", threshold=2)
    customer = await connected_customer(provider)
    policy = await make_policy(customer)
    await ended_session(customer, policy, SessionStatus.SUCCESS, now.now)
    now.advance(hours=1)
    await ended_session(customer, policy, SessionStatus.DISCONNECTED, now.now)
    now.advance(hours=1, minutes=59)
    await evaluate_alarms()
    assert await alarms(api, admin, rules=["TENANT_DISCONNECTED"]) == []
    now.advance(minutes=1)
    await ended_session(customer, policy, SessionStatus.DISCONNECTED, now.now)
    await evaluate_alarms()
    [alarm] = await alarms(api, admin, rules=["TENANT_DISCONNECTED"])
    assert alarm["severity"] == "CRITICAL" and alarm["state"] == "ACTIVE"
    now.advance(hours=1)
    await ended_session(customer, policy, SessionStatus.FAILED, now.now)  # reached the tenant
    await evaluate_alarms()
    [alarm] = await alarms(api, admin, rules=["TENANT_DISCONNECTED"])
    assert alarm["state"] == "RESOLVED"


async def test_storage_growth_above_its_percent_in_a_month(api, admin, provider):
    now = Clock(datetime(2026, 3, 10, 8, 0, tzinfo=UTC))
    customer = await connected_customer(provider, storage_consumed_gb=100.0)

    async def storage(gb):
        customer.storage_consumed_gb = gb
        await customer.save()
        await evaluate_alarms()
        return await alarms(api, admin, rules=["STORAGE_GROWTH"])

    assert await storage(100.0) == []  # the first sample: nothing to compare with yet
    now.advance(days=29)
    assert await storage(300.0) == []  # a month has not passed
    now.advance(days=1)
    assert await storage(150.0) == []  # 50 %: not above
    [alarm] = await storage(160.0)
    assert alarm["message"] == (
        f"Backup storage of {customer.display_name} grew 60 % in a month (100 GB to 160 GB)"
    )
    [alarm] = await storage(120.0)
    assert alarm["state"] == "RESOLVED"


async def test_licence_use_above_its_percent_of_the_minimum_commit(api, admin, provider):
    Clock(datetime(2026, 3, 10, 8, 0, tzinfo=UTC))
    provider.minimum_commit_points = Decimal(100)
    await provider.save()
    customer = await make_customer(provider, licenses_used=36)  # 90 points: 90 %
    await evaluate_alarms()
    assert await alarms(api, admin) == []
    customer.licenses_used = 37  # 92.5 %
    await customer.save()
    await evaluate_alarms()
    [alarm] = await alarms(api, admin)
    assert alarm["rule"] == "LICENSE_COMMIT_USAGE" and alarm["customer"] is None
    assert alarm["message"] == "Licence use is 92 % of the minimum commit (92.5 of 100 points)"


async def test_usage_report_due_days_before_the_suspension(api, admin, provider):
    # January's report unsubmitted: licence management is suspended from 1 March.
    now = Clock(datetime(2026, 2, 22, 0, 0, tzinfo=UTC) - timedelta(seconds=1))
    report = await UsageReport.create(
        provider=provider,
        number="UR-2026-01",
        rental_agreement_number="RA-1",
        month=date(2026, 1, 1),
        status=UsageReportStatus.PENDING_REVIEW,
    )
    await evaluate_alarms()
    assert await alarms(api, admin) == []
    now.advance(seconds=1)  # seven days before 1 March
    await evaluate_alarms()
    [alarm] = await alarms(api, admin)
    assert alarm["rule"] == "USAGE_REPORT_DUE" and alarm["severity"] == "WARNING"
    assert alarm["object"]["name"] == "UR-2026-01"
    report.status = UsageReportStatus.SAVED
    await report.save()
    await evaluate_alarms()
    assert (await alarms(api, admin))[0]["state"] == "RESOLVED"


async def test_two_evaluations_at_once_raise_one_alarm(db, provider):
    now = Clock(datetime(2026, 3, 10, 8, 0, tzinfo=UTC))
    customer = await connected_customer(provider)
    policy = await make_policy(customer)
    for _ in range(3):
        now.advance(hours=1)
        await ended_session(customer, policy, SessionStatus.FAILED, now.now)
    await asyncio.gather(evaluate_alarms(), evaluate_alarms())
    assert await Alarm.filter(provider_id=provider.id).count() == 1


async def test_a_customer_scoped_caller_sees_only_its_customers_alarms(api, provider, settings):
    now = Clock(datetime(2026, 3, 10, 8, 0, tzinfo=UTC))
    ours = await connected_customer(provider, display_name="Ours")
    theirs = await connected_customer(provider, display_name="Theirs")
    for customer in (ours, theirs):
        policy = await make_policy(customer)
        for _ in range(3):
            now.advance(minutes=1)
            await ended_session(customer, policy, SessionStatus.FAILED, now.now)
    provider.minimum_commit_points = Decimal(1)
    await provider.save()
    await make_customer(provider, licenses_used=10)
    await evaluate_alarms()

    user = await make_user(provider, [Permission.BACKUP_MANAGEMENT], email="pat@ours.com")
    provider_wide = lasting_token(settings, user)
    assert len(await alarms(api, provider_wide)) == 3
    await CustomerAdminUser.create(
        customer=ours, email=user.email, email_key=user.email_key, first_name="P", last_name="D"
    )
    switched = lasting_token(settings, user, customer_id=ours.id)
    seen = await alarms(api, switched)
    assert [a["customer"]["displayName"] for a in seen] == ["Ours"]
    [error] = await api.errors(
        ALARMS, {"filter": {"customerId": gid("Customer", theirs.id)}}, token=switched
    )
    assert error["extensions"]["code"] == "NOT_FOUND"
    # Nor may it acknowledge theirs: refused as not found, nothing changed.
    theirs_alarm = await Alarm.get(customer_id=theirs.id)
    [error] = await api.errors(
        ACK, {"input": {"id": gid("Alarm", theirs_alarm.id)}}, token=switched
    )
    assert error["extensions"]["code"] == "NOT_FOUND"
    assert (await Alarm.get(id=theirs_alarm.id)).state.value == "ACTIVE"
    # The rules are the provider's: a switched caller may not read or change them.
    [error] = await api.errors("{ alarmRules { rule } }", token=switched)
    assert error["extensions"]["code"] == "FORBIDDEN"


async def test_changing_a_rule_needs_site_settings(api, provider, settings):
    reader = token_for(settings, await make_user(provider, [Permission.CUSTOMER_MANAGEMENT]))
    [error] = await api.errors(
        RULE_UPDATE, {"input": {"rule": "NO_RECENT_SUCCESS", "threshold": 2}}, token=reader
    )
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert await AlarmRuleSetting.all().count() == 0
    rules = (await api.data("{ alarmRules { rule threshold } }", token=reader))["alarmRules"]
    assert {"rule": "NO_RECENT_SUCCESS", "threshold": 24.0} in rules


ALARM_UPDATES = "subscription { alarmUpdates { id state customer { displayName } } }"


async def test_alarm_updates_stream_each_change_to_those_who_may_see_it(live_server, settings):
    provider = await make_provider()
    now = Clock(datetime.now(UTC).replace(microsecond=0))
    ours = await connected_customer(provider, display_name="Ours")
    theirs = await connected_customer(provider, display_name="Theirs")
    for customer in (theirs, ours):
        policy = await make_policy(customer)
        for _ in range(3):
            now.advance(seconds=1)
            await ended_session(customer, policy, SessionStatus.FAILED, now.now)
    user = await make_user(provider, [Permission.BACKUP_MANAGEMENT], email="pat@ours.com")
    provider_wide = token_for(settings, user)
    switched = await switched_token(settings, user, ours.id)
    topic = updates_topic(provider.id)

    async with (
        Socket(live_server.ws_url, provider_wide) as everyone,
        Socket(live_server.ws_url, switched) as customer_only,
    ):
        await everyone.subscribe("a", ALARM_UPDATES, {})
        await customer_only.subscribe("b", ALARM_UPDATES, {})
        await subscribed(topic, 2)
        await evaluate_alarms()
        raised = [await everyone.receive(), await everyone.receive()]
        assert sorted(
            m["payload"]["data"]["alarmUpdates"]["customer"]["displayName"] for m in raised
        ) == ["Ours", "Theirs"]
        [our_alarm] = [
            m["payload"]["data"]["alarmUpdates"]
            for m in raised
            if m["payload"]["data"]["alarmUpdates"]["customer"]["displayName"] == "Ours"
        ]
        async with httpx.AsyncClient(base_url=live_server.http_url) as http:
            response = await http.post(
                "/graphql",
                json={"query": ACK, "variables": {"input": {"id": our_alarm["id"]}}},
                headers={"Authorization": f"Bearer {provider_wide}"},
            )
        assert response.json()["data"]["alarmAcknowledge"]["userErrors"] == []
        acked = (await everyone.receive())["payload"]["data"]["alarmUpdates"]
        assert (acked["id"], acked["state"]) == (our_alarm["id"], "ACKNOWLEDGED")
        # The customer-scoped socket got its customer's alarm and its change, nothing else.
        seen = [(await customer_only.receive())["payload"]["data"]["alarmUpdates"] for _ in "12"]
        assert [(a["id"], a["state"]) for a in seen] == [
            (our_alarm["id"], "ACTIVE"),
            (our_alarm["id"], "ACKNOWLEDGED"),
        ]


async def test_the_running_server_evaluates_the_rules_by_itself(db, settings):
    """The background job, not the test, raises the alarm."""
    now = Clock(datetime.now(UTC).replace(microsecond=0))
    provider = await make_provider()
    customer = await connected_customer(provider)
    policy = await make_policy(customer)
    for _ in range(3):
        now.advance(seconds=1)
        await ended_session(customer, policy, SessionStatus.FAILED, now.now)
    evaluating = settings.model_copy(update={"alarm_check_seconds": 0.2})
    config = uvicorn.Config(
        create_app(evaluating, manage_database=False), port=0, log_level="warning"
    )
    server = uvicorn.Server(config)
    task = asyncio.ensure_future(server.serve())
    try:
        alarm = await until(lambda: Alarm.get_or_none(provider_id=provider.id))
    finally:
        server.should_exit = True
        await task
    assert alarm.rule.value == "POLICY_CONSECUTIVE_FAILURES"
