"""Deterministic demo data: two providers, their users and roles, customers in every contract
and source type, policies, sessions with logs, licensed users and usage history.

``seed_demo`` is what the ``seed`` and ``demo`` commands run."""

from .generator import DemoSummary, Volume, default_anchor, seed_demo, volume_for

__all__ = ["DemoSummary", "Volume", "default_anchor", "seed_demo", "volume_for"]
