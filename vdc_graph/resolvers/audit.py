"""The audit log: one record per change and per refused attempt; read-only through the API.

Records are written by the one mutation runner (``schema.mutations.run_mutation``) and by the
places that refuse a caller (HTTP 401, WebSocket rejections, downloads, FORBIDDEN answers), so
no resolver has to remember to write them.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

from tortoise.expressions import F
from tortoise.models import Model

from vdc_graph import clock
from vdc_graph.auth import Principal, require
from vdc_graph.context import RequestContext
from vdc_graph.db.models import AuditRecord, Customer, ServiceProvider
from vdc_graph.db.pagination import Page, PageArgs, every_row, paginate, sort_key
from vdc_graph.db.queries import audit as queries
from vdc_graph.db.scope import Scope
from vdc_graph.enums import AuditOutcome, Permission
from vdc_graph.errors import ApiError, ErrorCode

from .access import scope_for
from .ids import Ref, global_id, key_of

log = logging.getLogger("vdc_graph.audit")

# Column names whose values never enter the log, whatever the model.
_SECRET_WORDS = ("secret", "hash", "token", "password", "credential", "certificate")
_NOT_SUMMARISED = {"id", "created_at", "name_key", "email_key"}
# Extra facts for a model's summary that are not columns (such as a user's roles).
SUMMARY_EXTRAS: dict[type[Model], Callable[[Any], Awaitable[dict[str, Any]]]] = {}

REFUSAL_CODES = {ErrorCode.UNAUTHENTICATED.value, ErrorCode.FORBIDDEN.value}


@dataclass(frozen=True)
class Change:
    """What one mutation did to one object."""

    target_type: str = ""
    target_id: str = ""
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    customer_id: UUID | None = None


def _is_secret(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in _SECRET_WORDS)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, UUID | Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items() if not _is_secret(str(k))}
    return value


async def summary(row: Model) -> dict[str, Any]:
    """The row's columns as plain JSON, without keys, derived columns or secrets."""
    result: dict[str, Any] = {}
    for name in row._meta.db_fields:
        field_name = row._meta.fields_db_projection_reverse.get(name, name)
        if field_name in _NOT_SUMMARISED or _is_secret(field_name):
            continue
        result[field_name] = _plain(getattr(row, field_name, None))
    extra = SUMMARY_EXTRAS.get(type(row))
    if extra is not None:
        result.update(await extra(row))
    return result


async def customer_of(row: Model) -> UUID | None:
    if isinstance(row, Customer):
        return row.id
    customer_id = getattr(row, "customer_id", None)
    return customer_id if isinstance(customer_id, UUID) else None


async def _belongs_to(row: Model, provider_id: UUID) -> bool:
    if isinstance(row, ServiceProvider):
        return bool(row.id == provider_id)
    owner = getattr(row, "provider_id", None)
    if owner is not None:
        return bool(owner == provider_id)
    customer_id = getattr(row, "customer_id", None)
    if customer_id is not None:
        return await Customer.filter(id=customer_id, provider_id=provider_id).exists()
    return False


@dataclass(frozen=True)
class Snapshot:
    """An object as it was before a mutation touched it."""

    summary: dict[str, Any]
    customer_id: UUID | None


async def snapshot(ctx: RequestContext, model: type[Model], key: str) -> Snapshot | None:
    """The row a mutation is about to change, when it is the caller's provider's."""
    if ctx.principal is None:
        return None
    try:
        row = await model.get_or_none(id=UUID(key))
    except ValueError:
        return None
    if row is None or not await _belongs_to(row, ctx.principal.provider_id):
        return None
    return Snapshot(await summary(row), await customer_of(row))


async def change_of(
    target_type: str, target_id: str, before: Snapshot | None, after: Model | None
) -> Change:
    customer_id = await customer_of(after) if after is not None else None
    if customer_id is None and before is not None:
        customer_id = before.customer_id
    return Change(
        target_type=target_type,
        target_id=target_id,
        before=before.summary if before is not None else None,
        after=await summary(after) if after is not None else None,
        customer_id=customer_id,
    )


