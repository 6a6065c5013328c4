"""The `downloadUrl` fields: a signed link to one download, made for the caller."""

from __future__ import annotations

from collections.abc import Mapping

from vdc_graph.auth import require
from vdc_graph.auth.download_links import download_url
from vdc_graph.context import RequestContext


def _base_url(ctx: RequestContext) -> str:
    if ctx.settings.api_url:
        return ctx.settings.api_url
    if ctx.request is None:
        return ctx.settings.public_url
    base = str(ctx.request.base_url)  # over WebSocket: ws(s)://, the same host
    return base.replace("ws://", "http://", 1).replace("wss://", "https://", 1)


def link(ctx: RequestContext, path: str, params: Mapping[str, str]) -> str:
    """A link to the download at ``path`` that works without a header until it expires; the
    download applies its usual rights to the caller it was made for."""
    return download_url(ctx.settings, require(ctx.principal), _base_url(ctx), path, params)
