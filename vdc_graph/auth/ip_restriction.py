"""A customer that restricts access to its IP ranges refuses callers from anywhere else."""

from __future__ import annotations

import ipaddress
from uuid import UUID

from vdc_graph.db.models import Customer, IpRange
from vdc_graph.errors import Forbidden

OUTSIDE_RANGES = "This customer accepts requests only from its allowed IP ranges"


def address_in_range(address: str, start: str, end: str) -> bool:
    try:
        value = ipaddress.ip_address(address)
        low, high = ipaddress.ip_address(start), ipaddress.ip_address(end)
    except ValueError:
        return False
    if isinstance(value, ipaddress.IPv6Address) and value.ipv4_mapped is not None:
        value = value.ipv4_mapped  # an IPv4 client on a dual-stack socket
    if value.version != low.version or low.version != high.version:
        return False
    return low <= value <= high  # type: ignore[operator]


async def check_customer_address(customer_id: UUID, client_host: str | None) -> None:
    """Refuse (FORBIDDEN) when the customer restricts access and the address is outside its
    ranges (the provider's and the customer's together); an unknown address is outside."""
    restricted = await Customer.filter(id=customer_id, restrict_access_to_ip_ranges=True).exists()
    if not restricted:
        return
    ranges = await IpRange.filter(customer_id=customer_id).values_list(
        "start_address", "end_address"
    )
    if client_host is None or not any(address_in_range(client_host, s, e) for s, e in ranges):
        raise Forbidden(OUTSIDE_RANGES)
