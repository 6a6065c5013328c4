"""GraphQL over WebSocket (``graphql-transport-ws`` and legacy ``graphql-ws``) on ``/graphql``.

Authentication travels in ``connection_init``: ``{"authorization": "Bearer …"}``; a bad or
missing token closes the socket with 4403.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from datetime import datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import ASGIWebSocketAdapter, GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.schema import BaseSchema
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL
from strawberry.types.unset import UNSET, UnsetType

from vdc_graph import clock, metrics
from vdc_graph.auth import Authenticator
from vdc_graph.auth.principal import Principal
from vdc_graph.context import RequestContext
from vdc_graph.errors import Forbidden, Unauthenticated
from vdc_graph.events import broker
from vdc_graph.events.rights import rights_topic
from vdc_graph.resolvers import audit
from vdc_graph.resolvers.access import live_operations_may_continue
from vdc_graph.settings import Settings

from . import bounded_json
from .client_address import client_address

log = logging.getLogger("vdc_graph.websocket")

# Where the refusal's reason waits for the close frame (strawberry's own says only "Forbidden").
_REFUSAL = "vdc_graph.refusal"
_MAX_REASON_BYTES = 123  # a close frame's reason is at most 123 bytes of UTF-8


class _ReasonedAdapter(ASGIWebSocketAdapter):
    """Closes a refused socket (4403) with the refusal's reason, so the client can show it."""

    async def close(self, code: int, reason: str) -> None:
        refusal = self.ws.scope.pop(_REFUSAL, None)
        if code == 4403 and refusal:
            reason = refusal.encode()[:_MAX_REASON_BYTES].decode(errors="ignore")
        await super().close(code, reason)


class GraphQLWebSocket(GraphQL):
    websocket_adapter_class = _ReasonedAdapter  # type: ignore[assignment]

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

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        websocket = WebSocket(scope, receive=receive, send=send)
        context = await self.get_context(websocket, websocket)
        try:
            with metrics.WEBSOCKETS.track_inprogress():
                await self.run(websocket, context=context)
        finally:
            for task in context.connection_tasks:
                task.cancel()

    def decode_json(self, data: str | bytes) -> object:
        # Too deep is "not valid JSON" to strawberry's handlers, which close with 4400.
        try:
            return bounded_json.loads(data, self.settings.max_json_depth)
        except bounded_json.TooDeep as exc:
            raise json.JSONDecodeError(str(exc), "", 0) from exc

    async def get_context(self, request: Request | WebSocket, response: Any) -> RequestContext:
        return RequestContext(
            settings=self.settings,
            client_host=client_address(request, self.settings),
            request=request,
            response=response,
        )

    async def on_ws_connect(self, context: RequestContext) -> UnsetType:  # type: ignore[override]
        params = context.connection_params or {}
        header = params.get("authorization") or params.get("Authorization")
        header = header if isinstance(header, str) else None
        try:
            principal = await self.authenticator.authenticate(header, context.client_host)
            if principal is None:
                raise Unauthenticated("Sign in: send authorization in the connection_init payload")
        except (Unauthenticated, Forbidden) as exc:
            who = getattr(exc, "principal", None)
            await audit.record_refusal(who, context.client_host, "connectionInit", exc)
            context.request.scope[_REFUSAL] = exc.message
            raise ConnectionRejectionError({"message": exc.message}) from exc
        context.principal = principal

        async def refresh() -> None:
            # Rights are read again before every operation; a revoked caller gets none.
            try:
                context.principal = await self.authenticator.authenticate(
                    header, context.client_host
                )
            except (Unauthenticated, Forbidden):
                context.principal = None

        context.refresh_principal = refresh
        if principal.expires_at is not None:
            self._close_at_expiry(context, principal.expires_at)
        await self._close_when_rights_end(context, header, principal)
        return UNSET

    async def _close_when_rights_end(
        self, context: RequestContext, header: str | None, principal: Principal
    ) -> None:
        """Close the socket (4403) once its caller lost the rights its operations run with:
        re-checked on every rights-changed event of the provider (from any process, through
        the broker) and every ``ws_rights_recheck_seconds`` in case an event was missed."""
        websocket = context.response
        if not isinstance(websocket, WebSocket):
            return
        period = self.settings.ws_rights_recheck_seconds
        subscribed = asyncio.Event()

        async def still_allowed() -> bool:
            try:
                now = await self.authenticator.authenticate(header, context.client_host)
            except (Unauthenticated, Forbidden):
                return False
            return live_operations_may_continue(principal, now)

        async def watch() -> None:
            changed = asyncio.Event()
            async with broker().subscribe(rights_topic(principal.provider_id)) as changes:
                subscribed.set()

                async def note_changes() -> None:
                    async for _ in changes:
                        changed.set()

                # The subscription is read by its own task: a timeout never cancels its read.
                listener = asyncio.get_running_loop().create_task(note_changes())
                try:
                    while True:
                        with contextlib.suppress(TimeoutError):
                            async with asyncio.timeout(period):
                                await changed.wait()
                        changed.clear()  # a change during the check triggers another one
                        try:
                            if not await still_allowed():
                                break
                        except Exception:  # a database hiccup: keep the socket, check again
                            log.exception("could not re-check a socket's rights")
                finally:
                    listener.cancel()
            with contextlib.suppress(RuntimeError, OSError):
                await websocket.close(code=4403, reason="The caller's rights have changed")

        task = asyncio.get_running_loop().create_task(watch())
        context.connection_tasks.append(task)  # cancelled when the socket ends
        # Listening before the acknowledgement: no change after it can be missed.
        waiting = asyncio.ensure_future(subscribed.wait())
        await asyncio.wait({waiting, task}, return_when=asyncio.FIRST_COMPLETED)
        waiting.cancel()

    @staticmethod
    def _close_at_expiry(context: RequestContext, expires_at: datetime) -> None:
        """A socket never outlives its token: close it (4403) when the token expires."""
        websocket = context.response
        if not isinstance(websocket, WebSocket):
            return
        delay = max(0.0, (expires_at - clock.now()).total_seconds())

        async def close_when_expired() -> None:
            await asyncio.sleep(delay)
            with contextlib.suppress(RuntimeError, OSError):
                await websocket.close(code=4403, reason="The token has expired")

        task = asyncio.get_running_loop().create_task(close_when_expired())
        context.connection_tasks.append(task)  # cancelled when the socket ends
