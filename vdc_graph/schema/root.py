"""The schema's roots: Query, Mutation and the entry points every client expects."""

from __future__ import annotations

from typing import Annotated

import strawberry
from graphql import GraphQLError, get_named_type
from strawberry import relay
from strawberry.extensions.tracing import OpenTelemetryExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext, Info

from vdc_graph import tracing
from vdc_graph.http.persisted import trusted_only_extension
from vdc_graph.resolvers.ids import not_found
from vdc_graph.resolvers.nodes import load_node, load_nodes
from vdc_graph.settings import Settings

from .access import AccessMutations, AccessQueries
from .alarms import AlarmMutations, AlarmQueries
from .approvals import ApprovalMutations, ApprovalQueries
from .backup import BackupQueries
from .contracts import ContractMutations
from .customer_changes import CustomerChangeMutations
from .customer_people import CustomerPeopleMutations, CustomerPeopleQueries
from .customers import CustomerMutations, CustomerQueries
from .dashboard import DashboardQueries
from .documents import DocumentCache
from .execution import PlainFieldsExecutionContext
from .extensions import (
    AuditRefusals,
    MaskUnexpectedErrors,
    PerOperation,
    cached_parsing,
    validation_with_limits,
)
from .live import Subscription
from .notifications import NotificationMutations, NotificationQueries
from .offboarding import OffboardingMutations, OffboardingQueries
from .platform import PlatformQueries
from .policies import BackupMutations
from .scalars import SCALAR_MAP
from .settings import SettingsMutations, SettingsQueries
from .status import StatusQueries
from .usage import (
    SoftwareUsageMutations,
    UsageMutations,
    UsageQueries,
    UsageReviewMutations,
)
from .viewer import ViewerQueries
from .webhooks import WebhookMutations, WebhookQueries


@strawberry.type(description="Everything a client can read.")
class Query(
    ViewerQueries,
    CustomerQueries,
    CustomerPeopleQueries,
    OffboardingQueries,
    BackupQueries,
    AccessQueries,
    SettingsQueries,
    UsageQueries,
    WebhookQueries,
    NotificationQueries,
    AlarmQueries,
    ApprovalQueries,
    DashboardQueries,
    StatusQueries,
    PlatformQueries,
):
    @strawberry.field(description="Any object by its global ID.")
    async def node(
        self,
        info: Info,
        id: Annotated[relay.GlobalID, strawberry.argument(description="The object's ID.")],
    ) -> relay.Node | None:
        found = await load_node(info.context, id.type_name, id.node_id)
        if found is None:
            raise not_found("object")
        return found

    @strawberry.field(description="Objects by global ID, in order; null where not found.")
    async def nodes(
        self,
        info: Info,
        ids: Annotated[list[relay.GlobalID], strawberry.argument(description="The objects' IDs.")],
    ) -> list[relay.Node | None]:
        by_type: dict[str, list[str]] = {}
        for gid in ids:
            by_type.setdefault(gid.type_name, []).append(gid.node_id)
        found: dict[tuple[str, str], object] = {}
        for type_name, keys in by_type.items():
            for key, obj in zip(keys, await load_nodes(info.context, type_name, keys), strict=True):
                found[(type_name, key)] = obj
        return [found[(gid.type_name, gid.node_id)] for gid in ids]  # type: ignore[misc]


@strawberry.type(description="Everything a client can change.")
class Mutation(
    CustomerMutations,
    CustomerChangeMutations,
    ContractMutations,
    CustomerPeopleMutations,
    OffboardingMutations,
    BackupMutations,
    AccessMutations,
    SettingsMutations,
    UsageMutations,
    UsageReviewMutations,
    SoftwareUsageMutations,
    WebhookMutations,
    NotificationMutations,
    AlarmMutations,
    ApprovalMutations,
):
    pass


class VdcSchema(strawberry.Schema):
    # Parsed and validated documents of this schema, by text (set by ``build_schema``).
    documents: DocumentCache

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Expected errors are answers, not faults; faults are logged by the masking extension.
        return None


def _describe_inputs(schema: strawberry.Schema) -> None:
    """A mutation's single ``input`` argument is described by its input type's description."""
    mutation = schema._schema.mutation_type
    for field in mutation.fields.values() if mutation else ():
        argument = field.args.get("input")
        if argument is not None and not argument.description:
            argument.description = get_named_type(argument.type).description


def _no_arguments(arguments: dict, info: object) -> dict:
    """Argument values stay out of spans: they carry addresses, names and secrets that a
    trace store must not hold (the document, without variables, is on the operation span)."""
    return {}


def _resolver_spans() -> OpenTelemetryExtension:
    return OpenTelemetryExtension(arg_filter=_no_arguments)


def build_schema(settings: Settings) -> VdcSchema:
    documents = DocumentCache()
    schema = VdcSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        config=StrawberryConfig(auto_camel_case=True, scalar_map=SCALAR_MAP),
        execution_context_class=PlainFieldsExecutionContext,
        extensions=[
            cached_parsing(settings, documents),
            *filter(None, [trusted_only_extension(settings)]),
            validation_with_limits(settings, documents),
            PerOperation,
            AuditRefusals,
            MaskUnexpectedErrors,
            # Spans per operation and per resolver, only when traces are recorded.
            *([_resolver_spans] if tracing.enabled() else []),
        ],
    )
    _describe_inputs(schema)
    schema.documents = documents
    return schema
