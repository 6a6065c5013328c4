"""Idempotency-Key: a retried mutation answers with the first response and acts once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.factories import make_provider, make_user, token_for
from vdc_graph import clock
from vdc_graph.db.models import Customer
from vdc_graph.enums import Permission

REGISTER = """mutation($name: String!, $ext: String!) { customerRegister(input: {
  displayName: $name, externalId: $ext, sourceType: DIRECT}) { created customer { id } } }"""


@pytest.fixture
async def provider():
    return await make_provider()


@pytest.fixture
async def admin(provider, settings):
    return token_for(settings, await make_user(provider, [Permission.CUSTOMER_MANAGEMENT]))


async def register(api, token, key, name="Fabrikam", ext="E-1"):
    return await api.post(
        REGISTER, {"name": name, "ext": ext}, token=token, headers={"Idempotency-Key": key}
    )


async def test_a_retry_with_the_same_key_replays_the_first_response(api, admin):
    first = await register(api, admin, "key-1")
    # Meanwhile the customer is renamed: a true second run would answer differently.
    await Customer.all().update(external_id="E-moved")
    again = await register(api, admin, "key-1")
    assert again.status_code == first.status_code == 200
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert await Customer.all().count() == 1


async def test_the_same_key_with_another_body_is_refused(api, admin):
    await register(api, admin, "key-2")
    other = await register(api, admin, "key-2", name="Contoso", ext="E-2")
    assert other.status_code == 422
    assert "different request" in other.json()["errors"][0]["message"]
    assert await Customer.all().count() == 1


async def test_keys_belong_to_their_caller(api, admin, provider, settings):
    second_admin = token_for(settings, await make_user(provider, [Permission.CUSTOMER_MANAGEMENT]))
    await register(api, admin, "shared", ext="E-1")
    response = await register(api, second_admin, "shared", ext="E-2")
    assert response.status_code == 200
    assert "idempotent-replayed" not in response.headers
    assert await Customer.all().count() == 2


async def test_a_key_expires_after_24_hours(api, provider, settings):
    now = datetime(2025, 5, 1, tzinfo=UTC)
    clock.set_clock(lambda: now)
    user = await make_user(provider, [Permission.CUSTOMER_MANAGEMENT])
    admin = token_for(settings, user, expires_in=timedelta(days=3))
    await register(api, admin, "daily", ext="E-1")
    now += timedelta(hours=25)
    again = await register(api, admin, "daily", ext="E-1")
    assert "idempotent-replayed" not in again.headers
    assert again.json()["data"]["customerRegister"]["created"] is False  # ran again: found it


async def test_a_response_with_a_secret_is_not_kept(api, provider, settings):
    from vdc_graph.db.models import IdempotencyRecord

    token = token_for(settings, await make_user(provider, [Permission.SITE_SETTINGS]))
    create = """mutation { webhookCreate(input: {url: "https://hooks.example.com/in",
      eventTypes: [SESSION_FAILED]}) { secret userErrors { code } } }"""
    first = await api.post(create, token=token, headers={"Idempotency-Key": "hook-1"})
    assert first.json()["data"]["webhookCreate"]["secret"]
    [record] = await IdempotencyRecord.all()
    assert record.response["body"] is None  # the secret is not at rest
    again = await api.post(create, token=token, headers={"Idempotency-Key": "hook-1"})
    assert again.status_code == 409
    assert "not kept" in again.json()["errors"][0]["message"]


async def test_a_failed_attempt_is_not_replayed(api, admin, settings):
    settings.rate_limit_points_per_hour = 5  # below a mutation's cost: refused before running
    refused = await register(api, admin, "retry-me")
    assert refused.status_code == 429
    settings.rate_limit_points_per_hour = 5000
    clock.set_clock(lambda: datetime.now(UTC) + timedelta(hours=1))  # the budget has refilled
    retried = await register(api, admin, "retry-me")
    assert retried.status_code == 200
    assert "idempotent-replayed" not in retried.headers
    assert retried.json()["data"]["customerRegister"]["created"] is True
