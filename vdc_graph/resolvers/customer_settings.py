"""Changing an onboarded customer: settings, IP ranges and notification settings."""

from __future__ import annotations

from dataclasses import dataclass

from vdc_graph.auth.ip_restriction import address_in_range
from vdc_graph.context import RequestContext
from vdc_graph.db.models import Customer, IpRange, NotificationContact
from vdc_graph.db.queries import customer_changes as queries
from vdc_graph.enums import AddedBy, Region
from vdc_graph.errors import UserError, UserErrorCode, UserErrors
from vdc_graph.events import rights
from vdc_graph.notify.languages import canonical_language

from . import rules
from .ids import Ref
from .managing import customer_to_change
from .settings import ContactInput, contact_problems, language_problem
from .validation import ip_address

SETTING_FLAGS = (
    "enable_self_service",
    "allow_create_delete_policy",
    "allow_edit_trigger_policy",
    "auto_create_policies",
    "allow_multiple_regions",
    "enable_email_previews",
    "restrict_access_to_ip_ranges",
)


@dataclass(frozen=True)
class SettingsChange:
    # None leaves a setting as it is.
    region: Region | None = None
    enable_self_service: bool | None = None
    allow_create_delete_policy: bool | None = None
    allow_edit_trigger_policy: bool | None = None
    auto_create_policies: bool | None = None
    allow_multiple_regions: bool | None = None
    enable_email_previews: bool | None = None
    restrict_access_to_ip_ranges: bool | None = None


async def update_settings(ctx: RequestContext, ref: Ref, change: SettingsChange) -> Customer:
    principal, customer = await customer_to_change(ctx, ref)
    rules.edit_customer(principal, customer)
    fields = [name for name in ("region", *SETTING_FLAGS) if getattr(change, name) is not None]
    for name in fields:
        setattr(customer, name, getattr(change, name))
    if fields:
        await customer.save(update_fields=fields)
    await _ensure_reachable(ctx, customer, ["input", "restrictAccessToIpRanges"])
    return customer


async def _ensure_reachable(ctx: RequestContext, customer: Customer, field: list[str]) -> None:
    """A restriction to IP ranges needs some range, and a customer-scoped caller must stay
    inside them (it would lock itself out); checked on the settings as they end up."""
    if not customer.restrict_access_to_ip_ranges:
        return
    ranges = await queries.ip_ranges_of(customer.id).values_list("start_address", "end_address")
    if not ranges:
        raise UserErrors(
            [
                UserError(
                    "Add at least one IP range before restricting access to the ranges",
                    field,
                    UserErrorCode.INVALID_IP_RANGE,
                )
            ]
        )
    principal = ctx.principal
    if principal is None or principal.customer_scope is None:
        return  # the provider is not subject to the customer's restriction
    address = ctx.client_host or "unknown"
    if not any(address_in_range(address, start, end) for start, end in ranges):
        raise UserErrors(
            [
                UserError(
                    f"Your address {address} is outside these IP ranges; include it, or you "
                    "would lock yourself out",
                    field,
                    UserErrorCode.INVALID_IP_RANGE,
                )
            ]
        )


@dataclass(frozen=True)
class RangeInput:
    start_address: str
    end_address: str


def _range_problems(ranges: list[RangeInput], others: set[tuple[str, str]]) -> list[UserError]:
    problems: list[UserError] = []
    seen: set[tuple[str, str]] = set()
    for i, r in enumerate(ranges):
        path = ["input", "ipRanges", str(i)]
        start, end = ip_address(r.start_address), ip_address(r.end_address)
        if start is None or end is None:
            bad = r.start_address if start is None else r.end_address
            problems.append(
                UserError(
                    f"{bad!r} is not an IPv4 or IPv6 address", path, UserErrorCode.INVALID_IP_RANGE
                )
            )
            continue
        if start.version != end.version:
            problems.append(
                UserError(
                    f"{start} and {end} are not the same kind of address (IPv4 and IPv6)",
                    path,
                    UserErrorCode.INVALID_IP_RANGE,
                )
            )
            continue
        if start > end:
            problems.append(
                UserError(f"{start} comes after {end}", path, UserErrorCode.INVALID_IP_RANGE)
            )
            continue
        key = (str(start), str(end))
        if key in seen or key in others:
            problems.append(
                UserError(
                    f"The range {start} to {end} is listed already", path, UserErrorCode.DUPLICATE
                )
            )
        seen.add(key)
    return problems


async def set_ip_ranges(
    ctx: RequestContext, ref: Ref, ranges: list[RangeInput] | None, restrict_access: bool | None
) -> Customer:
    """Replace the ranges added by the caller's side (provider or customer); the other side's
    ranges stay, and the customer's list is both merged. ``ranges`` None keeps them."""
    principal, customer = await customer_to_change(ctx, ref)
    rules.edit_customer(principal, customer)
    side = AddedBy.CUSTOMER if principal.customer_scope is not None else AddedBy.PROVIDER
    others = {
        (r.start_address, r.end_address)
        for r in await queries.ip_ranges_of(customer.id)
        if r.added_by is not side
    }
    if ranges is not None:
        if problems := _range_problems(ranges, others):
            raise UserErrors(problems)
        await queries.ip_ranges_of(customer.id).filter(added_by=side).delete()
        for r in ranges:
            await IpRange.create(
                customer_id=customer.id,
                start_address=str(ip_address(r.start_address)),
                end_address=str(ip_address(r.end_address)),
                added_by=side,
            )
    if restrict_access is not None:
        customer.restrict_access_to_ip_ranges = restrict_access
        await customer.save(update_fields=["restrict_access_to_ip_ranges"])
    field = "restrictAccess" if restrict_access else "ipRanges"
    await _ensure_reachable(ctx, customer, ["input", field])
    # Customer-scoped callers from outside the new ranges lose access.
    rights.rights_changed(customer.provider_id, rights.PROVIDER)  # type: ignore[attr-defined]
    return customer


@dataclass(frozen=True)
class NotificationsChange:
    allow_system_notifications: bool | None = None
    language: str | None = None
    contacts: list[ContactInput] | None = None  # None keeps the contacts; a list replaces them


async def update_notifications(
    ctx: RequestContext, ref: Ref, change: NotificationsChange
) -> Customer:
    principal, customer = await customer_to_change(ctx, ref)
    rules.edit_customer(principal, customer)
    problems = language_problem(change.language) + contact_problems(change.contacts or [])
    if problems:
        raise UserErrors(problems)
    fields = []
    if change.allow_system_notifications is not None:
        customer.allow_system_notifications = change.allow_system_notifications
        fields.append("allow_system_notifications")
    if change.language is not None:
        customer.notification_language = canonical_language(change.language) or "en"
        fields.append("notification_language")
    if fields:
        await customer.save(update_fields=fields)
    if change.contacts is not None:
        await NotificationContact.filter(customer_id=customer.id).delete()
        for c in change.contacts:
            await NotificationContact.create(
                provider_id=customer.provider_id,
                customer_id=customer.id,
                kind=c.kind,
                address=c.address.strip(),
                topics=sorted({t.value for t in c.topics}),
            )
    return customer
