"""Signed webhooks: managed over GraphQL, received by a real local HTTP server that checks the
signature, retried with backoff, logged, redelivered, and kept across a restart."""

from __future__ import annotations

import asyncio
import base64
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from tortoise import Tortoise

from tests.backup_support import until
from tests.factories import make_provider, make_user, token_for
from tests.webhook_receiver import WebhookReceiver
from vdc_graph import clock
from vdc_graph.db.config import tortoise_config
from vdc_graph.db.models import WebhookDelivery
from vdc_graph.enums import DeliveryStatus, Permission, WebhookEvent
from vdc_graph.notify.outbox import RetryPolicy
from vdc_graph.notify.webhook_worker import WebhookWorker
from vdc_graph.notify.webhooks import emit, url_problem
from vdc_graph.outbound import UNREACHABLE_REASON
from vdc_graph.settings import Settings
from vdc_graph.usage_reports import generate_report

CREATE = """mutation($input: WebhookCreateInput!) { webhookCreate(input: $input) {
  webhook { id url eventTypes enabled description } secret userErrors { field message code } } }"""

UPDATE = """mutation($input: WebhookUpdateInput!) { webhookUpdate(input: $input) {
  webhook { id url eventTypes enabled } secret userErrors { field message code } } }"""

DELETE = """mutation($input: WebhookDeleteInput!) { webhookDelete(input: $input) {
  deletedWebhookId userErrors { field message code } } }"""

DELIVERIES = """query($id: ID!) { webhookDeliveries(webhookId: $id) { totalCount nodes {
  id eventType status attempts lastStatusCode lastDurationMs lastError deliveredAt body
  redeliveryOf { id } } } }"""

REDELIVER = """mutation($input: WebhookRedeliverInput!) { webhookRedeliver(input: $input) {
  delivery { id status redeliveryOf { id } } userErrors { field message code } } }"""

SUBMIT = """mutation($input: UsageReportSubmitInput!) { usageReportSubmit(input: $input) {
  usageReport { status } userErrors { code } } }"""

LIST = "{ webhooks { totalCount nodes { id url eventTypes } } }"


