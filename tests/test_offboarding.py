"""Offboarding requests: the workflow, the deletion it ends with, and registering again."""

from __future__ import annotations

import base64
from datetime import date, timedelta

import pytest

from tests.factories import make_customer, make_provider, make_user, token_for
from vdc_graph import clock
from vdc_graph.db.models import Customer, LicensedUsersMonth, OffboardingRequest
from vdc_graph.enums import OffboardingStatus, Permission

CREATE = """
mutation($input: OffboardingRequestCreateInput!) { offboardingRequestCreate(input: $input) {
  offboardingRequest { id status requestedBy desiredDeletionDate reason licensesInUse }
  userErrors { message field code } } }
"""


def review(verb: str) -> str:
    return f"""
mutation($input: OffboardingRequestReviewInput!) {{ offboardingRequest{verb}(input: $input) {{
  offboardingRequest {{ status reviewedAt reviewNote }} removedCustomerId
  userErrors {{ message field code }} }} }}
"""


APPROVE, REJECT, COMPLETE = review("Approve"), review("Reject"), review("Complete")
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


async def test_requested_approved_completed_deletes_and_frees_the_external_id(
    api, provider, manager
):
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
    listed = await api.data(CUSTOMER, {"id": gid(customer)}, token=manager)
    assert listed["customer"]["offboardingRequests"] == [
        {"status": "REQUESTED", "reason": "Moving on"}
    ]
    rid = {"input": {"offboardingRequestId": request["id"]}}
    early = (await api.data(COMPLETE, rid, token=manager))["offboardingRequestComplete"]
    assert [e["code"] for e in early["userErrors"]] == ["INVALID_STATE"]
    approved = await api.data(APPROVE, {"input": {**rid["input"], "note": "ok"}}, token=manager)
    assert approved["offboardingRequestApprove"]["offboardingRequest"]["status"] == "APPROVED"
    assert approved["offboardingRequestApprove"]["removedCustomerId"] is None
    done = (await api.data(COMPLETE, rid, token=manager))["offboardingRequestComplete"]
    assert done["offboardingRequest"]["status"] == "COMPLETED"
    assert done["removedCustomerId"] == gid(customer)  # for a client to evict it

    gone = await api.errors(CUSTOMER, {"id": gid(customer)}, token=manager)
    assert gone[0]["extensions"]["code"] == "NOT_FOUND"
    stored = await Customer.get(id=customer.id)
    assert stored.deleted_at and stored.external_id is None
    assert stored.former_external_id == "SUB-1"
    assert await LicensedUsersMonth.filter(customer_id=customer.id).count() == 1
    registered = await api.data(
        REGISTER,
        {"input": {"displayName": "Back again", "externalId": "SUB-1", "sourceType": "DIRECT"}},
        token=manager,
    )
    result = registered["customerRegister"]
    assert result["created"] is True and result["customer"]["externalId"] == "SUB-1"
    assert result["customer"]["contractType"] == "PENDING"


async def test_rejection_and_wrong_transitions(api, provider, manager):
    customer = await make_customer(provider)
    request = (await create(api, manager, customer))["offboardingRequest"]
    rid = {"input": {"offboardingRequestId": request["id"], "note": "Contract runs on"}}
    rejected = (await api.data(REJECT, rid, token=manager))["offboardingRequestReject"]
    assert rejected["offboardingRequest"]["status"] == "REJECTED"
    assert rejected["offboardingRequest"]["reviewNote"] == "Contract runs on"
    for mutation, name in [(APPROVE, "Approve"), (REJECT, "Reject"), (COMPLETE, "Complete")]:
        result = (await api.data(mutation, rid, token=manager))[f"offboardingRequest{name}"]
        assert [e["code"] for e in result["userErrors"]] == ["INVALID_STATE"]
    # A rejected request is closed: a new one may be made.
    assert (await create(api, manager, customer))["userErrors"] == []
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
    review_vars = {"input": {"offboardingRequestId": request["id"]}}
    for mutation, variables in [
        (CREATE, create_vars),
        (APPROVE, review_vars),
        (REJECT, review_vars),
        (COMPLETE, review_vars),
    ]:
        refused = await api.errors(mutation, variables, token=reader)
        assert refused[0]["extensions"]["code"] == "FORBIDDEN"
        hidden = await api.errors(mutation, variables, token=stranger)
        assert hidden[0]["extensions"]["code"] == "NOT_FOUND"
    stored = await OffboardingRequest.get(customer_id=customer.id)
    assert stored.status is OffboardingStatus.REQUESTED
    node = "query($id: ID!) { node(id: $id) { ... on OffboardingRequest { status } } }"
    seen = await api.data(node, {"id": request["id"]}, token=reader)
    assert seen["node"] == {"status": "REQUESTED"}
    hidden = await api.errors(node, {"id": request["id"]}, token=stranger)
    assert hidden[0]["extensions"]["code"] == "NOT_FOUND"
