"""Four-eyes approval: the provider's setting, the approvals list, approving and rejecting."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from tortoise.expressions import Q

from vdc_graph import clock
from vdc_graph.approvals import holding
from vdc_graph.approvals.guarded import GUARDED
from vdc_graph.auth import Principal
from vdc_graph.context import RequestContext
from vdc_graph.db.loaders import by_key
from vdc_graph.db.models import ApiKey, Approval, ApprovalSetting
from vdc_graph.db.pagination import Page, PageArgs, SortKey, paginate
from vdc_graph.db.scope import Scope
from vdc_graph.db.transactions import atomic
from vdc_graph.enums import ApprovalState, Permission
from vdc_graph.errors import Forbidden, UserError, UserErrorCode, UserErrors
from vdc_graph.events import broker

from .access import provider_changing, provider_reading
from .ids import Ref, key_of, not_found
from .validation import checked_comment

APPROVAL_SORT = SortKey("CREATED_AT", "created_at")
MAX_TTL_HOURS = 24 * 90
SELF_APPROVAL = "You cannot decide on your own request: another person must"
ONLY_PEOPLE = "Approvals are decided by people, not API keys"


def _visible(scope: Scope):
    # Approvals are the provider's: a caller limited to some customers sees none.
    return scope.provider_wide(Approval.filter(provider_id=scope.provider_id))


def shown_state(approval: Approval) -> ApprovalState:
    """PENDING past its expiry reads EXPIRED (nothing needs to run to expire it)."""
    if approval.state is ApprovalState.PENDING and approval.expires_at <= clock.now():
        return ApprovalState.EXPIRED
    return approval.state


def _state_is(state: ApprovalState, now: Any) -> Q:
    if state is ApprovalState.EXPIRED:
        return Q(state=ApprovalState.PENDING, expires_at__lte=now)
    if state is ApprovalState.PENDING:
        return Q(state=ApprovalState.PENDING, expires_at__gt=now)
    return Q(state=state)


async def list_approvals(
    ctx: RequestContext, states: tuple[ApprovalState, ...], page: PageArgs
) -> Page[Approval]:
    """Newest first; ``states`` as shown (an expired request is EXPIRED, not PENDING)."""
    qs = _visible(provider_reading(ctx))
    if states:
        now = clock.now()
        qs = qs.filter(Q(*(_state_is(s, now) for s in states), join_type=Q.OR))
    return await paginate(qs, APPROVAL_SORT, True, page)


async def load_approval(ctx: RequestContext, key: Any) -> Approval | None:
    scope = provider_reading(ctx)

    async def batch(ids: list[UUID]) -> list[Approval | None]:
        return by_key(await _visible(scope).filter(id__in=list(ids)), ids)

    return await ctx.loaders.get(("approval", scope), batch).load(key)


@dataclass(frozen=True)
class Settings:
    enabled: bool
    ttl_hours: int


async def get_settings(ctx: RequestContext) -> Settings:
    scope = provider_reading(ctx)
    return Settings(*await holding.approval_enabled(scope.provider_id))


async def update_settings(
    ctx: RequestContext, enabled: bool | None, ttl_hours: int | None
) -> Settings:
    _, scope = provider_changing(ctx, Permission.SITE_SETTINGS)
    if ttl_hours is not None and not 1 <= ttl_hours <= MAX_TTL_HOURS:
        raise UserErrors(
            [
                UserError(
                    f"Approvals expire after 1 to {MAX_TTL_HOURS} hours",
                    ["input", "ttlHours"],
                    UserErrorCode.OUT_OF_RANGE,
                )
            ]
        )
    current = Settings(*await holding.approval_enabled(scope.provider_id))
    values = {
        "enabled": current.enabled if enabled is None else enabled,
        "ttl_hours": current.ttl_hours if ttl_hours is None else ttl_hours,
    }
    await ApprovalSetting.update_or_create(defaults=values, provider_id=scope.provider_id)
    return Settings(**values)


def _decider(ctx: RequestContext, approval_action: str) -> Principal:
    principal, _ = provider_changing(ctx, GUARDED[approval_action].permission)
    if principal.user_id is None:
        raise Forbidden(ONLY_PEOPLE)
    return principal


DECIDING = frozenset(g.permission for g in GUARDED.values())


async def _pending(ctx: RequestContext, ref: Ref) -> Approval:
    # Refused before the lookup for whoever could decide on nothing at all.
    principal, scope = provider_changing(ctx)
    if not principal.permissions & DECIDING:
        raise Forbidden("Deciding on approvals needs a permission an approved action needs")
    approval = await _visible(scope).get_or_none(id=key_of(ref, "Approval"))
    if approval is None:
        raise not_found("Approval")
    return approval


def _refuse(message: str, code: UserErrorCode) -> UserErrors:
    return UserErrors([UserError(message, ["input", "id"], code)])


def _check_decidable(approval: Approval) -> None:
    state = shown_state(approval)
    if state is ApprovalState.EXPIRED:
        raise _refuse("This request has expired; ask for it again", UserErrorCode.EXPIRED)
    if state is not ApprovalState.PENDING:
        raise _refuse(f"This request is {state.value.lower()} already", UserErrorCode.INVALID_STATE)


async def _decide(
    approval: Approval,
    state: ApprovalState,
    principal: Principal,
    comment: str,
) -> Approval:
    comment = checked_comment(comment)
    now = clock.now()
    # Conditional: of two people deciding at once (in any process), one wins; the action runs
    # at most once.
    claimed = await Approval.filter(
        id=approval.id, state=ApprovalState.PENDING, expires_at__gt=now
    ).update(
        state=state,
        decided_by_user_id=principal.user_id,
        decided_by=principal.actor_label[:254],
        decided_at=now,
        comment=comment,
    )
    if not claimed:
        raise _refuse("This request was decided meanwhile", UserErrorCode.INVALID_STATE)
    await approval.refresh_from_db()
    await holding.announce(approval)
    return approval


async def approve(ctx: RequestContext, ref: Ref, comment: str) -> Approval:
    """Marks it APPROVED; the caller then runs the action as the requester (``finish``)."""
    approval = await _pending(ctx, ref)
    principal = _decider(ctx, approval.action)
    if await _requested_by(approval, principal):
        raise _refuse(SELF_APPROVAL, UserErrorCode.PERMISSION_REQUIRED)
    _check_decidable(approval)
    return await _decide(approval, ApprovalState.APPROVED, principal, comment)


async def _requested_by(approval: Approval, person: Principal) -> bool:
    """Whether ``person`` asked, themselves or through one of their API keys."""
    if approval.requested_by_user_id is not None:
        return approval.requested_by_user_id == person.user_id
    return await ApiKey.filter(
        id=approval.requested_by_api_key_id, created_by_id=person.user_id
    ).exists()


async def reject(ctx: RequestContext, ref: Ref, comment: str) -> Approval:
    """Rejects it; the requester may withdraw their own request this way."""
    approval = await _pending(ctx, ref)
    principal, _ = provider_changing(ctx)
    if not await _requested_by(approval, principal):
        principal = _decider(ctx, approval.action)
    _check_decidable(approval)
    return await _decide(approval, ApprovalState.REJECTED, principal, comment)


async def finish(approval: Approval, failure: str | None) -> Approval:
    """Records how the approved action went: FAILED with the reason when it was refused."""
    if failure:
        async with atomic():
            await Approval.filter(id=approval.id).update(
                state=ApprovalState.FAILED, result=failure[:1000]
            )
            await approval.refresh_from_db()
            await holding.announce(approval)
    return approval


async def watch(ctx: RequestContext) -> AsyncIterator[Approval]:
    scope = provider_reading(ctx)
    async with broker().subscribe(holding.updates_topic(scope.provider_id)) as live:
        async for message in live:
            found = await _visible(scope).get_or_none(id=UUID(message["approvalId"]))
            if found is not None:
                yield found
