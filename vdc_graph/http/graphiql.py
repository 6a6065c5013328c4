"""The explorer page served at ``/graphql`` to browsers in development mode."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse
from strawberry.http.ides import get_graphql_ide_html


def graphiql_page(request: Request) -> HTMLResponse:
    # Paste a development token (`vdc-graph token --email …`) into the headers pane as
    # {"Authorization": "Bearer …"}.
    return HTMLResponse(get_graphql_ide_html("graphiql"))
