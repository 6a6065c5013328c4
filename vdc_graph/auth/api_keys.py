"""API keys: ``vdck_<id>_<secret>``; only a salted hash of the secret is stored.

The ``<id>`` part finds the key row; the secret is checked against its HMAC-SHA256 hash in
constant time. Keys are long random strings, so one salted HMAC round is enough (no
password-style stretching needed).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from vdc_graph import clock
from vdc_graph.db.models import ApiKey, PortalUser, Role
from vdc_graph.enums import Permission
from vdc_graph.errors import Unauthenticated

from ._verify import invalid
from .principal import Principal

KEY_PREFIX = "vdck_"
REVOKED = "The API key has been revoked"
EXPIRED = "The API key has expired"
CREATOR_GONE = "The API key's creator is no longer a user"
# Last use is written at most this often per key, so a busy key is not a write per request.
LAST_USE_RESOLUTION = timedelta(seconds=60)
_PERMISSIONS = {p.value: p for p in Permission}


@dataclass(frozen=True)
class NewSecret:
    key: str  # the full key, shown once
    prefix: str
    secret_hash: str


def is_api_key(token: str) -> bool:
    return token.startswith(KEY_PREFIX)


def hash_secret(secret: str, salt: str) -> str:
    digest = hmac.new(salt.encode(), secret.encode(), hashlib.sha256).hexdigest()
    return f"{salt}${digest}"


def split_key(token: str) -> tuple[str, str]:
    """The key's ``<id>`` and ``<secret>``; the secret itself may contain ``_``."""
    prefix, _, secret = token.removeprefix(KEY_PREFIX).partition("_")
    return prefix, secret


def new_secret() -> NewSecret:
    prefix = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    return NewSecret(
        f"{KEY_PREFIX}{prefix}_{secret}", prefix, hash_secret(secret, secrets.token_hex(16))
    )


def _matches(secret: str, stored: str) -> bool:
    salt, _, _ = stored.partition("$")
    return hmac.compare_digest(hash_secret(secret, salt), stored)


def permission_set(names: object) -> frozenset[Permission]:
    # A stored name this version does not know grants nothing.
    if not isinstance(names, list):
        return frozenset()
    return frozenset(_PERMISSIONS[n] for n in names if isinstance(n, str) and n in _PERMISSIONS)


async def user_permissions(user_id: object) -> frozenset[Permission]:
    rows = await Role.filter(users__id=user_id).values_list("permissions", flat=True)
    return frozenset(p for names in rows for p in permission_set(names))


async def record_use(key_id: UUID, now: datetime) -> None:
    await ApiKey.filter(id=key_id).update(last_used_at=now)


async def authenticate_api_key(token: str) -> Principal:
    prefix, secret = split_key(token)
    if not prefix or not secret:
        raise invalid("malformed API key")
    key = await ApiKey.get_or_none(prefix=prefix)
    if key is None or not _matches(secret, key.secret_hash):
        raise invalid("unknown API key or wrong secret")
    return await api_key_principal(key)


async def api_key_principal(key: ApiKey) -> Principal:
    """The caller a key (whose secret was shown) stands for now, or a refusal."""
    now = clock.now()
    if key.revoked_at is not None:
        raise Unauthenticated(REVOKED)
    if key.expires_at is not None and key.expires_at <= now:
        raise Unauthenticated(EXPIRED)
    # A key never holds more than its creator holds now: losing a right (or being deleted)
    # takes it from the creator's keys at once.
    creator = await PortalUser.get_or_none(id=key.created_by_id) if key.created_by_id else None
    if creator is None or creator.provider_id != key.provider_id:
        raise Unauthenticated(CREATOR_GONE)
    permissions = permission_set(key.permissions) & await user_permissions(creator.id)
    customer_ids = None
    if key.limited_to_customers:
        customer_ids = frozenset(
            await key.customers.all().values_list("id", flat=True)  # type: ignore[arg-type]
        )
    if key.last_used_at is None or now - key.last_used_at >= LAST_USE_RESOLUTION:
        await record_use(key.id, now)
    return Principal(
        provider_id=key.provider_id,
        user_id=None,
        api_key_id=key.id,
        email=None,
        permissions=permissions,
        customer_scope=None,
        expires_at=key.expires_at,
        customer_ids=customer_ids,
        read_only=key.read_only,
        api_key_name=key.name,
    )
