"""``GET /exports/audit-log.csv``: the audit records a filter selects, newest first.

Query parameters mirror ``auditLog(filter:)``: ``actor`` and ``target`` (global IDs),
``action``, ``from`` and ``to`` (ISO-8601 times).
"""

from __future__ import annotations

from datetime import datetime

from starlette.requests import Request
from starlette.responses import Response
from strawberry import relay
from strawberry.relay.types import GlobalIDValueError

from vdc_graph.context import RequestContext
from vdc_graph.db.queries.audit import AuditFilter
from vdc_graph.errors import BadUserInput
from vdc_graph.resolvers.audit import actor_filter, export_audit_records
from vdc_graph.resolvers.ids import Ref

from .http import stream_csv


def _gid(request: Request, name: str) -> relay.GlobalID | None:
    raw = request.query_params.get(name)
    if not raw:
        return None
    try:
        return relay.GlobalID.from_id(raw)
    except GlobalIDValueError as exc:
        raise BadUserInput(f"{name} is not an ID", field=[name]) from exc


def _time(request: Request, name: str) -> datetime | None:
    raw = request.query_params.get(name)
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as exc:
        raise BadUserInput(f"{name}: use an ISO-8601 time", field=[name]) from exc
    if value.tzinfo is None:
        raise BadUserInput(f"{name}: give the time zone (such as Z)", field=[name])
    return value


async def audit_log_csv(request: Request, context: RequestContext) -> Response:
    actor, target = _gid(request, "actor"), _gid(request, "target")
    user_id, key_id = actor_filter(Ref(actor.type_name, actor.node_id) if actor else None)
    flt = AuditFilter(
        actor_user_id=user_id,
        actor_api_key_id=key_id,
        target_id=target.node_id if target else None,
        action=request.query_params.get("action") or None,
        since=_time(request, "from"),
        until=_time(request, "to"),
    )
    header, rows = await export_audit_records(context, flt)
    return stream_csv("audit-log.csv", header, rows)
