"""How exact numbers are written, the same in the API and in every export."""

from __future__ import annotations

from decimal import Decimal


def decimal_text(value: Decimal | int | str) -> str:
    """Exact digits, at least one decimal place: 35 -> "35.0", 52.50 -> "52.5"."""
    text = format(Decimal(value).normalize(), "f")
    return text if "." in text else text + ".0"
