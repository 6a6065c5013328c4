"""The domain's webhook events, sent to a real local receiver that checks each signature:
sessions ending, restores, onboarding (both paths) and licence changes (offboarding)."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest

from tests.backup_support import backed_up_customer, connected_customer, gid, make_policy
from tests.factories import make_customer, make_provider, make_user, token_for
from tests.test_webhooks import Clock, create_webhook, worker
from tests.webhook_receiver import WebhookReceiver
from vdc_graph.db.models import (
    BackupSession,
    Invitation,
    OffboardingRequest,
    Onboarding,
    WebhookDelivery,
)
from vdc_graph.db.transactions import atomic
from vdc_graph.engine.runs import finish
from vdc_graph.enums import (
    ContractType,
    LogStatus,
    OffboardingStatus,
    OnboardingStep,
    Permission,
    SessionStatus,
    SessionTrigger,
)
from vdc_graph.resolvers.offboarding import complete_due, review

ALL_EVENTS = (
    "SESSION_FINISHED",
    "SESSION_FAILED",
    "RESTORE_ACTIVITY",
    "CUSTOMER_ONBOARDED",
    "LICENSE_CHANGE",
)


@pytest.fixture
async def provider(db):
    Clock()  # real time: the receiver refuses stale signatures
    return await make_provider()


@pytest.fixture
async def token(provider, settings):
    user = await make_user(
        provider,
        [Permission.SITE_SETTINGS, Permission.BACKUP_MANAGEMENT, Permission.CUSTOMER_MANAGEMENT],
        email="ops@provider.example",
    )
    return token_for(settings, user)


@pytest.fixture
async def receiver(api, token):
    with WebhookReceiver() as r:
        _, r.secret = await create_webhook(api, token, r.url, ALL_EVENTS)
        yield r


async def delivered(receiver) -> list[dict]:
    """Send every due delivery; the events the receiver got, each with a valid signature."""
    await worker().run_once()
    assert receiver.received and all(r.signature_valid for r in receiver.received)
    return [r.json for r in receiver.received]


def customer_of(customer, **changes) -> dict:
    return {
        "id": gid("Customer", customer.id),
        "displayName": customer.display_name,
        "externalId": customer.external_id,
        "licenseModel": customer.license_model.value,
        "sourceType": customer.source_type.value,
        "contractType": customer.contract_type.value,
        "licensesUsed": customer.licenses_used,
        **changes,
    }


def iso(value) -> str:
    return value.isoformat().replace("+00:00", "Z")


@pytest.mark.parametrize(
    ("status", "event"),
    [(SessionStatus.SUCCESS, "SESSION_FINISHED"), (SessionStatus.FAILED, "SESSION_FAILED")],
)
async def test_a_session_that_ends_is_delivered_with_its_customer(
    provider, receiver, status, event
):
    customer = await connected_customer(provider, display_name="Contoso")
    policy = await make_policy(customer, "Mailboxes")
    session = await BackupSession.create(
        provider=provider,
        customer=customer,
        policy=policy,
        policy_name=policy.name,
        status=SessionStatus.RUNNING,
        trigger=SessionTrigger.USER,
        processed_objects=7,
    )
    session.started_at = session.created_at
    await finish(session, status, [(LogStatus.INFO, "Done")])
    # Written with the end of the session: nothing is lost if the process stops right now.
    assert await WebhookDelivery.filter(event_type=event).count() == 1

    [got] = await delivered(receiver)
    assert got["type"] == event
    stored = await BackupSession.get(id=session.id)
    assert got["data"] == {
        "session": {
            "id": gid("BackupSession", session.id),
            "policyId": gid("BackupPolicy", policy.id),
            "policyName": "Mailboxes",
            "status": status.value,
            "trigger": "USER",
            "startedAt": iso(stored.created_at),
            "endedAt": iso(stored.ended_at),
            "processedObjects": 7,
            "transferredBytes": 0,
            "transferredItems": 0,
        },
        "customer": customer_of(customer),
    }


async def test_a_session_end_that_is_rolled_back_sends_nothing(provider, receiver):
    customer = await connected_customer(provider)
    policy = await make_policy(customer)
    session = await BackupSession.create(
        provider=provider, customer=customer, policy=policy, policy_name=policy.name
    )
    with pytest.raises(RuntimeError):
        async with atomic():
            await finish(session, SessionStatus.SUCCESS, [])
            raise RuntimeError("the transaction around the end fails")
    assert await WebhookDelivery.all().count() == 0


RECORD = """mutation($input: RestoreRecordInput!) { restoreRecord(input: $input) {
  restore { id } userErrors { code } } }"""


async def test_a_recorded_restore_is_delivered(api, provider, token, receiver):
    customer = await backed_up_customer(provider, display_name="Fabrikam")
    recorded = (
        await api.data(
            RECORD,
            {
                "input": {
                    "customerId": gid("Customer", customer.id),
                    "requestedBy": "anna@fabrikam.example",
                    "restoreType": "EXCHANGE_MAILBOX",
                    "itemCount": 3,
                }
            },
            token=token,
        )
    )["restoreRecord"]
    assert recorded["userErrors"] == []
    [got] = await delivered(receiver)
    assert got["type"] == "RESTORE_ACTIVITY"
    restore = got["data"]["restore"]
    assert restore["id"] == recorded["restore"]["id"]
    assert (restore["requestedBy"], restore["restoreType"], restore["itemCount"]) == (
        "anna@fabrikam.example",
        "EXCHANGE_MAILBOX",
        3,
    )
    assert restore["status"] == "IN_PROGRESS" and restore["requestedAt"].endswith("Z")
    assert got["data"]["customer"] == customer_of(customer)


FINISH = """mutation($input: OnboardingFinishInput!) { onboardingFinish(input: $input) {
  customer { activationDate } userErrors { code } } }"""


async def test_finishing_managed_onboarding_is_delivered(api, provider, token, receiver):
    customer = await make_customer(provider, contract_type=ContractType.PENDING)
    await Onboarding.create(customer=customer, step=OnboardingStep.TENANT_CONNECTED)
    finished = (
        await api.data(
            FINISH,
            {
                "input": {
                    "customerId": gid("Customer", customer.id),
                    "applyRecommendedPolicies": False,
                }
            },
            token=token,
        )
    )["onboardingFinish"]
    assert finished["userErrors"] == []
    [got] = await delivered(receiver)
    assert got["type"] == "CUSTOMER_ONBOARDED"
    assert got["data"]["onboarding"] == {
        "path": "MANAGED",
        "activatedAt": finished["customer"]["activationDate"],
    }
    assert got["data"]["customer"]["id"] == gid("Customer", customer.id)
    assert got["data"]["customer"]["contractType"] == "MONTH_TO_MONTH"


ACCEPT = """mutation($input: InvitationStepInput!) { invitationAccept(input: $input) {
  activationDate userErrors { code } } }"""


async def test_an_accepted_invitation_is_delivered(api, provider, receiver):
    from vdc_graph.resolvers.invitations import token_hash

    customer = await make_customer(provider, contract_type=ContractType.PENDING)
    await Invitation.create(
        customer=customer,
        email="it@contoso.example",
        email_key="it@contoso.example",
        sent_at=receiver_now(),
        token_hash=token_hash("the-token"),
        expires_at=receiver_now() + timedelta(days=1),
    )
    # The invitee has taken the steps up to a connected tenant.
    await Onboarding.create(
        customer=customer,
        step=OnboardingStep.TENANT_CONNECTED,
        region="EMEA",
        retention_years=3,
        tenant_connected_at=receiver_now(),
    )
    response = await api.http.post(
        "/graphql", json={"query": ACCEPT, "variables": {"input": {"token": "the-token"}}}
    )
    accepted = response.json()["data"]["invitationAccept"]
    assert accepted["userErrors"] == []
    [got] = await delivered(receiver)
    assert got["type"] == "CUSTOMER_ONBOARDED"
    assert got["data"]["onboarding"] == {
        "path": "INVITATION",
        "activatedAt": accepted["activationDate"],
    }
    assert got["data"]["customer"]["id"] == gid("Customer", customer.id)


def receiver_now():
    from vdc_graph import clock

    return clock.now()


OFFBOARD = """mutation($input: OffboardingRequestCreateInput!) {
  offboardingRequestCreate(input: $input) { offboardingRequest { id } userErrors { code } } }"""


async def test_completing_an_offboarding_is_a_licence_change(api, provider, token, receiver):
    customer = await connected_customer(
        provider, display_name="Leaving", external_id="EXT-9", licenses_used=12
    )
    created = (
        await api.data(
            OFFBOARD,
            {
                "input": {
                    "customerId": gid("Customer", customer.id),
                    "desiredDeletionDate": receiver_now().date().isoformat(),
                    "reason": "Moving on",
                }
            },
            token=token,
        )
    )["offboardingRequestCreate"]
    request_id = created["offboardingRequest"]["id"]
    # Support approves; the deletion job completes it on the desired date (today).
    request = await OffboardingRequest.get(customer_id=customer.id)
    async with atomic():
        await review(request.id, OffboardingStatus.APPROVED, "Sam")
    assert len(await complete_due()) == 1
    [got] = await delivered(receiver)
    assert got["type"] == "LICENSE_CHANGE"
    assert got["data"]["change"] == "CUSTOMER_OFFBOARDED"
    assert got["data"]["customer"] == customer_of(customer)  # with the external ID it had
    offboarding = got["data"]["offboardingRequest"]
    assert offboarding["id"] == request_id and offboarding["licensesInUse"] == 12
    assert offboarding["deletedAt"].endswith("Z")
    assert base64.b64decode(request_id).decode().startswith("OffboardingRequest:")
