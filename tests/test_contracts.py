"""Contract lifecycle from the licensing system, and what suspended or expired customers may
still do: no backups (scheduled or by hand); restores while suspended, none once expired;
signing in either way."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.backup_support import backed_up_customer, fast_settings, gid, make_policy
from tests.factories import make_customer, make_provider, make_user, token_for
from vdc_graph import clock
from vdc_graph.db.models import BackupSession, Customer, CustomerAdminUser, Restore, Subscription
from vdc_graph.engine.scheduler import Scheduler
from vdc_graph.enums import ContractType, Permission

UPDATE = """mutation($input: CustomerContractUpdateInput!) { customerContractUpdate(input: $input) {
  customer { displayName contractType licenseModel sourceType flexSubscriptionId
    subscriptions { plan subscriptionId } }
  changedFields userErrors { field code message } } }"""
START = """mutation($input: BackupPolicyActionInput!) { backupPolicyStart(input: $input) {
  session { id } userErrors { field code message } } }"""
RECORD = """mutation($input: RestoreRecordInput!) { restoreRecord(input: $input) {
  restore { id } userErrors { field code message } } }"""
SWITCH = """mutation($input: CustomerSwitchInput!) { customerSwitch(input: $input) {
  token customer { contractType } userErrors { code } } }"""


@pytest.fixture
def settings(tmp_path):
    return fast_settings(tmp_path)


@pytest.fixture
async def provider(db):
    return await make_provider()


@pytest.fixture
async def manager(provider, settings):
    return token_for(
        settings,
        await make_user(provider, [Permission.CUSTOMER_MANAGEMENT, Permission.BACKUP_MANAGEMENT]),
    )


async def update(api, token, **input):
    return (await api.data(UPDATE, {"input": input}, token=token))["customerContractUpdate"]


async def test_intake_updates_a_known_customer_idempotently(api, provider, manager):
    await make_customer(provider, external_id="SUB-1", contract_type=ContractType.TRIAL)
    change = {
        "externalId": "SUB-1",
        "displayName": "Contoso Ltd",
        "contractType": "ANNUAL",
        "licenseModel": "FIXED",
        "sourceType": "CLOUDBLUE",
        "flexSubscriptionId": "FLX-9",
    }
    first = await update(api, manager, **change)
    assert first["userErrors"] == []
    assert first["changedFields"] == [
        "displayName",
        "sourceType",
        "contractType",
        "licenseModel",
        "flexSubscriptionId",
    ]
    assert first["customer"] == {
        "displayName": "Contoso Ltd",
        "contractType": "ANNUAL",
        "licenseModel": "FIXED",
        "sourceType": "CLOUDBLUE",
        "flexSubscriptionId": "FLX-9",
        "subscriptions": [{"plan": "FLEX", "subscriptionId": "FLX-9"}],
    }
    again = await update(api, manager, **change)
    assert again["changedFields"] == [] and again["customer"] == first["customer"]
    suspended = await update(api, manager, externalId="SUB-1", contractType="SUSPENDED")
    assert suspended["changedFields"] == ["contractType"]
    assert await Subscription.filter(subscription_id="FLX-9").count() == 1


async def test_bad_intake_is_refused_and_writes_nothing(api, provider, manager, settings):
    await make_customer(provider, external_id="SUB-P", contract_type=ContractType.PENDING)
    await make_customer(provider, external_id="SUB-A", display_name="Kept")
    unknown = await update(api, manager, externalId="NOPE", displayName="X")
    assert [(e["field"], e["code"]) for e in unknown["userErrors"]] == [
        (["input", "externalId"], "NOT_FOUND")
    ]
    pending = await update(api, manager, externalId="SUB-P", contractType="ANNUAL")
    assert [e["code"] for e in pending["userErrors"]] == ["CUSTOMER_PENDING"]
    back = await update(api, manager, externalId="SUB-A", contractType="PENDING", displayName=" ")
    assert {(tuple(e["field"]), e["code"]) for e in back["userErrors"]} == {
        (("input", "contractType"), "INVALID"),
        (("input", "displayName"), "INVALID"),
    }
    other = await make_provider()
    stranger = token_for(settings, await make_user(other, [Permission.CUSTOMER_MANAGEMENT]))
    hidden = await update(api, stranger, externalId="SUB-A", displayName="Theirs")
    assert [e["code"] for e in hidden["userErrors"]] == ["NOT_FOUND"]
    reader = token_for(settings, await make_user(provider, [Permission.BACKUP_MANAGEMENT]))
    errors = await api.errors(
        UPDATE, {"input": {"externalId": "SUB-A", "displayName": "No"}}, token=reader
    )
    assert errors[0]["extensions"]["code"] == "FORBIDDEN"
    kept = await Customer.get(external_id="SUB-A")
    assert (kept.display_name, kept.contract_type) == ("Kept", ContractType.ANNUAL)
    assert (await Customer.get(external_id="SUB-P")).contract_type is ContractType.PENDING


@pytest.mark.parametrize("contract", ["SUSPENDED", "EXPIRED"])
async def test_an_inactive_customer_gets_no_backups(api, provider, manager, settings, contract):
    customer = await backed_up_customer(provider, external_id="SUB-B")
    policy = await make_policy(
        customer, "Daily", next_run=clock.now() - timedelta(minutes=1), enabled=True
    )
    await update(api, manager, externalId="SUB-B", contractType=contract)
    sessions = await BackupSession.filter(customer_id=customer.id).count()
    refused = (
        await api.data(START, {"input": {"id": gid("BackupPolicy", policy.id)}}, token=manager)
    )["backupPolicyStart"]
    assert [(e["field"], e["code"]) for e in refused["userErrors"]] == [
        (["input", "id"], "CUSTOMER_INACTIVE")
    ]
    assert await Scheduler(settings).run_once() == 0
    assert await BackupSession.filter(customer_id=customer.id).count() == sessions
    # Active again: the overdue policy runs at the scheduler's next pass.
    await update(api, manager, externalId="SUB-B", contractType="MONTH_TO_MONTH")
    assert await Scheduler(settings).run_once() == 1
    from tests.backup_support import all_ended

    await all_ended()


@pytest.mark.parametrize(("contract", "restores"), [("SUSPENDED", True), ("EXPIRED", False)])
async def test_restores_and_sign_in_of_an_inactive_customer(
    api, provider, manager, settings, contract, restores
):
    customer = await backed_up_customer(provider, external_id="SUB-R")
    await update(api, manager, externalId="SUB-R", contractType=contract)
    recorded = (
        await api.data(
            RECORD,
            {
                "input": {
                    "customerId": gid("Customer", customer.id),
                    "requestedBy": "anna@contoso.example",
                    "restoreType": "EXCHANGE_ITEMS",
                }
            },
            token=manager,
        )
    )["restoreRecord"]
    if restores:
        assert recorded["userErrors"] == [] and await Restore.exists()
    else:
        assert [e["code"] for e in recorded["userErrors"]] == ["CUSTOMER_INACTIVE"]
        assert not await Restore.exists()
    # Signing in (switching into the customer) still works, to see its history.
    admin = await make_user(provider, [Permission.CUSTOMER_MANAGEMENT], email="it@contoso.example")
    await CustomerAdminUser.create(
        customer=customer, email=admin.email, email_key=admin.email, first_name="I", last_name="T"
    )
    switched = (
        await api.data(
            SWITCH,
            {"input": {"customerId": gid("Customer", customer.id)}},
            token=token_for(settings, admin),
        )
    )["customerSwitch"]
    assert switched["token"] and switched["customer"]["contractType"] == contract
