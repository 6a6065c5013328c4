"""Session downloads (BACKUP_MANAGEMENT):

- ``GET /exports/session-log.csv?sessionId=<ID>[&statuses=WARNING,FAILED]``: one session's log.
- ``GET /exports/sessions.zip?customerId=<ID>&month=2025-03``: a customer's sessions queued in
  that month (UTC) as a ZIP: ``sessions.csv`` (one row per session, naming its log file) and
  ``logs/<started>_<policy>_<id>.csv`` per session. Streamed: neither is held whole in memory.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from stream_zip import ZIP_64, async_stream_zip

from vdc_graph.context import RequestContext
from vdc_graph.enums import LogStatus
from vdc_graph.errors import BadUserInput
from vdc_graph.resolvers import session_exports as resolve
from vdc_graph.resolvers.ids import Ref

from .customers import _enum_list
from .http import csv_line, stream_csv


def _ref(request: Request, name: str) -> Ref:
    from strawberry.relay import GlobalID

    raw = request.query_params.get(name)
    if not raw:
        raise BadUserInput(f"{name} is required", field=[name])
    try:
        gid = GlobalID.from_id(raw)
    except Exception as exc:  # any undecodable ID is the client's mistake
        raise BadUserInput(f"{name} is not an ID", field=[name]) from exc
    return Ref(gid.type_name, gid.node_id)


def _month(request: Request) -> date:
    raw = request.query_params.get("month", "")
    try:
        return datetime.strptime(raw, "%Y-%m").replace(tzinfo=UTC).date()
    except ValueError as exc:
        raise BadUserInput("month must look like 2025-03", field=["month"]) from exc


async def session_log_csv(request: Request, context: RequestContext) -> Response:
    statuses = _enum_list(request, "statuses", LogStatus)
    session, rows = await resolve.export_session_log(context, _ref(request, "sessionId"), statuses)
    return stream_csv(f"session-{str(session.id)[:8]}-log.csv", resolve.LOG_HEADER, rows)


async def _csv_bytes(header: list[str], rows: AsyncIterator[list]) -> AsyncIterator[bytes]:
    yield ("\ufeff" + csv_line(header)).encode()
    async for row in rows:
        yield csv_line(row).encode()


async def sessions_zip(request: Request, context: RequestContext) -> Response:
    export = await resolve.prepare_month_export(
        context, _ref(request, "customerId"), _month(request)
    )
    modified = datetime.now(UTC)
    mode = 0o644

    async def index_rows() -> AsyncIterator[list]:
        async for session in resolve.month_sessions(context, export):
            yield resolve.session_row(session)

    async def members():
        yield (
            "sessions.csv",
            modified,
            mode,
            ZIP_64,
            _csv_bytes(resolve.SESSION_HEADER, index_rows()),
        )
        async for session in resolve.month_sessions(context, export):
            yield (
                resolve.log_file_name(session),
                modified,
                mode,
                ZIP_64,
                _csv_bytes(resolve.LOG_HEADER, resolve.log_rows(session)),
            )

    return StreamingResponse(
        async_stream_zip(members()),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{export.file_name()}"'},
    )
