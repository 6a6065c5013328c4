"""The dashboard on a crafted data set, checked against figures computed by hand; the data
straddles a month and a year boundary (31 December 2025 / 1 January 2026, UTC)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from tests.factories import make_customer, make_provider, make_user, token_for
from vdc_graph import clock
from vdc_graph.db.models import BackupPolicy, BackupSession, LicensedUsersMonth, Restore
from vdc_graph.enums import BackupType, ContractType, PolicyStatus, SessionStatus

DASHBOARD = """query($from: Date, $to: Date, $months: Int!) { dashboard {
  jobResults(from: $from, to: $to) { jobs success warning failed
    history { day success warning failed } }
  restores(months: $months) { thisMonth previousMonth change customers customersPreviousMonth
    averagePerCustomer averagePerCustomerPreviousMonth averageChange
    history { month restores customers averagePerCustomer }
    topCustomer { count customer { displayName } }
    byCustomer { count customer { displayName } history { month count } } }
  licenseUsage(months: $months) { customers customersChange licenses licensesChange
    history { month customers licenses } } } }"""


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
async def data(db):
    """Provider "P" with customers A, B, C (onboarded) and D (pending); provider "Q" beside."""
    clock.set_clock(lambda: utc(2026, 1, 15, 12))
    p, q = await make_provider(), await make_provider()
    a = await make_customer(p, display_name="A", activation_date=utc(2025, 10, 1))
    b = await make_customer(p, display_name="B", activation_date=utc(2025, 11, 15))
    c = await make_customer(p, display_name="C", activation_date=utc(2026, 1, 5))
    await make_customer(p, display_name="D", contract_type=ContractType.PENDING)
    theirs = await make_customer(q, display_name="Theirs")

    for n, status in enumerate(
        [
            PolicyStatus.SUCCESS,
            PolicyStatus.SUCCESS,
            PolicyStatus.WARNING,
            PolicyStatus.FAILED,
            PolicyStatus.NEVER_RUN,
        ]
    ):
        await BackupPolicy.create(
            provider=p,
            customer=a,
            name=f"P{n}",
            name_key=f"p{n}",
            backup_type=BackupType.ENTIRE_ORGANIZATION,
            last_status=status,
        )
    await BackupPolicy.create(
        provider=q,
        customer=theirs,
        name="Q",
        name_key="q",
        backup_type=BackupType.ENTIRE_ORGANIZATION,
        last_status=PolicyStatus.FAILED,
    )

    async def session(provider, customer, status, ended_at):
        await BackupSession.create(
            provider=provider,
            customer=customer,
            policy_name="P",
            status=status,
            started_at=utc(2025, 12, 1),
            ended_at=ended_at,
        )

    S, W, F = SessionStatus.SUCCESS, SessionStatus.WARNING, SessionStatus.FAILED
    await session(p, a, S, utc(2025, 12, 30, 12))  # before the range
    await session(p, a, S, datetime(2025, 12, 31, 23, 59, 59, 999999, tzinfo=UTC))
    await session(p, b, F, utc(2026, 1, 1, 0, 0))
    await session(p, b, W, utc(2026, 1, 1, 10))
    await session(p, a, S, utc(2026, 1, 1, 11))
    await session(p, a, SessionStatus.STOPPED, utc(2026, 1, 2, 9))  # not a result
    await session(p, a, SessionStatus.RUNNING, None)
    await session(q, theirs, F, utc(2026, 1, 1, 12))  # another provider's

    async def restores(provider, customer, at, n=1):
        for _ in range(n):
            await Restore.create(
                provider=provider,
                customer=customer,
                requested_at=at,
                requested_by="x@example.com",
                restore_type="EXCHANGE_MAILBOX",
            )

    await restores(p, a, utc(2025, 10, 31, 23, 59))  # outside a 3-month history
    await restores(p, a, utc(2025, 11, 30, 8))
    await restores(p, a, datetime(2025, 12, 31, 23, 59, 59, 500000, tzinfo=UTC))
    await restores(p, a, utc(2026, 1, 1), n=2)
    await restores(p, b, utc(2025, 12, 1), n=3)
    await restores(p, b, utc(2026, 1, 10))
    await restores(q, theirs, utc(2026, 1, 5), n=9)

    for customer, month, users in (
        (a, date(2025, 11, 1), 10),
        (a, date(2025, 12, 1), 12),
        (a, date(2026, 1, 1), 15),
        (b, date(2025, 12, 1), 5),
        (b, date(2026, 1, 1), 0),
        (c, date(2026, 1, 1), 7),
        (theirs, date(2026, 1, 1), 100),
    ):
        provider = q if customer is theirs else p
        await LicensedUsersMonth.create(
            provider=provider, customer=customer, month=month, licensed_users=users
        )
    return p


async def test_the_figures_match_the_hand_computed_ones(api, data, settings):
    token = token_for(settings, await make_user(data, []))
    variables = {"from": "2025-12-31", "to": "2026-01-02", "months": 3}
    dashboard = (await api.data(DASHBOARD, variables, token=token))["dashboard"]

    assert dashboard["jobResults"] == {
        "jobs": 5,
        "success": 2,
        "warning": 1,
        "failed": 1,
        "history": [
            {"day": "2025-12-31", "success": 1, "warning": 0, "failed": 0},
            {"day": "2026-01-01", "success": 1, "warning": 1, "failed": 1},
            {"day": "2026-01-02", "success": 0, "warning": 0, "failed": 0},
        ],
    }
    assert dashboard["restores"] == {
        "thisMonth": 3,
        "previousMonth": 4,
        "change": -1,
        "customers": 3,
        # December's four restores over December's two customers (C came in January).
        "customersPreviousMonth": 2,
        "averagePerCustomer": 1.0,
        "averagePerCustomerPreviousMonth": 2.0,
        "averageChange": -1.0,
        "history": [
            {"month": "2025-11", "restores": 1, "customers": 2, "averagePerCustomer": 0.5},
            {"month": "2025-12", "restores": 4, "customers": 2, "averagePerCustomer": 2.0},
            {"month": "2026-01", "restores": 3, "customers": 3, "averagePerCustomer": 1.0},
        ],
        "topCustomer": {"count": 2, "customer": {"displayName": "A"}},
        "byCustomer": [
            {
                "count": 2,
                "customer": {"displayName": "A"},
                "history": [
                    {"month": "2025-11", "count": 1},
                    {"month": "2025-12", "count": 1},
                    {"month": "2026-01", "count": 2},
                ],
            },
            {
                "count": 1,
                "customer": {"displayName": "B"},
                "history": [
                    {"month": "2025-11", "count": 0},
                    {"month": "2025-12", "count": 3},
                    {"month": "2026-01", "count": 1},
                ],
            },
        ],
    }
    assert dashboard["licenseUsage"] == {
        "customers": 2,
        "customersChange": 0,
        "licenses": 22,
        "licensesChange": 5,
        "history": [
            {"month": "2025-11", "customers": 1, "licenses": 10},
            {"month": "2025-12", "customers": 2, "licenses": 17},
            {"month": "2026-01", "customers": 2, "licenses": 22},
        ],
    }


async def test_the_default_range_is_the_last_fourteen_days(api, data, settings):
    token = token_for(settings, await make_user(data, []))
    query = "{ dashboard { jobResults { history { day success } } } }"
    history = (await api.data(query, token=token))["dashboard"]["jobResults"]["history"]
    assert [h["day"] for h in (history[0], history[-1])] == ["2026-01-02", "2026-01-15"]
    assert len(history) == 14


async def test_a_customer_without_licences_and_an_empty_provider_show_zeros(api, settings, db):
    clock.set_clock(lambda: utc(2026, 1, 15, 12))
    empty = await make_provider()
    token = token_for(settings, await make_user(empty, []))
    dashboard = (
        await api.data(
            DASHBOARD, {"from": "2026-01-01", "to": "2026-01-01", "months": 1}, token=token
        )
    )["dashboard"]
    assert dashboard["restores"]["topCustomer"] is None
    assert dashboard["restores"]["averagePerCustomer"] == 0.0
    assert dashboard["licenseUsage"]["history"] == [
        {"month": "2026-01", "customers": 0, "licenses": 0}
    ]


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"from": "2026-01-02", "to": "2026-01-01", "months": 3}, "from"),
        ({"from": "2024-01-01", "to": "2026-01-01", "months": 3}, "from"),
        ({"months": 0}, "months"),
        ({"months": 37}, "months"),
    ],
)
async def test_out_of_range_arguments_are_bad_user_input(api, data, settings, variables, field):
    token = token_for(settings, await make_user(data, []))
    errors = await api.errors(DASHBOARD, variables, token=token)
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert errors[0]["extensions"]["field"] == [field]


async def test_the_dashboard_needs_monitoring_access(api, data, settings):
    from vdc_graph.db.models import PortalUser

    no_role = await PortalUser.create(
        provider=data,
        email="n@example.com",
        email_key="n@example.com",
        first_name="N",
        last_name="R",
    )
    errors = await api.errors(DASHBOARD, {"months": 3}, token=token_for(settings, no_role))
    assert errors[0]["extensions"]["code"] == "FORBIDDEN"


async def test_a_customer_scoped_caller_sees_only_its_customer(api, data, settings):
    from vdc_graph.db.models import Customer, CustomerAdminUser

    b = await Customer.get(provider=data, display_name="B")
    user = await make_user(data, [])
    await CustomerAdminUser.create(
        customer=b, email=user.email, email_key=user.email_key, first_name="B", last_name="A"
    )
    token = token_for(settings, user, customer_id=b.id)
    variables = {"from": "2025-12-31", "to": "2026-01-02", "months": 3}
    dashboard = (await api.data(DASHBOARD, variables, token=token))["dashboard"]
    assert dashboard["jobResults"]["jobs"] == 0  # every policy is A's
    assert [h["failed"] for h in dashboard["jobResults"]["history"]] == [0, 1, 0]
    restores = dashboard["restores"]
    assert (restores["thisMonth"], restores["previousMonth"], restores["customers"]) == (1, 3, 1)
    assert [s["customer"]["displayName"] for s in restores["byCustomer"]] == ["B"]
    assert dashboard["licenseUsage"]["history"] == [
        {"month": "2025-11", "customers": 0, "licenses": 0},
        {"month": "2025-12", "customers": 1, "licenses": 5},
        {"month": "2026-01", "customers": 0, "licenses": 0},
    ]
