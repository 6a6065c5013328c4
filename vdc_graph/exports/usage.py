"""``GET /exports/usage-report.csv?id=<usage report ID>``: a report's SaaS and software lines."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from strawberry import relay

from vdc_graph.context import RequestContext
from vdc_graph.errors import BadUserInput
from vdc_graph.resolvers.ids import Ref
from vdc_graph.resolvers.usage import export_report_lines

from .http import stream_csv


async def usage_report_csv(request: Request, context: RequestContext) -> Response:
    raw = request.query_params.get("id", "")
    try:
        gid = relay.GlobalID.from_id(raw)
    except Exception as exc:  # any undecodable ID is the caller's mistake
        raise BadUserInput("id: pass the usage report's ID", field=["id"]) from exc
    filename, header, rows = await export_report_lines(context, Ref(gid.type_name, gid.node_id))
    return stream_csv(filename, header, rows)
