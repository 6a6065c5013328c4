"""A monitoring-only user is refused every mutation of the API.

The list of mutations and the shape of their inputs come from the schema's introspection, so
a mutation added later is covered without touching this file: each gets a minimal input that
is valid GraphQL, so the refusal can only come from the permission check.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from graphql import get_introspection_query, graphql_sync
from strawberry import relay

from tests.factories import make_provider, make_user, token_for
from vdc_graph.db.models import AuditRecord
from vdc_graph.enums import AuditOutcome
from vdc_graph.http.graphql_http import ANONYMOUS_MUTATIONS
from vdc_graph.schema.common import Payload, UserError
from vdc_graph.schema.enums import UserErrorCode
from vdc_graph.schema.root import build_schema
from vdc_graph.settings import Settings

SCALARS: dict[str, Any] = {
    "String": "x",
    "Int": 1,
    "Float": 1.0,
    "Boolean": False,
    "DateTime": "2030-01-01T00:00:00Z",
    "Date": "2030-01-01",
    "Month": "2030-01",
    "BigInt": 1,
    "JSON": {},
    "UUID": str(uuid.UUID(int=1)),
}


def _introspection() -> dict[str, Any]:
    schema = build_schema(Settings(dev_token_secret="x" * 40))
    # The standard introspection query, as a client would send it.
    result = graphql_sync(schema._schema, get_introspection_query())
    assert result.data is not None, result.errors
    return result.data["__schema"]


SCHEMA = _introspection()
TYPES = {t["name"]: t for t in SCHEMA["types"]}
MUTATIONS = {f["name"]: f for f in TYPES[SCHEMA["mutationType"]["name"]]["fields"]}


def _type_ref(ref: dict[str, Any]) -> str:
    if ref["kind"] == "NON_NULL":
        return _type_ref(ref["ofType"]) + "!"
    if ref["kind"] == "LIST":
        return "[" + _type_ref(ref["ofType"]) + "]"
    return ref["name"]


def _value(ref: dict[str, Any]) -> Any:
    """A minimal valid value of an input type (required fields only)."""
    if ref["kind"] == "NON_NULL":
        return _value(ref["ofType"])
    if ref["kind"] == "LIST":
        return [_value(ref["ofType"])]
    named = TYPES[ref["name"]]
    if named["kind"] == "ENUM":
        return named["enumValues"][0]["name"]
    if named["kind"] == "INPUT_OBJECT":
        return {
            f["name"]: _value(f["type"])
            for f in named["inputFields"]
            if f["type"]["kind"] == "NON_NULL" and f["defaultValue"] is None
        }
    if named["name"] == "ID":
        # A well-formed ID of an object that does not exist: only a guard can refuse first.
        return str(relay.GlobalID("Customer", str(uuid.uuid4())))
    return SCALARS.get(named["name"], "x")


def _operation(name: str) -> tuple[str, dict[str, Any]]:
    field = MUTATIONS[name]
    args = [a for a in field["args"] if a["type"]["kind"] == "NON_NULL"]
    declared = ", ".join(f"${a['name']}: {_type_ref(a['type'])}" for a in args)
    passed = ", ".join(f"{a['name']}: ${a['name']}" for a in args)
    head = f"mutation({declared})" if args else "mutation"
    call = f"{name}({passed})" if args else name
    return f"{head} {{ {call} {{ __typename }} }}", {a["name"]: _value(a["type"]) for a in args}


def test_the_walk_finds_the_mutations() -> None:
    assert {"roleCreate", "userCreate", "apiKeyCreate", "customerSwitch"} <= set(MUTATIONS)
    # Only mutations whose input carries its own credential are open without a permission.
    assert set(ANONYMOUS_MUTATIONS) == {
        "invitationAcceptLegalAgreement",
        "invitationConnectTenant",
        "invitationRenewDeviceCode",
        "invitationCheckDeviceLogin",
        "invitationGoBack",
        "invitationAccept",
    }


@pytest.mark.parametrize("name", sorted(set(MUTATIONS) - ANONYMOUS_MUTATIONS))
async def test_a_monitoring_only_user_is_refused(api, settings, name: str) -> None:
    provider = await make_provider()
    monitor = await make_user(provider, [])
    query, variables = _operation(name)
    response = await api.post(query, variables, token=token_for(settings, monitor))
    body = response.json()
    assert response.status_code == 200, body  # valid GraphQL: the refusal is the guard's
    assert body["data"] is None or body["data"].get(name) is None, body
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"], body
    assert await AuditRecord.filter(action=name, outcome=AuditOutcome.DENIED).count() == 1


CODE = next(iter(UserErrorCode))


def test_every_mutation_answers_a_payload_that_knows_its_empty_form() -> None:
    schema = build_schema(Settings(dev_token_secret="x" * 40))
    mutation = schema.get_type_by_name("Mutation")
    assert mutation is not None
    for field in mutation.fields:  # type: ignore[union-attr]
        payload = field.type
        assert isinstance(payload, type) and issubclass(payload, Payload), field.name
        refused = payload.refused([UserError(message="m", field=["input"], code=CODE)])
        assert [e.message for e in refused.user_errors] == ["m"], field.name
