"""Offboarding requests: the workflow, the deletion it ends with, and registering again."""

from __future__ import annotations

import base64
import subprocess
from datetime import date, timedelta
from uuid import UUID, uuid4

import pytest
from strawberry import relay

from tests.factories import make_customer, make_provider, make_user, token_for
from tests.test_customer_import import run_cli
from tests.test_onboarding import clock_from_now
from vdc_graph import clock
from vdc_graph.db.models import (
    AuditRecord,
    Customer,
    LicensedUsersMonth,
    OffboardingRequest,
    PortalUser,
)
from vdc_graph.db.transactions import atomic
from vdc_graph.enums import OffboardingStatus, Permission
from vdc_graph.resolvers.offboarding import ReviewRefused, complete_due, review

CREATE = """
mutation($input: OffboardingRequestCreateInput!) { offboardingRequestCreate(input: $input) {
  offboardingRequest { id status requestedBy desiredDeletionDate reason licensesInUse }
  userErrors { message field code } } }
"""


LIST = """
query($filter: OffboardingRequestFilter) { offboardingRequests(filter: $filter) {
  totalCount nodes { id status reviewedBy reviewedAt reviewNote completedAt
    customerDisplayName customer { id } } } }
"""
CUSTOMER = "query($id: ID!) { customer(id: $id) { offboardingRequests { status reason } } }"
REGISTER = """
mutation($input: CustomerRegisterInput!) { customerRegister(input: $input) {
  customer { id externalId contractType } created userErrors { code } } }
"""


def gid(customer) -> str:
    return base64.b64encode(f"Customer:{customer.id}".encode()).decode()


def tomorrow() -> str:
    return (clock.now().date() + timedelta(days=1)).isoformat()


@pytest.fixture
async def provider():
    return await make_provider()


@pytest.fixture
async def manager(provider, settings):
    return token_for(
        settings, await make_user(provider, [Permission.CUSTOMER_MANAGEMENT], email="m@p.example")
    )


async def create(api, token, customer, **extra):
    variables = {
        "input": {
            "customerId": gid(customer),
            "desiredDeletionDate": tomorrow(),
            "reason": "Moving on",
            **extra,
        }
    }
    return (await api.data(CREATE, variables, token=token))["offboardingRequestCreate"]


def support(db, tmp_path, *args: str) -> subprocess.CompletedProcess:
    """The platform's operator at the command line (a real process)."""
    return run_cli(db, tmp_path, "offboarding", *args)


async def listed(api, token, **flt) -> list[dict]:
    return (await api.data(LIST, {"filter": flt}, token=token))["offboardingRequests"]["nodes"]


async def test_support_approves_and_the_job_deletes_on_the_desired_date(
    api, db, tmp_path, provider, manager, settings
):
    now = clock_from_now()
    customer = await make_customer(provider, external_id="SUB-1", licenses_used=14)
    await LicensedUsersMonth.create(
        provider=provider, customer=customer, month=date(2025, 5, 1), licensed_users=14
    )
    result = await create(api, manager, customer)
    assert result["userErrors"] == []
    request = result["offboardingRequest"]
    assert request["status"] == "REQUESTED" and request["licensesInUse"] == 14
    assert request["requestedBy"] == "m@p.example"
    again = await create(api, manager, customer)
    assert [e["code"] for e in again["userErrors"]] == ["DUPLICATE"]
    listed_on_customer = await api.data(CUSTOMER, {"id": gid(customer)}, token=manager)
    assert listed_on_customer["customer"]["offboardingRequests"] == [
        {"status": "REQUESTED", "reason": "Moving on"}
    ]
    # The requester cannot review its own request: the API has no such operation.
    own = await api.post(
        'mutation { offboardingRequestApprove(input: {offboardingRequestId: "x"}) '
        "{ userErrors { code } } }",
        token=manager,
    )
    assert own.status_code == 400

    shown = support(db, tmp_path, "list", "--status", "REQUESTED")
    assert shown.returncode == 0 and request["id"] in shown.stdout
    assert "Moving on" in shown.stdout and customer.display_name in shown.stdout
    anonymous_review = support(db, tmp_path, "approve", request["id"], "--reviewer", " ")
    assert anonymous_review.returncode != 0 and "name the reviewer" in anonymous_review.stderr
    approved = support(
        db, tmp_path, "approve", request["id"], "--reviewer", "Sam", "--reason", "Confirmed"
    )
    assert approved.returncode == 0, approved.stderr
    assert f"deletion on {tomorrow()}" in approved.stdout
    (row,) = await listed(api, manager)
    assert row["status"] == "APPROVED" and row["reviewedBy"] == "Sam"
    assert row["reviewNote"] == "Confirmed" and row["reviewedAt"] and row["completedAt"] is None

    # Approved is not deleted: the job leaves the customer until the desired date.
    assert await complete_due() == []
    assert (await api.data(CUSTOMER, {"id": gid(customer)}, token=manager))["customer"]
    now.advance(days=1)
    manager = token_for(settings, await PortalUser.get(email_key="m@p.example"))  # a day on
    (done,) = await complete_due()
    assert done.status is OffboardingStatus.COMPLETED
    assert await complete_due() == []  # once

    gone = await api.errors(CUSTOMER, {"id": gid(customer)}, token=manager)
    assert gone[0]["extensions"]["code"] == "NOT_FOUND"
    # The request stays listed for the provider, with its customer's name.
    (row,) = await listed(api, manager, status="COMPLETED")
    assert row["customer"] is None and row["customerDisplayName"] == customer.display_name
    assert row["completedAt"] and row["reviewedBy"] == "Sam"
    node = "query($id: ID!) { node(id: $id) { ... on OffboardingRequest { status } } }"
    assert (await api.data(node, {"id": request["id"]}, token=manager))["node"] == {
        "status": "COMPLETED"
    }
    stored = await Customer.get(id=customer.id)
    assert stored.deleted_at and stored.external_id is None
    assert stored.former_external_id == "SUB-1"
    assert await LicensedUsersMonth.filter(customer_id=customer.id).count() == 1
    records = await AuditRecord.filter(
        provider_id=provider.id,
        action__in=["offboardingRequestApproved", "offboardingRequestComplete"],
    ).values_list("action", "actor_label")
    assert sorted(records) == [
        ("offboardingRequestApproved", "support: Sam"),
        ("offboardingRequestComplete", "support: deletion job"),
    ]
    registered = await api.data(
        REGISTER,
        {"input": {"displayName": "Back again", "externalId": "SUB-1", "sourceType": "DIRECT"}},
        token=manager,
    )
    result = registered["customerRegister"]
    assert result["created"] is True and result["customer"]["externalId"] == "SUB-1"
    assert result["customer"]["contractType"] == "PENDING"


