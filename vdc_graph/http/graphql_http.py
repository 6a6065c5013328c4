"""GraphQL over HTTP (the GraphQL-over-HTTP specification): POST and GET on ``/graphql``."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from graphql import FieldNode, GraphQLError, OperationDefinitionNode, parse
from graphql import OperationType as AstOperationType
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.types.execution import ExecutionResult, PreExecutionError
from strawberry.types.graphql import OperationType

from vdc_graph.auth import Authenticator
from vdc_graph.context import RequestContext
from vdc_graph.errors import ErrorCode, Forbidden, Unauthenticated
from vdc_graph.resolvers import audit
from vdc_graph.schema.root import VdcSchema
from vdc_graph.settings import Settings

from . import bounded_json, idempotency, negotiation, persisted
from .client_address import client_address
from .graphiql import graphiql_page
from .rate_limit_headers import rate_limit_headers
from .request_log import facts

log = logging.getLogger("vdc_graph.http")


class RequestRefused(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        code: ErrorCode = ErrorCode.BAD_USER_INPUT,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.code, self.headers = status, message, code, headers or {}


def chosen_operation(query: str, operation_name: str | None) -> OperationDefinitionNode | None:
    """The operation a request runs, when its document parses (small documents only: this runs
    before the limits do)."""
    try:
        document = parse(query, max_tokens=2000)
    except GraphQLError:
        return None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        operations = [o for o in operations if o.name and o.name.value == operation_name]
    return operations[0] if len(operations) == 1 else None


def operation_action(query: str, operation_name: str | None) -> str:
    """What a refused request tried, for the audit log: its first root field, if it parses."""
    operation = chosen_operation(query, operation_name)
    if operation is None:
        return "request"
    for selection in operation.selection_set.selections:
        if isinstance(selection, FieldNode):
            return selection.name.value
    return operation.operation.value


# Mutations a caller without a bearer token may run: their input carries the credential (an
# invitation link's token), and what they answer is limited to that invitation.
ANONYMOUS_MUTATIONS = frozenset(
    {
        "invitationAcceptLegalAgreement",
        "invitationConnectTenant",
        "invitationRenewDeviceCode",
        "invitationCheckDeviceLogin",
        "invitationGoBack",
        "invitationAccept",
    }
)
# Queries open to everyone: the same public choice lists for every caller (the invitation page),
# and what an invitation link opens.
ANONYMOUS_QUERIES = frozenset({"platform", "invitation"})


def anonymous_operation(params: dict[str, Any]) -> bool:
    """Whether the request is one operation selecting only root fields open to anonymous
    callers."""
    operation = chosen_operation(params["query"], params.get("operation_name"))
    if operation is None:
        return False
    open_fields = {
        AstOperationType.MUTATION: ANONYMOUS_MUTATIONS,
        AstOperationType.QUERY: ANONYMOUS_QUERIES,
    }.get(operation.operation, frozenset())
    selections = operation.selection_set.selections
    return bool(selections) and all(
        isinstance(s, FieldNode) and s.name.value in open_fields for s in selections
    )


def _pre_execution(result: ExecutionResult) -> bool:
    """Parse, validation and variable-coercion failures: nothing ran, no path on any error."""
    return isinstance(result, PreExecutionError) or (
        result.data is None and bool(result.errors) and all(e.path is None for e in result.errors)
    )


class GraphQLHttp:
    """The ``/graphql`` HTTP endpoint."""

    def __init__(self, schema: VdcSchema, settings: Settings, authenticator: Authenticator):
        self.schema, self.settings, self.authenticator = schema, settings, authenticator
        self.persisted = persisted.PersistedDocuments(settings)

    def _operation(self, params: dict[str, Any]) -> OperationDefinitionNode | None:
        """The operation the request runs, from the parsed documents the schema keeps."""
        try:
            entry = self.schema.documents.get(params["query"], self.settings.max_tokens)
        except GraphQLError:
            return None  # execution reports why
        return entry.operation(params["operation_name"])

    async def __call__(self, request: Request) -> Response:
        found = facts(request)
        context = RequestContext(
            settings=self.settings,
            client_host=client_address(request, self.settings),
            request=request,
            request_id=found.request_id,
        )
        headers = {"X-Request-Id": context.request_id}
        if (
            request.method == "GET"
            and self.settings.is_development
            and "query" not in request.query_params
            and negotiation.wants_html(request.headers.get("accept"))
        ):
            return graphiql_page(request)
        found.operation_type = "unknown"  # until the operation is known
        media = negotiation.response_type(request.headers.get("accept"))
        try:
            if media is None:
                raise RequestRefused(
                    406, f"Accept {negotiation.GRAPHQL_RESPONSE} or {negotiation.JSON}"
                )
            params = await self._params(request)
            found.operation_name = params["operation_name"]
            context.principal = await self._principal(request, context, params)
            found.caller(context.principal)
            key = request.headers.get("idempotency-key")
            if key is not None and request.method == "POST" and context.principal is not None:
                return await idempotency.once(
                    context.principal,
                    key,
                    params,
                    lambda: self._answer(request, params, context, media, headers),
                )
            return await self._answer(request, params, context, media, headers)
        except RequestRefused as refused:
            found.outcome = refused.code.value
            return self._refusal(refused, media or negotiation.JSON, headers)
        except idempotency.IdempotencyConflict as conflict:
            found.outcome = "IDEMPOTENCY_CONFLICT"
            return self._refusal(
                RequestRefused(conflict.status, conflict.message),
                media or negotiation.JSON,
                headers,
            )

    async def _answer(
        self,
        request: Request,
        params: dict[str, Any],
        context: RequestContext,
        media: str,
        headers: dict[str, str],
    ) -> Response:
        result = await self._execute(request, params, context)
        register_as = getattr(request.state, "register_as", None)
        if register_as is not None and not _pre_execution(result):
            self.persisted.remember(register_as, params["query"])
        codes = [(e.extensions or {}).get("code") for e in result.errors or ()]
        facts(request).outcome = next((str(c) for c in codes if c), "error") if codes else "ok"
        return self._response(result, media, headers)

    async def _params(self, request: Request) -> dict[str, Any]:
        if request.method == "GET":
            raw: dict[str, Any] = dict(request.query_params)
            for name in ("variables", "extensions"):
                if raw.get(name):
                    raw[name] = self._json(raw[name], name)
        else:
            content_type = negotiation.media_type(request.headers.get("content-type"))
            if content_type != negotiation.JSON:  # form types included (CSRF)
                raise RequestRefused(
                    415,
                    f"Send the request as {negotiation.JSON} (got "
                    f"{content_type or 'no content type'})",
                )
            raw = self._json(await self._body(request), "body")
        if isinstance(raw, list):
            raise RequestRefused(400, "Batched operations are not supported: send one at a time")
        if not isinstance(raw, dict):
            raise RequestRefused(400, "The request body must be a JSON object")
        try:
            resolved = self.persisted.resolve(raw.get("query"), raw.get("extensions"))
        except persisted.PersistedQueryRefused as exc:
            raise RequestRefused(exc.status, exc.message, exc.code, exc.headers) from exc
        request.state.register_as = resolved.register  # remembered once the document ran
        query = resolved.query or raw.get("query")
        if not isinstance(query, str) or not query.strip():
            raise RequestRefused(400, "The request has no query")
        if len(query.encode()) > self.settings.max_document_bytes:
            raise RequestRefused(
                400,
                f"The document is larger than {self.settings.max_document_bytes} bytes",
                ErrorCode.QUERY_TOO_COMPLEX,
            )
        variables = raw.get("variables")
        if variables is not None and not isinstance(variables, dict):
            raise RequestRefused(400, "variables must be a JSON object")
        if variables and len(json.dumps(variables)) > self.settings.max_variables_bytes:
            raise RequestRefused(
                400,
                f"The variables are larger than {self.settings.max_variables_bytes} bytes",
                ErrorCode.QUERY_TOO_COMPLEX,
            )
        operation_name = raw.get("operationName")
        if operation_name is not None and not isinstance(operation_name, str):
            raise RequestRefused(400, "operationName must be a string")
        return {"query": query, "variables": variables, "operation_name": operation_name}

    async def _body(self, request: Request) -> bytes:
        """The body, read only up to ``max_body_bytes``: a larger one is refused (413) as soon
        as its declared length or the bytes received so far pass the limit."""
        limit = self.settings.max_body_bytes
        too_large = RequestRefused(413, f"The request body is larger than {limit} bytes")
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise too_large
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise too_large
            chunks.append(chunk)
        return b"".join(chunks)

    def _json(self, raw: str | bytes, what: str) -> Any:
        try:
            return bounded_json.loads(raw, self.settings.max_json_depth)
        except bounded_json.TooDeep as exc:
            raise RequestRefused(400, f"The {what} nests deeper than {exc.limit} levels") from exc
        except (ValueError, UnicodeDecodeError) as exc:
            raise RequestRefused(400, f"The {what} is not valid JSON") from exc

    async def _principal(
        self, request: Request, context: RequestContext, params: dict[str, Any]
    ) -> Any:
        if "authorization" not in request.headers and anonymous_operation(params):
            return None  # the operation carries its own credential (an invitation token)
        try:
            principal = await self.authenticator.authenticate(
                request.headers.get("authorization"), context.client_host
            )
            if principal is None:
                raise Unauthenticated("Sign in: send Authorization: Bearer <token>")
        except (Unauthenticated, Forbidden) as exc:
            who = getattr(exc, "principal", None)
            # Parsed only for a refusal: what it tried goes into the audit log.
            action = operation_action(params["query"], params["operation_name"])
            await audit.record_refusal(who, context.client_host, action, exc)
            if isinstance(exc, Forbidden):
                raise RequestRefused(403, exc.message, ErrorCode.FORBIDDEN) from exc
            has_token = bool((request.headers.get("authorization") or "").strip())
            challenge = 'Bearer error="invalid_token"' if has_token else "Bearer"
            raise RequestRefused(
                401, exc.message, ErrorCode.UNAUTHENTICATED, {"WWW-Authenticate": challenge}
            ) from exc
        return principal

    async def _execute(
        self, request: Request, params: dict[str, Any], context: RequestContext
    ) -> ExecutionResult:
        allowed = (
            {OperationType.QUERY}
            if request.method == "GET"
            else {OperationType.QUERY, OperationType.MUTATION}
        )
        operation = self._operation(params)
        if operation is not None:
            found = facts(request)
            found.operation_type = operation.operation.value
            found.operation_name = operation.name.value if operation.name else None
        # Only reads are cut off: a mutation interrupted inside its transaction could leave the
        # database connection stuck, so mutations run to their end.
        limit = (
            None
            if operation is not None and operation.operation is AstOperationType.MUTATION
            else self.settings.request_timeout_seconds
        )
        try:
            async with asyncio.timeout(limit):
                return await self.schema.execute(
                    params["query"],
                    variable_values=params["variables"],
                    context_value=context,
                    operation_name=params["operation_name"],
                    allowed_operation_types=allowed,
                )
        except TimeoutError as exc:
            raise RequestRefused(
                504,
                f"The request took longer than {self.settings.request_timeout_seconds:g} s",
                ErrorCode.TIMEOUT,
            ) from exc
        except InvalidOperationTypeError as exc:
            if request.method == "GET":
                raise RequestRefused(
                    405, "Mutations must be sent with POST", headers={"Allow": "POST"}
                ) from exc
            raise RequestRefused(400, "Subscriptions are served over WebSocket") from exc

    def _response(self, result: ExecutionResult, media: str, headers: dict[str, str]) -> Response:
        body: dict[str, Any] = {}
        pre_execution = _pre_execution(result)
        if not pre_execution:
            body["data"] = result.data
        if result.errors:
            body["errors"] = [e.formatted for e in result.errors]
        if result.extensions:
            body["extensions"] = result.extensions
        status = 200
        codes = {(e.extensions or {}).get("code") for e in result.errors or ()}
        if ErrorCode.RATE_LIMITED.value in codes and pre_execution:
            status = 429  # for every client: it must slow down
        elif media == negotiation.GRAPHQL_RESPONSE and pre_execution:
            status = 400
        headers = {**headers, **rate_limit_headers(result.extensions, refused=status == 429)}
        return JSONResponse(body, status_code=status, media_type=media, headers=headers)

    @staticmethod
    def _refusal(refused: RequestRefused, media: str, headers: dict[str, str]) -> Response:
        error = GraphQLError(refused.message, extensions={"code": refused.code.value})
        return JSONResponse(
            {"errors": [error.formatted]},
            status_code=refused.status,
            media_type=media,
            headers={**headers, **refused.headers},
        )
