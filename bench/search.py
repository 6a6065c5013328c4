"""Search through the index: the customers page with ``filter: {search}`` against the plain
page, at 10,000 and at 100,000 customers, each size in a database of its own.

    .venv/bin/python -m bench.search [--backend sqlite|postgres] [--sizes 10000,100000]

Each database holds one provider and its customers, named like the demo's (Microsoft's
fictitious companies, numbered), built once in ``bench/.data/search-N.db`` (or the PostgreSQL
database ``vdc_bench_search_N``) through the ORM, so the database's own index maintenance
writes the search index. Two terms: a common one (``contoso``, about one customer in 36) and a
rare one (one customer). Times are medians of alternating requests to the real server.
"""

from __future__ import annotations

import argparse
import asyncio

from bench.harness import DATA, Database, create_admin, postgres_url, server, token
from bench.queries import CUSTOMERS, Client, alternating, report

ADMIN = "admin@search.example"


def _database(backend: str, customers: int) -> Database:
    DATA.mkdir(parents=True, exist_ok=True)
    if backend == "sqlite":
        url = f"sqlite://{DATA / f'search-{customers}.db'}"
    else:
        url = postgres_url(f"vdc_bench_search_{customers}")
    db = Database(backend, url, DATA / "state")
    asyncio.run(_fill(db, customers))
    return db


async def _fill(db: Database, customers: int) -> None:
    from tortoise import Tortoise

    from vdc_graph.db.config import migrate, tortoise_config
    from vdc_graph.db.models import Customer
    from vdc_graph.demo.names import CLASSIC_COMPANIES
    from vdc_graph.enums import ContractType, SourceType

    config = tortoise_config(db.url)
    await migrate(config)
    await Tortoise.init(config=config)
    try:
        if await Customer.all().count() >= customers:
            return
        provider = await create_admin("Search", "PRA-1", ADMIN)
        batch = []
        for n in range(customers):
            company = CLASSIC_COMPANIES[n % len(CLASSIC_COMPANIES)]
            batch.append(
                Customer(
                    provider=provider,
                    display_name=f"{company} {n:06d}",
                    m365_account=f"{company.split()[0].lower()}{n}.onmicrosoft.com",
                    external_id=f"EXT-{n:06d}",
                    veeam_account_id=f"VAC-{n:06d}",
                    contract_type=ContractType.ANNUAL,
                    source_type=SourceType.VCSP_PULSE,
                )
            )
            if len(batch) == 1000:
                await Customer.bulk_create(batch)
                batch = []
        if batch:
            await Customer.bulk_create(batch)
        await Tortoise.get_connection("default").execute_script("ANALYZE")
    finally:
        await Tortoise.close_connections()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    searched: dict[tuple[str, int], float] = {}
    for size in sizes:
        db = _database(args.backend, size)
        bearer = token(db, ADMIN)
        print(f"{db.backend}, {size} customers")
        rare = f"VAC-{size // 2:06d}"
        with server(db, "graphql") as running:
            client = Client(running.url, bearer)
            for name, term in (("common", "contoso"), ("rare", rare)):
                matches = client.post(CUSTOMERS, {"first": 1, "search": term})["customers"]
                plain, search = alternating(
                    client,
                    (CUSTOMERS, {"first": 20}),
                    (CUSTOMERS, {"first": 20, "search": term}),
                    args.repeat,
                )
                searched[(name, size)] = search
                report(
                    f"{name} search ({matches['totalCount']} found) / plain page "
                    f"({search * 1000:.1f} / {plain * 1000:.1f} ms)",
                    search / plain,
                    "<= 2",
                )
    if len(sizes) >= 2:
        small, large = sizes[0], sizes[-1]
        for name in ("common", "rare"):
            report(
                f"{name} search at {large} / at {small} customers (rows x{large / small:.0f})",
                searched[(name, large)] / searched[(name, small)],
                f"< {large / small:.0f} (sub-linear)",
            )


if __name__ == "__main__":
    main()
