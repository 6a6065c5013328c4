"""``GET /exports/licensed-users.csv?customerId=…``: one customer's licensed users.

Optional ``search`` and ``protectionStatuses`` (comma-separated) mirror the list's filter.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from strawberry.relay import GlobalID

from vdc_graph.context import RequestContext
from vdc_graph.db.queries.licensed_users import LicensedUserFilter
from vdc_graph.enums import ProtectionStatus
from vdc_graph.errors import BadUserInput
from vdc_graph.resolvers.ids import Ref
from vdc_graph.resolvers.licensed_users import export_licensed_users

from .customers import _enum_list
from .http import file_slug, stream_csv


def _customer_ref(request: Request) -> Ref:
    raw = request.query_params.get("customerId", "")
    if not raw:
        raise BadUserInput("customerId: pass the customer's ID", field=["customerId"])
    try:
        gid = GlobalID.from_id(raw)
    except Exception:  # any malformed ID is simply not found
        return Ref("", "")
    return Ref(gid.type_name, gid.node_id)


async def licensed_users_csv(request: Request, context: RequestContext) -> Response:
    flt = LicensedUserFilter(
        search=request.query_params.get("search"),
        protection_statuses=_enum_list(request, "protectionStatuses", ProtectionStatus),
    )
    name, header, rows = await export_licensed_users(context, _customer_ref(request), flt)
    return stream_csv(f"licensed-users-{file_slug(name, 'customer')}.csv", header, rows)
