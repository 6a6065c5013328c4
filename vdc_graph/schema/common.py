"""Types every domain module shares: order direction, user errors, the Node entry points."""

from __future__ import annotations

from enum import Enum

import strawberry

from vdc_graph import errors

from .enums import UserErrorCode


@strawberry.enum(description="The direction of an order.")
class OrderDirection(Enum):
    ASC = strawberry.enum_value("ASC", description="Smallest (or earliest, or A) first.")
    DESC = strawberry.enum_value("DESC", description="Largest (or latest, or Z) first.")


@strawberry.type(description="A problem with a mutation's input that the caller can fix.")
class UserError:
    message: str = strawberry.field(description="What is wrong, in words for a person.")
    field: list[str] | None = strawberry.field(
        description='The path to the input field at fault, such as `["input", "email"]`.'
    )
    code: UserErrorCode = strawberry.field(description="The rule that was broken.")

    @classmethod
    def from_error(cls, error: errors.UserError) -> UserError:
        return cls(message=error.message, field=error.field, code=error.code)
