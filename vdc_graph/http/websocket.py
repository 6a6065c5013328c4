"""GraphQL over WebSocket (``graphql-transport-ws`` and legacy ``graphql-ws``) on ``/graphql``.

Authentication travels in ``connection_init``: ``{"authorization": "Bearer …"}``; a bad or
missing token closes the socket with 4403.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.schema import BaseSchema
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL
from strawberry.types.unset import UNSET, UnsetType

from vdc_graph.auth import Authenticator
from vdc_graph.context import RequestContext
from vdc_graph.errors import Unauthenticated
from vdc_graph.settings import Settings


class GraphQLWebSocket(GraphQL):
    def __init__(
        self, schema: BaseSchema, settings: Settings, authenticator: Authenticator
    ) -> None:
        super().__init__(
            schema,
            graphql_ide=None,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL),
            connection_init_wait_timeout=timedelta(seconds=settings.ws_init_timeout_seconds),
        )
        self.settings, self.authenticator = settings, authenticator

    async def get_context(self, request: Request | WebSocket, response: Any) -> RequestContext:
        return RequestContext(
            settings=self.settings,
            client_host=request.client.host if request.client else None,
            request=request,
            response=response,
        )

    async def on_ws_connect(self, context: RequestContext) -> UnsetType:  # type: ignore[override]
        params = context.connection_params or {}
        header = params.get("authorization") or params.get("Authorization")
        try:
            principal = await self.authenticator.authenticate(
                header if isinstance(header, str) else None
            )
        except Unauthenticated as exc:
            raise ConnectionRejectionError({"message": exc.message}) from exc
        if principal is None:
            raise ConnectionRejectionError(
                {"message": "Sign in: send authorization in the connection_init payload"}
            )
        context.principal = principal
        return UNSET
