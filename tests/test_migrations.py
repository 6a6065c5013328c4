"""The migrations build exactly the models, on both databases."""

from __future__ import annotations

from vdc_graph.db.config import model_changes, pending_migrations


async def test_the_migrations_match_the_models(db):
    assert await pending_migrations() == []
    changes = await model_changes()
    assert changes == [], "models changed without a migration: run `vdc-graph makemigrations`"


async def _index_columns(conn, postgres: bool) -> set[tuple[str, tuple[str, ...], bool]]:
    """(table, columns, unique) of every index on plain columns."""
    if postgres:
        _, rows = await conn.execute_query(
            "SELECT t.relname, array_agg(a.attname ORDER BY k.ord), i.indisunique "
            "FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid "
            "JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = 'public' "
            "CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) "
            "JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum "
            "WHERE i.indexprs IS NULL AND i.indpred IS NULL GROUP BY t.relname, i.indexrelid, "
            "i.indisunique"
        )
        return {(r[0], tuple(r[1]), r[2]) for r in rows}
    found = set()
    _, tables = await conn.execute_query("SELECT name FROM sqlite_master WHERE type = 'table'")
    for (table,) in tables:
        _, indexes = await conn.execute_query(f"PRAGMA index_list('{table}')")
        for index in indexes:
            if index["partial"]:
                continue
            _, info = await conn.execute_query(f"PRAGMA index_info('{index['name']}')")
            columns = tuple(row["name"] for row in info)
            if None not in columns:  # an expression index
                found.add((table, columns, bool(index["unique"])))
    return found


async def test_every_index_and_unique_constraint_the_models_declare_exists(db):
    """Also where a migration rebuilt a table (SQLite alters a column by copying the table,
    and the copy keeps neither its indexes nor its unique constraints)."""
    from tortoise import Tortoise, connections

    conn = connections.get("default")
    existing = await _index_columns(conn, db.startswith("postgres"))
    declared = set()
    for model in Tortoise.apps["models"].values():
        meta = model._meta
        if meta.abstract:
            continue
        column = meta.fields_db_projection
        for fields in meta.indexes:
            names = tuple(fields) if isinstance(fields, tuple | list) else tuple(fields.fields)
            declared.add((meta.db_table, tuple(column.get(f, f) for f in names), False))
        for fields in meta.unique_together:
            key = tuple(meta.fields_map[f].source_field or column.get(f, f) for f in fields)
            declared.add((meta.db_table, key, True))
    missing = {d for d in declared if d not in existing and (*d[:2], True) not in existing}
    assert missing == set()


async def test_unknown_values_stored_as_empty_text_become_null(db):
    """A database written before unknown values were NULL ("" for them) is migrated: the ""
    become NULL, and going back restores them."""
    from tortoise import connections

    from tests.factories import make_customer, make_provider
    from vdc_graph.db.config import migrate, tortoise_config
    from vdc_graph.db.models import Customer

    customer = await make_customer(await make_provider(), veeam_account_id=None)
    import importlib

    nulls = importlib.import_module("vdc_graph.db.migrations.0010_unknown_values_are_null")
    (before_null,) = (f"{app}.{name}" for app, name in nulls.Migration.dependencies)
    config = tortoise_config(db)
    await migrate(config, target=before_null)
    conn = connections.get("default")
    _, rows = await conn.execute_query(
        "SELECT veeam_account_id, microsoft_tenant_id FROM customer WHERE id = ?"
        if db.startswith("sqlite")
        else "SELECT veeam_account_id, microsoft_tenant_id FROM customer WHERE id = $1",
        [str(customer.id)],
    )
    assert tuple(rows[0]) == ("", "")
    await migrate(config)
    again = await Customer.get(id=customer.id)
    assert (again.veeam_account_id, again.microsoft_tenant_id) == (None, None)


# A value of each column type, for filling rows generically: every UUID column (primary and
# foreign keys alike) holds the same UUID, so each table's one row refers to the others'.
_ONE_UUID = "5f0c3c1e-8f43-4e57-9d7a-2b6f2a7f0c11"
_SQLITE_VALUES = {
    "CHAR(36)": _ONE_UUID,
    "VARCHAR": "x",
    "TEXT": "x",
    "INT": 1,
    "INTEGER": 1,
    "BIGINT": 1,
    "SMALLINT": 1,
    "BOOL": 1,
    "REAL": 1.0,
    "VARCHAR(40)": "1",
    "DECIMAL": "1",
    "TIMESTAMP": "2026-01-01 00:00:00+00:00",
    "DATE": "2026-01-01",
    "TIME": "00:00:00",
    "JSON": "{}",
    "BLOB": b"x",
}


def _sqlite_value(declared: str):
    declared = declared.upper()
    if declared in _SQLITE_VALUES:
        return _SQLITE_VALUES[declared]
    return _SQLITE_VALUES[declared.split("(")[0]]


