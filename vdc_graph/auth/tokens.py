"""Development tokens: HS256, signed with a local secret, minted by the CLI and tests."""

from __future__ import annotations

import uuid
from datetime import timedelta
from uuid import UUID

import jwt

from vdc_graph import clock
from vdc_graph.settings import Settings

DEV_ISSUER = "vdc-graph-development"
DEV_ALGORITHM = "HS256"


def mint_development_token(
    settings: Settings,
    *,
    user_id: UUID,
    provider_id: UUID,
    expires_in: timedelta | None = None,
    customer_id: UUID | None = None,
) -> str:
    secret = settings.development_secret()
    if secret is None:
        # Production without an explicit secret: development tokens must not exist there.
        raise ValueError("development tokens are off: no development secret is configured")
    if expires_in is None:
        expires_in = timedelta(seconds=settings.dev_token_ttl_seconds)
    now = clock.now()
    claims: dict[str, object] = {
        "iss": DEV_ISSUER,
        "sub": str(user_id),
        "pid": str(provider_id),
        "iat": int(now.timestamp()),
        "exp": int((now + expires_in).timestamp()),
        "jti": uuid.uuid4().hex,
    }
    if customer_id is not None:
        claims["cid"] = str(customer_id)
    return jwt.encode(claims, secret, algorithm=DEV_ALGORITHM)
