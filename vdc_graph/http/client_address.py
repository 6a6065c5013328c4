"""The caller's address: the connection's peer, or ``X-Forwarded-For`` behind a trusted proxy.

One function for HTTP, WebSocket and downloads, so the audit log and IP-range restrictions
see the same address whichever way a request came in.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from starlette.requests import HTTPConnection

from vdc_graph.settings import Settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=32)
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(e.strip(), strict=False) for e in entries if e.strip())


def _parse(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _trusted(address: str, networks: tuple[Network, ...]) -> bool:
    parsed = _parse(address)
    return parsed is not None and any(parsed in n for n in networks)


def client_address(connection: HTTPConnection, settings: Settings) -> str | None:
    peer = connection.client.host if connection.client else None
    networks = _networks(tuple(settings.trusted_proxies))
    if peer is None or not networks or not _trusted(peer, networks):
        return peer  # a forwarded header from anyone else is not believed
    forwarded = ",".join(connection.headers.getlist("x-forwarded-for"))
    hops = [h.strip() for h in forwarded.split(",") if h.strip()]
    # From the nearest hop outwards: the first address that is not one of our proxies.
    for hop in reversed(hops):
        if _parse(hop) is None:
            return peer  # a malformed chain proves nothing
        if not _trusted(hop, networks):
            return hop
    return hops[0] if hops else peer
