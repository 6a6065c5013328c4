"""Holding a guarded action for approval, and acting later as the person who asked.

``hold`` is called by the mutation runner before any mutation acts: when the provider has
approval on and the action is guarded for this input, it records a pending ``Approval`` (with
the input exactly as sent) instead of acting. An approved action is run again through the
schema as its requester, inside ``approved_run``, which the runner lets through.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import timedelta
from typing import Any
from uuid import UUID

from strawberry.relay import to_base64

from vdc_graph import clock
from vdc_graph.auth.api_keys import api_key_principal
from vdc_graph.auth.authenticate import acting_principal
from vdc_graph.auth.principal import Principal
from vdc_graph.context import RequestContext
from vdc_graph.db.models import ApiKey, Approval, ApprovalSetting, AuditRecord, PortalUser
from vdc_graph.db.transactions import after_commit, atomic
from vdc_graph.enums import ApprovalState, WebhookEvent
from vdc_graph.errors import Unauthenticated
from vdc_graph.events import broker
from vdc_graph.notify.webhooks import emit
from vdc_graph.resolvers import audit

from .guarded import GUARDED

_approved: ContextVar[UUID | None] = ContextVar("approved_run", default=None)
REQUESTER_GONE = "The requester can no longer act"


def updates_topic(provider_id: UUID) -> str:
    return f"approval-updates:{provider_id}"


@contextlib.contextmanager
def approved_run(approval: Approval) -> Iterator[None]:
    token = _approved.set(approval.id)
    try:
        yield
    finally:
        _approved.reset(token)


async def approval_enabled(provider_id: UUID) -> tuple[bool, int]:
    setting = await ApprovalSetting.get_or_none(provider_id=provider_id)
    return (False, 168) if setting is None else (setting.enabled, setting.ttl_hours)


async def hold(ctx: RequestContext, action: str, data: dict[str, Any]) -> Approval | None:
    """The pending approval this call became, or None when it may act now."""
    guard = GUARDED.get(action)
    principal = ctx.principal
    if guard is None or principal is None or _approved.get() is not None:
        return None
    if principal.read_only or not principal.has(guard.permission):
        return None  # not theirs to ask for: the mutation runs and refuses it itself
    enabled, ttl_hours = await approval_enabled(principal.provider_id)
    if not enabled or not await guard.applies(principal.provider_id, data):
        return None
    now = clock.now()
    async with atomic():
        approval = await Approval.create(
            created_at=now,
            provider_id=principal.provider_id,
            action=action,
            input=data,
            requested_by_user_id=principal.user_id,
            requested_by_api_key_id=principal.api_key_id,
            requested_customer_scope=principal.customer_scope,
            requested_by=principal.actor_label[:254],
            expires_at=now + timedelta(hours=ttl_hours),
        )
        # Audited under the action's own name: what it did was to create this approval.
        change = await audit.change_of("Approval", str(approval.id), None, approval)
        await audit.record_changes(ctx, action, [change])
        await announce(approval)
    return approval


async def announce(approval: Approval) -> None:
    """The approval's new state to webhooks (in this transaction) and subscribers (after it)."""
    await emit(approval.provider_id, WebhookEvent.APPROVAL, {"approval": payload(approval)})  # type: ignore[attr-defined]
    message = {"approvalId": str(approval.id)}

    async def publish() -> None:
        await broker().publish(updates_topic(approval.provider_id), message)  # type: ignore[attr-defined]

    after_commit(publish)


async def requester(approval: Approval) -> Principal:
    """The requester as they are now: their current rights, or refused when gone."""
    if approval.requested_by_api_key_id is not None:
        key = await ApiKey.get_or_none(
            id=approval.requested_by_api_key_id,
            provider_id=approval.provider_id,  # type: ignore[attr-defined]
        )
        if key is None:
            raise Unauthenticated(REQUESTER_GONE)
        return await api_key_principal(key)
    user = await PortalUser.get_or_none(
        id=approval.requested_by_user_id,
        provider_id=approval.provider_id,  # type: ignore[attr-defined]
    )
    if user is None:
        raise Unauthenticated(REQUESTER_GONE)
    return await acting_principal(user, approval.requested_customer_scope)


def payload(approval: Approval) -> dict[str, Any]:
    """The approval as webhooks receive it."""
    return {
        "id": to_base64("Approval", str(approval.id)),
        "action": approval.action,
        "state": approval.state.value,
        "requestedBy": approval.requested_by,
        "requestedAt": approval.created_at,
        "expiresAt": approval.expires_at,
        "decidedBy": approval.decided_by or None,
        "decidedAt": approval.decided_at,
        "result": approval.result or None,
    }


async def expire_overdue() -> int:
    """Marks the pending requests past their expiry EXPIRED, each audited and announced (until
    then they already read EXPIRED and cannot be approved); returns how many."""
    now = clock.now()
    overdue = await Approval.filter(state=ApprovalState.PENDING, expires_at__lte=now)
    expired = 0
    for approval in overdue:
        async with atomic():
            changed = await Approval.filter(id=approval.id, state=ApprovalState.PENDING).update(
                state=ApprovalState.EXPIRED
            )
            if not changed:  # decided or expired by another process meanwhile
                continue
            await approval.refresh_from_db()
            await AuditRecord.create(
                provider_id=approval.provider_id,  # type: ignore[attr-defined]
                actor_label="vdc-graph (expiry)",
                action="approvalExpire",
                target_type="Approval",
                target_id=str(approval.id),
                after=await audit.summary(approval),
            )
            await announce(approval)
            expired += 1
    return expired
