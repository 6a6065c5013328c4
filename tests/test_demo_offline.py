"""The demo contacts nobody outside: its data names reserved ``.example`` hosts only, and what
its server would send there is refused without even asking DNS."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit

from tests.test_demo import ANCHOR, CUSTOMERS
from vdc_graph import clock, outbound
from vdc_graph.background import webhook_worker
from vdc_graph.db import models
from vdc_graph.demo import seed_demo
from vdc_graph.enums import ContactKind, DeliveryStatus, OutboxKind, WebhookEvent
from vdc_graph.notify.deliverers import deliverers
from vdc_graph.notify.outbox import OutboxWorker
from vdc_graph.notify.webhooks import emit
from vdc_graph.settings import Settings


def hosts_of(value: str) -> set[str]:
    """The host of a URL, or the domain of an email address."""
    if value.startswith(("http://", "https://")):
        return {(urlsplit(value).hostname or "").lower()}
    return {value.rsplit("@", 1)[-1].lower()}


async def every_host() -> set[str]:
    """Every host a demo row names: contacts, webhooks, emails, tenants, links."""
    texts: list[str] = []
    texts += await models.NotificationContact.all().values_list("address", flat=True)
    texts += await models.Webhook.all().values_list("url", flat=True)
    texts += await models.PortalUser.all().values_list("email", flat=True)
    texts += await models.CustomerAdminUser.all().values_list("email", flat=True)
    texts += await models.Invitation.all().values_list("email", flat=True)
    texts += [
        f"@{d}" for d in await models.Customer.all().values_list("m365_account", flat=True) if d
    ]
    texts += [
        u for u in await models.Onboarding.all().values_list("verification_url", flat=True) if u
    ]
    hosts: set[str] = set()
    for text in texts:
        hosts |= hosts_of(text)
    return hosts


async def test_demo_data_names_example_hosts_only(db):
    await seed_demo(customers=CUSTOMERS, seed=1, anchor=ANCHOR)
    hosts = await every_host()
    assert hosts, "the demo names no host at all"
    assert {h for h in hosts if not h.endswith(".example")} == set()


async def test_what_a_demo_server_would_send_is_refused_without_dns(db):
    await seed_demo(customers=CUSTOMERS, seed=1, anchor=ANCHOR)
    clock.set_clock(lambda: datetime.now(UTC))
    asked: list[str] = []

    async def spy(host: str, port: int) -> list[str]:
        asked.append(host)
        raise OSError("the demo must not resolve names")

    outbound.set_resolver(spy)
    try:
        settings = Settings(dev_token_secret="x" * 40)  # the demo's defaults: nothing allowed
        provider = await models.ServiceProvider.get(display_name="Demo Provider")
        for event in WebhookEvent:
            await emit(provider.id, event, {"n": 1})
        teams = await models.NotificationContact.filter(kind=ContactKind.TEAMS_WEBHOOK)
        assert teams
        for contact in teams:
            await models.OutboxMessage.create(
                kind=OutboxKind.TEAMS,
                recipient=contact.address,
                payload={"card": {"text": "x"}},
                next_attempt_at=clock.now(),
            )
        sent = await webhook_worker(settings).run_once()
        assert sent > 0
        assert await OutboxWorker(deliverers(settings), batch_size=1000).run_once() == len(teams)
    finally:
        outbound.set_resolver(None)
    assert asked == []
    deliveries = await models.WebhookDelivery.all()
    assert {d.last_error for d in deliveries} == {outbound.REFUSED_REASON}
    messages = await models.OutboxMessage.filter(kind=OutboxKind.TEAMS)
    assert all(m.status is DeliveryStatus.PENDING and m.attempts == 1 for m in messages)
    assert OutboxKind.EMAIL not in deliverers(settings)  # no SMTP host: no email is sent
