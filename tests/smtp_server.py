"""A real local SMTP server (aiosmtpd) for tests: it records what it receives and can refuse."""

from __future__ import annotations

import asyncio
import socket
from email import message_from_bytes, policy
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Recorder:
    """An aiosmtpd handler: refuses the first ``refusals`` messages (451), then keeps them."""

    def __init__(self, refusals: int = 0) -> None:
        self.refusals = refusals
        self.messages: list[Message] = []
        self.arrived = asyncio.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refusals > 0:
            self.refusals -= 1
            return "451 Requested action aborted: try again later"
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


class SmtpServer:
    def __init__(self, port: int | None = None, refusals: int = 0) -> None:
        self.port = port or free_port()
        self.recorder = Recorder(refusals)
        self.controller = Controller(self.recorder, hostname="127.0.0.1", port=self.port)

    @property
    def messages(self) -> list[Message]:
        return self.recorder.messages

    def start(self) -> SmtpServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()
