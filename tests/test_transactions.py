"""Side effects wait for the commit: run after it, dropped with a rollback."""

from __future__ import annotations

import pytest

from tests.factories import make_provider
from vdc_graph.db.models import ServiceProvider
from vdc_graph.db.transactions import after_commit, atomic


async def test_actions_run_after_the_commit_and_see_its_rows(db):
    seen: list[bool] = []

    async def look() -> None:
        seen.append(await ServiceProvider.filter(display_name="Committed").exists())

    async with atomic():
        await make_provider("Committed")
        after_commit(look)
        async with atomic():  # a nested block joins the outer transaction's actions
            after_commit(look)
        assert seen == []
    assert seen == [True, True]


async def test_actions_are_dropped_when_the_transaction_rolls_back(db):
    ran: list[str] = []

    async def act() -> None:
        ran.append("ran")

    with pytest.raises(RuntimeError):
        async with atomic():
            await make_provider("Rolled back")
            after_commit(act)
            raise RuntimeError("refused")
    assert ran == []
    assert not await ServiceProvider.filter(display_name="Rolled back").exists()
