"""Licences follow from backups.

The rules (those of Veeam Backup for Microsoft 365):
- A tenant user becomes a **licensed user** when a backup session processes their data
  (successfully or with a warning). Their ``last_backup_at`` is that session's end.
- A licensed user whose backup failed stays licensed, shown ``UNPROTECTED``; one that a policy
  now excludes stays licensed, shown ``EXCLUDED``; a backup makes them ``PROTECTED`` again.
- A licence is **released** once ``RELEASE_AFTER_DAYS`` (31) days pass without a backup of
  the user; the row disappears from the Licensed Users tab.
- What a backup holds of each object (user, group, site, team) is a protected object with
  its size as of its last backup. It **expires** when the customer's retention (whole years;
  unlimited keeps it) has passed since that backup, and no longer counts as storage.
- The customer's figures: ``licensesUsed`` = licensed users; ``backedUpAccounts`` = users
  whose backup data is held; ``storageConsumedGb`` = the held bytes in GiB (1024³ bytes, two
  decimals); ``totalActiveAccounts`` = users in the tenant's directory.
- **The month's figure** (``licensedUsersHistory``, the usage report's SaaS line) is the
  highest licensed-user count seen in that month: every update of a customer's figures raises
  it when the count is higher. ``userChange`` = this month's figure - last month's.

The figures are brought up to date when a session ends (in the session's transaction) and by
a daily job (releases and expiries happen with the passing of time, without any session).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import TypeVar
from uuid import UUID

from tortoise.expressions import Q
from tortoise.functions import Count, Sum

from vdc_graph import clock
from vdc_graph.db.models import (
    Customer,
    LicensedUser,
    LicensedUsersMonth,
    Onboarding,
    ProtectedObject,
    SimulatedTenant,
)
from vdc_graph.db.transactions import atomic
from vdc_graph.enums import BackupObjectType, ContractType, ProtectionStatus
from vdc_graph.identity import DirectoryObject, default_user_count
from vdc_graph.usage_reports import month_start, previous_month

log = logging.getLogger("vdc_graph.licensing")

T = TypeVar("T")

RELEASE_AFTER_DAYS = 31
GIB = 1024**3
# Keys per IN list (the daily job's customers, a backup's users and objects): far below the
# drivers' limit of 32,767 parameters a statement, whatever a tenant's size.
_CHUNK = 2000
# Rows per bulk update: its CASE tests each row's key against the batch's, so the cost of a
# batch grows with its square.
_UPDATE_BATCH = 200


@dataclass(frozen=True)
class Processed:
    """One directory object as a session left it."""

    object: DirectoryObject
    result: str  # "success", "warning", "error" (nothing stored) or "excluded"
    stored_bytes: int = 0
    item_count: int = 0

    @property
    def backed_up(self) -> bool:
        return self.result in ("success", "warning")


async def record_session(
    engine_seed: int, customer_id: UUID, processed: Sequence[Processed], at: datetime
) -> None:
    """What a session did, applied to the customer's licensed users and protected objects,
    then the customer's figures. Call inside the session's ending transaction."""
    async with atomic():
        await Customer.select_for_update().filter(id=customer_id).first()  # one at a time
        await record_backups(customer_id, processed, at)
        await _refresh_chunk([customer_id], engine_seed, at)


async def record_backups(customer_id: UUID, processed: Sequence[Processed], at: datetime) -> None:
    """The licensed users and protected objects a backup at ``at`` leaves (the figures are
    left to ``refresh_customers``)."""
    users = {p.object.external_id.lower(): p for p in processed if _is_user(p)}
    await _record_users(customer_id, users, at)
    await _record_objects(customer_id, [p for p in processed if p.backed_up], at)


def _key(*parts: object) -> UUID:
    """Rows keyed by what they are about, so the same facts always make the same rows."""
    return uuid.uuid5(_NAMESPACE, ":".join(str(p) for p in parts))


_NAMESPACE = uuid.UUID("4f1f6a52-3f0e-4c1b-9a53-6c7d0f3b2a10")


def _is_user(p: Processed) -> bool:
    return p.object.type is BackupObjectType.USER


async def _record_users(customer_id: UUID, users: dict[str, Processed], at: datetime) -> None:
    if not users:
        return
    existing = {
        u.email.lower(): u
        for emails in _chunks(list(users))
        for u in await LicensedUser.filter(customer_id=customer_id, email__in=emails)
    }
    created, changed = [], []
    for key, p in users.items():
        row = existing.get(key)
        if p.backed_up:
            if row is None:
                created.append(
                    LicensedUser(
                        id=_key("licensed-user", customer_id, key),
                        created_at=at,
                        customer_id=customer_id,
                        display_name=p.object.name,
                        email=p.object.external_id,
                        protection_status=ProtectionStatus.PROTECTED,
                        last_backup_at=at,
                    )
                )
                continue
            row.protection_status, row.last_backup_at = ProtectionStatus.PROTECTED, at
        elif row is None:
            continue  # nothing of theirs was ever processed: no licence
        else:
            row.protection_status = (
                ProtectionStatus.EXCLUDED
                if p.result == "excluded"
                else ProtectionStatus.UNPROTECTED
            )
        row.display_name = p.object.name
        changed.append(row)
    if created:
        await LicensedUser.bulk_create(created)
    if changed:
        await LicensedUser.bulk_update(
            changed,
            fields=["protection_status", "last_backup_at", "display_name"],
            batch_size=_UPDATE_BATCH,
        )


async def _record_objects(customer_id: UUID, backed_up: list[Processed], at: datetime) -> None:
    if not backed_up:
        return
    existing = {
        (o.type, o.external_id): o
        for keys in _chunks([p.object.external_id for p in backed_up])
        for o in await ProtectedObject.filter(customer_id=customer_id, external_id__in=keys)
    }
    created, changed = [], []
    for p in backed_up:
        row = existing.get((p.object.type, p.object.external_id))
        if row is None:
            created.append(
                ProtectedObject(
                    id=_key("protected-object", customer_id, p.object.type, p.object.external_id),
                    created_at=at,
                    customer_id=customer_id,
                    type=p.object.type,
                    external_id=p.object.external_id,
                    name=p.object.name,
                    stored_bytes=p.stored_bytes,
                    item_count=p.item_count,
                    last_backup_at=at,
                )
            )
            continue
        row.name, row.stored_bytes, row.item_count = p.object.name, p.stored_bytes, p.item_count
        row.last_backup_at = at
        changed.append(row)
    if created:
        await ProtectedObject.bulk_create(created)
    if changed:
        await ProtectedObject.bulk_update(
            changed,
            fields=["name", "stored_bytes", "item_count", "last_backup_at"],
            batch_size=_UPDATE_BATCH,
        )


def _chunks(values: Sequence[T]) -> Iterable[list[T]]:
    for start in range(0, len(values), _CHUNK):
        yield list(values[start : start + _CHUNK])


def storage_gb(stored_bytes: int) -> float:
    return float((Decimal(stored_bytes) / GIB).quantize(Decimal("0.01"), ROUND_HALF_UP))


async def refresh_customers(
    engine_seed: int, customer_ids: Sequence[UUID] | None = None, now: datetime | None = None
) -> int:
    """Release, expire and recount for these customers (``None``: every active customer);
    returns how many were refreshed."""
    now = now or clock.now()
    if customer_ids is None:
        customer_ids = (
            await Customer.filter(deleted_at=None)
            .exclude(contract_type=ContractType.PENDING)
            .values_list("id", flat=True)
        )
    count = 0
    for chunk in _chunks(list(customer_ids)):
        async with atomic():
            count += await _refresh_chunk(chunk, engine_seed, now)
    return count


async def _refresh_chunk(ids: list[UUID], engine_seed: int, now: datetime) -> int:
    # Locked, so a session ending meanwhile waits (and counts after this).
    customers = (
        await Customer.select_for_update()
        .filter(id__in=ids, deleted_at=None)
        .exclude(contract_type=ContractType.PENDING)
    )
    if not customers:
        return 0
    ids = [c.id for c in customers]
    await LicensedUser.filter(
        customer_id__in=ids, last_backup_at__lt=now - timedelta(days=RELEASE_AFTER_DAYS)
    ).delete()
    by_retention: dict[int, list[UUID]] = {}
    for c in customers:
        if c.retention_years:  # None: unlimited retention
            by_retention.setdefault(c.retention_years, []).append(c.id)
    for years, held in by_retention.items():
        await ProtectedObject.filter(
            customer_id__in=held, last_backup_at__lt=_years_before(now, years)
        ).delete()
    licensed = await _counts(LicensedUser.filter(customer_id__in=ids))
    accounts = await _counts(
        ProtectedObject.filter(customer_id__in=ids, type=BackupObjectType.USER)
    )
    stored = {
        r["customer_id"]: int(r["total"] or 0)
        for r in await ProtectedObject.filter(customer_id__in=ids)
        .annotate(total=Sum("stored_bytes"))
        .group_by("customer_id")
        .values("customer_id", "total")
    }
    directory = await _directory_users(customers, engine_seed)
    monthly = await _raise_month_figures(customers, licensed, now)
    changed = []
    for c in customers:
        values = {
            "licenses_used": licensed.get(c.id, 0),
            "backed_up_accounts": accounts.get(c.id, 0),
            "storage_consumed_gb": storage_gb(stored.get(c.id, 0)),
            "total_active_accounts": directory.get(c.id, c.total_active_accounts),
            "user_change": monthly[c.id],
        }
        if any(getattr(c, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(c, name, value)
            changed.append(c)
    if changed:
        await Customer.bulk_update(changed, fields=list(values))
    return len(customers)


def _years_before(moment: datetime, years: int) -> datetime:
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:  # 29 February
        return moment.replace(year=moment.year - years, day=28)


async def _counts(qs) -> dict[UUID, int]:  # type: ignore[no-untyped-def]
    rows = await qs.annotate(n=Count("id")).group_by("customer_id").values("customer_id", "n")
    return {r["customer_id"]: int(r["n"]) for r in rows}


async def _directory_users(customers: list[Customer], engine_seed: int) -> dict[UUID, int]:
    """Users in each connected tenant's directory (0 while no tenant is connected)."""
    connected = set(
        await Onboarding.filter(
            customer_id__in=[c.id for c in customers], tenant_connected_at__isnull=False
        ).values_list("customer_id", flat=True)
    )
    tenant_ids = [c.microsoft_tenant_id for c in customers if c.microsoft_tenant_id]
    chosen = dict(
        await SimulatedTenant.filter(tenant_id__in=tenant_ids).values_list(
            "tenant_id", "user_count"
        )
    )
    sizes = {}
    for c in customers:
        if c.id not in connected:
            sizes[c.id] = 0
            continue
        tenant = c.microsoft_tenant_id or c.m365_account or str(c.id)
        sizes[c.id] = chosen.get(c.microsoft_tenant_id) or default_user_count(engine_seed, tenant)
    return sizes


