"""The one HTTP client for every request the server makes to the outside (webhooks, Teams, JWKS).

A URL a user typed must never let them reach this machine or its private network (SSRF). The
client therefore resolves the host itself, refuses every address that is not public (special
IPv4 and IPv6 ranges, IPv4-mapped, 6to4, NAT64 and other embedded forms, legacy spellings such
as ``127.1`` or ``0x7f000001``), and connects to the very address it checked, so a DNS answer
that changes between the check and the connection (rebinding) gains nothing. Redirects are
never followed. Reserved names (``localhost``, ``*.example``, ``*.test``, ``*.invalid``,
``*.local``, single labels) are refused without asking DNS.

Networks named in ``VDC_OUTBOUND_ALLOWED_NETWORKS`` are allowed explicitly (a local receiver in
development, an internal identity provider's JWKS); nothing is allowed by default.

Failures are reported to callers with :func:`failure_reason`: a fixed text per kind, never the
low-level error, so a delivery log cannot tell a closed port from another protocol.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import re
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import httpcore
import httpx
from httpcore._backends.auto import AutoBackend

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Awaitable[list[str]]]

REFUSED_REASON = "the URL's host is not a public address"
INVALID_URL_REASON = "the URL is not a valid web address"
UNREACHABLE_REASON = "the receiver could not be reached or gave no valid HTTP answer in time"

_RESERVED_SUFFIXES = (".localhost", ".example", ".test", ".invalid", ".local", ".internal")
_RESERVED_NAMES = frozenset({"localhost", "example", "test", "invalid", "local", "internal"})
# inet_aton's legacy forms: 1 to 4 parts, each decimal, octal (leading 0) or hex (0x).
_LEGACY_IPV4 = re.compile(r"^(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+)){0,3}$", re.IGNORECASE)
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


class AddressRefused(httpx.ConnectError):
    """The host is, or resolves to, an address the server must not connect to."""


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


_resolver: Resolver = system_resolver


def set_resolver(resolver: Resolver | None) -> None:
    """Replace how host names are resolved (tests control DNS with it); None restores DNS."""
    global _resolver
    _resolver = resolver or system_resolver


def literal_address(host: str) -> Address | None:
    """The address a host names literally, in any spelling a resolver would accept."""
    text = host.strip("[]")
    try:
        return ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        pass
    if _LEGACY_IPV4.match(text):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(text))
        except OSError:
            return None
    return None


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if any(address in n for n in _NAT64):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_public(address: Address) -> bool:
    """Whether the address is on the public internet (no special-purpose range, no multicast)."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.teredo is not None:
            return False
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return is_public(embedded)
    return address.is_global and not (
        address.is_multicast
        or address.is_reserved
        or address.is_loopback
        or address.is_link_local
        or address.is_unspecified
        or address.is_private
    )


def is_reserved_name(host: str) -> bool:
    """Names that never lead to the public internet, refused without asking DNS."""
    name = host.rstrip(".").lower()
    return "." not in name or name in _RESERVED_NAMES or name.endswith(_RESERVED_SUFFIXES)


def networks(entries: Iterable[str]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(e.strip(), strict=False) for e in entries if e.strip())


class Policy:
    """Which addresses may be connected to: public ones, and the explicitly allowed networks."""

    def __init__(self, allowed: Iterable[str] = ()) -> None:
        self.allowed = networks(allowed)

    def permits(self, address: Address) -> bool:
        return any(address in n for n in self.allowed) or is_public(address)

    async def resolve(self, host: str, port: int) -> Address:
        """The address to connect to, checked; raises AddressRefused."""
        literal = literal_address(host)
        if literal is not None:
            candidates: list[Address] = [literal]
        elif host.rstrip(".").lower() in ("localhost", "localhost.localdomain"):
            # Our own answer, not an attacker's DNS: whichever loopback address is allowed.
            candidates = [a for a in _LOOPBACK if self.permits(a)][:1]
        elif is_reserved_name(host):
            raise AddressRefused(REFUSED_REASON)
        else:
            try:
                answers = await _resolver(host.rstrip("."), port)
            except OSError as exc:
                raise httpx.ConnectError(UNREACHABLE_REASON) from exc
            candidates = [a for a in map(literal_address, answers) if a is not None]
        # Every answer must pass: a name that also resolves inside is refused, not "tried".
        if not candidates or not all(self.permits(a) for a in candidates):
            raise AddressRefused(REFUSED_REASON)
        return candidates[0]


_LOOPBACK = (ipaddress.IPv4Address("127.0.0.1"), ipaddress.IPv6Address("::1"))


class _CheckedBackend(httpcore.AsyncNetworkBackend):
    """Opens each TCP connection to the address the policy checked (TLS still verifies and
    sends the URL's host name: httpcore passes it to ``start_tls`` separately)."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.inner = AutoBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        address = await self.policy.resolve(host, port)
        return await self.inner.connect_tcp(
            str(address), port, timeout, local_address, socket_options
        )

    async def connect_unix_socket(self, *args: Any, **kwargs: Any) -> httpcore.AsyncNetworkStream:
        raise AddressRefused(REFUSED_REASON)

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


@functools.cache
def _system_ssl_context() -> ssl.SSLContext:
    # Loading the system's certificate authorities takes milliseconds: once per process, not
    # once per delivery (a context is safe to share between connections).
    return httpx.create_ssl_context(trust_env=False)


class _CheckedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport over a connection pool whose every TCP connection is checked."""

    def __init__(self, policy: Policy, ssl_context: ssl.SSLContext | None = None) -> None:
        context = ssl_context or _system_ssl_context()
        super().__init__(verify=context, trust_env=False)
        limits = httpx.Limits()
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_CheckedBackend(policy),
        )


def client(
    allowed_networks: Iterable[str] = (),
    *,
    timeout: float,
    ssl_context: ssl.SSLContext | None = None,
) -> httpx.AsyncClient:
    """An httpx client that only reaches public addresses (and ``allowed_networks``), never
    follows redirects and ignores proxy environment variables (a proxy would connect for us).
    ``ssl_context`` replaces the system's certificate authorities (tests with their own CA)."""
    return httpx.AsyncClient(
        transport=_CheckedTransport(Policy(allowed_networks), ssl_context),
        timeout=timeout,
        follow_redirects=False,
        trust_env=False,
    )


# What callers catch around a request: transport failures and URLs httpx cannot parse.
FAILURES = (httpx.HTTPError, httpx.InvalidURL)


def failure_reason(exc: Exception) -> str:
    """What a delivery log may say about a failed request: refused, invalid, or one text for
    every other failure (a closed port, a timeout, another protocol's answer), so the log
    cannot be used to scan ports."""
    if isinstance(exc, AddressRefused):
        return REFUSED_REASON
    if isinstance(exc, httpx.InvalidURL):
        return INVALID_URL_REASON
    return UNREACHABLE_REASON


def status_reason(status_code: int) -> str:
    if 300 <= status_code < 400:
        return f"the receiver answered {status_code} (redirects are not followed)"
    return f"the receiver answered {status_code}"
