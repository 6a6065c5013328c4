"""The ORM's PostgreSQL pool: no reset statement when a connection comes back."""

from __future__ import annotations

import pytest
from tortoise import Tortoise

from tests.factories import make_customer, make_provider
from vdc_graph.db.models import Customer


async def test_a_released_connection_is_not_reset_but_a_transaction_never_outlives_it(db: str):
    if not db.startswith("postgres"):
        pytest.skip("PostgreSQL's connection pool")
    provider = await make_provider()
    await make_customer(provider, display_name="Contoso")
    pool = Tortoise.get_connection("default")._pool
    sent: list[str] = []
    async with pool.acquire() as connection:
        connection.add_query_logger(lambda record: sent.append(record.query))
        assert await connection.fetchval("SELECT 1") == 1
        transaction = connection.transaction()
        await transaction.start()  # left open on release
    for _ in range(3):
        assert await Customer.filter(provider_id=provider.id).count() == 1
    # The same (only) connection served every statement: no reset query between them, and the
    # transaction left open was rolled back before the next acquirer got the connection.
    assert pool.get_size() == 1
    assert sent[0] == "SELECT 1"
    assert "ROLLBACK" in sent
    assert not [q for q in sent if "RESET ALL" in q or "UNLISTEN" in q]
    assert sum("COUNT(*)" in q for q in sent) == 3
