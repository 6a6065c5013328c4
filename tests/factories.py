"""Factories for test data: small, explicit, each returning the created rows."""

from __future__ import annotations

import itertools
from typing import Any

from vdc_graph.auth import mint_development_token
from vdc_graph.db.models import Customer, CustomerAdminUser, PortalUser, Role, ServiceProvider
from vdc_graph.enums import ContractType, Permission, SourceType
from vdc_graph.settings import Settings

_seq = itertools.count(1)


async def make_provider(name: str = "Provider", **fields: Any) -> ServiceProvider:
    n = next(_seq)
    return await ServiceProvider.create(
        display_name=f"{name} {n}" if name == "Provider" else name,
        pro_partner_id=f"PRA-{100000 + n}",
        **fields,
    )


async def make_role(
    provider: ServiceProvider,
    permissions: list[Permission],
    name: str | None = None,
    built_in: bool = False,
) -> Role:
    name = name or f"Role {next(_seq)}"
    perms = {Permission.MONITORING_ACCESS, *permissions}
    return await Role.create(
        provider=provider,
        name=name,
        name_key=name.lower(),
        permissions=sorted(p.value for p in perms),
        built_in=built_in,
    )


async def make_user(
    provider: ServiceProvider, permissions: list[Permission] | None = None, email: str | None = None
) -> PortalUser:
    email = email or f"user{next(_seq)}@example.com"
    user = await PortalUser.create(
        provider=provider, email=email, email_key=email.lower(), first_name="Test", last_name="User"
    )
    if permissions is not None:
        await user.roles.add(await make_role(provider, permissions))
    return user


async def make_customer(provider: ServiceProvider, **fields: Any) -> Customer:
    n = next(_seq)
    defaults: dict[str, Any] = {
        "display_name": f"Customer {n:05d}",
        "m365_account": f"tenant{n}.onmicrosoft.com",
        "external_id": f"EXT-{n:06d}",
        "veeam_account_id": f"VAC-{n:06d}",
        "contract_type": ContractType.ANNUAL,
        "source_type": SourceType.VCSP_PULSE,
    }
    return await Customer.create(provider=provider, **{**defaults, **fields})


def token_for(settings: Settings, user: PortalUser, **kwargs: Any) -> str:
    return mint_development_token(settings, user_id=user.id, provider_id=user.provider_id, **kwargs)


async def switched_token(
    settings: Settings, user: PortalUser, customer_id: Any, **kwargs: Any
) -> str:
    """A token of ``user`` switched into the customer, made one of its admin users first."""

    await CustomerAdminUser.create(
        customer_id=customer_id,
        email=user.email,
        email_key=user.email_key,
        first_name=user.first_name,
        last_name=user.last_name,
    )
    return token_for(settings, user, customer_id=customer_id)


def loaded_state(instance: Any) -> dict[str, Any]:
    """Every attribute of a loaded row as a reader sees it (a column whose conversion is
    deferred is converted when read)."""
    names = (set(vars(instance)) | set(instance._meta.fields_db_projection)) - {"_deferred_row"}
    return {name: getattr(instance, name) for name in names}
