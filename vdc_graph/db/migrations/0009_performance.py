"""Indexes that let counts read one index, and a counter the database bumps whenever what
authentication reads changes.

Every process caches the callers it has authenticated and trusts the cache only while the
counter is the one it saw: a user, a role, a role assignment or an API key changed by any
process (the API, the command line, another server) commits its bump with the change, so the
very next request is authenticated afresh.
"""

from tortoise import migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

# (table, events): API keys' last use is written by authentication itself and is not a change.
WATCHED = (
    ("portal_user", "UPDATE OR DELETE"),
    ("role", "UPDATE OR DELETE"),
    ("portal_user_role", "INSERT OR DELETE"),
    (
        "api_key",
        "UPDATE OF name, prefix, secret_hash, permissions, read_only, limited_to_customers, "
        "expires_at, revoked_at, created_by_id, provider_id OR DELETE",
    ),
    ("api_key_customer", "INSERT OR DELETE"),
)
BUMP = "UPDATE auth_generation SET value = value + 1 WHERE id = 1"


def _sqlite_statements() -> list[str]:
    statements = []
    for table, events in WATCHED:
        for event in events.split(" OR "):
            name = f"auth_changed_{table}_{event.split()[0].lower()}"
            statements.append(f"CREATE TRIGGER {name} AFTER {event} ON {table} BEGIN {BUMP}; END")
    return statements


def _postgres_statements() -> list[str]:
    statements = [
        "CREATE FUNCTION bump_auth_generation() RETURNS trigger LANGUAGE plpgsql AS "
        f"$$ BEGIN {BUMP}; RETURN NULL; END $$"
    ]
    for table, events in WATCHED:
        statements.append(
            f"CREATE TRIGGER auth_changed_{table} AFTER {events} ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION bump_auth_generation()"
        )
    return statements


async def create_counter(apps, schema_editor) -> None:
    client = schema_editor.client
    await client.execute_script(
        "CREATE TABLE auth_generation (id INT NOT NULL PRIMARY KEY, value BIGINT NOT NULL)"
    )
    await client.execute_script("INSERT INTO auth_generation (id, value) VALUES (1, 0)")
    postgres = client.capabilities.dialect == "postgres"
    for statement in _postgres_statements() if postgres else _sqlite_statements():
        await client.execute_script(statement)


async def drop_counter(apps, schema_editor) -> None:
    client = schema_editor.client
    if client.capabilities.dialect == "postgres":
        for table, _ in WATCHED:
            await client.execute_script(f"DROP TRIGGER auth_changed_{table} ON {table}")
        await client.execute_script("DROP FUNCTION bump_auth_generation()")
    else:
        for statement in _sqlite_statements():
            name = statement.split()[2]
            await client.execute_script(f"DROP TRIGGER {name}")
    await client.execute_script("DROP TABLE auth_generation")


class Migration(migrations.Migration):
    dependencies = [('models', '0008_process_ownership')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name="BackupPolicy",
            index=Index(fields=["provider_id", "customer_id"]),
        ),
        ops.AddIndex(
            model_name="BackupSession",
            index=Index(fields=["provider_id", "customer_id"]),
        ),
        ops.AddIndex(
            model_name="Restore",
            index=Index(fields=["provider_id", "customer_id"]),
        ),
        ops.RunPython(create_counter, drop_counter),
    ]
