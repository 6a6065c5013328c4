"""``node``/``nodes``: any object by global ID, through the same scoped loaders as its own field."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

from vdc_graph.context import RequestContext
from vdc_graph.db.models import (
    CustomerAdminUser,
    Invitation,
    IpRange,
    LicensedUser,
    NotificationContact,
    Subscription,
)

from . import (
    alarms,
    api_keys,
    approvals,
    audit,
    customers,
    notifications,
    offboarding,
    policies,
    restores,
    roles,
    sessions,
    usage,
    users,
    webhooks,
)

NodeLoader = Callable[[RequestContext, UUID], Awaitable[Any]]

# Type name -> a loader that returns the object only when the caller may see it.
NODE_LOADERS: dict[str, NodeLoader] = {
    "Customer": customers.load_customer,
    "CustomerAdminUser": customers.loader_of_child(CustomerAdminUser),
    "Invitation": customers.loader_of_child(Invitation),
    "IpRange": customers.loader_of_child(IpRange),
    "LicensedUser": customers.loader_of_child(LicensedUser),
    "NotificationContact": customers.loader_of_child(NotificationContact),
    "OffboardingRequest": offboarding.load_request,
    "Subscription": customers.loader_of_child(Subscription),
    "BackupPolicy": policies.load_policy,
    "BackupSession": sessions.load_session,
    "SessionLogRecord": sessions.load_log_record,
    "Restore": restores.load_restore,
    "Role": roles.load_role,
    "PortalUser": users.load_user,
    "ApiKey": api_keys.load_api_key,
    "AuditRecord": audit.load_audit_record,
    "UsageReport": usage.load_report,
    "Webhook": webhooks.load_webhook,
    "WebhookDelivery": webhooks.load_delivery,
    "Notification": notifications.load_notification,
    "Alarm": alarms.load_alarm,
    "Approval": approvals.load_approval,
}


async def load_node(ctx: RequestContext, type_name: str, key: str) -> Any:
    loader = NODE_LOADERS.get(type_name)
    if loader is None:
        return None
    try:
        uuid = UUID(key)
    except ValueError:
        return None
    return await loader(ctx, uuid)


async def load_nodes(ctx: RequestContext, type_name: str, keys: list[str]) -> list[Any]:
    # Gathered, so the loaders batch them into one query per type.
    return list(await asyncio.gather(*(load_node(ctx, type_name, key) for key in keys)))
