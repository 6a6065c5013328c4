"""The explorer page (GraphiQL) served at ``/graphql`` to browsers in development mode.

The page, its own script and style, and the vendored third-party scripts
(``explorer_assets``) are served by this server, so the page works without internet access.
Every file is sent gzip-compressed (to a client that accepts it) with a strong ETag and
``Cache-Control: no-cache``: a browser revalidates each load and gets 304 when nothing changed.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response

from .explorer_assets import EXPLORER, SOURCES, VENDOR, compress, sha256

INSTALL_HINT = (
    "The explorer's scripts are missing from this installation. In a checkout, run "
    "`./dev explorer` (it installs them with npm and vendors them), then reload this page."
)
PAGE = "index.html"
CACHE_CONTROL = "no-cache"

# The only files served under /graphql/explorer/ (and the page): name -> file.
ASSETS: dict[str, Path] = {
    **{name: VENDOR / f"{name}.gz" for name in SOURCES},
    "explorer.js": EXPLORER / "explorer.js",
    "explorer.css": EXPLORER / "explorer.css",
}
_MEDIA = {".js": "text/javascript", ".css": "text/css", ".html": "text/html; charset=utf-8"}


@dataclass(frozen=True)
class Asset:
    media_type: str
    compressed: bytes
    etag: str

    def response(self, request: Request) -> Response:
        headers = {"ETag": self.etag, "Cache-Control": CACHE_CONTROL, "Vary": "Accept-Encoding"}
        if self.etag in _etags(request.headers.get("if-none-match", "")):
            return Response(status_code=304, headers=headers)
        if accepts_gzip(request.headers.get("accept-encoding", "")):
            headers["Content-Encoding"] = "gzip"
            return Response(self.compressed, media_type=self.media_type, headers=headers)
        body = gzip.decompress(self.compressed)
        return Response(body, media_type=self.media_type, headers=headers)


def _etags(header: str) -> set[str]:
    return {tag.strip().removeprefix("W/") for tag in header.split(",")}


def accepts_gzip(header: str) -> bool:
    for item in header.split(","):
        coding, *params = (part.strip() for part in item.split(";"))
        if coding.lower() in ("gzip", "*"):
            quality = next((p[2:] for p in params if p.lower().startswith("q=")), "1")
            try:
                return float(quality) > 0
            except ValueError:
                return False
    return False


@cache
def load(path: Path) -> Asset:
    """A file ready to serve (read and compressed once per process)."""
    if path.suffix == ".gz":
        compressed = path.read_bytes()
        data = gzip.decompress(compressed)
        media = _MEDIA[Path(path.stem).suffix]
    else:
        data = path.read_bytes()
        compressed = compress(data)
        media = _MEDIA[path.suffix]
    return Asset(media, compressed, f'"{sha256(data)[:32]}"')


def missing_assets() -> list[str]:
    return [name for name, path in ASSETS.items() if not path.is_file()]


def graphiql_page(request: Request) -> Response:
    if missing_assets():
        return HTMLResponse(
            f"<!doctype html><title>Explorer not installed</title><p>{INSTALL_HINT}</p>",
            status_code=503,
        )
    return load(EXPLORER / PAGE).response(request)


async def explorer_asset(request: Request) -> Response:
    path = ASSETS.get(request.path_params["name"])
    if path is None:
        return PlainTextResponse("Not found", status_code=404)
    if not path.is_file():
        return PlainTextResponse(INSTALL_HINT, status_code=503)
    return load(path).response(request)
