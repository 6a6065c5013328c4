"""Switching into a customer: a short-lived token limited to it, honouring its IP ranges."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from strawberry import relay

from tests.factories import make_customer, make_provider, make_user, token_for
from vdc_graph import clock
from vdc_graph.app import create_app
from vdc_graph.auth import Authenticator
from vdc_graph.db.models import AuditRecord, CustomerAdminUser, IpRange
from vdc_graph.enums import AddedBy, AuditOutcome, Permission

SWITCH = """mutation($input: CustomerSwitchInput!) { customerSwitch(input: $input) {
  token expiresAt customer { displayName } userErrors { code } } }"""
CUSTOMERS = "{ customers { nodes { displayName } } }"
CUSTOMER = "query($id: ID!) { customer(id: $id) { displayName } }"
VIEWER = "{ viewer { customer { displayName } permissions } }"


def gid(type_name: str, row) -> str:
    return str(relay.GlobalID(type_name, str(row.id)))


async def setup(email: str = "pat@contoso.com"):
    provider = await make_provider()
    user = await make_user(provider, [Permission.CUSTOMER_MANAGEMENT], email=email)
    mine = await make_customer(provider, display_name="Mine")
    other = await make_customer(provider, display_name="Other")
    await CustomerAdminUser.create(
        customer=mine,
        email=email.upper(),
        email_key=email.lower(),
        first_name="Pat",
        last_name="Doe",
    )
    return provider, user, mine, other


async def switched_token(api, settings, user, customer) -> str:
    result = (
        await api.data(
            SWITCH,
            {"input": {"customerId": gid("Customer", customer)}},
            token=token_for(settings, user),
        )
    )["customerSwitch"]
    assert result["userErrors"] == []
    return result["token"]


async def test_the_switched_token_sees_only_its_customer_and_no_provider_setting(api, settings):
    start = datetime(2030, 5, 1, 12, tzinfo=UTC)
    clock.set_clock(lambda: start)
    _, user, mine, other = await setup()
    result = (
        await api.data(
            SWITCH,
            {"input": {"customerId": gid("Customer", mine)}},
            token=token_for(settings, user),
        )
    )["customerSwitch"]
    assert result["customer"] == {"displayName": "Mine"}
    assert result["expiresAt"] == "2030-05-01T12:15:00Z"
    token = result["token"]
    assert (await api.data(VIEWER, token=token))["viewer"]["customer"] == {"displayName": "Mine"}
    assert (await api.data(CUSTOMERS, token=token))["customers"]["nodes"] == [
        {"displayName": "Mine"}
    ]
    errors = await api.errors(CUSTOMER, {"id": gid("Customer", other)}, token=token)
    assert errors[0]["extensions"]["code"] == "NOT_FOUND"
    for query in (
        "{ roles { totalCount } }",
        "{ users { totalCount } }",
        "{ apiKeys { totalCount } }",
    ):
        errors = await api.errors(query, token=token)
        assert errors[0]["extensions"]["code"] == "FORBIDDEN", query
    # Switching again from inside a customer is refused: switch from your own sign-in.
    errors = await api.errors(SWITCH, {"input": {"customerId": gid("Customer", mine)}}, token=token)
    assert errors[0]["extensions"]["code"] == "FORBIDDEN"
    # Short-lived.
    clock.set_clock(lambda: start + timedelta(minutes=16))
    response = await api.post(VIEWER, token=token)
    assert response.status_code == 401


async def test_switching_needs_to_be_an_admin_user_of_the_customer(api, settings):
    _, user, _, other = await setup()
    errors = await api.errors(
        SWITCH, {"input": {"customerId": gid("Customer", other)}}, token=token_for(settings, user)
    )
    assert errors[0]["extensions"]["code"] == "FORBIDDEN"
    foreign = await make_customer(await make_provider())
    errors = await api.errors(
        SWITCH, {"input": {"customerId": gid("Customer", foreign)}}, token=token_for(settings, user)
    )
    assert errors[0]["extensions"]["code"] == "NOT_FOUND"


async def test_a_switched_token_stops_when_the_user_is_no_longer_an_admin_user(api, settings):
    _, user, mine, _ = await setup()
    token = await switched_token(api, settings, user, mine)
    await CustomerAdminUser.filter(customer_id=mine.id).delete()
    assert (await api.post(VIEWER, token=token)).status_code == 401


async def test_an_ip_restricted_customer_refuses_outside_and_accepts_inside(api, settings):
    _, user, mine, _ = await setup()
    token = await switched_token(api, settings, user, mine)
    mine.restrict_access_to_ip_ranges = True
    await mine.save()
    # The test client connects from 127.0.0.1.
    await IpRange.create(
        customer=mine, start_address="10.0.0.0", end_address="10.0.0.255", added_by=AddedBy.PROVIDER
    )
    refused = await api.post(VIEWER, token=token)
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    denied = await AuditRecord.filter(outcome=AuditOutcome.DENIED, action="viewer").first()
    assert denied is not None and denied.client_address == "127.0.0.1"
    assert denied.actor_user_id == user.id
    await IpRange.create(
        customer=mine,
        start_address="127.0.0.1",
        end_address="127.0.0.1",
        added_by=AddedBy.CUSTOMER,
    )
    assert (await api.data(VIEWER, token=token))["viewer"]["customer"] == {"displayName": "Mine"}
    # The provider's own (unswitched) token is not customer-scoped: no restriction applies.
    await IpRange.filter(start_address="127.0.0.1").delete()
    assert (await api.data(VIEWER, token=token_for(settings, user)))["viewer"]["customer"] is None


async def test_forwarded_address_is_believed_only_from_a_trusted_proxy(db, settings):
    _, user, mine, _ = await setup()
    mine.restrict_access_to_ip_ranges = True
    await mine.save()
    await IpRange.create(
        customer=mine,
        start_address="203.0.113.0",
        end_address="203.0.113.255",
        added_by=AddedBy.CUSTOMER,
    )
    token = token_for(settings, user, customer_id=mine.id)
    forwarded = {"X-Forwarded-For": "203.0.113.7", "Authorization": f"Bearer {token}"}
    body = {"query": VIEWER}
    untrusted = create_app(settings, manage_database=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=untrusted), base_url="http://t"
    ) as http:
        assert (await http.post("/graphql", json=body, headers=forwarded)).status_code == 403
    behind_proxy = settings.model_copy(update={"trusted_proxies": ["127.0.0.0/8"]})
    trusted = create_app(behind_proxy, manage_database=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=trusted), base_url="http://t"
    ) as http:
        assert (await http.post("/graphql", json=body, headers=forwarded)).status_code == 200
        outside = {**forwarded, "X-Forwarded-For": "198.51.100.1"}
        assert (await http.post("/graphql", json=body, headers=outside)).status_code == 403


async def test_the_customers_flags_limit_a_switched_caller_only(db, settings):
    import pytest

    from vdc_graph.context import RequestContext
    from vdc_graph.errors import Forbidden
    from vdc_graph.resolvers.access import require_customer_flag

    provider, user, mine, _ = await setup()
    authenticator = Authenticator(settings)
    switched = await authenticator.authenticate(
        f"Bearer {token_for(settings, user, customer_id=mine.id)}"
    )
    provider_level = await authenticator.authenticate(f"Bearer {token_for(settings, user)}")
    with pytest.raises(Forbidden):
        await require_customer_flag(RequestContext(settings, switched), "allow_edit_trigger_policy")
    await require_customer_flag(
        RequestContext(settings, provider_level), "allow_edit_trigger_policy"
    )
    mine.allow_edit_trigger_policy = True
    await mine.save()
    await require_customer_flag(RequestContext(settings, switched), "allow_edit_trigger_policy")
    assert provider is not None


async def test_ip_restriction_applies_to_websocket_and_downloads_too(live_server, settings):
    import asyncio
    import json

    import websockets
    from websockets.exceptions import ConnectionClosed

    _, user, mine, _ = await setup()
    mine.restrict_access_to_ip_ranges = True
    await mine.save()
    await IpRange.create(
        customer=mine, start_address="10.0.0.1", end_address="10.0.0.9", added_by=AddedBy.PROVIDER
    )
    token = token_for(settings, user, customer_id=mine.id)
    async with websockets.connect(live_server.ws_url, subprotocols=["graphql-transport-ws"]) as ws:
        init = {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}
        await ws.send(json.dumps(init))
        try:
            await asyncio.wait_for(ws.recv(), 5)
            code = None
        except ConnectionClosed as closed:
            code = closed.rcvd.code
        assert code == 4403
    async with httpx.AsyncClient(base_url=live_server.http_url) as http:
        download = await http.get(
            "/exports/customers.csv", headers={"Authorization": f"Bearer {token}"}
        )
        assert download.status_code == 403
    actions = set(
        await AuditRecord.filter(outcome=AuditOutcome.DENIED).values_list("action", flat=True)
    )
    assert {"connectionInit", "/exports/customers.csv"} <= actions