def _postgres_value(data_type: str):
    import datetime
    import decimal
    import uuid

    now = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    return {
        "uuid": uuid.UUID(_ONE_UUID),
        "character varying": "x",
        "character": "x",
        "text": "x",
        "integer": 1,
        "bigint": 1,
        "smallint": 1,
        "boolean": True,
        "real": 1.0,
        "double precision": 1.0,
        "numeric": decimal.Decimal(1),
        "timestamp with time zone": now,
        "timestamp without time zone": now.replace(tzinfo=None),
        "date": now.date(),
        "time without time zone": now.time(),
        "json": "{}",
        "jsonb": "{}",
        "bytea": b"x",
    }[data_type]


async def _tables_and_required_columns(conn, postgres: bool) -> dict[str, list[tuple[str, object]]]:
    """Each table of the database with its NOT NULL columns and a value for each, read from the
    database's own catalogue."""
    tables: dict[str, list[tuple[str, object]]] = {}
    if postgres:
        _, rows = await conn.execute_query(
            "SELECT table_name, column_name, data_type, is_nullable, column_default "
            "FROM information_schema.columns WHERE table_schema = 'public' "
            "ORDER BY table_name, ordinal_position"
        )
        for table, column, data_type, nullable, default in rows:
            required = tables.setdefault(table, [])
            if nullable == "NO" and not (default or "").startswith("nextval("):
                required.append((column, _postgres_value(data_type)))
        return tables
    _, names = await conn.execute_query(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    )
    for (table,) in names:
        _, columns = await conn.execute_query(f'PRAGMA table_info("{table}")')
        tables[table] = [
            (column["name"], _sqlite_value(column["type"]))
            for column in columns
            if column["notnull"] or column["pk"]
        ]
    return tables


def _added_columns_after(migration: str):
    """(table, column, field) of every column a migration after ``migration`` adds to an
    existing table, from the migration files themselves."""
    import importlib
    import pkgutil

    from tortoise.fields.relational import RelationalField
    from tortoise.migrations import operations as ops

    from vdc_graph.db import migrations, models

    for module in sorted(pkgutil.iter_modules(migrations.__path__), key=lambda m: m.name):
        if module.name <= migration:
            continue
        for operation in importlib.import_module(
            f"{migrations.__name__}.{module.name}"
        ).Migration.operations:
            if isinstance(operation, ops.AddField) and not isinstance(
                operation.field, RelationalField
            ):
                model = getattr(models, operation.model_name)
                yield model, operation.name, operation.field


async def _row_count(conn, table: str) -> int:
    _, rows = await conn.execute_query(f'SELECT COUNT(*) FROM "{table}"')  # noqa: S608
    return next(iter(dict(rows[0]).values()))


async def test_a_database_with_rows_in_every_table_upgrades_from_0004(empty_database_url):
    """A server's database of release 0004, with data in every table, upgrades to the newest
    migration: no row is lost and the columns added meanwhile hold their declared defaults."""
    from tortoise import Tortoise, connections
    from tortoise.backends.base.executor import EXECUTOR_CACHE

    from vdc_graph.db.config import migrate, tortoise_config

    release = "0004_dashboard_and_report_line_indexes"
    postgres = not empty_database_url.startswith("sqlite")
    config = tortoise_config(empty_database_url)
    EXECUTOR_CACHE.clear()
    try:
        await migrate(config, target=f"models.{release}")
        conn = connections.get("default")
        tables = await _tables_and_required_columns(conn, postgres)
        async with conn._in_transaction() as filling:
            # One row per table in any order: foreign keys are checked at commit at the earliest.
            if postgres:
                await filling.execute_script("SET LOCAL session_replication_role = replica")
            else:
                await filling.execute_script("PRAGMA defer_foreign_keys = ON")
            for table, columns in tables.items():
                if await _row_count(filling, table):
                    continue  # the migrations' own bookkeeping
                names = ", ".join(f'"{name}"' for name, _ in columns)
                marks = ", ".join(f"${i}" if postgres else "?" for i in range(1, len(columns) + 1))
                await filling.execute_query(
                    f'INSERT INTO "{table}" ({names}) VALUES ({marks})',  # noqa: S608 (catalogue names)
                    [value for _, value in columns],
                )

        await migrate(config)

        conn = connections.get("default")
        for table in tables:
            assert await _row_count(conn, table) >= 1, f"{table} lost its row"
        added = list(_added_columns_after(release))
        assert added, "no migration after the release adds a column"
        for model, column, field in added:
            table = model._meta.db_table
            _, rows = await conn.execute_query(f'SELECT "{column}" FROM "{table}"')  # noqa: S608
            assert rows, f"{table} lost its row"
            value = next(iter(dict(rows[0]).values()))
            if field.null:
                continue
            assert value is not None, f"{table}.{column} is NULL"
            if field.default is not None and not callable(field.default):
                expected = field.to_db_value(field.default, model)
                assert value == expected, f"{table}.{column}: {value!r} != {expected!r}"
    finally:
        await Tortoise.close_connections()
