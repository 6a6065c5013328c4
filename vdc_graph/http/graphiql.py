"""The explorer page (GraphiQL) served at ``/graphql`` to browsers in development mode.

Its scripts come from the npm registry (``vdc_graph/http/explorer/package.json``, pinned by the
lockfile) and are served by this server, so the page works without internet access.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, Response

EXPLORER = Path(__file__).parent / "explorer"
MODULES = EXPLORER / "node_modules"
INSTALL_HINT = (
    "The explorer's scripts are not installed. Run `./dev demo` (it installs them), or "
    "`npm ci --prefix vdc_graph/http/explorer`, then reload this page."
)

# The only files served under /graphql/explorer/: name -> file.
ASSETS: dict[str, Path] = {
    "graphiql.min.js": MODULES / "graphiql/graphiql.min.js",
    "graphiql.min.css": MODULES / "graphiql/graphiql.min.css",
    "plugin-explorer.umd.js": MODULES / "@graphiql/plugin-explorer/dist/index.umd.js",
    "plugin-explorer.css": MODULES / "@graphiql/plugin-explorer/dist/style.css",
    "graphql-ws.min.js": MODULES / "graphql-ws/umd/graphql-ws.min.js",
    "react.production.min.js": MODULES / "react/umd/react.production.min.js",
    "react-dom.production.min.js": MODULES / "react-dom/umd/react-dom.production.min.js",
    "explorer.js": EXPLORER / "explorer.js",
    "explorer.css": EXPLORER / "explorer.css",
}
_MEDIA = {".js": "text/javascript", ".css": "text/css"}


def missing_assets() -> list[str]:
    return [name for name, path in ASSETS.items() if not path.is_file()]


def graphiql_page(request: Request) -> Response:
    if missing_assets():
        return HTMLResponse(
            f"<!doctype html><title>Explorer not installed</title><p>{INSTALL_HINT}</p>",
            status_code=503,
        )
    return HTMLResponse((EXPLORER / "index.html").read_text())


async def explorer_asset(request: Request) -> Response:
    path = ASSETS.get(request.path_params["name"])
    if path is None:
        return PlainTextResponse("Not found", status_code=404)
    if not path.is_file():
        return PlainTextResponse(INSTALL_HINT, status_code=503)
    return FileResponse(path, media_type=_MEDIA[path.suffix], headers={"Cache-Control": "no-cache"})
