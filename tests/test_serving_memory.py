"""The serving process keeps what start-up built out of the garbage collector's walks."""

from __future__ import annotations

import gc

import httpx
from tortoise.backends.base.executor import EXECUTOR_CACHE

from vdc_graph.app import create_app
from vdc_graph.settings import Settings


def _collected(obj: object) -> bool:
    """Whether the collector's generations (not the frozen objects) hold ``obj``."""
    return any(tracked is obj for tracked in gc.get_objects())


async def test_a_served_application_freezes_what_start_up_built(
    database_url: str, settings: Settings
):
    EXECUTOR_CACHE.clear()  # SQL cached for the other backend under the same connection name
    gc.unfreeze()
    app = create_app(settings.model_copy(update={"database_url": database_url}))
    assert _collected(app.state.schema)
    try:
        async with app.router.lifespan_context(app):
            assert not _collected(app.state.schema)
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                assert (await client.get("/readyz")).status_code == 200
    finally:
        gc.unfreeze()  # the rest of the suite's objects are collected as usual
