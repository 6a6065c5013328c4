"""The migrations build exactly the models, on both databases."""

from __future__ import annotations

from vdc_graph.db.config import model_changes, pending_migrations


async def test_the_migrations_match_the_models(db):
    assert await pending_migrations() == []
    changes = await model_changes()
    assert changes == [], "models changed without a migration: run `vdc-graph makemigrations`"


async def test_unknown_values_stored_as_empty_text_become_null(db):
    """A database written before unknown values were NULL ("" for them) is migrated: the ""
    become NULL, and going back restores them."""
    from tortoise import connections
    from tortoise.migrations.api.migrate import migrate as migrate_to

    from tests.factories import make_customer, make_provider
    from vdc_graph.db.config import tortoise_config
    from vdc_graph.db.models import Customer

    customer = await make_customer(await make_provider(), veeam_account_id=None)
    import importlib

    nulls = importlib.import_module("vdc_graph.db.migrations.0010_unknown_values_are_null")
    (before_null,) = (f"{app}.{name}" for app, name in nulls.Migration.dependencies)
    config = tortoise_config(db)
    await migrate_to(config=config, target=before_null)
    conn = connections.get("default")
    _, rows = await conn.execute_query(
        "SELECT veeam_account_id, microsoft_tenant_id FROM customer WHERE id = ?"
        if db.startswith("sqlite")
        else "SELECT veeam_account_id, microsoft_tenant_id FROM customer WHERE id = $1",
        [str(customer.id)],
    )
    assert tuple(rows[0]) == ("", "")
    await migrate_to(config=config)
    again = await Customer.get(id=customer.id)
    assert (again.veeam_account_id, again.microsoft_tenant_id) == (None, None)
