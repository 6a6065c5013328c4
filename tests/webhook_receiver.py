"""A real local HTTP server that receives webhooks and checks their signatures itself.

It answers each POST with the next status of ``failures`` (then 200), optionally after a delay,
and keeps every request it saw with whether its signature was valid for ``secret``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    signature_valid: bool
    answered: int

    @property
    def json(self) -> Any:
        return json.loads(self.body)


def signature_valid(secret: str, header: str, body: bytes, tolerance: int = 300) -> bool:
    """The check a receiver is told to make: HMAC-SHA256 over "<t>.<body>", fresh t."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    if "t" not in parts or "v1" not in parts:
        return False
    expected = hmac.new(secret.encode(), parts["t"].encode() + b"." + body, hashlib.sha256)
    fresh = abs(time.time() - int(parts["t"])) <= tolerance
    return fresh and hmac.compare_digest(expected.hexdigest(), parts["v1"])


class WebhookReceiver:
    def __init__(self, failures: list[int] | None = None, delay: float = 0.0) -> None:
        self.secret = ""
        self.failures = list(failures or [])
        self.delay = delay
        self.received: list[Received] = []
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if owner.delay:
                    time.sleep(owner.delay)
                with owner._lock:
                    status = owner.failures.pop(0) if owner.failures else 200
                    owner.received.append(
                        Received(
                            headers={k.lower(): v for k, v in self.headers.items()},
                            body=body,
                            signature_valid=signature_valid(
                                owner.secret, self.headers.get("Vdc-Signature", ""), body
                            ),
                            answered=status,
                        )
                    )
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:
                    pass  # the sender gave up waiting

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/hooks"

    @property
    def accepted(self) -> list[Received]:
        return [r for r in self.received if r.answered == 200]

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
