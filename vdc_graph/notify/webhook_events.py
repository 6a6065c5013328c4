"""The webhook events of the domain, each with its documented, stable payload.

Each function is called inside the transaction of the change it reports, so the delivery rows
are committed with the change or not at all. Objects are named by the API's global IDs.
"""

from __future__ import annotations

from typing import Any

from vdc_graph.db.models import BackupSession, Customer, OffboardingRequest, Restore
from vdc_graph.enums import SessionStatus, WebhookEvent
from vdc_graph.resolvers.ids import global_id

from .webhooks import emit


def customer_data(customer: Customer) -> dict[str, Any]:
    return {
        "id": global_id("Customer", customer.id),
        "displayName": customer.display_name,
        "externalId": customer.external_id,
        "licenseModel": customer.license_model,
        "sourceType": customer.source_type,
        "contractType": customer.contract_type,
        "licensesUsed": customer.licenses_used,
    }


async def session_ended(session: BackupSession, customer: Customer) -> int:
    """SESSION_FAILED for a failed session, SESSION_FINISHED for any other end."""
    event = (
        WebhookEvent.SESSION_FAILED
        if session.status is SessionStatus.FAILED
        else WebhookEvent.SESSION_FINISHED
    )
    policy_id = session.policy_id  # type: ignore[attr-defined]
    return await emit(
        customer.provider_id,  # type: ignore[attr-defined]
        event,
        {
            "session": {
                "id": global_id("BackupSession", session.id),
                "policyId": global_id("BackupPolicy", policy_id) if policy_id else None,
                "policyName": session.policy_name,
                "status": session.status,
                "trigger": session.trigger,
                "startedAt": session.started_at,
                "endedAt": session.ended_at,
                "processedObjects": session.processed_objects,
                "transferredBytes": session.transferred_bytes,
                "transferredItems": session.transferred_items,
            },
            "customer": customer_data(customer),
        },
    )


async def restore_recorded(restore: Restore, customer: Customer) -> int:
    return await emit(
        customer.provider_id,  # type: ignore[attr-defined]
        WebhookEvent.RESTORE_ACTIVITY,
        {
            "restore": {
                "id": global_id("Restore", restore.id),
                "requestedAt": restore.requested_at,
                "requestedBy": restore.requested_by,
                "restoreType": restore.restore_type,
                "itemCount": restore.item_count,
                "status": restore.status,
            },
            "customer": customer_data(customer),
        },
    )


async def customer_onboarded(customer: Customer, path: str) -> int:
    """``path``: MANAGED (the provider's wizard) or INVITATION (the customer accepted one)."""
    return await emit(
        customer.provider_id,  # type: ignore[attr-defined]
        WebhookEvent.CUSTOMER_ONBOARDED,
        {
            "onboarding": {"path": path, "activatedAt": customer.activation_date},
            "customer": customer_data(customer),
        },
    )


async def customer_registered(customer: Customer) -> int:
    return await emit(
        customer.provider_id,  # type: ignore[attr-defined]
        WebhookEvent.LICENSE_CHANGE,
        {"change": "CUSTOMER_REGISTERED", "customer": customer_data(customer)},
    )


async def customer_offboarded(customer: Customer, request: OffboardingRequest) -> int:
    """The customer was deleted: the licences it used are released."""
    return await emit(
        customer.provider_id,  # type: ignore[attr-defined]
        WebhookEvent.LICENSE_CHANGE,
        {
            "change": "CUSTOMER_OFFBOARDED",
            # The deleted customer's external ID is freed; it is reported as it was.
            "customer": {**customer_data(customer), "externalId": customer.former_external_id},
            "offboardingRequest": {
                "id": global_id("OffboardingRequest", request.id),
                "licensesInUse": request.licenses_in_use,
                "deletedAt": customer.deleted_at,
            },
        },
    )
