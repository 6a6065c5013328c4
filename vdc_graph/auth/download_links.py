"""Signed download links: short-lived, single-purpose URLs a browser opens without a header.

A link names one download (its path and query) and the caller it was made for, signed with
``Settings.download_secret()`` (HS256, issuer ``vdc-graph-download``). On use the signature,
the expiry, the path and every query parameter are checked, and the caller is loaded again
(its rights now, not when the link was made); the download then applies its usual rules, so a
link made for one caller's object never opens another's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import jwt

from vdc_graph import clock
from vdc_graph.settings import Settings

from ._verify import MAX_TOKEN_LENGTH, claim_uuid, decode_verified, invalid
from .principal import Principal

DOWNLOAD_ISSUER = "vdc-graph-download"
ALGORITHM = "HS256"
SIGNATURE = "signature"  # the query parameter that carries the signed claims


def _canonical(params: Sequence[tuple[str, str]]) -> str:
    return urlencode(sorted(params))


def download_url(
    settings: Settings, principal: Principal, base_url: str, path: str, params: Mapping[str, str]
) -> str:
    """The link to ``path`` with ``params``, for ``principal``, valid for the configured TTL."""
    now = clock.now()
    claims: dict[str, Any] = {
        "iss": DOWNLOAD_ISSUER,
        "sub": str(principal.user_id or principal.api_key_id),
        "kind": "user" if principal.user_id is not None else "key",
        "pid": str(principal.provider_id),
        "path": path,
        "q": _canonical(list(params.items())),
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(seconds=settings.download_url_ttl_seconds)).timestamp()),
    }
    if principal.customer_scope is not None:
        claims["cid"] = str(principal.customer_scope)
    token = jwt.encode(claims, settings.download_secret(), algorithm=ALGORITHM)
    return f"{base_url.rstrip('/')}{path}?{urlencode({**params, SIGNATURE: token})}"


def verified_claims(
    settings: Settings, path: str, query: Sequence[tuple[str, str]]
) -> dict[str, Any]:
    """The claims of the link ``path?query``; refused when altered, expired or not signed here."""
    tokens = [value for name, value in query if name == SIGNATURE]
    if len(tokens) != 1 or len(tokens[0]) > MAX_TOKEN_LENGTH:
        raise invalid("a download link needs exactly one signature")
    claims = decode_verified(
        tokens[0],
        settings.download_secret(),
        algorithm=ALGORITHM,
        issuer=DOWNLOAD_ISSUER,
        audience=None,
        leeway=settings.token_leeway_seconds,
        required=("iss", "sub", "kind", "pid", "path", "q"),
    )
    rest = [(name, value) for name, value in query if name != SIGNATURE]
    if claims["path"] != path or claims["q"] != _canonical(rest):
        raise invalid("the download link was altered")
    claim_uuid(claims, "sub")
    claim_uuid(claims, "pid")
    if claims["kind"] not in ("user", "key"):
        raise invalid("unknown kind of caller")
    return claims
