"""Customer settings, IP ranges and notification settings through GraphQL."""

from __future__ import annotations

import pytest

from tests.factories import make_customer, make_provider, make_user, token_for
from tests.test_onboarding import gid
from vdc_graph.db.models import Customer, IpRange, NotificationContact
from vdc_graph.enums import AddedBy, ContractType, Permission

SETTINGS = """
mutation($input: CustomerUpdateSettingsInput!) { customerUpdateSettings(input: $input) {
  customer { settings { region enableSelfService allowCreateDeletePolicy allowEditTriggerPolicy
    autoCreatePolicies allowMultipleRegions enableEmailPreviews restrictAccessToIpRanges } }
  userErrors { message field code } } }
"""
RANGES = """
mutation($input: CustomerSetIpRangesInput!) { customerSetIpRanges(input: $input) {
  customer { settings { restrictAccessToIpRanges } ipRanges { startAddress endAddress addedBy } }
  userErrors { message field code } } }
"""
NOTIFY = """
mutation($input: CustomerUpdateNotificationsInput!) { customerUpdateNotifications(input: $input) {
  customer { allowSystemNotifications notificationLanguage
    notificationContacts { kind address topics } }
  userErrors { message field code } } }
"""


@pytest.fixture
async def provider():
    return await make_provider()


@pytest.fixture
async def manager(provider, settings):
    return token_for(settings, await make_user(provider, [Permission.CUSTOMER_MANAGEMENT]))


async def test_settings_change_only_what_is_given(api, provider, manager):
    customer = await make_customer(provider)
    data = await api.data(
        SETTINGS,
        {
            "input": {
                "customerId": gid(customer),
                "region": "EMEA",
                "enableSelfService": True,
                "allowCreateDeletePolicy": True,
                "allowEditTriggerPolicy": True,
                "autoCreatePolicies": False,
                "allowMultipleRegions": True,
                "enableEmailPreviews": True,
            }
        },
        token=manager,
    )
    assert data["customerUpdateSettings"]["userErrors"] == []
    assert data["customerUpdateSettings"]["customer"]["settings"] == {
        "region": "EMEA",
        "enableSelfService": True,
        "allowCreateDeletePolicy": True,
        "allowEditTriggerPolicy": True,
        "autoCreatePolicies": False,
        "allowMultipleRegions": True,
        "enableEmailPreviews": True,
        "restrictAccessToIpRanges": False,
    }
    data = await api.data(
        SETTINGS,
        {"input": {"customerId": gid(customer), "enableSelfService": False}},
        token=manager,
    )
    s = data["customerUpdateSettings"]["customer"]["settings"]
    assert s["enableSelfService"] is False and s["region"] == "EMEA" and s["allowMultipleRegions"]


async def test_a_pending_customer_has_no_settings_yet(api, provider, manager):
    customer = await make_customer(provider, contract_type=ContractType.PENDING)
    for mutation, name, extra in [
        (SETTINGS, "customerUpdateSettings", {"region": "APJ"}),
        (RANGES, "customerSetIpRanges", {"ipRanges": []}),
        (NOTIFY, "customerUpdateNotifications", {"language": "de"}),
    ]:
        data = await api.data(
            mutation, {"input": {"customerId": gid(customer), **extra}}, token=manager
        )
        assert [e["code"] for e in data[name]["userErrors"]] == ["CUSTOMER_PENDING"]
    stored = await Customer.get(id=customer.id)
    assert stored.region is None and stored.notification_language == "en"


async def test_ip_ranges_are_validated_and_merged_with_the_customers(api, provider, manager):
    customer = await make_customer(provider)
    await IpRange.create(
        customer=customer,
        start_address="10.0.0.1",
        end_address="10.0.0.9",
        added_by=AddedBy.CUSTOMER,
    )
    cid = gid(customer)
    good = [
        {"startAddress": "192.168.0.1", "endAddress": "192.168.0.255"},
        {"startAddress": "2001:db8::1", "endAddress": "2001:db8::ffff"},
    ]
    data = await api.data(
        RANGES,
        {"input": {"customerId": cid, "ipRanges": good, "restrictAccess": True}},
        token=manager,
    )
    result = data["customerSetIpRanges"]
    assert result["userErrors"] == []
    assert result["customer"]["settings"]["restrictAccessToIpRanges"] is True
    assert sorted((r["startAddress"], r["addedBy"]) for r in result["customer"]["ipRanges"]) == [
        ("10.0.0.1", "CUSTOMER"),
        ("192.168.0.1", "PROVIDER"),
        ("2001:db8::1", "PROVIDER"),
    ]
    bad = [
        {"startAddress": "192.168.0.9", "endAddress": "192.168.0.1"},  # start after end
        {"startAddress": "10.0.0.1", "endAddress": "2001:db8::1"},  # mixed families
        {"startAddress": "300.1.1.1", "endAddress": "300.1.1.2"},  # not an address
        {"startAddress": "10.0.0.1", "endAddress": "10.0.0.9"},  # the customer's range again
        {"startAddress": "172.16.0.1", "endAddress": "172.16.0.2"},
        {"startAddress": "172.16.0.1", "endAddress": "172.16.0.2"},  # exact duplicate
    ]
    data = await api.data(
        RANGES,
        {"input": {"customerId": cid, "ipRanges": bad, "restrictAccess": False}},
        token=manager,
    )
    errors = data["customerSetIpRanges"]["userErrors"]
    assert [(e["field"][-1], e["code"]) for e in errors] == [
        ("0", "INVALID_IP_RANGE"),
        ("1", "INVALID_IP_RANGE"),
        ("2", "INVALID_IP_RANGE"),
        ("3", "DUPLICATE"),
        ("5", "DUPLICATE"),
    ]
    assert await IpRange.filter(customer_id=customer.id).count() == 3
    assert (await Customer.get(id=customer.id)).restrict_access_to_ip_ranges is True


