"""Schema extensions: validation with limits before execution, and masking of faults."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Iterator

from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    GraphQLError,
    NoSchemaIntrospectionCustomRule,
    OperationDefinitionNode,
    OperationType,
    specified_rules,
    validate,
)
from strawberry.extensions import MaskErrors, SchemaExtension
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

from vdc_graph.context import RequestContext
from vdc_graph.db.loaders import Loaders
from vdc_graph.db.sqlite import is_database_busy
from vdc_graph.errors import ApiError, ErrorCode
from vdc_graph.resolvers import audit
from vdc_graph.settings import Settings

from .documents import DocumentCache
from .limits import Limits, check, measure
from .rate_limit import RateLimiter, Spent, buckets_for, cost_of

log = logging.getLogger("vdc_graph.errors")

_STRAWBERRY_RULES = (MaybeNullValidationRule, OneOfInputValidationRule)


def cached_parsing(settings: Settings, documents: DocumentCache) -> type[SchemaExtension]:
    """Each document text is parsed once (within the token limit) and then served from
    ``documents``; a document that does not parse is left to strawberry, which reports why."""

    class CachedParsing(SchemaExtension):
        def on_parse(self) -> Iterator[None]:
            ctx = self.execution_context
            ctx.parse_options["max_tokens"] = settings.max_tokens
            if ctx.query and ctx.graphql_document is None:
                # One that does not parse is parsed again below, which reports the error.
                with contextlib.suppress(GraphQLError):
                    ctx.graphql_document = documents.get(ctx.query, settings.max_tokens).document
            yield

    return CachedParsing


def validation_with_limits(settings: Settings, documents: DocumentCache) -> type[SchemaExtension]:
    """Validate every document ourselves, so limits, hidden suggestions and the introspection
    switch apply before anything runs. A document that passed once is not validated again (the
    limits, which depend on the variables, and the rate budget still apply to every request)."""
    production = not settings.is_development
    rules = (*specified_rules, *_STRAWBERRY_RULES)
    if production:
        rules = (*rules, NoSchemaIntrospectionCustomRule)

    limiter = RateLimiter(lambda: settings.rate_limit_points_per_hour, buckets_for(settings))

    class ValidateWithLimits(SchemaExtension):
        spent: Spent | None = None

        def get_results(self) -> dict[str, object]:
            if self.spent is None:
                return {}
            return {
                "rateLimit": {
                    "cost": self.spent.cost,
                    "remaining": self.spent.remaining,
                    "limit": self.spent.limit,
                    "resetAt": self.spent.reset_at.isoformat().replace("+00:00", "Z"),
                }
            }

        async def on_validate(self) -> AsyncIterator[None]:
            ctx = self.execution_context
            document = ctx.graphql_document
            if document is not None and ctx.pre_execution_errors is None:

                def run(doc: DocumentNode) -> list[GraphQLError]:
                    return validate(ctx.schema._schema, doc, rules, hide_suggestions=production)

                entry = documents.peek(ctx.query) if ctx.query else None
                if entry is not None and entry.document is document:
                    errors = documents.validated(entry, run)
                else:
                    errors = run(document)
                if not errors:
                    errors = await self._limits_errors()
                # Setting the result (even empty) tells strawberry validation has run.
                ctx.pre_execution_errors = errors
            yield

        async def _limits_errors(self) -> list[GraphQLError]:
            ctx = self.execution_context
            document = ctx.graphql_document
            assert document is not None
            fragments = {
                d.name.value: d
                for d in document.definitions
                if isinstance(d, FragmentDefinitionNode)
            }
            operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
            chosen = [
                op
                for op in operations
                if ctx.operation_name is None or (op.name and op.name.value == ctx.operation_name)
            ]
            if len(chosen) != 1:
                return []  # execution reports the missing or ambiguous operation
            operation = chosen[0]
            found = measure(ctx.schema._schema, operation, fragments, ctx.variables or {})
            limits = Limits(
                settings.max_depth,
                settings.max_aliases,
                settings.max_nodes,
                max_directives=settings.max_directives,
                max_node_ids=settings.max_node_ids,
            )
            problems = check(limits, found)
            if problems:
                return problems
            return await self._spend(found.nodes, operation.operation is OperationType.MUTATION)

        async def _spend(self, nodes: int, mutation: bool) -> list[GraphQLError]:
            principal = getattr(self.execution_context.context, "principal", None)
            if principal is None:
                return []
            caller = f"{principal.api_key_id or principal.user_id}"
            self.spent = await limiter.spend(caller, cost_of(nodes, mutation=mutation))
            self.execution_context.context.rate_limit_spent = self.spent  # see spent_of
            if self.spent.allowed:
                return []
            return [
                GraphQLError(
                    f"Rate limit reached: this request costs {self.spent.cost} points and "
                    f"{self.spent.remaining} remain; the budget refills by {self.spent.limit} "
                    "points an hour",
                    extensions={
                        "code": ErrorCode.RATE_LIMITED.value,
                        "resetAt": self.spent.reset_at.isoformat().replace("+00:00", "Z"),
                    },
                )
            ]

    return ValidateWithLimits


def _explain(error: GraphQLError) -> GraphQLError:
    if isinstance(error.original_error, InvalidOperationTypeError):
        # The legacy graphql-ws protocol carries subscriptions only.
        return GraphQLError(
            "This transport runs subscriptions only; send queries and mutations over HTTP or "
            "graphql-transport-ws",
            nodes=error.nodes,
            extensions={"code": ErrorCode.BAD_USER_INPUT.value},
        )
    if is_database_busy(error.original_error):
        return GraphQLError(
            "The database is busy with other writers; nothing was changed, retry the request",
            nodes=error.nodes,
            path=error.path,
            extensions={"code": ErrorCode.DATABASE_BUSY.value, "retryable": True},
        )
    return error


def is_expected(error: GraphQLError) -> bool:
    """Errors the client is told as they are: GraphQL's own and our ApiErrors."""
    original = error.original_error
    return original is None or isinstance(original, ApiError | GraphQLError)


