"""The backup engine of the process (the simulator), its recovery and its scheduler."""

from __future__ import annotations

from vdc_graph.settings import Settings

from .base import BackupEngine
from .simulator import SimulatorEngine

_engines: dict[int, tuple[Settings, BackupEngine]] = {}


def engine_for(settings: Settings) -> BackupEngine:
    """The one engine of the process for these settings."""
    found = _engines.get(id(settings))
    if found is None or found[0] is not settings:
        found = _engines[id(settings)] = (settings, SimulatorEngine(settings))
    return found[1]


__all__ = ["BackupEngine", "SimulatorEngine", "engine_for"]