class Clock:
    """Real time at the start, then moved by hand (signatures stay fresh for the receiver)."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)
        clock.set_clock(lambda: self.now)

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
async def provider(db):
    return await make_provider()


@pytest.fixture
async def admin(provider, settings):
    return token_for(settings, await make_user(provider, [Permission.SITE_SETTINGS]))


@pytest.fixture
def receiver():
    with WebhookReceiver() as r:
        yield r


def gid(type_name: str, key) -> str:
    return base64.b64encode(f"{type_name}:{key}".encode()).decode()


async def create_webhook(api, token, url, events=("USAGE_REPORT_STATUS",)) -> tuple[str, str]:
    result = (
        await api.data(CREATE, {"input": {"url": url, "eventTypes": list(events)}}, token=token)
    )["webhookCreate"]
    assert result["userErrors"] == [], result
    return result["webhook"]["id"], result["secret"]


LOOPBACK = ("127.0.0.1/32",)


def worker(**retry) -> WebhookWorker:
    return WebhookWorker(
        retry=RetryPolicy(base_delay=timedelta(seconds=10), **retry),
        timeout=2,
        allowed_networks=LOOPBACK,  # the test receivers listen on loopback
    )


async def test_an_event_arrives_signed_with_a_delivery_id_and_is_logged(
    api, provider, admin, receiver
):
    hook_id, receiver.secret = await create_webhook(api, admin, receiver.url)
    assert receiver.secret.startswith("whsec_")
    report = await generate_report(provider.id, date(2025, 3, 1))
    submitted = await api.data(
        SUBMIT,
        {"input": {"id": gid("UsageReport", report.id), "purchaseOrderNumber": "PO-1"}},
        token=admin,
    )
    assert submitted["usageReportSubmit"]["usageReport"]["status"] == "SAVED"

    assert await worker().run_once() == 1
    [got] = receiver.received
    assert got.signature_valid
    assert got.headers["content-type"] == "application/json"
    assert got.headers["vdc-event"] == "USAGE_REPORT_STATUS"
    event = got.json
    assert event["type"] == "USAGE_REPORT_STATUS"
    assert event["data"]["usageReport"] == {
        "number": report.number,
        "month": "2025-03",
        "status": "SAVED",
        "rejectionReason": None,
        "purchaseOrderNumber": "PO-1",
    }

    log = (await api.data(DELIVERIES, {"id": hook_id}, token=admin))["webhookDeliveries"]
    [delivery] = log["nodes"]
    assert got.headers["vdc-delivery-id"] == base64.b64decode(delivery["id"]).decode().split(":")[1]
    assert delivery["status"] == "SUCCEEDED" and delivery["attempts"] == 1
    assert delivery["lastStatusCode"] == 200 and delivery["lastError"] is None
    assert delivery["lastDurationMs"] >= 0 and delivery["deliveredAt"]
    assert delivery["body"].encode() == got.body
    assert await worker().run_once() == 0  # sent once, never again


async def test_a_tampered_body_or_another_secret_fails_verification(api, admin, receiver):
    from tests.webhook_receiver import signature_valid
    from vdc_graph.notify.webhooks import sign

    now = int(datetime.now(UTC).timestamp())
    header = sign("whsec_a", now, b'{"a":1}')
    assert signature_valid("whsec_a", header, b'{"a":1}')
    assert not signature_valid("whsec_a", header, b'{"a":2}')
    assert not signature_valid("whsec_b", header, b'{"a":1}')
    assert not signature_valid("whsec_a", sign("whsec_a", now - 3600, b"{}"), b"{}")


async def test_a_receiver_failing_twice_gets_one_success_after_backoff_across_a_restart(
    api, provider, admin, db
):
    now = Clock()
    with WebhookReceiver(failures=[500, 503]) as receiver:
        hook_id, receiver.secret = await create_webhook(api, admin, receiver.url)
        await emit(provider.id, WebhookEvent.USAGE_REPORT_STATUS, {"n": 1})

        assert await worker().run_once() == 1  # 500
        delivery = await WebhookDelivery.get()
        assert delivery.status is DeliveryStatus.PENDING and delivery.attempts == 1
        assert delivery.last_status_code == 500
        assert delivery.next_attempt_at == now.now + timedelta(seconds=10)

        # The process restarts: connections closed, a new worker on a new connection.
        await Tortoise.close_connections()
        await Tortoise.init(config=tortoise_config(db))
        restarted = worker()
        assert await restarted.run_once() == 0  # not due yet
        now.advance(10)
        assert await restarted.run_once() == 1  # 503
        delivery = await WebhookDelivery.get()
        assert delivery.attempts == 2 and delivery.last_status_code == 503
        assert delivery.next_attempt_at == now.now + timedelta(seconds=20)  # doubled

        now.advance(20)
        assert await worker().run_once() == 1  # 200
        now.advance(3600)
        assert await worker().run_once() == 0

        assert [r.answered for r in receiver.received] == [500, 503, 200]
        assert all(r.signature_valid for r in receiver.received)
        assert len({r.headers["vdc-delivery-id"] for r in receiver.received}) == 1
        log = (await api.data(DELIVERIES, {"id": hook_id}, token=admin))["webhookDeliveries"]
        assert log["totalCount"] == 1
        [entry] = log["nodes"]
        assert entry["status"] == "SUCCEEDED" and entry["attempts"] == 3
        assert entry["lastStatusCode"] == 200


async def test_a_receiver_that_does_not_answer_in_time_is_retried(api, provider, admin):
    Clock()
    with WebhookReceiver(delay=1.0) as receiver:
        await create_webhook(api, admin, receiver.url)
        await emit(provider.id, WebhookEvent.USAGE_REPORT_STATUS, {"n": 1})
        slow = WebhookWorker(retry=RetryPolicy(), timeout=0.2, allowed_networks=LOOPBACK)
        assert await slow.run_once() == 1
    delivery = await WebhookDelivery.get()
    assert delivery.status is DeliveryStatus.PENDING and delivery.attempts == 1
    assert delivery.last_status_code is None
    assert delivery.last_error == UNREACHABLE_REASON


async def test_a_delivery_gives_up_after_the_last_attempt(api, provider, admin):
    now = Clock()
    with WebhookReceiver(failures=[500, 500]) as receiver:
        await create_webhook(api, admin, receiver.url)
        await emit(provider.id, WebhookEvent.USAGE_REPORT_STATUS, {"n": 1})
        assert await worker(max_attempts=2).run_once() == 1
        now.advance(10)
        assert await worker(max_attempts=2).run_once() == 1
    delivery = await WebhookDelivery.get()
    assert delivery.status is DeliveryStatus.FAILED and delivery.next_attempt_at is None
    assert delivery.last_error == "the receiver answered 500"


async def test_redelivery_sends_the_same_event_under_a_new_delivery_id(
    api, provider, admin, receiver
):
    hook_id, receiver.secret = await create_webhook(api, admin, receiver.url)
    await emit(provider.id, WebhookEvent.USAGE_REPORT_STATUS, {"n": 7})
    await worker().run_once()
    [first] = (await api.data(DELIVERIES, {"id": hook_id}, token=admin))["webhookDeliveries"][
        "nodes"
    ]

    again = (await api.data(REDELIVER, {"input": {"deliveryId": first["id"]}}, token=admin))[
        "webhookRedeliver"
    ]
    assert again["userErrors"] == []
    assert again["delivery"]["status"] == "PENDING"
    assert again["delivery"]["redeliveryOf"] == {"id": first["id"]}
    assert await worker().run_once() == 1

    one, two = receiver.received
    assert one.json == two.json  # the same event (same event ID) …
    assert one.headers["vdc-delivery-id"] != two.headers["vdc-delivery-id"]  # … sent anew
    assert two.signature_valid
    log = (await api.data(DELIVERIES, {"id": hook_id}, token=admin))["webhookDeliveries"]
    assert log["totalCount"] == 2
    assert [n["status"] for n in log["nodes"]] == ["SUCCEEDED", "SUCCEEDED"]


async def test_only_enabled_webhooks_subscribed_to_the_event_receive_it(
    api, provider, admin, receiver
):
    await create_webhook(api, admin, receiver.url, events=["LICENSE_CHANGE"])
    disabled_id, _ = await create_webhook(api, admin, receiver.url)
    result = await api.data(UPDATE, {"input": {"id": disabled_id, "enabled": False}}, token=admin)
    assert result["webhookUpdate"]["webhook"]["enabled"] is False
    other = await make_provider()
    assert await emit(other.id, WebhookEvent.LICENSE_CHANGE, {}) == 0

    assert await emit(provider.id, WebhookEvent.USAGE_REPORT_STATUS, {}) == 0
    assert await emit(provider.id, WebhookEvent.LICENSE_CHANGE, {}) == 1


async def test_registering_a_customer_is_a_licence_change_event(api, provider, settings, receiver):
    token = token_for(
        settings,
        await make_user(provider, [Permission.SITE_SETTINGS, Permission.CUSTOMER_MANAGEMENT]),
    )
    _, receiver.secret = await create_webhook(api, token, receiver.url, events=["LICENSE_CHANGE"])
    register = """mutation($input: CustomerRegisterInput!) { customerRegister(input: $input) {
      created } }"""
    variables = {"input": {"displayName": "Contoso", "externalId": "X-9", "sourceType": "DIRECT"}}
    await api.data(register, variables, token=token)
    await api.data(register, variables, token=token)  # known already: no change, no event
    assert await worker().run_once() == 1
    [got] = receiver.received
    assert got.signature_valid and got.json["type"] == "LICENSE_CHANGE"
    assert got.json["data"]["customer"]["externalId"] == "X-9"


async def test_urls_must_be_https_except_local_ones_in_development(api, admin):
    for url, ok in (
        ("https://hooks.example.com/vdc", True),
        ("http://127.0.0.1:9/x", True),
        ("http://localhost/x", True),
        ("http://hooks.example.com/vdc", False),
        ("ftp://hooks.example.com/vdc", False),
        ("hooks.example.com", False),
        ("https://10.0.0.8/hooks", False),
        ("https://169.254.169.254/latest", False),
        ("https://[fd00::1]/x", False),
        ("https://localhost/x", True),  # local names are for development only
    ):
        result = (
            await api.data(
                CREATE, {"input": {"url": url, "eventTypes": ["SESSION_FAILED"]}}, token=admin
            )
        )["webhookCreate"]
        codes = [e["code"] for e in result["userErrors"]]
        assert codes == ([] if ok else ["INVALID_URL"]), url
    assert url_problem("http://127.0.0.1/x", development=False) == "Webhook URLs must use https"
    assert url_problem("https://127.0.0.1/x", development=False)
    assert url_problem("https://localhost/x", development=False)
    assert url_problem("https://93.184.216.34/x", development=False) is None
    empty = (
        await api.data(
            CREATE, {"input": {"url": "https://a.example", "eventTypes": []}}, token=admin
        )
    )["webhookCreate"]
    assert [(e["field"], e["code"]) for e in empty["userErrors"]] == [
        (["input", "eventTypes"], "REQUIRED")
    ]


async def test_the_secret_is_shown_once_and_can_be_rotated(api, admin, receiver):
    hook_id, secret = await create_webhook(api, admin, receiver.url)
    listed = (await api.data(LIST, token=admin))["webhooks"]
    assert listed["totalCount"] == 1 and secret not in str(listed)
    errors = await api.errors("{ webhooks { nodes { secret } } }", token=admin)
    assert errors  # no such field: the secret is never readable
    rotated = (
        await api.data(UPDATE, {"input": {"id": hook_id, "rotateSecret": True}}, token=admin)
    )["webhookUpdate"]
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != secret
    plain = (await api.data(UPDATE, {"input": {"id": hook_id}}, token=admin))["webhookUpdate"]
    assert plain["secret"] is None


async def test_deleting_a_webhook_removes_it_and_its_log(api, provider, admin, receiver):
    hook_id, _ = await create_webhook(api, admin, receiver.url)
    await emit(provider.id, WebhookEvent.USAGE_REPORT_STATUS, {})
    result = (await api.data(DELETE, {"input": {"id": hook_id}}, token=admin))["webhookDelete"]
    assert result == {"deletedWebhookId": hook_id, "userErrors": []}
    assert (await api.data(LIST, token=admin))["webhooks"]["totalCount"] == 0
    assert await WebhookDelivery.all().count() == 0
    errors = await api.errors(DELIVERIES, {"id": hook_id}, token=admin)
    assert errors[0]["extensions"]["code"] == "NOT_FOUND"


async def test_managing_webhooks_needs_site_settings(api, provider, settings, admin, receiver):
    hook_id, _ = await create_webhook(api, admin, receiver.url)
    reader = token_for(settings, await make_user(provider, []))
    assert (await api.data(LIST, token=reader))["webhooks"]["totalCount"] == 1
    for query, variables in (
        (CREATE, {"input": {"url": receiver.url, "eventTypes": ["SESSION_FAILED"]}}),
        (UPDATE, {"input": {"id": hook_id, "enabled": False}}),
        (DELETE, {"input": {"id": hook_id}}),
    ):
        errors = await api.errors(query, variables, token=reader)
        assert errors[0]["extensions"]["code"] == "FORBIDDEN"
        assert "SITE_SETTINGS" in errors[0]["message"]


async def test_another_providers_webhooks_are_not_found_by_any_path(
    api, provider, settings, admin, receiver
):
    other = await make_provider()
    their_admin = token_for(settings, await make_user(other, [Permission.SITE_SETTINGS]))
    hook_id, _ = await create_webhook(api, their_admin, receiver.url)
    await emit(other.id, WebhookEvent.USAGE_REPORT_STATUS, {})
    delivery = await WebhookDelivery.get()
    delivery_id = gid("WebhookDelivery", delivery.id)

    assert (await api.data(LIST, token=admin))["webhooks"]["totalCount"] == 0
    for query, variables in (
        (DELIVERIES, {"id": hook_id}),
        (UPDATE, {"input": {"id": hook_id, "enabled": False}}),
        (DELETE, {"input": {"id": hook_id}}),
        (REDELIVER, {"input": {"deliveryId": delivery_id}}),
        ("query($id: ID!) { node(id: $id) { id } }", {"id": delivery_id}),
        ("query($id: ID!) { node(id: $id) { id } }", {"id": hook_id}),
    ):
        errors = await api.errors(query, variables, token=admin)
        assert errors[0]["extensions"]["code"] == "NOT_FOUND", query
    assert await WebhookDelivery.all().count() == 1


@pytest.fixture
def fast_settings(tmp_path) -> Settings:
    return Settings(
        dev_token_secret="test-secret-" + "x" * 40,
        state_dir=tmp_path / "state",
        webhook_retry_base_seconds=0.05,
        webhook_poll_seconds=0.05,
        usage_report_check_seconds=0,
        outbound_allowed_networks=list(LOOPBACK),
    )


async def test_the_running_server_delivers_and_retries_by_itself(db, fast_settings):
    """End to end: a real server's background worker sends, retries and logs."""
    import uvicorn

    from vdc_graph.app import create_app

    provider = await make_provider()
    token = token_for(fast_settings, await make_user(provider, [Permission.SITE_SETTINGS]))
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(fast_settings, manage_database=False),
            host="127.0.0.1",
            port=0,
            log_level="warning",
        )
    )
    task = asyncio.ensure_future(server.serve())
    try:

        async def started() -> bool:
            return server.started

        await until(started)
        port = server.servers[0].sockets[0].getsockname()[1]
        with WebhookReceiver(failures=[500, 502]) as receiver:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:

                async def gql(query: str, variables: dict) -> dict:
                    response = await http.post(
                        "/graphql",
                        json={"query": query, "variables": variables},
                        headers={"Authorization": f"Bearer {token}"},
                    )
                    assert "errors" not in response.json(), response.json()
                    return response.json()["data"]

                created = await gql(
                    CREATE, {"input": {"url": receiver.url, "eventTypes": ["USAGE_REPORT_STATUS"]}}
                )
                receiver.secret = created["webhookCreate"]["secret"]
                report = await generate_report(provider.id, date(2025, 3, 1))
                await gql(SUBMIT, {"input": {"id": gid("UsageReport", report.id)}})
                # The server records an attempt's outcome only after the receiver has answered,
                # so wait for the log to show the delivery settled, as a client would.
                hook = {"id": created["webhookCreate"]["webhook"]["id"]}

                async def settled() -> dict | None:
                    log = (await gql(DELIVERIES, hook))["webhookDeliveries"]
                    return log if log["nodes"] and log["nodes"][0]["status"] != "PENDING" else None

                log = await until(settled)
        assert [r.answered for r in receiver.received] == [500, 502, 200]
        assert all(r.signature_valid for r in receiver.received)
        [entry] = log["nodes"]
        assert entry["status"] == "SUCCEEDED" and entry["attempts"] == 3
        assert entry["lastStatusCode"] == 200
    finally:
        server.should_exit = True
        await task