async def test_notification_settings_and_contacts(api, provider, manager):
    customer = await make_customer(provider)
    cid = gid(customer)
    contacts = [
        {"kind": "EMAIL", "address": "ops@contoso.com", "topics": ["BACKUP_FAILED"]},
        {
            "kind": "TEAMS_WEBHOOK",
            "address": "https://contoso.webhook.office.com/x",
            "topics": ["BACKUP_COMPLETE", "RESTORE_ACTIVITY"],
        },
    ]
    data = await api.data(
        NOTIFY,
        {
            "input": {
                "customerId": cid,
                "allowSystemNotifications": False,
                "language": "de",
                "contacts": contacts,
            }
        },
        token=manager,
    )
    result = data["customerUpdateNotifications"]
    assert result["userErrors"] == []
    assert result["customer"]["allowSystemNotifications"] is False
    assert result["customer"]["notificationLanguage"] == "de"
    assert result["customer"]["notificationContacts"] == contacts
    topics = ["BACKUP_FAILED"]
    bad = [
        {"kind": "EMAIL", "address": "not-an-email", "topics": topics},
        {"kind": "TEAMS_WEBHOOK", "address": "http://contoso.example/hook", "topics": topics},
        # The server POSTs to a Teams webhook: never to an address of its own network.
        {"kind": "TEAMS_WEBHOOK", "address": "https://10.0.0.7/hook", "topics": topics},
        {"kind": "TEAMS_WEBHOOK", "address": "https://localhost/hook", "topics": topics},
    ]
    data = await api.data(
        NOTIFY, {"input": {"customerId": cid, "language": "german", "contacts": bad}}, token=manager
    )
    errors = data["customerUpdateNotifications"]["userErrors"]
    assert [e["code"] for e in errors] == [
        "INVALID",
        "INVALID_EMAIL",
        "INVALID_URL",
        "INVALID_URL",
        "INVALID_URL",
    ]
    assert await NotificationContact.filter(customer_id=customer.id).count() == 2
    assert (await Customer.get(id=customer.id)).notification_language == "de"


async def test_rights_and_tenancy(api, provider, settings):
    customer = await make_customer(provider)
    cid = gid(customer)
    reader = token_for(settings, await make_user(provider, []))
    stranger = token_for(
        settings, await make_user(await make_provider("Other"), [Permission.CUSTOMER_MANAGEMENT])
    )
    for mutation, extra in [
        (SETTINGS, {"region": "APJ"}),
        (RANGES, {"ipRanges": [{"startAddress": "1.1.1.1", "endAddress": "1.1.1.2"}]}),
        (NOTIFY, {"language": "fr"}),
    ]:
        variables = {"input": {"customerId": cid, **extra}}
        assert (await api.errors(mutation, variables, token=reader))[0]["extensions"]["code"] == (
            "FORBIDDEN"
        )
        assert (await api.errors(mutation, variables, token=stranger))[0]["extensions"]["code"] == (
            "NOT_FOUND"
        )
    stored = await Customer.get(id=customer.id)
    assert stored.region is None and stored.notification_language == "en"
    assert await IpRange.filter(customer_id=customer.id).count() == 0


async def test_the_providers_notification_defaults_seed_a_new_customer(api, manager):
    from vdc_graph.db.models import ServiceProvider
    from vdc_graph.enums import ContactKind

    provider = await ServiceProvider.first()
    provider.notification_language = "fr"
    provider.allow_customer_admin_notifications = True
    await provider.save()
    await NotificationContact.create(
        provider=provider,
        kind=ContactKind.EMAIL,
        address="noc@provider.example",
        topics=["BACKUP_FAILED"],
    )
    data = await api.data(
        """mutation { customerRegister(input: {displayName: "New", externalId: "N-1",
             sourceType: DIRECT}) { customer { allowSystemNotifications notificationLanguage
             notificationContacts { kind address topics } } } }""",
        token=manager,
    )
    customer = data["customerRegister"]["customer"]
    assert customer["notificationLanguage"] == "fr" and customer["allowSystemNotifications"]
    assert customer["notificationContacts"] == [
        {"kind": "EMAIL", "address": "noc@provider.example", "topics": ["BACKUP_FAILED"]}
    ]
