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


REGISTER = """mutation($input: CustomerRegisterInput!) { customerRegister(input: $input) {
  created userErrors { field message code } } }"""


async def test_a_lock_held_past_the_busy_timeout_is_a_retryable_error(api, database_url, settings):
    """Another process holds SQLite's write lock longer than the busy timeout: the mutation
    is answered DATABASE_BUSY (retryable), writes nothing, and succeeds once retried."""
    if not database_url.startswith("sqlite://"):
        pytest.skip("the embedded database's lock")
    import asyncio
    import sqlite3

    from tests.factories import make_user, token_for
    from vdc_graph.db.models import Customer
    from vdc_graph.enums import Permission

    provider = await make_provider()
    token = token_for(settings, await make_user(provider, [Permission.CUSTOMER_MANAGEMENT]))
    other = sqlite3.connect(database_url.removeprefix("sqlite://"), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # what a writer in another process holds
    variables = {"input": {"displayName": "Busy", "externalId": "B-1", "sourceType": "DIRECT"}}
    try:
        errors = await asyncio.wait_for(api.errors(REGISTER, variables, token=token), 30)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert errors[0]["extensions"] == {"code": "DATABASE_BUSY", "retryable": True}
    assert "retry" in errors[0]["message"]
    assert not await Customer.filter(provider=provider).exists()
    again = (await api.data(REGISTER, variables, token=token))["customerRegister"]
    assert again["created"] is True
