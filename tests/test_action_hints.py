"""Each `viewerCan…` hint agrees with what its mutation answers, for a monitor, a backup manager
and an administrator: the hint is read, the mutation is sent, and it succeeds exactly when the
hint said it would (the hint and the mutation apply the same rule)."""

from __future__ import annotations

from datetime import timedelta
from itertools import count
from typing import Any

import pytest

from tests.backup_support import all_ended, connected_customer, gid, make_policy
from tests.factories import make_customer, make_provider, make_user, token_for
from vdc_graph import clock
from vdc_graph.db.models import Onboarding
from vdc_graph.enums import ContractType, Permission
from vdc_graph.usage_reports import generate_report

ROLES = {
    "monitor": [],
    "backup manager": [Permission.BACKUP_MANAGEMENT],
    "administrator": list(Permission),
}
_emails = count()


@pytest.fixture
async def callers(db, settings) -> dict[str, Any]:
    provider = await make_provider(rental_agreement_number="RA-1")
    tokens = {
        name: token_for(settings, await make_user(provider, permissions))
        for name, permissions in ROLES.items()
    }
    return {"provider": provider, "tokens": tokens}


async def _agree(api, token: str, node_id: str, hint: str, mutation: str, input: dict) -> bool:
    """Reads ``hint`` of the node, runs ``mutation``; asserts they agree; returns the hint."""
    read = f"query($id: ID!) {{ node(id: $id) {{ ... on {_type(node_id)} {{ {hint} }} }} }}"
    can = (await api.data(read, {"id": node_id}, token=token))["node"][hint]
    document = (
        f"mutation($input: {_input(mutation)}!) "
        f"{{ {mutation}(input: $input) {{ userErrors {{ code field }} }} }}"
    )
    body = (await api.post(document, {"input": input}, token=token)).json()
    payload = (body.get("data") or {}).get(mutation)
    done = not body.get("errors") and payload is not None and payload["userErrors"] == []
    assert done is can, (hint, mutation, body)
    return can


def _type(node_id: str) -> str:
    from strawberry import relay

    return relay.GlobalID.from_id(node_id).type_name


def _input(mutation: str) -> str:
    shared = {
        "backupPolicyStart": "BackupPolicyActionInput",
        "backupPolicyStop": "BackupPolicyActionInput",
        "backupPolicyDelete": "BackupPolicyActionInput",
        "onboardingAcceptLegalAgreement": "OnboardingStepInput",
        "onboardingGoBack": "OnboardingStepInput",
    }
    return shared.get(mutation, mutation[0].upper() + mutation[1:] + "Input")


async def test_customer_hints_agree_with_their_mutations(api, callers):
    provider, tokens = callers["provider"], callers["tokens"]
    active = await connected_customer(provider, contract_type=ContractType.ANNUAL)
    pending = await make_customer(provider, contract_type=ContractType.PENDING)
    await Onboarding.create(customer=pending)
    seen: dict[tuple[str, str, str], bool] = {}
    for role, token in tokens.items():
        for name, customer in (("active", active), ("pending", pending)):
            cid = gid("Customer", customer.id)
            key = (role, name)
            seen[(*key, "edit")] = await _agree(
                api, token, cid, "viewerCanEdit", "customerUpdateSettings", {"customerId": cid}
            )
            onboard = await _agree(
                api,
                token,
                cid,
                "viewerCanOnboard",
                "onboardingAcceptLegalAgreement",
                {"customerId": cid},
            )
            if onboard:  # back to the first step, for the next caller
                await api.data(
                    "mutation($c: ID!) { onboardingGoBack(input: {customerId: $c}) "
                    "{ userErrors { code } } }",
                    {"c": cid},
                    token=token,
                )
            seen[(*key, "onboard")] = onboard
            seen[(*key, "invite")] = await _agree(
                api,
                token,
                cid,
                "viewerCanInvite",
                "customerInvite",
                {"customerId": cid, "emails": "it@example.com"},
            )
            seen[(*key, "admin")] = await _agree(
                api,
                token,
                cid,
                "viewerCanAddAdminUser",
                "customerAdminUserAdd",
                {
                    "customerId": cid,
                    "email": f"admin{next(_emails)}@example.com",
                    "firstName": "A",
                    "lastName": "B",
                    "sendWelcomeEmail": False,
                },
            )
            seen[(*key, "offboard")] = await _agree(
                api,
                token,
                cid,
                "viewerCanOffboard",
                "offboardingRequestCreate",
                {
                    "customerId": cid,
                    "desiredDeletionDate": (clock.now().date() + timedelta(days=30)).isoformat(),
                    "reason": "Leaving",
                },
            )
    # The rules the hints follow, as a user sees them.
    for role in ("monitor", "backup manager"):
        assert not any(v for k, v in seen.items() if k[0] == role), role
    admin = {k[1:]: v for k, v in seen.items() if k[0] == "administrator"}
    assert admin == {
        ("active", "edit"): True,
        ("active", "onboard"): False,  # onboarded already
        ("active", "invite"): False,
        ("active", "admin"): True,
        ("active", "offboard"): True,
        ("pending", "edit"): False,  # settings wait for onboarding
        ("pending", "onboard"): True,
        ("pending", "invite"): True,
        ("pending", "admin"): True,
        ("pending", "offboard"): True,
    }
    # Once asked for, offboarding is not offered again (and the mutation refuses it too).
    aid = gid("Customer", active.id)
    assert not await _agree(
        api,
        tokens["administrator"],
        aid,
        "viewerCanOffboard",
        "offboardingRequestCreate",
        {"customerId": aid, "desiredDeletionDate": "2099-01-01", "reason": "Again"},
    )


