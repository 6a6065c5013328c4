"""Production mode: OIDC tokens only, no explorer, no introspection, no field suggestions."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwks_server import JwksServer

from tests.factories import make_customer, make_provider, make_user, token_for
from vdc_graph import clock
from vdc_graph.enums import Permission
from vdc_graph.settings import Mode, Settings

ISSUER = "https://login.example.test/tenant/v2.0"
AUDIENCE = "api://vdc-graph"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def jwks() -> Iterator[JwksServer]:
    with JwksServer() as server:
        server.publish(KEY, "key-1")
        yield server


@pytest.fixture
def settings(tmp_path: Path, jwks: JwksServer) -> Settings:
    return Settings(
        mode=Mode.PRODUCTION,
        oidc_issuer=ISSUER,
        oidc_audience=AUDIENCE,
        oidc_jwks_url=jwks.url,
        outbound_allowed_networks=["127.0.0.1/32"],  # the test issuer is local
        switch_token_secret="switch-" + "s" * 40,
        state_dir=tmp_path / "state",
    )


@pytest.fixture
async def signed_in(settings):
    tenant = str(uuid.uuid4())
    provider = await make_provider(entra_tenant_id=tenant)
    await make_customer(provider, display_name="Contoso")
    user = await make_user(provider, [Permission.CUSTOMER_MANAGEMENT], email="ada@contoso.com")
    now = clock.now()
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "tid": tenant,
        "oid": str(uuid.uuid4()),
        "preferred_username": user.email,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(hours=1)).timestamp()),
    }
    return jwt.encode(claims, KEY, algorithm="RS256", headers={"kid": "key-1"})


async def test_an_oidc_token_signs_in(api, signed_in):
    data = await api.data("{ viewer { user { email } } customers { totalCount } }", token=signed_in)
    assert data == {
        "viewer": {"user": {"email": "ada@contoso.com"}},
        "customers": {"totalCount": 1},
    }


async def test_development_tokens_are_refused(api, settings, signed_in):
    provider = await make_provider()
    forged_settings = Settings(dev_token_secret="x" * 40, state_dir=settings.state_dir)
    token = token_for(forged_settings, await make_user(provider, []))
    response = await api.post("{ viewer { permissions } }", token=token)
    assert response.status_code == 401


async def test_introspection_is_off(api, signed_in):
    response = await api.post("{ __schema { types { name } } }", token=signed_in)
    assert response.status_code == 400
    assert "introspection" in response.json()["errors"][0]["message"].lower()


async def test_field_suggestions_are_off(api, signed_in):
    response = await api.post("{ customer { totalCount } }", token=signed_in)
    message = response.json()["errors"][0]["message"]
    assert "Did you mean" not in message


async def test_there_is_no_explorer_page(api):
    response = await api.http.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 406  # a browser asking for a page gets none
    assert "graphiql" not in response.text.lower()
