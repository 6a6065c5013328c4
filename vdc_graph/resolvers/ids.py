"""Turning the opaque IDs clients send back into database keys."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from vdc_graph.errors import NotFound


@dataclass(frozen=True)
class Ref:
    """A decoded global ID: the type it names and the key within it."""

    type_name: str
    key: str


def key_of(ref: Ref, expected_type: str) -> UUID:
    """The key of ``ref`` if it names an object of ``expected_type``; NOT_FOUND otherwise, so a
    wrong, malformed or foreign ID is indistinguishable from a missing one."""
    try:
        if ref.type_name != expected_type:
            raise ValueError(ref.type_name)
        return UUID(ref.key)
    except ValueError:
        raise not_found(expected_type) from None


def not_found(type_name: str) -> NotFound:
    return NotFound(f"No {type_name} with this ID exists, or you may not see it")


def global_id(type_name: str, key: Any) -> str:
    """The API's global ID of an object (as ``node(id:)`` accepts it): what downloads and
    events name objects by, never the raw database key."""
    return base64.b64encode(f"{type_name}:{key}".encode()).decode()