async def _raise_month_figures(
    customers: list[Customer], licensed: dict[UUID, int], now: datetime
) -> dict[UUID, int]:
    """Raise this month's figure to today's count where higher; returns each customer's
    user change (this month's figure minus last month's)."""
    month = month_start(now)
    before = previous_month(month)
    rows = await LicensedUsersMonth.filter(
        Q(month=month) | Q(month=before), customer_id__in=[c.id for c in customers]
    )
    figures = {(r.customer_id, r.month): r for r in rows}  # type: ignore[attr-defined]
    created, raised = [], []
    change = {}
    for c in customers:
        count = licensed.get(c.id, 0)
        row = figures.get((c.id, month))
        if row is None and count > 0:
            row = LicensedUsersMonth(
                id=_key("licensed-users-month", c.id, month),
                created_at=now,
                provider_id=c.provider_id,  # type: ignore[attr-defined]
                customer_id=c.id,
                month=month,
                licensed_users=count,
            )
            created.append(row)
        elif row is not None and count > row.licensed_users:
            row.licensed_users = count
            raised.append(row)
        last = figures.get((c.id, before))
        change[c.id] = (row.licensed_users if row else 0) - (last.licensed_users if last else 0)
    if created:
        await LicensedUsersMonth.bulk_create(created)
    if raised:
        await LicensedUsersMonth.bulk_update(raised, fields=["licensed_users"])
    return change
