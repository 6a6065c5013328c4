"""Authentication: development and OIDC bearer tokens, permissions, customer scope."""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from jwks_server import JwksServer

from vdc_graph import clock
from vdc_graph.auth import DEV_ISSUER, Authenticator, Principal, mint_development_token, require
from vdc_graph.db.models import Customer, CustomerAdminUser, PortalUser, Role, ServiceProvider
from vdc_graph.enums import Permission
from vdc_graph.errors import ApiError, Forbidden, Unauthenticated
from vdc_graph.settings import Mode, Settings

ISSUER = "https://login.example.test/tenant/v2.0"
AUDIENCE = "api://vdc-graph"
LEEWAY = 30
T0 = datetime(2030, 1, 15, 12, 0, tzinfo=UTC)
_partner_ids = itertools.count(1000)


# --- keys, clock, servers -------------------------------------------------------------


@pytest.fixture(scope="module")
def rsa_keys() -> list[RSAPrivateKey]:
    return [rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(3)]


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def fake_clock() -> FakeClock:
    fake = FakeClock(T0)
    clock.set_clock(fake)  # conftest restores the real clock after each test
    return fake


@pytest.fixture
def jwks_server() -> Iterator[JwksServer]:
    with JwksServer() as server:
        yield server


@pytest.fixture
def settings(tmp_path: Path, jwks_server: JwksServer) -> Settings:
    return Settings(
        dev_token_secret="x" * 40,
        oidc_issuer=ISSUER,
        oidc_audience=AUDIENCE,
        oidc_jwks_url=jwks_server.url,
        outbound_allowed_networks=["127.0.0.1/32"],  # the test issuer is local
        oidc_jwks_cache_seconds=3600,
        token_leeway_seconds=LEEWAY,
        state_dir=tmp_path,
    )


@pytest.fixture
async def auth(settings: Settings) -> AsyncIterator[Authenticator]:
    authenticator = Authenticator(settings)
    yield authenticator
    await authenticator.aclose()


# --- data -----------------------------------------------------------------------------


async def make_provider(tenant_id: str | None = None) -> ServiceProvider:
    n = next(_partner_ids)
    return await ServiceProvider.create(
        display_name=f"Provider {n}", pro_partner_id=f"PRA-{n}", entra_tenant_id=tenant_id
    )


async def make_role(provider: ServiceProvider, name: str, *permissions: Permission) -> Role:
    return await Role.create(
        provider=provider,
        name=name,
        name_key=name.lower(),
        permissions=[p.value for p in permissions],
    )


async def make_user(
    provider: ServiceProvider, email: str, *roles: Role, oid: str | None = None
) -> PortalUser:
    user = await PortalUser.create(
        provider=provider,
        email=email,
        email_key=email.lower(),
        first_name="Ada",
        last_name="Lovelace",
        entra_object_id=oid,
    )
    if roles:
        await user.roles.add(*roles)
    return user


def dev_token(settings: Settings, user: PortalUser, **kwargs: Any) -> str:
    return mint_development_token(settings, user_id=user.id, provider_id=user.provider_id, **kwargs)


