"""An index for the customer list's free-text search, kept in step by the database.

SQLite: an FTS5 table with the trigram tokenizer over the searched columns, its rows keyed by
the customer's rowid and written by triggers (FTS5's "external content" pattern). A later
migration that rebuilds the customer table (new rowids) must end with
``INSERT INTO customer_search(customer_search) VALUES ('rebuild')``.

PostgreSQL: a pg_trgm GIN index on the searched columns joined into one lowered text (a
separator no stored value holds keeps a match inside one column); the query's expression in
``vdc_graph/db/queries/customer_search.py`` is the same, so the planner uses the index.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops

COLUMNS = (
    "display_name",
    "m365_account",
    "external_id",
    "veeam_account_id",
    "flex_subscription_id",
    "express_subscription_id",
    "premium_subscription_id",
)

_listed = ", ".join(COLUMNS)
_new = ", ".join(f"new.{c}" for c in COLUMNS)
_old = ", ".join(f"old.{c}" for c in COLUMNS)

SQLITE = (
    f"CREATE VIRTUAL TABLE customer_search USING fts5({_listed}, content='customer', "
    "tokenize='trigram')",
    "CREATE TRIGGER customer_search_insert AFTER INSERT ON customer BEGIN "
    f"INSERT INTO customer_search(rowid, {_listed}) VALUES (new.rowid, {_new}); END",
    "CREATE TRIGGER customer_search_delete AFTER DELETE ON customer BEGIN "
    f"INSERT INTO customer_search(customer_search, rowid, {_listed}) "
    f"VALUES ('delete', old.rowid, {_old}); END",
    f"CREATE TRIGGER customer_search_update AFTER UPDATE OF {_listed} ON customer BEGIN "
    f"INSERT INTO customer_search(customer_search, rowid, {_listed}) "
    f"VALUES ('delete', old.rowid, {_old}); "
    f"INSERT INTO customer_search(rowid, {_listed}) VALUES (new.rowid, {_new}); END",
    "INSERT INTO customer_search(customer_search) VALUES ('rebuild')",
)
SQLITE_DROP = (
    "DROP TRIGGER customer_search_update",
    "DROP TRIGGER customer_search_delete",
    "DROP TRIGGER customer_search_insert",
    "DROP TABLE customer_search",
)

_joined = " || E'\\x01' || ".join(f"coalesce({c}, '')" for c in COLUMNS)
POSTGRES = (
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    # fastupdate off: no pending list that searches would scan (and the planner would shun)
    # until the next vacuum; customers are written far less often than they are searched.
    f"CREATE INDEX customer_search_trgm ON customer USING gin ((lower({_joined})) gin_trgm_ops) "
    "WITH (fastupdate = off) WHERE deleted_at IS NULL",
)
POSTGRES_DROP = ("DROP INDEX customer_search_trgm",)


async def create_index(apps, schema_editor) -> None:
    client = schema_editor.client
    postgres = client.capabilities.dialect == "postgres"
    for statement in POSTGRES if postgres else SQLITE:
        await client.execute_script(statement)


async def drop_index(apps, schema_editor) -> None:
    client = schema_editor.client
    postgres = client.capabilities.dialect == "postgres"
    for statement in POSTGRES_DROP if postgres else SQLITE_DROP:
        await client.execute_script(statement)


class Migration(migrations.Migration):
    dependencies = [('models', '0013_customer_lifecycle')]

    initial = False

    operations = [
        ops.RunPython(create_index, drop_index),
    ]
