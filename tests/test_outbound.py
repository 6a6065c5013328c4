"""Outbound requests cannot reach this machine or its private network (SSRF).

Every test listens on loopback with a real socket and proves that nothing connected to it:
the refusal happens in the one outbound client, before any connection, whatever the spelling.
"""

from __future__ import annotations

import asyncio
import re
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests import test_webhooks
from tests.factories import make_provider
from tests.test_webhooks import CREATE
from tests.webhook_receiver import WebhookReceiver
from vdc_graph import clock, outbound
from vdc_graph.db.models import OutboxMessage, Webhook, WebhookDelivery
from vdc_graph.enums import DeliveryStatus, OutboxKind, WebhookEvent
from vdc_graph.notify.outbox import OutboxWorker
from vdc_graph.notify.teams import TeamsDeliverer, TeamsRefused
from vdc_graph.notify.webhook_worker import WebhookWorker
from vdc_graph.notify.webhooks import emit

SPELLINGS = (
    "127.1",
    "2130706433",
    "0x7f000001",
    "0",
    "0177.0.0.1",
    "localhost",
    "localhost.",
    "[::1]",
    "[::ffff:127.0.0.1]",
    "[::ffff:7f00:1]",
    "[64:ff9b::7f00:1]",
    "[2002:7f00:1::]",
)


class Listener:
    """A TCP server on loopback that counts connections and answers with ``reply``."""

    def __init__(self, reply: bytes | None = b"", host: str = "127.0.0.1") -> None:
        self.reply, self.host, self.connections = reply, host, 0
        self.server: asyncio.Server | None = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        if self.reply is None:  # say nothing, keep the connection open
            await asyncio.sleep(5)
        else:
            await reader.read(100)
            writer.write(self.reply)
            await writer.drain()
        writer.close()

    @property
    def port(self) -> int:
        assert self.server is not None
        return self.server.sockets[0].getsockname()[1]


@asynccontextmanager
async def listening(reply: bytes | None = b"", host: str = "127.0.0.1") -> AsyncIterator[Listener]:
    listener = Listener(reply, host)
    listener.server = await asyncio.start_server(listener._handle, host, 0)
    try:
        yield listener
    finally:
        listener.server.close()


provider, admin = test_webhooks.provider, test_webhooks.admin  # the fixtures


@pytest.fixture
def resolver() -> dict[str, list[str]]:
    """The DNS of these tests: names map to the answers the test chose."""
    answers: dict[str, list[str]] = {}
    asked: list[str] = []

    async def resolve(host: str, port: int) -> list[str]:
        asked.append(host)
        if host not in answers:
            raise OSError("no such name")
        return answers[host]

    outbound.set_resolver(resolve)
    answers["__asked__"] = asked  # type: ignore[assignment]
    yield answers
    outbound.set_resolver(None)


async def deliveries_to(owner, urls: list[str]) -> list[WebhookDelivery]:
    """Webhooks stored with these URLs (as if saved before today's rules), one event each."""
    for url in urls:
        await Webhook.create(
            provider=owner, url=url, secret="s" * 32, event_types=["USAGE_REPORT_STATUS"]
        )
    await emit(owner.id, WebhookEvent.USAGE_REPORT_STATUS, {"n": 1})
    return await WebhookDelivery.all()


async def test_internal_addresses_in_any_spelling_are_refused_at_input(api, admin):
    # localhost and ::1 themselves are accepted in development mode (a local receiver).
    spellings = [s for s in SPELLINGS if s not in ("localhost", "[::1]")]
    for host in (*spellings, "10.1", "169.254.169.254", "[fd00::1]", "100.64.0.1", "224.0.0.1"):
        url = f"https://{host}/hook"
        result = (
            await api.data(
                CREATE, {"input": {"url": url, "eventTypes": ["SESSION_FAILED"]}}, token=admin
            )
        )["webhookCreate"]
        assert [e["code"] for e in result["userErrors"]] == ["INVALID_URL"], url
    assert not await Webhook.exists()


