"""A customer's licensed users: the type, its filter and its orders."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from vdc_graph.db import models

from .common import OrderDirection
from .enums import ProtectionStatus, described
from .relay import Connection, ModelNode


@strawberry.type(description="A Microsoft 365 user of the customer's tenant who uses a licence.")
class LicensedUser(ModelNode):
    model = models.LicensedUser
    display_name: str = strawberry.field(description="The user's name.")
    email: str = strawberry.field(description="The user's sign-in address.")
    protection_status: ProtectionStatus = strawberry.field(
        description="Whether the user's data is backed up."
    )
    last_backup_at: datetime | None = strawberry.field(
        description="When the user's data was last backed up."
    )


class LicensedUserOrderField(Enum):
    DISPLAY_NAME = "DISPLAY_NAME"
    EMAIL = "EMAIL"
    PROTECTION_STATUS = "PROTECTION_STATUS"
    LAST_BACKUP_AT = "LAST_BACKUP_AT"


described(
    LicensedUserOrderField,
    "Columns the licensed-user list can be ordered by.",
    DISPLAY_NAME="The user's name (the default order).",
    EMAIL="The user's email address.",
    PROTECTION_STATUS="Protected, unprotected or excluded.",
    LAST_BACKUP_AT="The last backup (users never backed up come last ascending).",
)


@strawberry.input(description="How to order licensed users; ties are broken by ID.")
class LicensedUserOrder:
    field: LicensedUserOrderField = strawberry.field(description="The column to order by.")
    direction: OrderDirection = strawberry.field(
        default=OrderDirection.ASC, description="Ascending or descending."
    )


@strawberry.input(description="Which licensed users to list; all conditions must hold.")
class LicensedUserFilter:
    search: str | None = strawberry.field(
        default=None, description="Text in the name or email (case-insensitive)."
    )
    protection_statuses: list[ProtectionStatus] | None = strawberry.field(
        default=None, description="Only users with these protection statuses."
    )


LicensedUserConnection = Connection[LicensedUser]
