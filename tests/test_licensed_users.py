"""A customer's licensed users: the connection with filters, the CSV download, billing fields."""

from __future__ import annotations

import base64
import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest

from tests.factories import make_customer, make_provider, make_user, token_for
from vdc_graph.db.models import LicensedUser, LicensedUsersMonth, Subscription
from vdc_graph.enums import ProtectionStatus, SubscriptionPlan

USERS = """
query($id: ID!, $filter: LicensedUserFilter, $order: LicensedUserOrder, $first: Int,
      $after: String) {
  customer(id: $id) {
    licenseModel
    subscriptions { plan subscriptionId }
    licensedUsersHistory { month licensedUsers }
    licensedUsers(filter: $filter, orderBy: $order, first: $first, after: $after) {
      totalCount
      nodes { id displayName email protectionStatus lastBackupAt }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""
STATUSES = [ProtectionStatus.PROTECTED, ProtectionStatus.UNPROTECTED, ProtectionStatus.EXCLUDED]


def gid(type_name: str, key) -> str:
    return base64.b64encode(f"{type_name}:{key}".encode()).decode()


def read_csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


@pytest.fixture
async def provider():
    return await make_provider()


@pytest.fixture
async def customer(provider):
    customer = await make_customer(provider, display_name="Contoso Ltd")
    base = datetime(2025, 5, 1, tzinfo=UTC)
    await LicensedUser.bulk_create(
        [
            LicensedUser(
                customer=customer,
                display_name=f"User {i:03d}",
                email=f"user{i:03d}@contoso.com",
                protection_status=STATUSES[i % 3],
                last_backup_at=None if i % 3 == 1 else base + timedelta(hours=i),
            )
            for i in range(150)
        ]
    )
    await LicensedUsersMonth.create(
        provider=provider, customer=customer, month=date(2025, 4, 1), licensed_users=140
    )
    await LicensedUsersMonth.create(
        provider=provider, customer=customer, month=date(2025, 5, 1), licensed_users=150
    )
    await Subscription.create(customer=customer, plan=SubscriptionPlan.FLEX, subscription_id="F-1")
    return customer


@pytest.fixture
async def reader(provider, settings):
    return token_for(settings, await make_user(provider, []))


async def test_licensed_users_page_filter_and_order(api, customer, reader):
    cid = gid("Customer", customer.id)
    data = (await api.data(USERS, {"id": cid, "first": 100}, token=reader))["customer"]
    assert data["licenseModel"] == "VARIABLE"
    assert data["subscriptions"] == [{"plan": "FLEX", "subscriptionId": "F-1"}]
    assert data["licensedUsersHistory"] == [
        {"month": "2025-04", "licensedUsers": 140},
        {"month": "2025-05", "licensedUsers": 150},
    ]
    users = data["licensedUsers"]
    assert users["totalCount"] == 150 and len(users["nodes"]) == 100
    assert users["pageInfo"]["hasNextPage"]
    rest = (
        await api.data(
            USERS, {"id": cid, "first": 100, "after": users["pageInfo"]["endCursor"]}, token=reader
        )
    )["customer"]["licensedUsers"]
    names = [u["displayName"] for u in users["nodes"] + rest["nodes"]]
    assert names == [f"User {i:03d}" for i in range(150)]

    flt = {"protectionStatuses": ["UNPROTECTED"], "search": "user00"}
    data = await api.data(USERS, {"id": cid, "filter": flt}, token=reader)
    found = data["customer"]["licensedUsers"]["nodes"]
    assert [u["email"] for u in found] == [
        "user001@contoso.com",
        "user004@contoso.com",
        "user007@contoso.com",
    ]
    assert all(u["lastBackupAt"] is None for u in found)
    order = {"field": "LAST_BACKUP_AT", "direction": "DESC"}
    data = await api.data(USERS, {"id": cid, "order": order, "first": 3}, token=reader)
    newest = data["customer"]["licensedUsers"]["nodes"]
    # NULLs come first descending; then the latest backups.
    assert newest[0]["lastBackupAt"] is None


async def test_every_order_walks_all_users(api, customer, reader):
    cid = gid("Customer", customer.id)
    for field in ["DISPLAY_NAME", "EMAIL", "PROTECTION_STATUS", "LAST_BACKUP_AT"]:
        seen, after = [], None
        while True:
            data = await api.data(
                USERS,
                {"id": cid, "order": {"field": field}, "first": 40, "after": after},
                token=reader,
            )
            page = data["customer"]["licensedUsers"]
            seen += [u["id"] for u in page["nodes"]]
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
        assert len(seen) == len(set(seen)) == 150, field


async def test_licensed_users_csv(api, customer, reader):
    await LicensedUser.create(
        customer=customer,
        display_name='=HYPERLINK("http://evil")',
        email="@evil.example",
        protection_status=ProtectionStatus.EXCLUDED,
    )
    response = await api.http.get(
        "/exports/licensed-users.csv",
        params={"customerId": gid("Customer", customer.id)},
        headers={"Authorization": f"Bearer {reader}"},
    )
    assert response.status_code == 200
    assert "licensed-users-contoso-ltd.csv" in response.headers["content-disposition"]
    rows = read_csv(response.text)
    assert rows[0] == ["ID", "Display name", "Email", "Protection status", "Last backup"]
    assert len(rows) == 152
    evil = await LicensedUser.get(email="@evil.example")
    assert rows[1] == [
        gid("LicensedUser", evil.id),
        '\'=HYPERLINK("http://evil")',
        "'@evil.example",
        "EXCLUDED",
        "",
    ]
    assert rows[2][1:4] == ["User 000", "user000@contoso.com", "PROTECTED"]
    assert rows[2][4] == "2025-05-01T00:00:00Z"
    filtered = await api.http.get(
        "/exports/licensed-users.csv",
        params={"customerId": gid("Customer", customer.id), "protectionStatuses": "EXCLUDED"},
        headers={"Authorization": f"Bearer {reader}"},
    )
    assert len(read_csv(filtered.text)) == 1 + 51


async def test_customer_csv_neutralises_formulas(api, provider, reader):
    await make_customer(provider, display_name="+cmd|' /C calc'!A0", user_change=-3)
    response = await api.http.get(
        "/exports/customers.csv", headers={"Authorization": f"Bearer {reader}"}
    )
    rows = read_csv(response.text)
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["Display name"] == "'+cmd|' /C calc'!A0"
    assert row["User change"] == "-3"  # numbers are not text: left alone


async def test_refusals_and_tenancy(api, provider, customer, settings):
    cid = gid("Customer", customer.id)
    nobody = token_for(settings, await make_user(provider))
    assert (await api.errors(USERS, {"id": cid}, token=nobody))[0]["extensions"]["code"] == (
        "FORBIDDEN"
    )
    other = token_for(settings, await make_user(await make_provider("Other"), []))
    assert (await api.errors(USERS, {"id": cid}, token=other))[0]["extensions"]["code"] == (
        "NOT_FOUND"
    )
    url = "/exports/licensed-users.csv"
    assert (await api.http.get(url, params={"customerId": cid})).status_code == 401
    for token, status in [(nobody, 403), (other, 404)]:
        response = await api.http.get(
            url, params={"customerId": cid}, headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == status
    reader = token_for(settings, await make_user(provider, []))
    for params, status in [
        ({}, 400),
        ({"customerId": "garbage"}, 404),
        ({"customerId": cid, "protectionStatuses": "NOPE"}, 400),
    ]:
        response = await api.http.get(
            url, params=params, headers={"Authorization": f"Bearer {reader}"}
        )
        assert response.status_code == status, params
    user = await LicensedUser.filter(customer_id=customer.id).first()
    node = "query($id: ID!) { node(id: $id) { ... on LicensedUser { email } } }"
    assert (await api.data(node, {"id": gid("LicensedUser", user.id)}, token=reader))["node"]
    assert (await api.errors(node, {"id": gid("LicensedUser", user.id)}, token=other))[0][
        "extensions"
    ]["code"] == "NOT_FOUND"