def _actor(principal: Principal | None) -> dict[str, Any]:
    if principal is None:
        return {"provider_id": None, "actor_label": "anonymous"}
    return {
        "provider_id": principal.provider_id,
        "actor_user_id": principal.user_id,
        "actor_api_key_id": principal.api_key_id,
        "actor_label": principal.actor_label[:254],
    }


async def record_operator_change(
    provider_id: UUID,
    customer_id: UUID | None,
    actor: str,
    action: str,
    target: tuple[str, str],
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    """A change made by the platform's operator (support, or its jobs), in the provider's log."""
    await AuditRecord.create(
        provider_id=provider_id,
        customer_id=customer_id,
        actor_label=actor[:254],
        client_address="",
        action=action[:100],
        target_type=target[0][:60],
        target_id=target[1][:100],
        before=before,
        after=after,
        outcome=AuditOutcome.SUCCESS,
    )


async def record_changes(ctx: RequestContext, action: str, changes: list[Change]) -> None:
    """One SUCCESS record per changed object (one with no target when nothing is named)."""
    principal = ctx.principal
    for change in changes or [Change()]:
        await AuditRecord.create(
            **_actor(principal),
            customer_id=change.customer_id
            or (principal.customer_scope if principal is not None else None),
            client_address=(ctx.client_host or "")[:45],
            action=action[:100],
            target_type=change.target_type[:60],
            target_id=change.target_id[:100],
            before=change.before,
            after=change.after,
            outcome=AuditOutcome.SUCCESS,
        )


async def record_refusal(
    principal: Principal | None,
    client_host: str | None,
    action: str,
    error: ApiError,
    target: tuple[str, str] = ("", ""),
) -> None:
    """A DENIED record; written in its own transaction, so it stays when the change rolls back.

    ``after`` holds the refusal's code and message (what the caller was told).
    """
    await record_denied(
        principal, client_host, action, str(error.extensions.get("code")), error.message, target
    )
    error.audited = True  # type: ignore[attr-defined]


async def record_denied(
    principal: Principal | None,
    client_host: str | None,
    action: str,
    code: str,
    message: str,
    target: tuple[str, str] = ("", ""),
) -> None:
    """A DENIED record of ``code``. An anonymous caller's repeated refusal (same address, action
    and code) within ``ANONYMOUS_WINDOW`` only counts up the window's record."""
    address = (client_host or "")[:45]
    try:
        if principal is None and await _counted_again(address, action[:100], code):
            return
        record = await AuditRecord.create(
            **_actor(principal),
            customer_id=principal.customer_scope if principal is not None else None,
            client_address=address,
            action=action[:100],
            target_type=target[0][:60],
            target_id=target[1][:100],
            after={"code": code, "message": message},
            outcome=AuditOutcome.DENIED,
        )
        if principal is None:
            _remember_window((address, action[:100], code), record.id, record.created_at)
    except Exception:  # the refusal itself must still reach the caller
        log.exception("could not record a refused %s", action)


ANONYMOUS_WINDOW = timedelta(minutes=1)
# The open window's record per anonymous source, so a repeat costs one UPDATE (no lookup);
# bounded, and only a shortcut: the database is asked when an entry is missing or stale.
_open_windows: dict[tuple[str, str, str], tuple[UUID, datetime]] = {}
_MAX_OPEN_WINDOWS = 10_000


async def _counted_again(address: str, action: str, code: str) -> bool:
    """Count one more refusal on the open window's record of this anonymous source, if any."""
    key, now = (address, action, code), clock.now()
    known = _open_windows.get(key)
    if known is not None and now - known[1] < ANONYMOUS_WINDOW and await _count(known[0]):
        return True
    latest = (
        await AuditRecord.filter(
            client_address=address,
            action=action,
            created_at__gte=now - ANONYMOUS_WINDOW,
            provider_id=None,
            outcome=AuditOutcome.DENIED,
        )
        .order_by("-created_at")
        .first()
    )
    if latest is None or (latest.after or {}).get("code") != code:
        return False
    _remember_window(key, latest.id, latest.created_at)
    return await _count(latest.id)


async def _count(record_id: UUID) -> bool:
    # An atomic increment: concurrent refusals are each counted once.
    return await AuditRecord.filter(id=record_id).update(repeat_count=F("repeat_count") + 1) == 1


def _remember_window(key: tuple[str, str, str], record_id: UUID, opened_at: datetime) -> None:
    if len(_open_windows) >= _MAX_OPEN_WINDOWS:
        _open_windows.clear()
    _open_windows[key] = (record_id, opened_at)


def is_refusal(error: BaseException | None) -> bool:
    return (
        isinstance(error, ApiError)
        and error.extensions.get("code") in REFUSAL_CODES
        and not getattr(error, "audited", False)
    )


# --- reading the log -------------------------------------------------------------------------


def _audit_scope(ctx: RequestContext) -> Scope:
    """The log is read by those who administer access (USER_MANAGEMENT); a caller limited to
    some customers sees only their records."""
    principal = require(ctx.principal, Permission.MONITORING_ACCESS, Permission.USER_MANAGEMENT)
    return scope_for(principal)


async def list_audit_records(
    ctx: RequestContext, flt: queries.AuditFilter, descending: bool, page: PageArgs
) -> Page[AuditRecord]:
    scope = _audit_scope(ctx)
    key = sort_key(queries.SORT_KEYS, "CREATED_AT")
    return await paginate(queries.filtered_records(scope, flt), key, descending, page)


async def load_audit_record(ctx: RequestContext, key: Any) -> AuditRecord | None:
    scope = _audit_scope(ctx)
    loader = ctx.loaders.get(("audit", scope), lambda ids: queries.records_by_id(scope, ids))
    return await loader.load(key)


def actor_filter(ref: Ref | None) -> tuple[UUID | None, UUID | None]:
    """The (user, API key) an actor ID names; NOT_FOUND for any other kind of ID."""
    if ref is None:
        return None, None
    if ref.type_name == "ApiKey":
        return None, key_of(ref, "ApiKey")
    return key_of(ref, "PortalUser"), None


AUDIT_CSV_COLUMNS = (
    ("ID", "id"),
    ("Time", "created_at"),
    ("Outcome", "outcome"),
    ("Action", "action"),
    ("Actor", "actor_label"),
    ("Client address", "client_address"),
    ("Target type", "target_type"),
    ("Target ID", "target_id"),
    ("Customer ID", "customer_id"),
    ("Before", "before"),
    ("After", "after"),
)


def _csv_value(value: Any) -> Any:
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    return _plain(value)


def _csv_cell(record: AuditRecord, field: str) -> Any:
    """Objects are named by the API's global IDs, as the API does."""
    if field == "id":
        return global_id("AuditRecord", record.id)
    if field == "target_id":
        return global_id(record.target_type, record.target_id) if record.target_id else ""
    if field == "customer_id":
        return global_id("Customer", record.customer_id) if record.customer_id else ""
    return _csv_value(getattr(record, field))


async def export_audit_records(
    ctx: RequestContext, flt: queries.AuditFilter
) -> tuple[list[str], AsyncIterator[list[Any]]]:
    """The matching records, newest first; rights are checked now, rows read as written."""
    scope = _audit_scope(ctx)
    key = sort_key(queries.SORT_KEYS, "CREATED_AT")

    async def rows() -> AsyncIterator[list[Any]]:
        async for record in every_row(queries.filtered_records(scope, flt), key, True):
            yield [_csv_cell(record, f) for _, f in AUDIT_CSV_COLUMNS]

    return [title for title, _ in AUDIT_CSV_COLUMNS], rows()
