"""Shared token checks: signature and claims through pyjwt, times against our clock."""

from __future__ import annotations

import logging
import math
import uuid
from collections.abc import Iterable
from typing import Any

import jwt

from vdc_graph import clock
from vdc_graph.errors import Unauthenticated

logger = logging.getLogger(__name__)

MSG_INVALID = "The token is not valid"
MSG_EXPIRED = "The token has expired"
MSG_NOT_YET_VALID = "The token is not yet valid"
MSG_WRONG_AUDIENCE = "The token was not issued for this API"
MSG_NO_USER = "The token does not belong to a portal user"
# Far above any real token (Entra ID tokens are a few KB); bounds work on junk input.
MAX_TOKEN_LENGTH = 16_384


def invalid(reason: str) -> Unauthenticated:
    # The client gets the generic message; the precise reason is for the log only.
    logger.info("token refused: %s", reason)
    return Unauthenticated(MSG_INVALID)


def peek(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The UNVERIFIED header and claims, used only to choose a verifier."""
    if len(token) > MAX_TOKEN_LENGTH:
        raise invalid("token too long")
    try:
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise invalid(f"malformed: {exc}") from None
    return header, claims


def decode_verified(
    token: str,
    key: Any,
    *,
    algorithm: str,
    issuer: str,
    audience: str | None,
    leeway: int,
    required: Iterable[str],
) -> dict[str, Any]:
    """Verify the signature with exactly ``algorithm`` and the claims; return the claims."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=[algorithm],  # fixed by the caller, never read from the token
            issuer=issuer,
            audience=audience,
            # Times are checked below against the injectable clock, not the wall clock.
            options={
                "require": ["exp", *required],
                "verify_exp": False,
                "verify_nbf": False,
                "verify_iat": False,
            },
        )
    except (jwt.InvalidIssuerError, jwt.InvalidAudienceError) as exc:
        logger.info("token refused: %s", exc)
        raise Unauthenticated(MSG_WRONG_AUDIENCE) from None
    except jwt.PyJWTError as exc:
        raise invalid(str(exc)) from None
    check_times(claims, leeway)
    return claims


def check_times(claims: dict[str, Any], leeway: int) -> None:
    now = clock.now().timestamp()
    exp = _numeric_date(claims.get("exp"))
    if exp is None:
        raise invalid("exp is not a number")
    if exp <= now - leeway:
        raise Unauthenticated(MSG_EXPIRED)
    for name in ("nbf", "iat"):
        if name not in claims:
            continue
        value = _numeric_date(claims[name])
        if value is None:
            raise invalid(f"{name} is not a number")
        if value > now + leeway:
            raise Unauthenticated(MSG_NOT_YET_VALID)


def _numeric_date(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def claim_uuid(claims: dict[str, Any], name: str) -> uuid.UUID:
    value = claims.get(name)
    if isinstance(value, str):
        try:
            return uuid.UUID(value)
        except ValueError:
            pass
    raise invalid(f"{name} is not a UUID")


def claim_str(claims: dict[str, Any], name: str) -> str:
    value = claims.get(name)
    if not isinstance(value, str) or not value:
        raise invalid(f"{name} is not a non-empty string")
    return value
