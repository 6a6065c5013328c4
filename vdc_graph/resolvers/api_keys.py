"""API keys for automation: created with some of the creator's permissions, shown once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from vdc_graph import clock
from vdc_graph.auth.api_keys import KEY_PREFIX, new_secret
from vdc_graph.context import RequestContext
from vdc_graph.db.models import ApiKey, Customer
from vdc_graph.db.pagination import Page, PageArgs, paginate
from vdc_graph.db.queries import access as queries
from vdc_graph.db.queries import customers as customer_queries
from vdc_graph.enums import Permission
from vdc_graph.errors import Forbidden, NotFound, UserError, UserErrorCode, UserErrors
from vdc_graph.events import rights

from . import audit
from .access import provider_changing, provider_reading
from .ids import Ref, key_of, not_found
from .roles import permission_names

MAX_NAME = 100
ONLY_USERS = "API keys are created by signed-in users, not by other keys"


async def _key_customers(key: ApiKey) -> dict[str, Any]:
    ids = await key.customers.all().order_by("id").values_list("id", flat=True)
    return {"customers": [str(i) for i in ids]}


audit.SUMMARY_EXTRAS[ApiKey] = _key_customers


@dataclass(frozen=True)
class NewApiKey:
    name: str
    permissions: list[Permission]
    customer_ids: list[Ref] | None = None
    read_only: bool = False
    expires_at: datetime | None = None


@dataclass(frozen=True)
class IssuedKey:
    api_key: ApiKey
    secret: str  # the whole key; never stored, never shown again


def display_prefix(key: ApiKey) -> str:
    return f"{KEY_PREFIX}{key.prefix}_"


async def list_api_keys(ctx: RequestContext, page: PageArgs) -> Page[ApiKey]:
    scope = provider_reading(ctx, Permission.USER_MANAGEMENT)
    return await paginate(queries.api_keys(scope), queries.API_KEY_ORDER, True, page)


async def load_api_key(ctx: RequestContext, key: Any) -> ApiKey | None:
    scope = provider_reading(ctx, Permission.USER_MANAGEMENT)
    loader = ctx.loaders.get(("api-key", scope), lambda ids: queries.api_keys_by_id(scope, ids))
    return await loader.load(key)


async def key_customers(ctx: RequestContext, key: ApiKey) -> list[Customer]:
    return list(await key.customers.filter(deleted_at__isnull=True).order_by("display_name"))


async def create_api_key(ctx: RequestContext, data: NewApiKey) -> IssuedKey:
    principal, scope = provider_changing(ctx, Permission.USER_MANAGEMENT)
    if principal.user_id is None:
        raise Forbidden(ONLY_USERS)
    problems = []
    name = data.name.strip()
    if not name:
        problems.append(UserError("Enter a name", ["input", "name"], UserErrorCode.REQUIRED))
    elif len(name) > MAX_NAME:
        problems.append(
            UserError(
                f"The name is longer than {MAX_NAME} characters",
                ["input", "name"],
                UserErrorCode.TOO_LONG,
            )
        )
    for permission in data.permissions:
        if permission not in principal.permissions:
            problems.append(
                UserError(
                    f"You do not hold {permission.value}, so a key of yours cannot either",
                    ["input", "permissions"],
                    UserErrorCode.PERMISSION_REQUIRED,
                )
            )
    if Permission.ADVANCED_BACKUP_MANAGEMENT in data.permissions and (
        Permission.BACKUP_MANAGEMENT not in data.permissions
    ):
        problems.append(
            UserError(
                "ADVANCED_BACKUP_MANAGEMENT is only valid together with BACKUP_MANAGEMENT",
                ["input", "permissions"],
                UserErrorCode.INVALID,
            )
        )
    if data.expires_at is not None and data.expires_at <= clock.now():
        problems.append(
            UserError(
                "The expiry must be in the future",
                ["input", "expiresAt"],
                UserErrorCode.OUT_OF_RANGE,
            )
        )
    customers: list[Customer] = []
    for index, ref in enumerate(data.customer_ids or []):
        try:
            key = key_of(ref, "Customer")
        except NotFound:
            key = None
        customer = (
            await customer_queries.visible_customers(scope).get_or_none(id=key) if key else None
        )
        if customer is None:
            problems.append(
                UserError(
                    "No such customer",
                    ["input", "customerIds", str(index)],
                    UserErrorCode.NOT_FOUND,
                )
            )
        elif customer not in customers:
            customers.append(customer)
    if problems:
        raise UserErrors(problems)
    issued = new_secret()
    api_key = await ApiKey.create(
        provider_id=scope.provider_id,
        name=name,
        prefix=issued.prefix,
        secret_hash=issued.secret_hash,
        permissions=permission_names(data.permissions),
        read_only=data.read_only,
        limited_to_customers=data.customer_ids is not None,
        expires_at=data.expires_at,
        created_by_id=principal.user_id,
    )
    if customers:
        await api_key.customers.add(*customers)
    return IssuedKey(api_key, issued.key)


async def _own_key(ctx: RequestContext, ref: Ref) -> ApiKey:
    _, scope = provider_changing(ctx, Permission.USER_MANAGEMENT)
    key = await queries.api_keys(scope).get_or_none(id=key_of(ref, "ApiKey"))
    if key is None:
        raise not_found("ApiKey")
    return key


async def rotate_api_key(ctx: RequestContext, ref: Ref) -> IssuedKey:
    """A new secret for the key; the old one stops working at once."""
    key = await _own_key(ctx, ref)
    if key.revoked_at is not None:
        raise UserErrors(
            [
                UserError(
                    "A revoked key cannot be rotated", ["input", "id"], UserErrorCode.INVALID_STATE
                )
            ]
        )
    issued = new_secret()
    key.prefix, key.secret_hash = issued.prefix, issued.secret_hash
    await key.save()
    rights.rights_changed(key.provider_id, rights.API_KEY_CHANGED)  # type: ignore[attr-defined]
    return IssuedKey(key, issued.key)


async def revoke_api_key(ctx: RequestContext, ref: Ref) -> ApiKey:
    """Revoke the key: it is refused from the next request on (revoking twice is harmless)."""
    key = await _own_key(ctx, ref)
    if key.revoked_at is None:
        key.revoked_at = clock.now()
        await key.save()
        rights.rights_changed(key.provider_id, rights.API_KEY_CHANGED)  # type: ignore[attr-defined]
    return key
