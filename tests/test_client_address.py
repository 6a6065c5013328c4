"""The client's address: the peer, or X-Forwarded-For only behind a trusted proxy."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from vdc_graph.auth.ip_restriction import address_in_range
from vdc_graph.http.client_address import client_address
from vdc_graph.settings import Settings


def request(peer: str, forwarded: str | None = None) -> Request:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    return Request({"type": "http", "client": (peer, 1234), "headers": headers})


@pytest.mark.parametrize(
    ("proxies", "peer", "forwarded", "expected"),
    [
        ([], "192.0.2.1", "203.0.113.5", "192.0.2.1"),  # no trusted proxy: header ignored
        (["10.0.0.0/8"], "192.0.2.1", "203.0.113.5", "192.0.2.1"),  # peer is not a proxy
        (["10.0.0.0/8"], "10.1.1.1", "203.0.113.5", "203.0.113.5"),
        # The nearest untrusted hop wins: a client cannot prepend a fake address.
        (["10.0.0.0/8"], "10.1.1.1", "198.51.100.9, 203.0.113.5, 10.2.2.2", "203.0.113.5"),
        (["10.0.0.0/8"], "10.1.1.1", "not-an-ip", "10.1.1.1"),
        (["10.0.0.0/8"], "10.1.1.1", None, "10.1.1.1"),
        (["10.0.0.0/8"], "10.1.1.1", "10.3.3.3", "10.3.3.3"),
    ],
)
def test_client_address(proxies, peer, forwarded, expected) -> None:
    settings = Settings(dev_token_secret="x" * 40, trusted_proxies=proxies)
    assert client_address(request(peer, forwarded), settings) == expected


@pytest.mark.parametrize(
    ("address", "start", "end", "inside"),
    [
        ("10.0.0.5", "10.0.0.1", "10.0.0.9", True),
        ("10.0.0.10", "10.0.0.1", "10.0.0.9", False),
        ("::ffff:10.0.0.5", "10.0.0.1", "10.0.0.9", True),
        ("2001:db8::5", "2001:db8::1", "2001:db8::ff", True),
        ("2001:db8::5", "10.0.0.1", "10.0.0.9", False),
        ("garbage", "10.0.0.1", "10.0.0.9", False),
    ],
)
def test_address_in_range(address, start, end, inside) -> None:
    assert address_in_range(address, start, end) is inside
