"""API keys: created from the creator's rights, shown once, hashed, limited, revocable."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from strawberry import relay

from tests.factories import make_customer, make_provider, make_role, make_user, token_for
from vdc_graph import clock
from vdc_graph.auth.api_keys import split_key
from vdc_graph.db.models import ApiKey, AuditRecord
from vdc_graph.enums import Permission

CREATE = """mutation($input: ApiKeyCreateInput!) { apiKeyCreate(input: $input) {
  apiKey { id name prefix permissions readOnly limitedToCustomers customers { displayName } }
  secret userErrors { code field } } }"""
ROTATE = """mutation($input: ApiKeyInput!) { apiKeyRotate(input: $input) {
  apiKey { id } secret userErrors { code } } }"""
REVOKE = """mutation($input: ApiKeyInput!) { apiKeyRevoke(input: $input) {
  apiKey { revokedAt } userErrors { code } } }"""
KEYS = "{ apiKeys { nodes { name prefix lastUsedAt revokedAt } } }"
VIEWER = "{ viewer { user { email } permissions } }"
CUSTOMERS = "{ customers { nodes { displayName } } }"
ROLE_CREATE = """mutation { roleCreate(input: {name: "By key", permissions: []}) {
  role { name } userErrors { code } } }"""


def gid(type_name: str, row) -> str:
    return str(relay.GlobalID(type_name, str(row.id)))


def _wrong_secret(key: str) -> str:
    # The same key ID with a secret that differs in its last character.
    return key[:-1] + ("A" if key[-1] != "A" else "B")


async def creator(settings, *permissions: Permission):
    provider = await make_provider()
    user = await make_user(provider, [Permission.USER_MANAGEMENT, *permissions])
    return provider, user, token_for(settings, user)


async def create(api, token, **fields) -> dict:
    return (await api.data(CREATE, {"input": {"permissions": [], **fields}}, token=token))[
        "apiKeyCreate"
    ]


async def test_a_key_authenticates_with_its_own_permissions_and_is_stored_hashed(api, settings):
    _, _, token = await creator(settings, Permission.CUSTOMER_MANAGEMENT)
    created = await create(api, token, name="CI", permissions=["CUSTOMER_MANAGEMENT"])
    assert created["userErrors"] == []
    secret = created["secret"]
    assert secret.startswith(created["apiKey"]["prefix"]) and secret.startswith("vdck_")
    stored = await ApiKey.get(name="CI")
    assert split_key(secret)[1] not in stored.secret_hash
    viewer = (await api.data(VIEWER, token=secret))["viewer"]
    assert viewer == {"user": None, "permissions": ["MONITORING_ACCESS", "CUSTOMER_MANAGEMENT"]}
    # The secret is never shown again.
    listed = (await api.data(KEYS, token=token))["apiKeys"]["nodes"]
    assert secret not in str(listed)
    assert listed[0]["lastUsedAt"] is not None  # its use was recorded
    # A wrong secret with a right prefix is refused.
    assert (await api.post(VIEWER, token=_wrong_secret(secret))).status_code == 401


async def test_a_key_cannot_hold_what_its_creator_does_not(api, settings):
    _, _, token = await creator(settings)
    refused = await create(api, token, name="Too much", permissions=["SITE_SETTINGS"])
    assert refused["userErrors"] == [
        {"code": "PERMISSION_REQUIRED", "field": ["input", "permissions"]}
    ]


async def test_a_key_loses_what_its_creator_loses(api, settings):
    provider, user, token = await creator(settings)
    extra = await make_role(provider, [Permission.SITE_SETTINGS])
    await user.roles.add(extra)
    secret = (await create(api, token, name="K", permissions=["SITE_SETTINGS"]))["secret"]
    assert "SITE_SETTINGS" in (await api.data(VIEWER, token=secret))["viewer"]["permissions"]
    await user.roles.remove(extra)
    assert "SITE_SETTINGS" not in (await api.data(VIEWER, token=secret))["viewer"]["permissions"]
    await user.delete()
    assert (await api.post(VIEWER, token=secret)).status_code == 401


async def test_a_key_limited_to_one_customer_sees_only_that_customer(api, settings):
    provider, _, token = await creator(settings)
    mine = await make_customer(provider, display_name="Mine")
    await make_customer(provider, display_name="Other")
    created = await create(api, token, name="One", customerIds=[gid("Customer", mine)])
    assert created["apiKey"]["limitedToCustomers"] is True
    assert created["apiKey"]["customers"] == [{"displayName": "Mine"}]
    secret = created["secret"]
    assert (await api.data(CUSTOMERS, token=secret))["customers"]["nodes"] == [
        {"displayName": "Mine"}
    ]
    errors = await api.errors("{ roles { totalCount } }", token=secret)
    assert errors[0]["extensions"]["code"] == "FORBIDDEN"
    foreign = await make_customer(await make_provider())
    refused = await create(api, token, name="Foreign", customerIds=[gid("Customer", foreign)])
    assert refused["userErrors"] == [{"code": "NOT_FOUND", "field": ["input", "customerIds", "0"]}]


async def test_a_read_only_key_is_refused_every_mutation(api, settings):
    _, _, token = await creator(settings)
    secret = (await create(api, token, name="RO", permissions=["USER_MANAGEMENT"], readOnly=True))[
        "secret"
    ]
    errors = await api.errors(ROLE_CREATE, token=secret)
    assert errors[0]["extensions"]["code"] == "FORBIDDEN"
    writer = (await create(api, token, name="RW", permissions=["USER_MANAGEMENT"]))["secret"]
    done = (await api.data(ROLE_CREATE, token=writer))["roleCreate"]
    assert done == {"role": {"name": "By key"}, "userErrors": []}
    record = await AuditRecord.get(action="roleCreate", outcome="SUCCESS")
    key = await ApiKey.get(name="RW")
    assert (record.actor_api_key_id, record.actor_label) == (key.id, "API key RW")


async def test_revoked_rotated_and_expired_keys_are_refused_at_once(api, settings):
    start = datetime(2030, 1, 1, tzinfo=UTC)
    clock.set_clock(lambda: start)
    _, _, token = await creator(settings)
    created = await create(api, token, name="R", expiresAt="2030-01-02T00:00:00Z")
    key_id, first = created["apiKey"]["id"], created["secret"]
    rotated = (await api.data(ROTATE, {"input": {"id": key_id}}, token=token))["apiKeyRotate"]
    second = rotated["secret"]
    assert (await api.post(VIEWER, token=first)).status_code == 401
    assert (await api.post(VIEWER, token=second)).status_code == 200
    clock.set_clock(lambda: start + timedelta(days=1, seconds=1))
    expired = await api.post(VIEWER, token=second)
    assert expired.status_code == 401
    assert expired.json()["errors"][0]["message"] == "The API key has expired"
    clock.set_clock(lambda: start)
    revoked = (await api.data(REVOKE, {"input": {"id": key_id}}, token=token))["apiKeyRevoke"]
    assert revoked["apiKey"]["revokedAt"] == "2030-01-01T00:00:00Z"
    refused = await api.post(VIEWER, token=second)
    assert refused.json()["errors"][0]["message"] == "The API key has been revoked"
    again = (await api.data(ROTATE, {"input": {"id": key_id}}, token=token))["apiKeyRotate"]
    assert again["userErrors"] == [{"code": "INVALID_STATE"}]
    past = await create(api, token, name="Past", expiresAt="2029-01-01T00:00:00Z")
    assert past["userErrors"] == [{"code": "OUT_OF_RANGE", "field": ["input", "expiresAt"]}]


async def test_another_providers_key_is_not_found(api, settings):
    _, _, token = await creator(settings)
    key_id = (await create(api, token, name="Mine"))["apiKey"]["id"]
    _, _, other = await creator(settings)
    errors = await api.errors(REVOKE, {"input": {"id": key_id}}, token=other)
    assert errors[0]["extensions"]["code"] == "NOT_FOUND"


async def test_a_key_cannot_create_keys(api, settings):
    _, _, token = await creator(settings)
    secret = (await create(api, token, name="Admin key", permissions=["USER_MANAGEMENT"]))["secret"]
    errors = await api.errors(CREATE, {"input": {"name": "Child", "permissions": []}}, token=secret)
    assert errors[0]["extensions"]["code"] == "FORBIDDEN"
    assert errors[0]["message"] == "API keys are created by signed-in users, not by other keys"
