"""From an ``Authorization`` header to a ``Principal``, or a refusal."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import httpx

from vdc_graph import clock
from vdc_graph.db.models import ApiKey, CustomerAdminUser, PortalUser
from vdc_graph.db.queries.access import auth_generation
from vdc_graph.errors import Forbidden, Unauthenticated
from vdc_graph.settings import Settings

from ._verify import MSG_NO_USER, claim_uuid, decode_verified, invalid, peek
from .api_keys import (
    LAST_USE_RESOLUTION,
    api_key_principal,
    authenticate_api_key,
    is_api_key,
    record_use,
    user_permissions,
)
from .cache import CachedCaller, PrincipalCache
from .download_links import verified_claims
from .ip_restriction import check_customer_address
from .oidc import JwksClient, oidc_configured, oidc_user, verify_oidc_token
from .principal import Principal
from .switch_tokens import SWITCH_ALGORITHM, SWITCH_ISSUER
from .tokens import DEV_ALGORITHM, DEV_ISSUER

BAD_HEADER = "Send Authorization: Bearer <token>"
BAD_CUSTOMER_SCOPE = "The token's customer scope is not valid for this user"


class Authenticator:
    """Verifies bearer tokens; one per process, it holds the cached OIDC signing keys."""

    def __init__(self, settings: Settings, *, http_client: httpx.AsyncClient | None = None) -> None:
        self._settings = settings
        # None in production without a secret: development tokens are then refused.
        self._dev_secret = settings.development_secret()
        self._switch_secret = settings.switch_secret()
        self._jwks = (
            JwksClient(settings, http_client=http_client) if oidc_configured(settings) else None
        )
        self._callers = PrincipalCache()

    async def authenticate(
        self, authorization: str | None, client_host: str | None = None
    ) -> Principal | None:
        """The caller of ``authorization``, or None when there is none.

        A customer-scoped caller is refused (FORBIDDEN) when its customer restricts access to
        IP ranges and ``client_host`` is outside them: every transport passes its client
        address here, so the rule lives in one place.
        """
        principal = await self._principal(authorization)
        if principal is not None and principal.customer_scope is not None:
            try:
                await check_customer_address(principal.customer_scope, client_host)
            except Forbidden as exc:
                exc.principal = principal  # type: ignore[attr-defined]  # for the audit log
                raise
        return principal

    async def _principal(self, authorization: str | None) -> Principal | None:
        if authorization is None or not authorization.strip():
            return None  # anonymous: the caller decides what that may do
        token = _bearer_token(authorization)
        if token not in self._callers and not is_api_key(token):
            peek(token)  # a malformed token is refused before anything is read
        generation = await auth_generation()
        now = clock.now()
        cached = self._callers.get(token, generation, now)
        if cached is not None:
            key_id = cached.principal.api_key_id
            if key_id is not None and now - cached.last_use_written >= LAST_USE_RESOLUTION:
                await record_use(key_id, now)
                cached.last_use_written = now
            return cached.principal
        principal = await self._verified(token)
        # A customer-scoped caller is checked every time: its customer's state is not counted.
        if principal.customer_scope is None:
            self._callers.put(token, CachedCaller(principal, generation, now))
        return principal

    async def _verified(self, token: str) -> Principal:
        if is_api_key(token):
            return await authenticate_api_key(token)
        header, unverified = peek(token)
        # The unverified issuer only picks a verifier; each verifier fixes its own algorithm.
        if unverified.get("iss") == DEV_ISSUER:
            claims, user = await self._development(token)
        elif unverified.get("iss") == SWITCH_ISSUER:
            claims, user = await self._switched(token)
        elif self._jwks is not None:
            claims = await verify_oidc_token(token, header, self._settings, self._jwks)
            user = await oidc_user(claims)
        else:
            raise invalid("no verifier for this issuer")
        return await user_principal(claims, user)

    async def authenticate_link(
        self, path: str, query: list[tuple[str, str]], client_host: str | None = None
    ) -> Principal:
        """The caller a signed download link was made for, as it is now."""
        claims = verified_claims(self._settings, path, query)
        caller, provider_id = claim_uuid(claims, "sub"), claim_uuid(claims, "pid")
        if claims["kind"] == "key":
            key = await ApiKey.get_or_none(id=caller, provider_id=provider_id)
            if key is None:
                raise Unauthenticated(MSG_NO_USER)
            principal = await api_key_principal(key)
        else:
            user = await PortalUser.get_or_none(id=caller, provider_id=provider_id)
            if user is None:
                raise Unauthenticated(MSG_NO_USER)
            principal = await user_principal(claims, user)
        if principal.customer_scope is not None:
            await check_customer_address(principal.customer_scope, client_host)
        return principal

    async def aclose(self) -> None:
        if self._jwks is not None:
            await self._jwks.aclose()

    async def _development(self, token: str) -> tuple[dict[str, Any], PortalUser]:
        if self._dev_secret is None:
            raise invalid("development token without a development secret")
        return await local_user(
            token, self._dev_secret, DEV_ALGORITHM, DEV_ISSUER, self._settings, ("iat",)
        )

    async def _switched(self, token: str) -> tuple[dict[str, Any], PortalUser]:
        if self._switch_secret is None:
            raise invalid("switch token without a switch secret")
        return await local_user(
            token,
            self._switch_secret,
            SWITCH_ALGORITHM,
            SWITCH_ISSUER,
            self._settings,
            ("cid", "aid"),
        )


async def user_principal(claims: dict[str, Any], user: PortalUser) -> Principal:
    """The caller a verified token of ``user`` stands for (its ``cid``: a customer scope)."""
    return Principal(
        provider_id=user.provider_id,
        user_id=user.id,
        api_key_id=None,
        email=user.email,
        # Read again whenever roles changed, so a change applies to the very next request.
        permissions=await user_permissions(user.id),
        customer_scope=await _customer_scope(claims, user),
        expires_at=datetime.fromtimestamp(claims["exp"], UTC),
    )


async def local_user(
    token: str,
    secret: str,
    algorithm: str,
    issuer: str,
    settings: Settings,
    required: tuple[str, ...],
) -> tuple[dict[str, Any], PortalUser]:
    """Claims and user of a token signed here (development or customer-switch)."""
    claims = decode_verified(
        token,
        secret,
        algorithm=algorithm,
        issuer=issuer,
        audience=None,
        leeway=settings.token_leeway_seconds,
        required=("iss", "sub", "pid", *required),
    )
    user_id, provider_id = claim_uuid(claims, "sub"), claim_uuid(claims, "pid")
    user = await PortalUser.get_or_none(id=user_id)
    # Deleted since minting, or moved claims: either way not this user any more.
    if user is None or user.provider_id != provider_id:
        raise Unauthenticated(MSG_NO_USER)
    return claims, user


def _bearer_token(authorization: str) -> str:
    parts = authorization.split()
    if len(parts) != 2 or parts[0].lower() != "bearer":
        raise Unauthenticated(BAD_HEADER)
    return parts[1]


async def _customer_scope(claims: dict[str, Any], user: PortalUser) -> UUID | None:
    if claims.get("cid") is None:
        return None
    customer_id = claim_uuid(claims, "cid")
    # A live customer of the user's own provider that lists the user as an admin user; a switch
    # token names the very admin-user entry it was issued for (removed and added again is a new
    # entry, so the old token stays dead).
    entries = CustomerAdminUser.filter(
        customer_id=customer_id,
        customer__provider_id=user.provider_id,
        customer__deleted_at__isnull=True,
        email_key=user.email_key,
    )
    if claims.get("aid") is not None:
        entries = entries.filter(id=claim_uuid(claims, "aid"))
    allowed = await entries.exists()
    if not allowed:
        raise Unauthenticated(BAD_CUSTOMER_SCOPE)
    return customer_id


async def acting_principal(user: PortalUser, customer_scope: UUID | None) -> Principal:
    """The caller ``user`` is now (their current roles), within ``customer_scope`` if it is
    still theirs: for acting later on a person's behalf, as an approved action does."""
    claims = {} if customer_scope is None else {"cid": str(customer_scope)}
    return Principal(
        provider_id=user.provider_id,  # type: ignore[attr-defined]
        user_id=user.id,
        api_key_id=None,
        email=user.email,
        permissions=await user_permissions(user.id),
        customer_scope=await _customer_scope(claims, user),
        expires_at=None,
    )
