"""What every download shares: the caller from the bearer token, and a streamed CSV body."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Sequence
from datetime import date, datetime
from enum import Enum
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from vdc_graph.auth import Authenticator
from vdc_graph.auth.download_links import SIGNATURE
from vdc_graph.context import RequestContext
from vdc_graph.errors import ApiError, ErrorCode, Unauthenticated
from vdc_graph.http.client_address import client_address
from vdc_graph.http.request_log import facts
from vdc_graph.resolvers import audit
from vdc_graph.settings import Settings

Export = Callable[[Request, RequestContext], Awaitable[Response]]

# Status codes for refusals raised while preparing a download.
_STATUS = {
    ErrorCode.UNAUTHENTICATED.value: 401,
    ErrorCode.FORBIDDEN.value: 403,
    ErrorCode.NOT_FOUND.value: 404,
    ErrorCode.BAD_USER_INPUT.value: 400,
}


def refusal(error: ApiError) -> JSONResponse:
    code = str(error.extensions["code"])
    headers = {"WWW-Authenticate": "Bearer"} if code == ErrorCode.UNAUTHENTICATED.value else {}
    return JSONResponse(
        {"errors": [{"message": error.message, "extensions": error.extensions}]},
        status_code=_STATUS.get(code, 400),
        headers=headers,
    )


def export_endpoint(
    export: Export, settings: Settings, authenticator: Authenticator
) -> Callable[[Request], Awaitable[Response]]:
    """A Starlette endpoint running ``export`` for an authenticated caller.

    Rights are checked by the export (through the resolvers) before the first byte is sent, so a
    refusal is a proper status code, never a half-written file.
    """

    async def endpoint(request: Request) -> Response:
        context = RequestContext(
            settings=settings,
            request=request,
            client_host=client_address(request, settings),
            request_id=facts(request).request_id,
        )
        try:
            if "authorization" not in request.headers and SIGNATURE in request.query_params:
                context.principal = await authenticator.authenticate_link(
                    request.url.path, request.query_params.multi_items(), context.client_host
                )
            else:
                context.principal = await authenticator.authenticate(
                    request.headers.get("authorization"), context.client_host
                )
            facts(request).caller(context.principal)
            if context.principal is None:
                raise Unauthenticated("Sign in: send Authorization: Bearer <token>")
            response = await export(request, context)
        except ApiError as error:
            if audit.is_refusal(error):
                who = context.principal or getattr(error, "principal", None)
                await audit.record_refusal(who, context.client_host, request.url.path, error)
            facts(request).outcome = error.code.value
            return refusal(error)
        response.headers["X-Request-Id"] = context.request_id
        return response

    return endpoint


# A text cell starting with one of these is a formula to a spreadsheet (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> Any:
    """The value as written: times in UTC with ``Z``, enums by value, and text that a
    spreadsheet would run as a formula with a leading apostrophe, so it shows as the text it
    is (numbers are left alone)."""
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        value = value.isoformat().replace("+00:00", "Z")
    elif isinstance(value, Enum):
        value = value.value
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_line(values: Sequence[Any]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow([cell(v) for v in values])
    return buffer.getvalue()


def stream_csv(
    filename: str, header: Sequence[str], rows: AsyncIterable[Sequence[Any]]
) -> StreamingResponse:
    """A CSV download written as its rows arrive (never held whole in memory)."""

    async def body() -> AsyncIterator[bytes]:
        yield ("\ufeff" + csv_line(header)).encode()  # the BOM lets spreadsheets read UTF-8
        async for row in rows:
            yield csv_line(row).encode()

    return StreamingResponse(
        body(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def file_slug(text: str, fallback: str) -> str:
    """A name part safe in any file system and in a latin-1 ``Content-Disposition`` header."""
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()[:60] or fallback