async def test_rejection_needs_a_reason_and_closes_the_request(
    api, db, tmp_path, provider, manager
):
    now = clock_from_now()
    customer = await make_customer(provider)
    request = (await create(api, manager, customer))["offboardingRequest"]
    key = UUID(relay.GlobalID.from_id(request["id"]).node_id)
    silent = support(db, tmp_path, "reject", request["id"], "--reviewer", "Sam")
    assert silent.returncode != 0 and "needs a reason" in silent.stderr
    assert (await listed(api, manager))[0]["status"] == "REQUESTED"
    async with atomic():
        await review(key, OffboardingStatus.APPROVED, "Sam")
    # Rejected before its date, an approved request deletes nothing.
    rejected = support(
        db, tmp_path, "reject", request["id"], "--reviewer", "Kim", "--reason", "Contract runs on"
    )
    assert rejected.returncode == 0, rejected.stderr
    (row,) = await listed(api, manager)
    assert row["status"] == "REJECTED" and row["reviewedBy"] == "Kim"
    assert row["reviewNote"] == "Contract runs on"
    for to in (OffboardingStatus.APPROVED, OffboardingStatus.REJECTED):
        with pytest.raises(ReviewRefused, match="the request is REJECTED"):
            await review(key, to, "Sam", "again")
    with pytest.raises(ReviewRefused, match="no offboarding request"):
        await review(uuid4(), OffboardingStatus.APPROVED, "Sam")
    # A rejected request is closed: a new one may be made.
    assert (await create(api, manager, customer))["userErrors"] == []
    now.advance(days=2)
    assert await complete_due() == []
    assert (await Customer.get(id=customer.id)).deleted_at is None


async def test_bad_values_write_nothing(api, provider, manager):
    customer = await make_customer(provider)
    yesterday = (clock.now().date() - timedelta(days=1)).isoformat()
    result = await create(api, manager, customer, desiredDeletionDate=yesterday, reason="  ")
    assert [e["code"] for e in result["userErrors"]] == ["OUT_OF_RANGE", "REQUIRED"]
    assert await OffboardingRequest.all().count() == 0


async def test_rights_and_tenancy(api, provider, manager, settings):
    customer = await make_customer(provider)
    request = (await create(api, manager, customer))["offboardingRequest"]
    reader = token_for(settings, await make_user(provider, []))
    stranger = token_for(
        settings, await make_user(await make_provider("Other"), [Permission.CUSTOMER_MANAGEMENT])
    )
    create_vars = {
        "input": {"customerId": gid(customer), "desiredDeletionDate": tomorrow(), "reason": "x"}
    }
    refused = await api.errors(CREATE, create_vars, token=reader)
    assert refused[0]["extensions"]["code"] == "FORBIDDEN"
    hidden = await api.errors(CREATE, create_vars, token=stranger)
    assert hidden[0]["extensions"]["code"] == "NOT_FOUND"
    assert (await listed(api, reader))[0]["id"] == request["id"]  # reading is monitoring
    assert await listed(api, stranger) == []
    stored = await OffboardingRequest.get(customer_id=customer.id)
    assert stored.status is OffboardingStatus.REQUESTED
    node = "query($id: ID!) { node(id: $id) { ... on OffboardingRequest { status } } }"
    seen = await api.data(node, {"id": request["id"]}, token=reader)
    assert seen["node"] == {"status": "REQUESTED"}
    hidden = await api.errors(node, {"id": request["id"]}, token=stranger)
    assert hidden[0]["extensions"]["code"] == "NOT_FOUND"
