"""Domain events: publish after commit, subscribe by topic (see ``broker.Broker``).

The process has one broker. The in-memory backend serves a single process; a multi-process
deployment installs another backend (Redis pub/sub, Postgres LISTEN/NOTIFY) with ``set_broker``.
"""

from __future__ import annotations

from .broker import Broker, Message, Subscription
from .memory import MemoryBroker

_broker: Broker = MemoryBroker()


def broker() -> Broker:
    return _broker


def set_broker(new: Broker) -> None:
    global _broker
    _broker = new


__all__ = ["Broker", "MemoryBroker", "Message", "Subscription", "broker", "set_broker"]
