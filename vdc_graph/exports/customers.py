"""``GET /exports/customers.csv``: every listed property of the customers a filter selects.

Query parameters mirror the list's filter: ``search``, ``sourceTypes`` and ``contractTypes``
(comma-separated enum values).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from vdc_graph.context import RequestContext
from vdc_graph.db.queries.customers import CustomerFilter
from vdc_graph.enums import ContractType, SourceType
from vdc_graph.errors import BadUserInput
from vdc_graph.resolvers.customers import export_customers

from .http import stream_csv


def _enum_list(request: Request, name: str, enum: type) -> tuple:
    raw = request.query_params.get(name, "")
    values = [v.strip() for v in raw.split(",") if v.strip()]
    try:
        return tuple(enum(v) for v in values)
    except ValueError as exc:
        allowed = ", ".join(e.value for e in enum)
        raise BadUserInput(f"{name}: use {allowed}", field=[name]) from exc


async def customers_csv(request: Request, context: RequestContext) -> Response:
    flt = CustomerFilter(
        search=request.query_params.get("search"),
        source_types=_enum_list(request, "sourceTypes", SourceType),
        contract_types=_enum_list(request, "contractTypes", ContractType),
    )
    header, rows = await export_customers(context, flt)
    return stream_csv("customers.csv", header, rows)
