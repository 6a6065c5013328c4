"""The backup engine of the process (the simulator), its recovery and its scheduler."""

from __future__ import annotations

from vdc_graph.settings import Settings

from .base import BackupEngine
from .recovery import OwnedEngine
from .simulator import SimulatorEngine

_engines: dict[int, tuple[Settings, OwnedEngine]] = {}


def engine_for(settings: Settings) -> OwnedEngine:
    """The one engine of the process for these settings (running what this process owns)."""
    found = _engines.get(id(settings))
    if found is None or found[0] is not settings:
        engine = OwnedEngine(SimulatorEngine(settings), settings.lease_seconds)
        found = _engines[id(settings)] = (settings, engine)
    return found[1]


__all__ = ["BackupEngine", "OwnedEngine", "SimulatorEngine", "engine_for"]
