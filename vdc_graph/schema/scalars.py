"""Scalars of the API: UTC ``DateTime`` with ``Z``, calendar ``Month``, 64-bit ``BigInt``,
exact ``Decimal`` (points)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, NewType

import strawberry

from vdc_graph.numbers import decimal_text


def _serialize_datetime(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _parse_datetime(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError("DateTime must be an ISO-8601 string such as 2025-03-01T12:00:00Z")
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError("DateTime needs a time zone (end it with Z for UTC)")
    return parsed.astimezone(UTC)


_DATE_TIME = strawberry.scalar(
    name="DateTime",
    description="A moment in time: ISO-8601 in UTC, such as `2025-03-01T12:00:00Z`.",
    serialize=_serialize_datetime,
    parse_value=_parse_datetime,
)

Month = NewType("Month", date)
BigInt = NewType("BigInt", int)

_MONTH = strawberry.scalar(
    name="Month",
    description="A calendar month, `YYYY-MM` (such as `2025-03`).",
    serialize=lambda value: f"{value.year:04d}-{value.month:02d}",
    parse_value=lambda value: _parse_month(value),
)

_BIG_INT = strawberry.scalar(
    name="BigInt",
    description="A whole number beyond 32 bits, such as a byte count.",
    serialize=int,
    parse_value=int,
)


def _parse_decimal(value: Any) -> Decimal:
    if not isinstance(value, str | int):
        raise ValueError('Decimal must be a string such as "52.5" (or a whole number)')
    try:
        parsed = Decimal(value)
    except InvalidOperation as exc:
        raise ValueError('Decimal must be a number such as "52.5"') from exc
    if not parsed.is_finite():
        raise ValueError("Decimal must be a finite number")
    return parsed


_DECIMAL = strawberry.scalar(
    name="Decimal",
    description='An exact decimal number as a string, such as `"52.5"` (never a float).',
    serialize=decimal_text,
    parse_value=_parse_decimal,
)


def _parse_month(value: Any) -> date:
    try:
        year, month = str(value).split("-")
        return date(int(year), int(month), 1)
    except ValueError as exc:
        raise ValueError("Month must look like 2025-03") from exc


# Given to StrawberryConfig(scalar_map=...): Python types to their GraphQL scalars.
SCALAR_MAP = {datetime: _DATE_TIME, Month: _MONTH, BigInt: _BIG_INT, Decimal: _DECIMAL}