async def test_policy_hints_agree_with_their_mutations(api, callers):
    provider, tokens = callers["provider"], callers["tokens"]
    customer = await connected_customer(provider, contract_type=ContractType.ANNUAL)
    policy = await make_policy(customer)
    pid = gid("BackupPolicy", policy.id)
    seen: dict[tuple[str, str], bool] = {}
    for role, token in tokens.items():
        own = await make_policy(customer, name=f"To delete by {role}")
        seen[(role, "edit")] = await _agree(
            api, token, pid, "viewerCanEdit", "backupPolicyUpdate", {"id": pid}
        )
        seen[(role, "start")] = await _agree(
            api, token, pid, "viewerCanStart", "backupPolicyStart", {"id": pid}
        )
        # Running now (when started): starting again and deleting are refused, stopping is not.
        seen[(role, "start again")] = await _agree(
            api, token, pid, "viewerCanStart", "backupPolicyStart", {"id": pid}
        )
        seen[(role, "delete running")] = await _agree(
            api, token, pid, "viewerCanDelete", "backupPolicyDelete", {"id": pid}
        )
        seen[(role, "stop")] = await _agree(
            api, token, pid, "viewerCanStop", "backupPolicyStop", {"id": pid}
        )
        # A stop is asked for, and the session ends a moment later: the next caller's hint
        # and mutation must not straddle that moment.
        await all_ended()
        oid = gid("BackupPolicy", own.id)
        seen[(role, "delete idle")] = await _agree(
            api, token, oid, "viewerCanDelete", "backupPolicyDelete", {"id": oid}
        )
    assert not any(v for k, v in seen.items() if k[0] == "monitor")
    assert {k[1]: v for k, v in seen.items() if k[0] == "backup manager"} == {
        "edit": True,
        "start": True,
        "start again": False,
        "delete running": False,
        "stop": True,
        "delete idle": True,
    }


async def test_usage_report_hints_agree_with_their_mutations(api, callers):
    provider, tokens = callers["provider"], callers["tokens"]
    last_month = (clock.now().date().replace(day=1) - timedelta(days=1)).replace(day=1)
    report = await generate_report(provider.id, last_month)
    rid = gid("UsageReport", report.id)
    seen = {}
    for role, token in tokens.items():
        seen[(role, "confirm first")] = await _agree(
            api, token, rid, "viewerCanConfirm", "usageReportConfirm", {"id": rid}
        )
        seen[(role, "submit")] = await _agree(
            api, token, rid, "viewerCanSubmit", "usageReportSubmit", {"id": rid}
        )
        seen[(role, "confirm")] = await _agree(
            api, token, rid, "viewerCanConfirm", "usageReportConfirm", {"id": rid}
        )
    assert [k for k, v in seen.items() if v] == [
        ("administrator", "submit"),
        ("administrator", "confirm"),
    ]
