"""The schema documents itself: every type, field, argument and enum value has a description
(the explorer's documentation pane shows them), and every deprecation gives a reason."""

from __future__ import annotations

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLUnionType,
)

from vdc_graph.schema.root import build_schema
from vdc_graph.settings import Settings

BUILT_IN_SCALARS = {"String", "Int", "Float", "Boolean", "ID"}


def undocumented() -> list[str]:
    schema = build_schema(Settings(dev_token_secret="x" * 40))._schema
    missing: list[str] = []
    for name, type_ in schema.type_map.items():
        if name.startswith("__") or name in BUILT_IN_SCALARS:
            continue
        if not type_.description:
            missing.append(name)
        if isinstance(type_, GraphQLObjectType | GraphQLInterfaceType):
            for field_name, field in type_.fields.items():
                if not field.description:
                    missing.append(f"{name}.{field_name}")
                if field.deprecation_reason == "":
                    missing.append(f"{name}.{field_name} (deprecated without a reason)")
                for arg_name, arg in field.args.items():
                    if not arg.description:
                        missing.append(f"{name}.{field_name}({arg_name})")
        elif isinstance(type_, GraphQLInputObjectType):
            for field_name, field in type_.fields.items():
                if not field.description:
                    missing.append(f"{name}.{field_name}")
        elif isinstance(type_, GraphQLEnumType):
            for value_name, value in type_.values.items():
                if not value.description:
                    missing.append(f"{name}.{value_name}")
        else:
            assert isinstance(type_, GraphQLScalarType | GraphQLUnionType)
    return missing


def test_every_schema_element_has_a_description():
    assert undocumented() == []