class PerOperation(SchemaExtension):
    """Each operation starts with empty loaders and the caller's current rights.

    Over WebSocket one context serves many operations for as long as the socket lives: without
    this, a long-lived socket would read stale cached rows and keep rights its caller lost.
    """

    async def on_operation(self) -> AsyncIterator[None]:
        context = self.execution_context.context
        if isinstance(context, RequestContext):
            context.loaders = Loaders()
            if context.refresh_principal is not None:
                await context.refresh_principal()
        yield


class MaskUnexpectedErrors(MaskErrors):
    """A fault becomes INTERNAL_SERVER_ERROR with the request ID; the log keeps the details."""

    def __init__(self) -> None:
        super().__init__(
            should_mask_error=lambda e: not is_expected(e), error_message="Internal server error"
        )

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        processed = super()._process_errors([_explain(e) for e in errors])
        for error in processed:
            if not (error.extensions or {}).get("code"):
                # GraphQL's own errors: the document or its variables are at fault.
                code = (
                    ErrorCode.QUERY_TOO_COMPLEX
                    if "tokens" in error.message
                    else ErrorCode.BAD_USER_INPUT
                )
                error.extensions = {**(error.extensions or {}), "code": code.value}
        return processed

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        request_id = getattr(self.execution_context.context, "request_id", None)
        log.error("request %s failed at %s", request_id, error.path, exc_info=error.original_error)
        return GraphQLError(
            message=f"Internal server error (request {request_id})",
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions={"code": ErrorCode.INTERNAL_SERVER_ERROR.value, "requestId": request_id},
        )


class AuditRefusals(SchemaExtension):
    """Every UNAUTHENTICATED or FORBIDDEN answer of a field is written to the audit log.

    Mutations record their own refusals (with the object they named); this catches the rest:
    queries, and anything refused before a mutation's runner started.
    """

    async def on_execute(self) -> AsyncIterator[None]:
        yield
        context = self.execution_context.context
        result = self.execution_context.result
        if not isinstance(context, RequestContext) or result is None or not result.errors:
            return
        seen: set[str] = set()
        for error in result.errors:
            original = error.original_error
            if not audit.is_refusal(original):
                continue
            action = str(error.path[0]) if error.path else "request"
            if action in seen:  # one record per refused field, not per list item
                original.audited = True  # type: ignore[union-attr]
                continue
            seen.add(action)
            await audit.record_refusal(context.principal, context.client_host, action, original)  # type: ignore[arg-type]