async def test_every_spelling_and_dns_name_of_loopback_is_refused_before_connecting(
    db,
    resolver,
    provider,
):
    resolver["rebind.attacker.net"] = ["127.0.0.1"]
    resolver["mixed.attacker.net"] = ["93.184.216.34", "127.0.0.1"]  # one bad answer is enough
    resolver["metadata.attacker.net"] = ["169.254.169.254"]
    async with listening(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n") as target:
        names = [*SPELLINGS, "rebind.attacker.net", "mixed.attacker.net", "metadata.attacker.net"]
        urls = [f"http://{h}:{target.port}/hook" for h in names]
        await deliveries_to(provider, urls)
        worker = WebhookWorker(timeout=2)  # no network allowed besides the public internet
        assert await worker.run_once() == len(urls)
        assert target.connections == 0
    for delivery in await WebhookDelivery.all().prefetch_related("webhook"):
        url = delivery.webhook.url
        # httpx itself rejects the octal spelling as a malformed URL: refused all the same.
        expected = outbound.INVALID_URL_REASON if "0177." in url else outbound.REFUSED_REASON
        assert delivery.last_error == expected, url
        assert delivery.last_status_code is None
    assert {"rebind.attacker.net", "mixed.attacker.net"} <= set(resolver["__asked__"])


async def test_reserved_names_are_refused_without_asking_dns(db, resolver, provider):
    await deliveries_to(
        provider,
        ["https://hooks.example/x", "https://a.test/x", "https://b.invalid/x", "https://redis/x"],
    )
    assert await WebhookWorker(timeout=2).run_once() == 4
    assert resolver["__asked__"] == []
    errors = {d.last_error for d in await WebhookDelivery.all()}
    assert errors == {outbound.REFUSED_REASON}


async def test_the_delivery_log_cannot_tell_services_apart(db, provider):
    """A closed port, a Redis-like answer, a hang-up and silence read the same."""
    async with (
        listening(b"-ERR unknown command 'POST'\r\n") as redis_like,
        listening(b"") as hang_up,
        listening(None) as silent,
    ):
        async with listening() as closed:
            closed_port = closed.port
        ports = [closed_port, redis_like.port, hang_up.port, silent.port]
        await deliveries_to(provider, [f"http://127.0.0.1:{p}/" for p in ports])
        worker = WebhookWorker(timeout=0.5, allowed_networks=("127.0.0.1/32",))
        assert await worker.run_once() == 4
    errors = [d.last_error for d in await WebhookDelivery.all()]
    assert errors == [outbound.UNREACHABLE_REASON] * 4


async def test_a_redirect_to_an_internal_address_is_not_followed(db, provider):
    async with listening(host="127.0.0.2") as internal:
        location = f"http://127.0.0.2:{internal.port}/admin"
        redirect = f"HTTP/1.1 302 Found\r\nlocation: {location}\r\ncontent-length: 0\r\n\r\n"
        async with listening(redirect.encode()) as public:
            await deliveries_to(provider, [f"http://127.0.0.1:{public.port}/hook"])
            # Only 127.0.0.1 is allowed here (a local receiver); 127.0.0.2 stands for inside.
            allowed = ("127.0.0.1/32",)
            assert await WebhookWorker(timeout=2, allowed_networks=allowed).run_once() == 1
            delivery = await WebhookDelivery.get()
            assert delivery.last_status_code == 302
            assert delivery.last_error == "the receiver answered 302 (redirects are not followed)"
            # Even a caller that asks to follow redirects cannot: each connection is checked.
            async with outbound.client(allowed, timeout=2) as http:
                with pytest.raises(outbound.AddressRefused):
                    await http.get(f"http://127.0.0.1:{public.port}/", follow_redirects=True)
            assert public.connections == 2
        assert internal.connections == 0


async def test_a_resolved_name_is_connected_to_the_checked_address(db, resolver):
    """The address is resolved once, checked and connected to; the name stays in Host."""
    resolver["hooks.partner.net"] = ["127.0.0.1"]
    with WebhookReceiver() as receiver:
        port = receiver.url.rsplit(":", 1)[1].split("/", 1)[0]
        async with outbound.client(("127.0.0.1/32",), timeout=2) as http:
            response = await http.post(f"http://hooks.partner.net:{port}/x", content=b"{}")
        assert response.status_code == 200
        assert {k.lower(): v for k, v in receiver.received[0].headers.items()}[
            "host"
        ] == f"hooks.partner.net:{port}"
    assert resolver["__asked__"] == ["hooks.partner.net"]


async def test_teams_cards_go_through_the_same_checks(db):
    owner = await make_provider()
    async with listening(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n") as target:
        url = f"https://127.1:{target.port}/webhookb2/x"
        message = await OutboxMessage.create(
            provider=owner,
            kind=OutboxKind.TEAMS,
            recipient=url,
            subject="s",
            payload={"card": {"text": "x"}},
            next_attempt_at=clock.now(),
        )
        with pytest.raises(TeamsRefused, match="not a public address"):
            await TeamsDeliverer(timeout_seconds=2).deliver(message)
        assert await OutboxWorker({OutboxKind.TEAMS: TeamsDeliverer()}).run_once() == 1
        assert target.connections == 0
        port = str(target.port)
    stored = await OutboxMessage.get(id=message.id)
    assert stored.status is DeliveryStatus.PENDING and stored.last_error
    assert port not in stored.last_error and "127" not in stored.last_error


def test_public_addresses_pass_and_special_ones_do_not() -> None:
    policy = outbound.Policy()
    for text in ("93.184.216.34", "2606:4700::1111", "[::ffff:93.184.216.34]"):
        assert policy.permits(outbound.literal_address(text)), text
    for text in (
        "198.18.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "[2001::1]",
        "[fe80::1]",
        "0.0.0.0",  # noqa: S104
        "100.64.0.1",
        "192.0.2.1",
        "[64:ff9b::a00:1]",
        "[ff02::1]",
    ):
        assert not policy.permits(outbound.literal_address(text)), text


def _certificate_authority(tmp_path, name: str) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A CA of the test's own and a certificate for ``name``: (server context, client context)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.now(UTC)

    def issue(subject: str, key, issuer_name, issuer_key, *, ca: bool):
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(issuer_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(hours=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if not ca:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.DNSName(subject)]), critical=False
            )
        return builder.sign(issuer_key, hashes.SHA256())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test CA")])
    ca_cert = issue("test CA", ca_key, ca_name, ca_key, ca=True)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = issue(name, key, ca_name, ca_key, ca=False)
    pem = tmp_path / "server.pem"
    pem.write_bytes(
        cert.public_bytes(serialization.Encoding.PEM)
        + key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(pem)
    client = ssl.create_default_context(
        cadata=ca_cert.public_bytes(serialization.Encoding.PEM).decode()
    )
    return server, client


async def test_https_to_the_checked_address_verifies_the_name(db, resolver, tmp_path):
    """Pinned to the resolved address, TLS still sends and verifies the URL's host name."""
    server_tls, client_tls = _certificate_authority(tmp_path, "hooks.partner.net")
    seen: list[str] = []

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await reader.readuntil(b"\r\n\r\n")
        seen.append(request.decode().split("\r\n")[0])
        writer.write(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0, ssl=server_tls)
    port = server.sockets[0].getsockname()[1]
    resolver["hooks.partner.net"] = ["127.0.0.1"]
    resolver["other.partner.net"] = ["127.0.0.1"]
    try:
        async with outbound.client(("127.0.0.1/32",), timeout=5, ssl_context=client_tls) as http:
            ok = await http.post(f"https://hooks.partner.net:{port}/in", content=b"{}")
            assert ok.status_code == 204
            # The same address under a name the certificate does not carry: refused by TLS.
            with pytest.raises(httpx.ConnectError):
                await http.post(f"https://other.partner.net:{port}/in", content=b"{}")
    finally:
        server.close()
    assert seen == ["POST /in HTTP/1.1"]


async def test_the_jwks_is_fetched_through_the_same_client(tmp_path):
    """A JWKS on an internal address is reached only when its network is allowed."""
    from jwks_server import JwksServer

    from vdc_graph.auth.oidc import JwksClient
    from vdc_graph.errors import Unauthenticated
    from vdc_graph.settings import Settings

    with JwksServer() as server:
        common = {
            "dev_token_secret": "x" * 40,
            "state_dir": tmp_path,
            "oidc_issuer": "https://login.example.test/t/v2.0",
            "oidc_audience": "api://vdc-graph",
            "oidc_jwks_url": server.url,
        }
        refused = JwksClient(Settings(**common))
        with pytest.raises(Unauthenticated):
            await refused.key_for("k1")
        await refused.aclose()
        assert server.requests == 0
        allowed = JwksClient(Settings(**common, outbound_allowed_networks=["127.0.0.1/32"]))
        with pytest.raises(Unauthenticated):
            await allowed.key_for("k1")  # reached, but it publishes no such key
        await allowed.aclose()
        assert server.requests == 1


def test_no_other_module_builds_an_http_client() -> None:
    """Every outbound request goes through vdc_graph/outbound.py: no module builds its own."""
    from pathlib import Path

    package = Path(outbound.__file__).parent
    builders = re.compile(
        r"httpx\.(Async)?Client\(|\burllib\.request\b|\baiohttp\b|\bhttp\.client\b"
    )
    offenders = [
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if path.name != "outbound.py" and builders.search(path.read_text())
    ]
    assert offenders == []


async def test_localhost_is_reached_only_when_loopback_is_allowed(db):
    async with listening(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n") as target:
        url = f"http://localhost:{target.port}/hook"
        async with outbound.client(timeout=2) as http:
            with pytest.raises(outbound.AddressRefused):
                await http.post(url)
        assert target.connections == 0
        async with outbound.client(("127.0.0.1/32",), timeout=2) as http:
            assert (await http.post(url)).status_code == 204
        assert target.connections == 1
