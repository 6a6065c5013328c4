"""``viewer``: the caller, its provider and its rights."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from vdc_graph.db import models
from vdc_graph.resolvers import users
from vdc_graph.resolvers import viewer as resolve

from .customers import Customer
from .enums import Permission
from .relay import ModelNode

if TYPE_CHECKING:
    from .access import Role
    from .settings import SupportSettings


@strawberry.type(description="A service provider: the tenant that resells backup to customers.")
class ServiceProvider(ModelNode):
    model = models.ServiceProvider
    display_name: str = strawberry.field(description="The provider's name.")
    pro_partner_id: str = strawberry.field(description="The ProPartner ID (`PRA-` + digits).")


@strawberry.type(description="A person who signs in to the provider portal.")
class PortalUser(ModelNode):
    model = models.PortalUser
    email: str = strawberry.field(description="Microsoft 365 sign-in address (a UPN).")
    first_name: str = strawberry.field(description="First name.")
    last_name: str = strawberry.field(description="Last name.")
    created_at: datetime = strawberry.field(description="When the user was added.")

    @strawberry.field(description="The user's roles, by name.")
    async def roles(
        self, info: Info
    ) -> list[Annotated[Role, strawberry.lazy("vdc_graph.schema.access")]]:
        return await users.user_roles(info.context, self)  # type: ignore[arg-type,return-value]


@strawberry.type(description="The caller of this request.")
class Viewer:
    data: strawberry.Private[resolve.Viewer]

    @strawberry.field(description="The signed-in user; null for an API key.")
    def user(self) -> PortalUser | None:
        return self.data.user  # type: ignore[return-value]

    @strawberry.field(description="The provider the caller belongs to.")
    def provider(self) -> ServiceProvider:
        return self.data.provider  # type: ignore[return-value]

    @strawberry.field(
        description="The caller's permissions, from its roles, now; in a customer scope only "
        "those usable there (no USER_MANAGEMENT or SITE_SETTINGS)."
    )
    def permissions(self) -> list[Permission]:
        return resolve.sorted_permissions(self.data.principal)

    @strawberry.field(
        description="The support button the customer portal shows (the provider's settings), "
        "readable also in a customer scope."
    )
    def support_button(
        self,
    ) -> Annotated[SupportSettings, strawberry.lazy("vdc_graph.schema.settings")]:
        from .settings import SupportSettings

        p = self.data.provider
        return SupportSettings(
            display_button=p.support_button_enabled, link=p.support_link, text=p.support_text
        )

    @strawberry.field(description="The customer the caller is switched into, if any.")
    def customer(self) -> Customer | None:
        return self.data.customer  # type: ignore[return-value]


@strawberry.type
class ViewerQueries:
    @strawberry.field(description="Who is calling: user, provider, permissions, customer scope.")
    async def viewer(self, info: Info) -> Viewer:
        return Viewer(data=await resolve.viewer(info.context))
