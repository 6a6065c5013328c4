"""Production identity: OIDC bearer tokens (Microsoft Entra ID style), RS256 only."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from jwt.algorithms import RSAAlgorithm

from vdc_graph import clock, outbound
from vdc_graph.db.models import PortalUser, ServiceProvider
from vdc_graph.errors import Unauthenticated
from vdc_graph.settings import Settings

from ._verify import MSG_NO_USER, claim_str, decode_verified, invalid

logger = logging.getLogger(__name__)

OIDC_ALGORITHM = "RS256"
# An unknown kid may be a rotated key, or junk sent to make us hammer the issuer:
# fetch at most this often, whatever the tokens say.
MIN_REFETCH_INTERVAL = timedelta(seconds=10)
MIN_RSA_BITS = 2048
UNKNOWN_KEY = "The token is signed with an unknown key"
KEYS_UNAVAILABLE = "The token cannot be verified right now; try again shortly"


def oidc_configured(settings: Settings) -> bool:
    return bool(settings.oidc_issuer and settings.oidc_audience and settings.oidc_jwks_url)


class JwksClient:
    """The issuer's signing keys by ``kid``: cached, refreshed when stale or on an unknown kid."""

    def __init__(self, settings: Settings, *, http_client: httpx.AsyncClient | None = None) -> None:
        if not settings.oidc_jwks_url:
            raise ValueError("JwksClient needs settings.oidc_jwks_url")
        self._url = settings.oidc_jwks_url
        self._ttl = timedelta(seconds=settings.oidc_jwks_cache_seconds)
        self._owns_http = http_client is None
        # The JWKS goes through the outbound client like every request to the outside: an
        # internal issuer must be allowed explicitly (VDC_OUTBOUND_ALLOWED_NETWORKS).
        self._http = http_client or outbound.client(settings.outbound_allowed_networks, timeout=5.0)
        self._keys: dict[str, RSAPublicKey] = {}
        self._fetched_at: datetime | None = None  # last successful fetch
        self._attempted_at: datetime | None = None  # last fetch, successful or not
        self._lock = asyncio.Lock()  # concurrent misses share one fetch

    async def key_for(self, kid: str) -> RSAPublicKey:
        if self._due(kid):
            async with self._lock:
                if self._due(kid):  # another task may have fetched while we waited
                    await self._fetch()
        key = self._keys.get(kid)
        if key is None:
            raise Unauthenticated(KEYS_UNAVAILABLE if self._fetched_at is None else UNKNOWN_KEY)
        return key

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    def _due(self, kid: str) -> bool:
        now = clock.now()
        if self._attempted_at is not None and now - self._attempted_at < MIN_REFETCH_INTERVAL:
            return False
        stale = self._fetched_at is None or now - self._fetched_at >= self._ttl
        return stale or kid not in self._keys

    async def _fetch(self) -> None:
        self._attempted_at = clock.now()
        try:
            response = await self._http.get(self._url)
            response.raise_for_status()
            keys = _rsa_keys(response.json())
        except (httpx.HTTPError, ValueError) as exc:
            # Keep the keys we have: they came from the issuer and are merely older.
            logger.warning("could not fetch the JWKS from %s: %s", self._url, exc)
            return
        self._keys = keys
        self._fetched_at = self._attempted_at


def _rsa_keys(document: Any) -> dict[str, RSAPublicKey]:
    """The usable RSA signing keys of a JWKS document; anything else is skipped."""
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise ValueError("not a JWKS document")
    keys: dict[str, RSAPublicKey] = {}
    for jwk in document["keys"]:
        if not isinstance(jwk, dict) or jwk.get("kty") != "RSA":
            continue
        kid = jwk.get("kid")
        if not isinstance(kid, str) or not kid:
            continue
        if jwk.get("use", "sig") != "sig" or jwk.get("alg", OIDC_ALGORITHM) != OIDC_ALGORITHM:
            continue
        try:
            key = RSAAlgorithm.from_jwk(jwk)
        except (jwt.PyJWTError, ValueError, TypeError, KeyError):
            continue
        if isinstance(key, RSAPrivateKey):  # a careless JWKS; only the public half is needed
            key = key.public_key()
        if isinstance(key, RSAPublicKey) and key.key_size >= MIN_RSA_BITS:
            keys[kid] = key
    return keys


async def verify_oidc_token(
    token: str, header: dict[str, Any], settings: Settings, jwks: JwksClient
) -> dict[str, Any]:
    """Verified claims of an OIDC token; ``header`` is the unverified header of ``token``."""
    kid = header.get("kid")
    # Refuse other algorithms before fetching any key: junk must not cost a JWKS request.
    if header.get("alg") != OIDC_ALGORITHM or not isinstance(kid, str) or not kid:
        raise invalid("OIDC token without RS256 and a kid")
    issuer, audience = settings.oidc_issuer, settings.oidc_audience
    if not issuer or not audience:
        raise invalid("OIDC is not configured")
    key = await jwks.key_for(kid)
    return decode_verified(
        token,
        key,
        algorithm=OIDC_ALGORITHM,
        issuer=issuer,
        audience=audience,
        leeway=settings.token_leeway_seconds,
        required=("iss", "aud", "tid", "oid"),
    )


async def oidc_user(claims: dict[str, Any]) -> PortalUser:
    """The portal user of verified OIDC claims: ``tid`` picks the provider, ``oid`` the user."""
    tid, oid = claim_str(claims, "tid"), claim_str(claims, "oid")
    provider = await ServiceProvider.get_or_none(entra_tenant_id=tid)
    if provider is None:
        raise Unauthenticated(MSG_NO_USER)
    user = (
        await PortalUser.filter(provider_id=provider.id, entra_object_id=oid)
        .order_by("created_at")
        .first()
    )
    if user is not None:
        return user
    # First sign-in: the user was added by email; bind this Entra identity to it.
    email = _email(claims)
    if email is None:
        raise Unauthenticated(MSG_NO_USER)
    user = await PortalUser.get_or_none(provider_id=provider.id, email_key=email)
    if user is None:
        raise Unauthenticated(MSG_NO_USER)
    if user.entra_object_id is None:
        # Conditional, so two first sign-ins at once cannot bind two identities.
        await PortalUser.filter(id=user.id, entra_object_id__isnull=True).update(
            entra_object_id=oid
        )
        user = await PortalUser.get_or_none(id=user.id)
    # Already bound to another Entra identity: the same email does not make it the same person.
    if user is None or user.entra_object_id != oid:
        raise Unauthenticated(MSG_NO_USER)
    return user


def _email(claims: dict[str, Any]) -> str | None:
    for name in ("preferred_username", "upn", "email"):
        value = claims.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip().lower()
    return None
