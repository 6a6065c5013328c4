"""Settings updates are partial, and an IP restriction can neither be empty nor lock out the
customer-scoped caller who saves it."""

from __future__ import annotations

from tests.factories import make_customer, make_provider, make_user, token_for
from tests.test_customer_settings import RANGES, SETTINGS
from tests.test_customer_switch import setup, switched_token
from tests.test_onboarding import gid
from tests.test_settings import NOTIFICATIONS, SUPPORT, site_admin
from vdc_graph.db.models import Customer, IpRange, ServiceProvider
from vdc_graph.enums import AddedBy, Permission


async def support(api, token, **fields) -> dict:
    return (await api.data(SUPPORT, {"input": fields}, token=token))["supportSettingsUpdate"]


async def test_a_support_setting_left_out_keeps_its_value(api, settings):
    provider, token = await site_admin(settings)
    shown = await support(
        api, token, displayButton=True, link="https://help.example/desk", text="Get help"
    )
    assert shown["userErrors"] == []
    hidden = await support(api, token, displayButton=False)
    assert hidden["settings"]["support"] == {
        "displayButton": False,
        "link": "https://help.example/desk",
        "text": "Get help",
    }
    again = await support(api, token, displayButton=True)
    assert again["userErrors"] == [] and again["settings"]["support"]["text"] == "Get help"
    # The rules hold for the settings as they end up: no text while shown is refused.
    emptied = await support(api, token, text="")
    assert emptied["userErrors"] == [{"code": "REQUIRED", "field": ["input", "text"]}]
    stored = await ServiceProvider.get(id=provider.id)
    assert stored.support_text == "Get help" and stored.support_button_enabled is True


async def test_a_notification_default_left_out_keeps_its_value(api, settings):
    _, token = await site_admin(settings)
    contact = {"kind": "EMAIL", "address": "ops@acme.example", "topics": ["BACKUP_FAILED"]}
    full = {"language": "fr", "allowCustomerAdminNotifications": True, "contacts": [contact]}
    assert (await api.data(NOTIFICATIONS, {"input": full}, token=token))[
        "systemNotificationsUpdate"
    ]["userErrors"] == []
    changed = (await api.data(NOTIFICATIONS, {"input": {"language": "de"}}, token=token))[
        "systemNotificationsUpdate"
    ]
    assert changed["settings"]["systemNotifications"] == {
        "language": "de",
        "allowCustomerAdminNotifications": True,
        "contacts": [{"kind": "EMAIL", "address": "ops@acme.example", "topics": ["BACKUP_FAILED"]}],
    }


async def test_restricting_access_needs_a_range_and_ranges_left_out_stay(api, settings):
    provider = await make_provider()
    manager = token_for(settings, await make_user(provider, [Permission.CUSTOMER_MANAGEMENT]))
    customer = await make_customer(provider)
    cid = gid(customer)

    empty = await api.data(
        RANGES,
        {"input": {"customerId": cid, "ipRanges": [], "restrictAccess": True}},
        token=manager,
    )
    (error,) = empty["customerSetIpRanges"]["userErrors"]
    assert error["code"] == "INVALID_IP_RANGE" and error["field"] == ["input", "restrictAccess"]
    flag = await api.data(
        SETTINGS, {"input": {"customerId": cid, "restrictAccessToIpRanges": True}}, token=manager
    )
    (error,) = flag["customerUpdateSettings"]["userErrors"]
    assert error["field"] == ["input", "restrictAccessToIpRanges"]
    assert (await Customer.get(id=customer.id)).restrict_access_to_ip_ranges is False

    office = [{"startAddress": "198.51.100.0", "endAddress": "198.51.100.255"}]
    saved = await api.data(
        RANGES,
        {"input": {"customerId": cid, "ipRanges": office, "restrictAccess": True}},
        token=manager,
    )
    assert saved["customerSetIpRanges"]["userErrors"] == []
    # Switching the restriction alone keeps the ranges (the field was left out).
    off = await api.data(
        RANGES, {"input": {"customerId": cid, "restrictAccess": False}}, token=manager
    )
    assert off["customerSetIpRanges"]["customer"]["ipRanges"] == [
        {"startAddress": "198.51.100.0", "endAddress": "198.51.100.255", "addedBy": "PROVIDER"}
    ]
    await api.data(RANGES, {"input": {"customerId": cid, "restrictAccess": True}}, token=manager)
    # Removing every range while restricted is refused too.
    cleared = await api.data(RANGES, {"input": {"customerId": cid, "ipRanges": []}}, token=manager)
    (error,) = cleared["customerSetIpRanges"]["userErrors"]
    assert error["field"] == ["input", "ipRanges"]
    assert await IpRange.filter(customer_id=customer.id).count() == 1


async def test_a_customer_scoped_caller_cannot_lock_itself_out(api, settings):
    _, user, mine, _ = await setup()
    token = await switched_token(api, settings, user, mine)
    cid = gid(mine)
    elsewhere = [{"startAddress": "10.0.0.0", "endAddress": "10.0.0.255"}]
    refused = await api.data(
        RANGES,
        {"input": {"customerId": cid, "ipRanges": elsewhere, "restrictAccess": True}},
        token=token,
    )
    (error,) = refused["customerSetIpRanges"]["userErrors"]
    # The test client connects from 127.0.0.1.
    assert error["code"] == "INVALID_IP_RANGE" and "127.0.0.1" in error["message"]
    assert await IpRange.filter(customer_id=mine.id).count() == 0
    assert (await Customer.get(id=mine.id)).restrict_access_to_ip_ranges is False

    with_mine = [*elsewhere, {"startAddress": "127.0.0.1", "endAddress": "127.0.0.1"}]
    saved = await api.data(
        RANGES,
        {"input": {"customerId": cid, "ipRanges": with_mine, "restrictAccess": True}},
        token=token,
    )
    assert saved["customerSetIpRanges"]["userErrors"] == []
    assert {r.added_by for r in await IpRange.filter(customer_id=mine.id)} == {AddedBy.CUSTOMER}
    # Dropping its own address later is refused the same way.
    dropped = await api.data(
        RANGES, {"input": {"customerId": cid, "ipRanges": elsewhere}}, token=token
    )
    assert "127.0.0.1" in dropped["customerSetIpRanges"]["userErrors"][0]["message"]
    assert await IpRange.filter(customer_id=mine.id).count() == 2
