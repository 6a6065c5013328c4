"""The indexes and unique constraints that SQLite lost when 0006 and 0010 rebuilt the
``restore``, ``customer`` and ``service_status`` tables (SQLite alters a column by copying the table, and the copy
kept neither). PostgreSQL altered the columns in place and has them: there each statement is
a no-op (the names are the ones the first migrations gave them).
"""

from tortoise import migrations
from tortoise.migrations import operations as ops

_CUSTOMER_ORDERS = {
    "0aed01": "display_name",
    "0c4cf7": "m365_account",
    "547ff4": "external_id",
    "aa29d1": "contract_type",
    "656403": "source_type",
    "995fd1": "licenses_used",
    "cf8734": "activation_date",
    "1f75f5": "storage_consumed_gb",
    "4963b4": "created_at",
    "97cbc1": "license_model",
    "df60a2": "backed_up_accounts",
    "b4de00": "total_active_accounts",
    "a19a25": "user_change",
}

_INDEXES = [
    (f"idx_customer_provide_{suffix}", "customer", ("provider_id", "deleted_at", column, "id"))
    for suffix, column in _CUSTOMER_ORDERS.items()
] + [
    ("idx_restore_provide_f03975", "restore", ("provider_id", "requested_at", "id")),
    ("idx_restore_custome_ba2da9", "restore", ("customer_id", "requested_at", "id")),
]


def _columns(columns: tuple[str, ...]) -> str:
    return ", ".join(f'"{c}"' for c in columns)


class Migration(migrations.Migration):
    dependencies = [('models', '0014_customer_search_index')]

    initial = False

    operations = [
        ops.RunSQL(
            [
                f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ({_columns(columns)})'
                for name, table, columns in _INDEXES
            ]
            # The unique constraints, as indexes of the same names: a customer's external ID
            # within its provider (registering it again finds the customer), one status per
            # service and region.
            + [
                'CREATE UNIQUE INDEX IF NOT EXISTS "uid_customer_provide_715c2a" '
                'ON "customer" ("provider_id", "external_id")',
                'CREATE UNIQUE INDEX IF NOT EXISTS "uid_service_sta_service_dbf5bc" '
                'ON "service_status" ("service", "region")',
            ],
            # Going back leaves them: the tables had them before the rebuilds.
            reverse_sql=[],
        ),
    ]
