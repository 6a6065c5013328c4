"""Restores with a lifecycle: recorded in progress, finished as success or failure with their
item count; never for a customer that was never backed up; refusals write nothing."""

from __future__ import annotations

import pytest

from tests.backup_support import backed_up_customer, connected_customer, fast_settings, gid
from tests.factories import make_provider, make_user, token_for
from vdc_graph.db.models import Restore
from vdc_graph.enums import Permission

RECORD = """mutation($input: RestoreRecordInput!) { restoreRecord(input: $input) {
  restore { id restoreType itemCount status finishedAt } userErrors { code field message } } }"""
FINISH = """mutation($input: RestoreFinishInput!) { restoreFinish(input: $input) {
  restore { id restoreType itemCount status finishedAt } userErrors { code field message } } }"""


@pytest.fixture
def settings(tmp_path):
    return fast_settings(tmp_path)


@pytest.fixture
async def provider(db):
    return await make_provider()


@pytest.fixture
async def manager(provider, settings):
    return token_for(settings, await make_user(provider, [Permission.BACKUP_MANAGEMENT]))


def record_input(customer, **extra):
    return {
        "customerId": gid("Customer", customer.id),
        "requestedBy": "anna@contoso.example",
        "restoreType": "ONEDRIVE_FILES",
        **extra,
    }


async def test_a_restore_moves_from_in_progress_to_its_result(api, provider, manager):
    customer = await backed_up_customer(provider)
    recorded = (await api.data(RECORD, {"input": record_input(customer)}, token=manager))[
        "restoreRecord"
    ]
    restore = recorded["restore"]
    assert restore["status"] == "IN_PROGRESS" and restore["finishedAt"] is None
    finish = {"id": restore["id"], "status": "IN_PROGRESS", "itemCount": 3}
    still = (await api.data(FINISH, {"input": finish}, token=manager))["restoreFinish"]
    assert [(e["code"], e["field"]) for e in still["userErrors"]] == [
        ("INVALID", ["input", "status"])
    ]
    done = (
        await api.data(
            FINISH, {"input": {**finish, "status": "SUCCESS", "itemCount": 42}}, token=manager
        )
    )["restoreFinish"]
    assert done["userErrors"] == []
    assert done["restore"]["status"] == "SUCCESS" and done["restore"]["itemCount"] == 42
    assert done["restore"]["finishedAt"].endswith("Z")
    again = (
        await api.data(
            FINISH, {"input": {**finish, "status": "FAILED", "itemCount": 0}}, token=manager
        )
    )["restoreFinish"]
    assert [e["code"] for e in again["userErrors"]] == ["INVALID_STATE"]
    row = await Restore.get()
    assert (row.status.value, row.item_count) == ("SUCCESS", 42)


async def test_restore_types_are_an_enum(api, provider, manager):
    customer = await backed_up_customer(provider)
    response = await api.post(
        RECORD, {"input": record_input(customer, restoreType="SOMETHING")}, token=manager
    )
    assert response.status_code == 400 and "RestoreType" in response.text
    assert not await Restore.exists()


async def test_a_customer_never_backed_up_has_no_restores(api, provider, manager):
    customer = await connected_customer(provider)  # onboarded, but no backup yet
    refused = (await api.data(RECORD, {"input": record_input(customer)}, token=manager))[
        "restoreRecord"
    ]
    assert refused["restore"] is None
    assert [(e["code"], e["field"]) for e in refused["userErrors"]] == [
        ("INVALID_STATE", ["input", "customerId"])
    ]
    assert not await Restore.exists()


async def test_rights_and_tenancy_are_enforced(api, provider, manager, settings):
    customer = await backed_up_customer(provider)
    recorded = (await api.data(RECORD, {"input": record_input(customer)}, token=manager))[
        "restoreRecord"
    ]
    finish = {"id": recorded["restore"]["id"], "status": "SUCCESS", "itemCount": 1}
    reader = token_for(settings, await make_user(provider, []))
    errors = await api.errors(FINISH, {"input": finish}, token=reader)
    assert errors[0]["extensions"]["code"] == "FORBIDDEN"
    other = await make_provider()
    stranger = token_for(settings, await make_user(other, [Permission.BACKUP_MANAGEMENT]))
    errors = await api.errors(FINISH, {"input": finish}, token=stranger)
    assert errors[0]["extensions"]["code"] == "NOT_FOUND"
    row = await Restore.get()
    assert row.status.value == "IN_PROGRESS" and row.finished_at is None
