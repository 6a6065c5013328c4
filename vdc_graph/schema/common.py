"""Types every domain module shares: order direction, user errors, the Node entry points."""

from __future__ import annotations

import dataclasses
from enum import Enum
from typing import Any, Self

import strawberry
from strawberry.types.base import StrawberryList, StrawberryOptional

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


class Payload:
    """What every mutation payload derives from, so that a mutation is only its declaration and
    its resolver call (``run_mutation(info, XPayload, lambda: resolver(...))``).

    A payload knows its two forms:

    - ``refused(errors)``, its empty form: every nullable field null, every list empty, any other
      field its declared default, and the userErrors.
    - ``done(result)``, built from what the resolver returned: with one field (besides
      ``userErrors``) the result is that field; with several, a tuple fills them in declaration
      order, and any other result fills them by attribute name. A payload whose fields are not
      the resolver's result as it is (a count, a global ID) overrides ``done``.
    """

    @classmethod
    def _fields(cls) -> list[Any]:
        definition = cls.__strawberry_definition__  # type: ignore[attr-defined]
        return [f for f in definition.fields if f.python_name != "user_errors"]

    @classmethod
    def refused(cls, user_errors: list[UserError]) -> Self:
        empty: dict[str, Any] = {}
        for field in cls._fields():
            if field.default is not dataclasses.MISSING or field.default_factory is not (
                dataclasses.MISSING
            ):
                continue  # the declared default is its empty form
            if isinstance(field.type, StrawberryOptional):
                empty[field.python_name] = None
            elif isinstance(field.type, StrawberryList):
                empty[field.python_name] = []
            else:
                raise TypeError(f"{cls.__name__}.{field.python_name} needs a default")
        return cls(**empty, user_errors=user_errors)

    @classmethod
    def done(cls, result: Any) -> Self:
        names = [f.python_name for f in cls._fields()]
        if len(names) == 1:
            values = {names[0]: result}
        elif isinstance(result, tuple):
            values = dict(zip(names, result, strict=True))
        else:
            values = {name: getattr(result, name) for name in names}
        return cls(**values, user_errors=[])
