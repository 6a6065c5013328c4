"""Backup policies: listing, lookup and every action on them, under the rules of the domain.

- Creating a customer's first policy needs BACKUP_MANAGEMENT; any further one also
  ADVANCED_BACKUP_MANAGEMENT. Every other change needs BACKUP_MANAGEMENT.
- A customer-scoped caller may create or delete only when the customer allows
  create/delete, and edit, start, stop, enable or disable only when it allows edit/trigger.
- Deleting a policy keeps its sessions' history (the sessions keep the policy's name).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID

from vdc_graph import clock
from vdc_graph.auth import Principal, require
from vdc_graph.context import RequestContext
from vdc_graph.db.models import BackupPolicy, BackupSession, Customer
from vdc_graph.db.pagination import Page, PageArgs, paginate, sort_key
from vdc_graph.db.queries import backup as queries
from vdc_graph.db.queries.customers import visible_customers
from vdc_graph.db.transactions import after_commit
from vdc_graph.engine.runs import queue_session
from vdc_graph.enums import (
    BackupObjectType,
    BackupType,
    ContractType,
    M365Service,
    Permission,
    SessionTrigger,
)
from vdc_graph.errors import UserError, UserErrorCode, UserErrors

from . import rules
from .access import changing, check_customer_flag, reading
from .ids import Ref, key_of, not_found


async def list_policies(
    ctx: RequestContext,
    flt: queries.PolicyFilter,
    order_by: str,
    descending: bool,
    page: PageArgs,
) -> Page[BackupPolicy]:
    scope = reading(ctx)
    key = sort_key(queries.POLICY_SORT_KEYS, order_by)
    return await paginate(queries.filtered_policies(scope, flt), key, descending, page)


async def load_policy(ctx: RequestContext, key: Any) -> BackupPolicy | None:
    scope = reading(ctx)
    loader = ctx.loaders.get(("policy", scope), lambda ids: queries.policies_by_id(scope, ids))
    return await loader.load(key)


async def get_policy(ctx: RequestContext, ref: Ref) -> BackupPolicy:
    policy = await load_policy(ctx, key_of(ref, "BackupPolicy"))
    if policy is None:
        raise not_found("BackupPolicy")
    return policy


async def policy_active_session(ctx: RequestContext, policy: BackupPolicy) -> BackupSession | None:
    loader = ctx.loaders.get("policy-active-session", queries.active_sessions_by_policy)
    return await loader.load(policy.id)


@dataclass(frozen=True)
class BackupObject:
    type: BackupObjectType
    external_id: str
    name: str

    def stored(self) -> dict[str, str]:
        return {"type": self.type.value, "externalId": self.external_id, "name": self.name}


@dataclass(frozen=True)
class CreatePolicyInput:
    customer: Ref
    name: str
    backup_type: BackupType
    services: tuple[M365Service, ...] = tuple(M365Service)
    selected_objects: tuple[BackupObject, ...] = ()
    excluded_objects: tuple[BackupObject, ...] = ()
    enabled: bool = True


@dataclass(frozen=True)
class UpdatePolicyInput:
    policy: Ref
    name: str | None = None
    services: tuple[M365Service, ...] | None = None
    add_selected_objects: tuple[BackupObject, ...] = ()
    remove_selected_objects: tuple[str, ...] = ()  # external IDs
    add_excluded_objects: tuple[BackupObject, ...] = ()
    remove_excluded_objects: tuple[str, ...] = ()


def _guard_customer_flag(principal: Principal, customer: Customer, create_delete: bool) -> None:
    flag = "allow_create_delete_policy" if create_delete else "allow_edit_trigger_policy"
    check_customer_flag(principal, customer, flag)


async def _customer_for_change(ctx: RequestContext, ref: Ref) -> tuple[Principal, Customer]:
    principal, scope = changing(ctx, Permission.BACKUP_MANAGEMENT)
    customer = await visible_customers(scope).get_or_none(id=key_of(ref, "Customer"))
    if customer is None:
        raise not_found("Customer")
    return principal, customer


async def _policy_for_change(
    ctx: RequestContext, ref: Ref
) -> tuple[Principal, BackupPolicy, Customer]:
    """The caller, the policy (locked) and its customer; the caller applies its rule."""
    principal, scope = changing(ctx, Permission.BACKUP_MANAGEMENT)
    visible = await queries.visible_policies(scope).get_or_none(id=key_of(ref, "BackupPolicy"))
    if visible is None:
        raise not_found("BackupPolicy")
    # Locked (on PostgreSQL) so concurrent starts of one policy queue one session.
    policy = await BackupPolicy.select_for_update().get(id=visible.id)
    customer = await Customer.get(id=policy.customer_id)  # type: ignore[attr-defined]
    return principal, policy, customer


async def _running(policy: BackupPolicy) -> bool:
    return await BackupSession.filter(
        policy_id=policy.id, status__in=queries.ACTIVE_SESSION
    ).exists()


def _name_problems(name: str) -> list[UserError]:
    if not name.strip():
        return [UserError("Enter the policy's name", ["input", "name"], UserErrorCode.REQUIRED)]
    if len(name.strip()) > 200:
        return [
            UserError(
                "The name is longer than 200 characters", ["input", "name"], UserErrorCode.TOO_LONG
            )
        ]
    return []


def _objects_problems(objects: tuple[BackupObject, ...], field_name: str) -> list[UserError]:
    for obj in objects:
        if not obj.external_id.strip() or not obj.name.strip():
            return [
                UserError(
                    "Each object needs its external ID and name",
                    ["input", field_name],
                    UserErrorCode.REQUIRED,
                )
            ]
    return []


def _selection_problems(
    backup_type: BackupType, selected: list[dict], excluded: list[dict], field_name: str
) -> list[UserError]:
    if backup_type is BackupType.ENTIRE_ORGANIZATION and selected:
        return [
            UserError(
                "A policy for the entire organization selects no objects; use excluded objects "
                "to leave some out",
                ["input", field_name],
                UserErrorCode.INVALID_SELECTION,
            )
        ]
    if backup_type is BackupType.SELECTED_ITEMS and not selected:
        return [
            UserError(
                "A policy for selected items needs at least one selected object",
                ["input", field_name],
                UserErrorCode.INVALID_SELECTION,
            )
        ]
    both = {o["externalId"] for o in selected} & {o["externalId"] for o in excluded}
    if both:
        return [
            UserError(
                "An object cannot be both selected and excluded: " + ", ".join(sorted(both)),
                ["input", field_name],
                UserErrorCode.INVALID_SELECTION,
            )
        ]
    return []


def _services_problems(services: tuple[M365Service, ...]) -> list[UserError]:
    if not services:
        return [
            UserError("Choose at least one service", ["input", "services"], UserErrorCode.REQUIRED)
        ]
    return []


def _merge(current: list[dict], add: tuple[BackupObject, ...], remove: tuple[str, ...]) -> list:
    kept = [o for o in current if o["externalId"] not in set(remove)]
    known = {o["externalId"] for o in kept}
    for obj in add:
        if obj.external_id not in known:
            kept.append(obj.stored())
            known.add(obj.external_id)
    return kept


async def _name_taken(customer_id: UUID, name: str, except_id: UUID | None = None) -> bool:
    qs = BackupPolicy.filter(customer_id=customer_id, name_key=name.strip().lower())
    if except_id is not None:
        qs = qs.exclude(id=except_id)
    return await qs.exists()


def _duplicate_name() -> UserError:
    return UserError(
        "This customer already has a policy with this name",
        ["input", "name"],
        UserErrorCode.DUPLICATE,
    )


async def create_policy(ctx: RequestContext, data: CreatePolicyInput) -> BackupPolicy:
    principal, customer = await _customer_for_change(ctx, data.customer)
    if await queries.policy_counts_by_customer(customer.id) > 0:
        # A further policy is an advanced feature.
        require(principal, Permission.BACKUP_MANAGEMENT, Permission.ADVANCED_BACKUP_MANAGEMENT)
    _guard_customer_flag(principal, customer, create_delete=True)
    if customer.contract_type is ContractType.PENDING:
        raise UserErrors(
            [
                UserError(
                    "The customer is still pending; finish its onboarding first",
                    ["input", "customerId"],
                    UserErrorCode.CUSTOMER_PENDING,
                )
            ]
        )
    selected = [o.stored() for o in data.selected_objects]
    excluded = [o.stored() for o in data.excluded_objects]
    problems = [
        *_name_problems(data.name),
        *_objects_problems(data.selected_objects, "selectedObjects"),
        *_objects_problems(data.excluded_objects, "excludedObjects"),
        *_services_problems(data.services),
    ]
    if not problems:
        problems = _selection_problems(data.backup_type, selected, excluded, "selectedObjects")
    if not problems and await _name_taken(customer.id, data.name):
        problems = [_duplicate_name()]
    if problems:
        raise UserErrors(problems)
    now = clock.now()
    return await BackupPolicy.create(
        provider_id=customer.provider_id,  # type: ignore[attr-defined]
        customer=customer,
        name=data.name.strip(),
        name_key=data.name.strip().lower(),
        backup_type=data.backup_type,
        enabled=data.enabled,
        selected_objects=selected,
        excluded_objects=excluded,
        services=sorted(s.value for s in set(data.services)),
        next_run=now + timedelta(hours=24),
    )


async def update_policy(ctx: RequestContext, data: UpdatePolicyInput) -> BackupPolicy:
    principal, policy, customer = await _policy_for_change(ctx, data.policy)
    rules.edit_policy(principal, customer)
    problems: list[UserError] = []
    if data.name is not None:
        problems += _name_problems(data.name)
        if not problems and await _name_taken(policy.customer_id, data.name, policy.id):  # type: ignore[attr-defined]
            problems.append(_duplicate_name())
    if data.services is not None:
        problems += _services_problems(data.services)
    problems += _objects_problems(data.add_selected_objects, "addSelectedObjects")
    problems += _objects_problems(data.add_excluded_objects, "addExcludedObjects")
    selected = _merge(
        policy.selected_objects, data.add_selected_objects, data.remove_selected_objects
    )
    excluded = _merge(
        policy.excluded_objects, data.add_excluded_objects, data.remove_excluded_objects
    )
    if not problems:
        target = "addSelectedObjects" if data.add_selected_objects else "removeSelectedObjects"
        problems = _selection_problems(policy.backup_type, selected, excluded, target)
    if problems:
        raise UserErrors(problems)
    if data.name is not None:
        policy.name, policy.name_key = data.name.strip(), data.name.strip().lower()
    if data.services is not None:
        policy.services = sorted(s.value for s in set(data.services))
    policy.selected_objects, policy.excluded_objects = selected, excluded
    await policy.save()
    return policy


async def start_policy(ctx: RequestContext, ref: Ref) -> tuple[BackupPolicy, BackupSession]:
    """Run the policy now (allowed while it is disabled; refused while it runs)."""
    principal, policy, customer = await _policy_for_change(ctx, ref)
    rules.start_policy(principal, customer, await _running(policy))
    session = await queue_session(
        ctx.settings,
        policy,
        SessionTrigger.USER,
        started_by_id=principal.user_id,
        started_by_label=principal.email or "API key",
    )
    return policy, session


async def stop_policy(ctx: RequestContext, ref: Ref) -> tuple[BackupPolicy, BackupSession]:
    """Ask the policy's running session to stop; it ends STOPPED within a second."""
    from vdc_graph.engine import engine_for

    principal, policy, customer = await _policy_for_change(ctx, ref)
    session = await BackupSession.filter(
        policy_id=policy.id, status__in=queries.ACTIVE_SESSION
    ).first()
    rules.stop_policy(principal, customer, session is not None)
    assert session is not None  # the rule refuses a policy that is not running
    session.stop_requested = True
    await session.save(update_fields=["stop_requested"])
    engine = engine_for(ctx.settings)
    session_id = session.id

    async def stop() -> None:
        await engine.stop(session_id)

    after_commit(stop)
    return policy, session


async def set_policy_enabled(ctx: RequestContext, ref: Ref, enabled: bool) -> BackupPolicy:
    """Disabled policies are skipped by the scheduler; enabling plans the next run."""
    principal, policy, customer = await _policy_for_change(ctx, ref)
    rules.edit_policy(principal, customer)
    if policy.enabled != enabled:
        policy.enabled = enabled
        if enabled:
            policy.next_run = clock.now() + timedelta(hours=policy.schedule_interval_hours)
        await policy.save(update_fields=["enabled", "next_run"])
    return policy


async def delete_policy(ctx: RequestContext, ref: Ref) -> UUID:
    """Delete a policy that is not running; its sessions stay, with the policy's name."""
    principal, policy, customer = await _policy_for_change(ctx, ref)
    rules.delete_policy(principal, customer, await _running(policy))
    deleted = policy.id
    await policy.delete()
    return deleted


def next_run_shown(policy: BackupPolicy) -> Any:
    """A disabled policy has no next run."""
    return policy.next_run if policy.enabled else None