def oidc_token(key: RSAPrivateKey, kid: str, **overrides: Any) -> str:
    now = int(clock.now().timestamp())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "nbf": now,
        "exp": now + 3600,
        "tid": "tenant-a",
        "oid": "oid-alice",
        "preferred_username": "alice@contoso.example",
    }
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hand_signed(header: dict[str, Any], claims: dict[str, Any], secret: bytes | None) -> str:
    """A token built by hand, for shapes a careful library refuses to produce."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    if secret is None:
        return f"{signing_input}."
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


async def refused(auth: Authenticator, header: str, message: str | None = None) -> ApiError:
    with pytest.raises(Unauthenticated) as info:
        await auth.authenticate(header)
    assert info.value.extensions["code"] == "UNAUTHENTICATED"
    if message is not None:
        assert info.value.message == message
    return info.value


# --- development tokens -----------------------------------------------------------------


async def test_dev_token_gives_principal_with_union_of_role_permissions(
    db: str, settings: Settings, auth: Authenticator, fake_clock: FakeClock
) -> None:
    provider = await make_provider()
    managers = await make_role(
        provider, "Managers", Permission.MONITORING_ACCESS, Permission.CUSTOMER_MANAGEMENT
    )
    settings_role = await make_role(provider, "Settings", Permission.SITE_SETTINGS)
    user = await make_user(provider, "Alice@Contoso.example", managers, settings_role)

    principal = await auth.authenticate(f"Bearer {dev_token(settings, user)}")

    assert principal == Principal(
        provider_id=provider.id,
        user_id=user.id,
        api_key_id=None,
        email="Alice@Contoso.example",
        permissions=frozenset(
            {
                Permission.MONITORING_ACCESS,
                Permission.CUSTOMER_MANAGEMENT,
                Permission.SITE_SETTINGS,
            }
        ),
        customer_scope=None,
        expires_at=T0 + timedelta(seconds=settings.dev_token_ttl_seconds),
    )
    assert principal.has(Permission.SITE_SETTINGS)
    assert not principal.has(Permission.USER_MANAGEMENT)


async def test_dev_token_claims(settings: Settings, fake_clock: FakeClock) -> None:
    user_id, provider_id, customer_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    token = mint_development_token(
        settings,
        user_id=user_id,
        provider_id=provider_id,
        expires_in=timedelta(minutes=5),
        customer_id=customer_id,
    )
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["iss"] == DEV_ISSUER
    assert claims["sub"] == str(user_id)
    assert claims["pid"] == str(provider_id)
    assert claims["cid"] == str(customer_id)
    assert claims["iat"] == int(T0.timestamp())
    assert claims["exp"] == int(T0.timestamp()) + 300
    assert claims["jti"]
    other = mint_development_token(settings, user_id=user_id, provider_id=provider_id)
    assert "cid" not in jwt.decode(other, options={"verify_signature": False})


async def test_permissions_are_reread_on_every_request(
    db: str, settings: Settings, auth: Authenticator
) -> None:
    provider = await make_provider()
    role = await make_role(provider, "Operators", Permission.MONITORING_ACCESS)
    user = await make_user(provider, "bob@contoso.example", role)
    header = f"Bearer {dev_token(settings, user)}"

    first = await auth.authenticate(header)
    assert first is not None and first.permissions == {Permission.MONITORING_ACCESS}

    role.permissions = [Permission.MONITORING_ACCESS.value, Permission.BACKUP_MANAGEMENT.value]
    await role.save()
    second = await auth.authenticate(header)
    assert second is not None
    assert second.permissions == {Permission.MONITORING_ACCESS, Permission.BACKUP_MANAGEMENT}

    await user.roles.remove(role)
    third = await auth.authenticate(header)
    assert third is not None and third.permissions == frozenset()


async def test_user_without_roles_has_no_permissions(
    db: str, settings: Settings, auth: Authenticator
) -> None:
    provider = await make_provider()
    user = await make_user(provider, "carol@contoso.example")
    principal = await auth.authenticate(f"Bearer {dev_token(settings, user)}")
    assert principal is not None
    assert principal.user_id == user.id
    assert principal.permissions == frozenset()
    with pytest.raises(Forbidden):
        require(principal, Permission.MONITORING_ACCESS)


async def test_unknown_user_is_refused(db: str, settings: Settings, auth: Authenticator) -> None:
    provider = await make_provider()
    token = mint_development_token(settings, user_id=uuid.uuid4(), provider_id=provider.id)
    await refused(auth, f"Bearer {token}", "The token does not belong to a portal user")


async def test_user_deleted_after_minting_is_refused(
    db: str, settings: Settings, auth: Authenticator
) -> None:
    provider = await make_provider()
    user = await make_user(provider, "dave@contoso.example")
    header = f"Bearer {dev_token(settings, user)}"
    assert await auth.authenticate(header) is not None
    await user.delete()
    await refused(auth, header, "The token does not belong to a portal user")


async def test_user_of_another_provider_is_refused(
    db: str, settings: Settings, auth: Authenticator
) -> None:
    home, other = await make_provider(), await make_provider()
    user = await make_user(home, "erin@contoso.example")
    token = mint_development_token(settings, user_id=user.id, provider_id=other.id)
    await refused(auth, f"Bearer {token}", "The token does not belong to a portal user")


async def test_expiry_honours_leeway(
    db: str, settings: Settings, auth: Authenticator, fake_clock: FakeClock
) -> None:
    provider = await make_provider()
    user = await make_user(provider, "frank@contoso.example")
    header = f"Bearer {dev_token(settings, user, expires_in=timedelta(seconds=60))}"

    fake_clock.advance(60 + LEEWAY - 1)  # expired, but within the leeway
    principal = await auth.authenticate(header)
    assert principal is not None
    assert principal.expires_at == T0 + timedelta(seconds=60)

    fake_clock.advance(2)
    await refused(auth, header, "The token has expired")


async def test_token_with_exp_in_the_past_is_refused(
    db: str, settings: Settings, auth: Authenticator
) -> None:
    provider = await make_provider()
    user = await make_user(provider, "gina@contoso.example")
    token = dev_token(settings, user, expires_in=timedelta(minutes=-5))
    await refused(auth, f"Bearer {token}", "The token has expired")


async def test_token_issued_in_the_future_is_refused(
    db: str, settings: Settings, auth: Authenticator, fake_clock: FakeClock
) -> None:
    provider = await make_provider()
    user = await make_user(provider, "hank@contoso.example")
    fake_clock.advance(LEEWAY - 1)
    slightly_ahead = f"Bearer {dev_token(settings, user)}"
    fake_clock.advance(LEEWAY * 10)
    far_ahead = f"Bearer {dev_token(settings, user)}"
    fake_clock.now = T0

    assert await auth.authenticate(slightly_ahead) is not None
    await refused(auth, far_ahead, "The token is not yet valid")


async def test_bad_signature_is_refused(
    db: str, settings: Settings, auth: Authenticator, tmp_path: Path
) -> None:
    provider = await make_provider()
    user = await make_user(provider, "ivan@contoso.example")
    other = Settings(dev_token_secret="y" * 40, state_dir=tmp_path)
    await refused(auth, f"Bearer {dev_token(other, user)}", "The token is not valid")

    # A valid token whose claims were changed after signing.
    header_b64, _, signature = dev_token(settings, user).split(".")
    claims = {
        "iss": DEV_ISSUER,
        "sub": str(user.id),
        "pid": str(provider.id),
        "iat": int(clock.now().timestamp()),
        "exp": int(clock.now().timestamp()) + 10**6,
        "jti": "x",
    }
    tampered = f"{header_b64}.{b64(json.dumps(claims).encode())}.{signature}"
    await refused(auth, f"Bearer {tampered}", "The token is not valid")


async def test_dev_token_with_missing_claims_is_refused(
    db: str, settings: Settings, auth: Authenticator
) -> None:
    provider = await make_provider()
    user = await make_user(provider, "june@contoso.example")
    now = int(clock.now().timestamp())
    secret = b"x" * 40
    base = {"iss": DEV_ISSUER, "sub": str(user.id), "pid": str(provider.id), "iat": now}
    no_exp = hand_signed({"alg": "HS256", "typ": "JWT"}, base, secret)
    await refused(auth, f"Bearer {no_exp}", "The token is not valid")
    bad_sub = hand_signed(
        {"alg": "HS256", "typ": "JWT"}, {**base, "sub": "not-a-uuid", "exp": now + 60}, secret
    )
    await refused(auth, f"Bearer {bad_sub}", "The token is not valid")
    sanity = hand_signed({"alg": "HS256", "typ": "JWT"}, {**base, "exp": now + 60}, secret)
    assert await auth.authenticate(f"Bearer {sanity}") is not None


async def test_alg_none_is_refused(
    db: str,
    settings: Settings,
    auth: Authenticator,
    jwks_server: JwksServer,
    rsa_keys: list[RSAPrivateKey],
) -> None:
    provider = await make_provider("tenant-a")
    user = await make_user(provider, "alice@contoso.example", oid="oid-alice")
    jwks_server.publish(rsa_keys[0], "k1")
    now = int(clock.now().timestamp())
    dev_claims = {
        "iss": DEV_ISSUER,
        "sub": str(user.id),
        "pid": str(provider.id),
        "iat": now,
        "exp": now + 600,
        "jti": "j",
    }
    oidc_claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + 600,
        "tid": "tenant-a",
        "oid": "oid-alice",
    }
    for header in ({"alg": "none", "typ": "JWT"}, {"alg": "none", "kid": "k1"}):
        for claims in (dev_claims, oidc_claims):
            await refused(auth, f"Bearer {hand_signed(header, claims, None)}")
    assert jwks_server.requests == 0  # refused before any key was fetched


async def test_hs256_signed_with_the_rsa_public_key_is_refused(
    db: str,
    settings: Settings,
    auth: Authenticator,
    jwks_server: JwksServer,
    rsa_keys: list[RSAPrivateKey],
) -> None:
    provider = await make_provider("tenant-a")
    await make_user(provider, "alice@contoso.example", oid="oid-alice")
    jwks_server.publish(rsa_keys[0], "k1")
    # The good token works, so the keys are fetched and cached.
    assert await auth.authenticate(f"Bearer {oidc_token(rsa_keys[0], 'k1')}") is not None
    pem = (
        rsa_keys[0]
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    claims = jwt.decode(oidc_token(rsa_keys[0], "k1"), options={"verify_signature": False})
    confused = hand_signed({"alg": "HS256", "typ": "JWT", "kid": "k1"}, claims, pem)
    await refused(auth, f"Bearer {confused}", "The token is not valid")
    # The same trick aimed at the development verifier fails too.
    dev_confused = hand_signed({"alg": "HS256", "typ": "JWT"}, {**claims, "iss": DEV_ISSUER}, pem)
    await refused(auth, f"Bearer {dev_confused}", "The token is not valid")


async def test_dev_tokens_are_refused_without_a_development_secret(
    db: str, tmp_path: Path, jwks_server: JwksServer
) -> None:
    production = Settings(
        mode=Mode.PRODUCTION,
        dev_token_secret=None,
        switch_token_secret="switch-" + "s" * 40,
        oidc_issuer=ISSUER,
        oidc_audience=AUDIENCE,
        oidc_jwks_url=jwks_server.url,
        state_dir=tmp_path,
    )
    with pytest.raises(ValueError):
        mint_development_token(production, user_id=uuid.uuid4(), provider_id=uuid.uuid4())

    provider = await make_provider()
    user = await make_user(provider, "kim@contoso.example")
    development = Settings(dev_token_secret="x" * 40, state_dir=tmp_path)
    authenticator = Authenticator(production)
    try:
        await refused(
            authenticator, f"Bearer {dev_token(development, user)}", "The token is not valid"
        )
    finally:
        await authenticator.aclose()
    assert jwks_server.requests == 0


async def test_development_secret_is_generated_and_kept_in_state_dir(
    db: str, tmp_path: Path
) -> None:
    local = Settings(state_dir=tmp_path / "state")
    provider = await make_provider()
    user = await make_user(provider, "lena@contoso.example")
    token = dev_token(local, user)
    assert (tmp_path / "state" / "dev-token-secret").exists()
    authenticator = Authenticator(Settings(state_dir=tmp_path / "state"))
    try:
        principal = await authenticator.authenticate(f"Bearer {token}")
        assert principal is not None and principal.user_id == user.id
        # OIDC is not configured here: any other issuer is refused.
        await refused(
            authenticator,
            f"Bearer {jwt.encode({'iss': ISSUER, 'exp': 2**40}, 'z' * 40)}",
            "The token is not valid",
        )
    finally:
        await authenticator.aclose()


# --- the Authorization header -----------------------------------------------------------


@pytest.mark.parametrize("header", [None, ""])
async def test_no_header_is_anonymous(auth: Authenticator, header: str | None) -> None:
    assert await auth.authenticate(header) is None


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("Basic dXNlcjpwYXNz", "Send Authorization: Bearer <token>"),
        ("Bearer", "Send Authorization: Bearer <token>"),
        ("Bearer a b", "Send Authorization: Bearer <token>"),
        ("Token abc.def.ghi", "Send Authorization: Bearer <token>"),
        ("Bearer a.b", "The token is not valid"),
        ("Bearer a.b.c", "The token is not valid"),
        ("Bearer not-a-jwt", "The token is not valid"),
        (f"Bearer {'a' * 20000}", "The token is not valid"),
    ],
)
async def test_malformed_headers_are_refused(
    auth: Authenticator, jwks_server: JwksServer, header: str, message: str
) -> None:
    await refused(auth, header, message)
    assert jwks_server.requests == 0


async def test_bearer_scheme_is_case_insensitive(
    db: str, settings: Settings, auth: Authenticator
) -> None:
    provider = await make_provider()
    user = await make_user(provider, "mia@contoso.example")
    token = dev_token(settings, user)
    for scheme in ("bearer", "BEARER", "Bearer"):
        principal = await auth.authenticate(f"{scheme} {token}")
        assert principal is not None and principal.user_id == user.id


# --- OIDC tokens ------------------------------------------------------------------------


async def test_oidc_token_maps_tid_and_oid_to_provider_and_user(
    db: str, auth: Authenticator, jwks_server: JwksServer, rsa_keys: list[RSAPrivateKey]
) -> None:
    jwks_server.publish(rsa_keys[0], "k1")
    provider = await make_provider("tenant-a")
    role = await make_role(provider, "Admins", *Permission)
    user = await make_user(provider, "alice@contoso.example", role, oid="oid-alice")
    # Same oid in another tenant: tid decides the provider.
    elsewhere = await make_provider("tenant-b")
    await make_user(elsewhere, "alice@contoso.example", oid="oid-alice")

    token = oidc_token(rsa_keys[0], "k1")
    principal = await auth.authenticate(f"Bearer {token}")

    assert principal is not None
    assert principal.provider_id == provider.id
    assert principal.user_id == user.id
    assert principal.permissions == frozenset(Permission)
    exp = jwt.decode(token, options={"verify_signature": False})["exp"]
    assert principal.expires_at == datetime.fromtimestamp(exp, UTC)
    assert jwks_server.requests == 1


async def test_oidc_email_fallback_binds_the_oid(
    db: str, auth: Authenticator, jwks_server: JwksServer, rsa_keys: list[RSAPrivateKey]
) -> None:
    jwks_server.publish(rsa_keys[0], "k1")
    provider = await make_provider("tenant-a")
    user = await make_user(provider, "alice@contoso.example")
    other_provider = await make_provider("tenant-b")
    await make_user(other_provider, "zoe@contoso.example")

    token = oidc_token(rsa_keys[0], "k1", preferred_username="Alice@Contoso.EXAMPLE")
    principal = await auth.authenticate(f"Bearer {token}")
    assert principal is not None and principal.user_id == user.id
    await user.refresh_from_db()
    assert user.entra_object_id == "oid-alice"

    # Bound now: another Entra identity with the same email does not get in.
    impostor = oidc_token(rsa_keys[0], "k1", oid="oid-mallory")
    await refused(auth, f"Bearer {impostor}", "The token does not belong to a portal user")

    # upn, then email, are used when preferred_username is absent.
    ben = await make_user(provider, "ben@contoso.example")
    by_upn = oidc_token(
        rsa_keys[0], "k1", oid="oid-ben", preferred_username=None, upn="BEN@contoso.example"
    )
    principal = await auth.authenticate(f"Bearer {by_upn}")
    assert principal is not None and principal.user_id == ben.id
    cleo = await make_user(provider, "cleo@contoso.example")
    by_email = oidc_token(
        rsa_keys[0], "k1", oid="oid-cleo", preferred_username=None, email="cleo@contoso.example"
    )
    principal = await auth.authenticate(f"Bearer {by_email}")
    assert principal is not None and principal.user_id == cleo.id

    # The email fallback stays within the token's provider.
    zoe = oidc_token(rsa_keys[0], "k1", oid="oid-zoe", preferred_username="zoe@contoso.example")
    await refused(auth, f"Bearer {zoe}", "The token does not belong to a portal user")
    nobody = oidc_token(rsa_keys[0], "k1", oid="oid-x", preferred_username=None)
    await refused(auth, f"Bearer {nobody}", "The token does not belong to a portal user")


async def test_oidc_unknown_tenant_is_refused(
    db: str, auth: Authenticator, jwks_server: JwksServer, rsa_keys: list[RSAPrivateKey]
) -> None:
    jwks_server.publish(rsa_keys[0], "k1")
    provider = await make_provider("tenant-a")
    await make_user(provider, "alice@contoso.example", oid="oid-alice")
    token = oidc_token(rsa_keys[0], "k1", tid="tenant-unknown")
    await refused(auth, f"Bearer {token}", "The token does not belong to a portal user")


async def test_oidc_wrong_issuer_or_audience_is_refused(
    db: str, auth: Authenticator, jwks_server: JwksServer, rsa_keys: list[RSAPrivateKey]
) -> None:
    jwks_server.publish(rsa_keys[0], "k1")
    provider = await make_provider("tenant-a")
    await make_user(provider, "alice@contoso.example", oid="oid-alice")
    wrong = "The token was not issued for this API"
    for token in (
        oidc_token(rsa_keys[0], "k1", iss="https://login.example.test/other/v2.0"),
        oidc_token(rsa_keys[0], "k1", iss=ISSUER + "/"),  # exact match, not a prefix
        oidc_token(rsa_keys[0], "k1", aud="api://something-else"),
    ):
        await refused(auth, f"Bearer {token}", wrong)
    await refused(auth, f"Bearer {oidc_token(rsa_keys[0], 'k1', aud=None)}")
    await refused(auth, f"Bearer {oidc_token(rsa_keys[0], 'k1', exp=None)}")
    await refused(auth, f"Bearer {oidc_token(rsa_keys[0], 'k1', tid=None)}")


async def test_oidc_signature_must_match_the_kid(
    db: str, auth: Authenticator, jwks_server: JwksServer, rsa_keys: list[RSAPrivateKey]
) -> None:
    jwks_server.publish(rsa_keys[0], "k1")
    provider = await make_provider("tenant-a")
    await make_user(provider, "alice@contoso.example", oid="oid-alice")
    # Signed with another key but claiming k1.
    await refused(auth, f"Bearer {oidc_token(rsa_keys[1], 'k1')}", "The token is not valid")


async def test_oidc_expiry_uses_the_clock_and_leeway(
    db: str,
    auth: Authenticator,
    jwks_server: JwksServer,
    rsa_keys: list[RSAPrivateKey],
    fake_clock: FakeClock,
) -> None:
    jwks_server.publish(rsa_keys[0], "k1")
    provider = await make_provider("tenant-a")
    await make_user(provider, "alice@contoso.example", oid="oid-alice")
    header = f"Bearer {oidc_token(rsa_keys[0], 'k1')}"  # valid one hour from T0
    fake_clock.advance(3600 + LEEWAY - 1)
    assert await auth.authenticate(header) is not None
    fake_clock.advance(2)
    await refused(auth, header, "The token has expired")


async def test_key_rotation_and_refetch_rate_limit(
    db: str,
    auth: Authenticator,
    jwks_server: JwksServer,
    rsa_keys: list[RSAPrivateKey],
    fake_clock: FakeClock,
) -> None:
    provider = await make_provider("tenant-a")
    await make_user(provider, "alice@contoso.example", oid="oid-alice")
    jwks_server.publish(rsa_keys[0], "k1")

    # A cached kid is served from the cache.
    for _ in range(3):
        assert await auth.authenticate(f"Bearer {oidc_token(rsa_keys[0], 'k1')}") is not None
    assert jwks_server.requests == 1

    # The issuer rotates in a new key; a token signed with it triggers one refetch.
    jwks_server.publish(rsa_keys[1], "k2")
    fake_clock.advance(11)
    assert await auth.authenticate(f"Bearer {oidc_token(rsa_keys[1], 'k2')}") is not None
    assert await auth.authenticate(f"Bearer {oidc_token(rsa_keys[1], 'k2')}") is not None
    assert await auth.authenticate(f"Bearer {oidc_token(rsa_keys[0], 'k1')}") is not None
    assert jwks_server.requests == 2

    # An unknown kid right after a fetch is refused without asking the issuer again.
    unknown = f"Bearer {oidc_token(rsa_keys[2], 'k3')}"
    for _ in range(5):
        await refused(auth, unknown, "The token is signed with an unknown key")
    assert jwks_server.requests == 2

    # Later, one refetch; still unknown, still refused.
    fake_clock.advance(11)
    await refused(auth, unknown, "The token is signed with an unknown key")
    await refused(auth, unknown, "The token is signed with an unknown key")
    assert jwks_server.requests == 3


async def test_jwks_cache_expires(
    db: str,
    settings: Settings,
    auth: Authenticator,
    jwks_server: JwksServer,
    rsa_keys: list[RSAPrivateKey],
    fake_clock: FakeClock,
) -> None:
    provider = await make_provider("tenant-a")
    await make_user(provider, "alice@contoso.example", oid="oid-alice")
    jwks_server.publish(rsa_keys[0], "k1")
    assert await auth.authenticate(f"Bearer {oidc_token(rsa_keys[0], 'k1')}") is not None
    fake_clock.advance(settings.oidc_jwks_cache_seconds + 1)
    # The issuer retired k1: once the cache is stale the key is gone.
    jwks_server.keys = []
    await refused(
        auth, f"Bearer {oidc_token(rsa_keys[0], 'k1')}", "The token is signed with an unknown key"
    )
    assert jwks_server.requests == 2


async def test_unreachable_jwks_is_refused_then_recovers(
    db: str,
    auth: Authenticator,
    jwks_server: JwksServer,
    rsa_keys: list[RSAPrivateKey],
    fake_clock: FakeClock,
) -> None:
    provider = await make_provider("tenant-a")
    await make_user(provider, "alice@contoso.example", oid="oid-alice")
    jwks_server.publish(rsa_keys[0], "k1")
    jwks_server.status = 503
    header = f"Bearer {oidc_token(rsa_keys[0], 'k1')}"
    await refused(auth, header, "The token cannot be verified right now; try again shortly")
    jwks_server.status = 200
    fake_clock.advance(11)
    assert await auth.authenticate(header) is not None
    assert jwks_server.requests == 2


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
async def test_jwks_keeps_only_usable_rsa_signing_keys(
    db: str, auth: Authenticator, jwks_server: JwksServer, rsa_keys: list[RSAPrivateKey]
) -> None:
    provider = await make_provider("tenant-a")
    await make_user(provider, "alice@contoso.example", oid="oid-alice")
    # Deliberately weak: the point is that such a published key is ignored.
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505
    jwks_server.publish(rsa_keys[0], "enc")
    jwks_server.keys[0]["use"] = "enc"
    jwks_server.publish(small, "small")
    jwks_server.keys = [*jwks_server.keys, {"kty": "oct", "kid": "sym", "k": b64(b"s" * 32)}]
    for kid, key in (("enc", rsa_keys[0]), ("small", small)):
        await refused(
            auth, f"Bearer {oidc_token(key, kid)}", "The token is signed with an unknown key"
        )
    sym = jwt.encode({"iss": ISSUER}, "s" * 32, algorithm="HS256", headers={"kid": "sym"})
    await refused(auth, f"Bearer {sym}", "The token is not valid")


# --- customer scope ---------------------------------------------------------------------


async def test_customer_scope(db: str, settings: Settings, auth: Authenticator) -> None:
    provider = await make_provider()
    user = await make_user(provider, "Alice@Contoso.example")
    mine = await Customer.create(provider=provider, display_name="Fabrikam")
    await CustomerAdminUser.create(
        customer=mine,
        email="alice@contoso.example",
        email_key="alice@contoso.example",
        first_name="Alice",
        last_name="A",
    )
    principal = await auth.authenticate(f"Bearer {dev_token(settings, user, customer_id=mine.id)}")
    assert principal is not None and principal.customer_scope == mine.id

    not_admin = await Customer.create(provider=provider, display_name="Northwind")
    await refused(
        auth,
        f"Bearer {dev_token(settings, user, customer_id=not_admin.id)}",
        "The token's customer scope is not valid for this user",
    )
    await refused(auth, f"Bearer {dev_token(settings, user, customer_id=uuid.uuid4())}")

    other_provider = await make_provider()
    foreign = await Customer.create(provider=other_provider, display_name="Foreign")
    await CustomerAdminUser.create(
        customer=foreign,
        email="alice@contoso.example",
        email_key="alice@contoso.example",
        first_name="Alice",
        last_name="A",
    )
    await refused(auth, f"Bearer {dev_token(settings, user, customer_id=foreign.id)}")

    header = f"Bearer {dev_token(settings, user, customer_id=mine.id)}"
    mine.deleted_at = clock.now()
    await mine.save()
    await refused(auth, header, "The token's customer scope is not valid for this user")


# --- require ----------------------------------------------------------------------------


def principal_with(*permissions: Permission) -> Principal:
    return Principal(
        provider_id=uuid.uuid4(),
        user_id=uuid.uuid4(),
        api_key_id=None,
        email="x@contoso.example",
        permissions=frozenset(permissions),
        customer_scope=None,
        expires_at=None,
    )


def test_require_refuses_anonymous() -> None:
    with pytest.raises(Unauthenticated) as info:
        require(None, Permission.MONITORING_ACCESS)
    assert info.value.extensions["code"] == "UNAUTHENTICATED"
    assert info.value.message == "Sign in: send Authorization: Bearer <token>"
    with pytest.raises(Unauthenticated):
        require(None)


def test_require_names_the_missing_permissions() -> None:
    principal = principal_with(Permission.MONITORING_ACCESS)
    with pytest.raises(Forbidden) as info:
        require(principal, Permission.MONITORING_ACCESS, Permission.CUSTOMER_MANAGEMENT)
    assert info.value.extensions["code"] == "FORBIDDEN"
    assert info.value.message == "This needs the CUSTOMER_MANAGEMENT permission"

    with pytest.raises(Forbidden) as info:
        require(principal, Permission.BACKUP_MANAGEMENT, Permission.ADVANCED_BACKUP_MANAGEMENT)
    assert info.value.extensions["code"] == "FORBIDDEN"
    assert info.value.message == (
        "This needs the BACKUP_MANAGEMENT and ADVANCED_BACKUP_MANAGEMENT permissions"
    )


def test_require_returns_the_principal_when_permitted() -> None:
    principal = principal_with(Permission.MONITORING_ACCESS, Permission.SITE_SETTINGS)
    assert require(principal, Permission.SITE_SETTINGS) is principal
    assert require(principal) is principal
