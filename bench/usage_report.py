"""Benchmark: building a month's usage report, and the daily licence refresh, at scale.

Run from the project root:

    .venv/bin/python bench/usage_report.py [CUSTOMERS] [USERS_PER_CUSTOMER]
                                                # default 10000 customers x 100 users

One provider gets CUSTOMERS onboarded customers with USERS_PER_CUSTOMER licensed users each
(10,000 x 100 = 1,000,000 licensed users): the month's figure of every customer
(``licensed_users_month``), plus a month of software usage; with ``VDC_BENCH_USER_ROWS=1``
also the 1,000,000 licensed-user rows themselves (slow to insert; the report does not read
them, the daily refresh does). Then it times, and counts the SQL statements of,

- ``generate_report`` (the server's job building last month's report), at a tenth of the
  customers and at all of them, so the statement count can be compared (it must not grow);
- the report's totals as ``usageReport { totals }`` reads them;
- ``refresh_customers`` (the daily licence job: releases, expiries, figures, month figures).

A fresh temporary SQLite database is used; with ``VDC_TEST_POSTGRES_URL`` set, a temporary
PostgreSQL database next to that one as well (created and dropped here). Figures are noisy on
a shared machine: compare the two sizes of one run, not runs with each other.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from tortoise import Tortoise

sys.path.insert(0, str(Path(__file__).resolve().parent))
from seed_demo import in_temporary_postgres

from vdc_graph import clock
from vdc_graph.db.config import migrate, tortoise_config
from vdc_graph.db.models import (
    Customer,
    LicensedUser,
    LicensedUsersMonth,
    ServiceProvider,
    SoftwareUsage,
    UsageReport,
)
from vdc_graph.db.queries.usage import (
    saas_points_by_report,
    software_points_by_report,
)
from vdc_graph.enums import ContractType, ProtectionStatus, SoftwareWorkload
from vdc_graph.licensing import refresh_customers
from vdc_graph.usage_reports import generate_report

MONTH = date(2026, 3, 1)
NOW = datetime(2026, 4, 2, 3, 0, tzinfo=UTC)  # the job builds March's report on 2 April
BATCH = 2000
# The report reads the month's figures only; the licensed-user rows (for the daily refresh)
# take long to insert, so they are written only with VDC_BENCH_USER_ROWS=1.
WITH_USER_ROWS = os.environ.get("VDC_BENCH_USER_ROWS") == "1"


class StatementCounter(logging.Handler):
    """Counts the statements Tortoise sends (it logs each one at DEBUG)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


async def measure(what):  # type: ignore[no-untyped-def]
    logger = logging.getLogger("tortoise.db_client")
    counter = StatementCounter()
    logger.addHandler(counter)
    logger.setLevel(logging.DEBUG)
    started = time.perf_counter()
    try:
        result = await what()
    finally:
        logger.removeHandler(counter)
        logger.setLevel(logging.WARNING)
    return time.perf_counter() - started, counter.count, result


async def seed(customers: int, users: int) -> tuple[uuid.UUID, uuid.UUID]:
    """Two providers: a small one (a tenth of the customers) and the large one."""
    ids = []
    for name, count in (("Small", max(1, customers // 10)), ("Large", customers)):
        provider = await ServiceProvider.create(
            display_name=name, pro_partner_id=f"PRA-{name}", minimum_commit_points=5000
        )
        ids.append(provider.id)
        for start in range(0, count, BATCH):
            batch = [
                Customer(
                    id=uuid.uuid4(),
                    provider=provider,
                    display_name=f"{name} customer {n:06d}",
                    external_id=f"{name}-{n}",
                    veeam_account_id=f"VAC-{n:08d}",
                    contract_type=ContractType.ANNUAL,
                    activation_date=NOW - timedelta(days=400),
                )
                for n in range(start, min(count, start + BATCH))
            ]
            await Customer.bulk_create(batch)
            await LicensedUsersMonth.bulk_create(
                [
                    LicensedUsersMonth(
                        provider=provider, customer_id=c.id, month=MONTH, licensed_users=users
                    )
                    for c in batch
                ]
            )
            if name == "Large" and WITH_USER_ROWS:
                rows = [
                    LicensedUser(
                        customer_id=c.id,
                        display_name=f"User {i}",
                        email=f"user{i}@{c.external_id}.example",
                        protection_status=ProtectionStatus.PROTECTED,
                        last_backup_at=NOW - timedelta(days=1),
                    )
                    for c in batch
                    for i in range(users)
                ]
                await LicensedUser.bulk_create(rows, batch_size=5000)
            print(f"  {name}: {min(count, start + BATCH)}/{count} customers", file=sys.stderr)
        await SoftwareUsage.bulk_create(
            [
                SoftwareUsage(provider=provider, month=MONTH, workload=w, units=10 + i)
                for i, w in enumerate(SoftwareWorkload)
            ]
        )
    return ids[0], ids[1]


async def run(backend: str, url: str, customers: int, users: int) -> None:
    from tortoise.backends.base.executor import EXECUTOR_CACHE

    EXECUTOR_CACHE.clear()
    await migrate(tortoise_config(url))
    await Tortoise.close_connections()
    await Tortoise.init(config=tortoise_config(url))
    clock.set_clock(lambda: NOW)
    try:
        print(f"seeding {backend}…", file=sys.stderr)
        small, large = await seed(customers, users)
        print(f"\n{backend}: {customers} customers x {users} users = {customers * users:,}")
        print(f"{'what':<44} {'seconds':>8} {'statements':>10}")
        for label, provider_id, count in (
            ("generate_report", small, max(1, customers // 10)),
            ("generate_report", large, customers),
        ):
            seconds, statements, report = await measure(
                lambda p=provider_id: generate_report(p, MONTH)
            )
            print(f"{label + f' ({count} customers)':<44} {seconds:>8.2f} {statements:>10}")
            seconds, statements, totals = await measure(lambda r=report: _totals(r))
            print(
                f"{f'  usageReport totals ({count} customers)':<44} {seconds:>8.2f} "
                f"{statements:>10}   saas {totals[1]} points"
            )
        seconds, statements, refreshed = await measure(lambda: refresh_customers(1))
        print(
            f"{f'refresh_customers ({refreshed} customers)':<44} {seconds:>8.2f} {statements:>10}"
        )
        reports = await UsageReport.all().count()
        assert reports == 2
    finally:
        clock.set_clock(None)
        await Tortoise.close_connections()


async def _totals(report: UsageReport) -> tuple[object, object]:
    software = await software_points_by_report([report.id])
    saas = await saas_points_by_report([report.id])
    return software[0], saas[0]


async def main(customers: int, users: int) -> None:
    with tempfile.TemporaryDirectory(prefix="vdc-bench-") as tmp:
        await run("sqlite", f"sqlite://{Path(tmp) / 'bench.db'}", customers, users)
    postgres_url = os.environ.get("VDC_TEST_POSTGRES_URL")
    if postgres_url:
        await in_temporary_postgres(
            postgres_url, "vdc_bench_report", lambda url: run("postgres", url, customers, users)
        )
    else:
        print("(PostgreSQL skipped: VDC_TEST_POSTGRES_URL is not set)", file=sys.stderr)


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    asyncio.run(main(*(args + [10000, 100][len(args) :])))
