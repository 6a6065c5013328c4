"""The migrations build exactly the models, on both databases."""

from __future__ import annotations

from vdc_graph.db.config import model_changes, pending_migrations


async def test_the_migrations_match_the_models(db):
    assert await pending_migrations() == []
    changes = await model_changes()
    assert changes == [], "models changed without a migration: run `vdc-graph makemigrations`"
