"""Customer-switch tokens: short-lived, HS256, scoped to one customer of the signed-in user.

Signed with their own secret (``VDC_SWITCH_TOKEN_SECRET``), so production can issue them
without development tokens existing at all.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from uuid import UUID

import jwt

from vdc_graph import clock
from vdc_graph.settings import Settings

SWITCH_ISSUER = "vdc-graph-customer-switch"
SWITCH_ALGORITHM = "HS256"


def mint_switch_token(
    settings: Settings, *, user_id: UUID, provider_id: UUID, customer_id: UUID, admin_user_id: UUID
) -> tuple[str, datetime]:
    """``admin_user_id`` pins the token to the admin-user entry it was issued for: once that is
    removed the token is dead, also when the same email is added again (a new entry)."""
    secret = settings.switch_secret()
    if secret is None:
        raise ValueError("customer switching needs VDC_SWITCH_TOKEN_SECRET")
    now = clock.now()
    expires_at = now + timedelta(seconds=settings.switch_token_ttl_seconds)
    claims = {
        "iss": SWITCH_ISSUER,
        "sub": str(user_id),
        "pid": str(provider_id),
        "cid": str(customer_id),
        "aid": str(admin_user_id),
        "iat": int(now.timestamp()),
        "exp": int(expires_at.timestamp()),
        "jti": uuid.uuid4().hex,
    }
    token = jwt.encode(claims, secret, algorithm=SWITCH_ALGORITHM)
    return token, expires_at.replace(microsecond=0)
