"""Per-request costs that do not need a load generator, each printed against its target:

- SQL statements per page (customers, Flex Backups) for 5, 20 and 100 rows, counted at the
  driver (every statement the database client sends), after one warm-up request;
- deep pages: page 500 against page 1 of ``customers`` and ``backupSessions`` (reached by
  walking the cursors, 20 a page), and a session's log read at record 90,000 of 100,000 against
  its start (the bench writes that log once);
- search: ``customers(filter: {search})`` against the plain page;
- large lists: 100 sessions x 15 fields end to end against graphql-core alone executing the same
  selection over the same rows already loaded.

    .venv/bin/python -m bench.queries [--backend sqlite|postgres] [--customers 10000]

It drives the real server (one uvicorn process on core 0) over HTTP for the timings and runs
the application in process for the statement counts. Times are medians of alternating
requests (``--repeat``, default 30).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta

import httpx

from bench.harness import Database, database, server, token
from bench.pages import CUSTOMERS_PAGE, FLEX_BACKUPS_PAGE

LOG_RECORDS = 100_000

CUSTOMERS = """query($first: Int, $after: String, $search: String) {
  customers(first: $first, after: $after, filter: {search: $search}) {
    totalCount pageInfo { hasNextPage hasPreviousPage endCursor }
    nodes { id displayName m365Account externalId contractType licensesUsed activationDate } } }"""
SESSIONS = """query($first: Int, $after: String) {
  backupSessions(first: $first, after: $after) {
    pageInfo { hasNextPage hasPreviousPage endCursor }
    nodes { id policyName status startedAt endedAt progress processedObjects transferredBytes
            transferredItems trigger retryCount createdAt startedBy } } }"""
SESSION_FIELDS = (
    "id policyName status startedAt endedAt progress processedObjects transferredBytes "
    "transferredItems trigger retryCount createdAt startedBy"
)
LARGE_LIST = (
    "query { backupSessions(first: 100) { nodes { "
    + SESSION_FIELDS
    + " customer { displayName } policy { name } } } }"
)
LOGS = """query($id: ID!, $after: String) { backupSession(id: $id) {
  logs(first: 20, after: $after) { pageInfo { hasNextPage hasPreviousPage endCursor }
    nodes { sequence at status message } } } }"""


class Client:
    def __init__(self, url: str, bearer: str) -> None:
        self.http = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {bearer}"})

    def post(self, query: str, variables: dict | None = None) -> dict:
        response = self.http.post("/graphql", json={"query": query, "variables": variables or {}})
        body = response.json()
        if response.status_code != 200 or body.get("errors"):
            raise SystemExit(f"request failed: {response.status_code} {str(body)[:500]}")
        return body["data"]

    def seconds(self, query: str, variables: dict | None = None) -> float:
        started = time.perf_counter()
        self.post(query, variables)
        return time.perf_counter() - started


def alternating(client: Client, a: tuple[str, dict], b: tuple[str, dict], repeat: int):
    """Median seconds of ``a`` and of ``b``, requested in turn."""
    times_a, times_b = [], []
    for _ in range(3):
        client.post(*a)
        client.post(*b)
    for i in range(repeat):
        first, second = (a, b) if i % 2 == 0 else (b, a)
        t1, t2 = client.seconds(*first), client.seconds(*second)
        if first is a:
            times_a.append(t1)
            times_b.append(t2)
        else:
            times_a.append(t2)
            times_b.append(t1)
    return statistics.median(times_a), statistics.median(times_b)


def cursor_of_page(client: Client, query: str, root: str, page: int) -> str:
    after = None
    for _ in range(page - 1):
        data = client.post(query, {"first": 20, "after": after})[root]
        after = data["pageInfo"]["endCursor"]
        assert data["pageInfo"]["hasNextPage"], f"{root} has fewer than {page} pages"
    assert after is not None
    return after


def report(label: str, value: float, target: str) -> None:
    print(f"  {label:<58} {value:8.2f}  (target {target})", flush=True)


async def long_log(db: Database) -> tuple[str, int, str]:
    """A session whose log holds LOG_RECORDS records (written once): its ID, and the seq and
    ID of record 90,000, for the cursor a client walking there would hold."""
    from tortoise import Tortoise, connections

    from vdc_graph.db.config import tortoise_config
    from vdc_graph.db.models import BackupSession, SessionLogRecord
    from vdc_graph.enums import LogStatus

    await Tortoise.init(config=tortoise_config(db.url))
    try:
        session = (
            await BackupSession.filter(policy_name="bench: long log").first()
            or await BackupSession.all().order_by("created_at").first()
        )
        assert session is not None
        if session.policy_name != "bench: long log":
            session.policy_name = "bench: long log"
            await session.save(update_fields=["policy_name"])
        have = await SessionLogRecord.filter(session_id=session.id).count()
        if have < LOG_RECORDS:
            await SessionLogRecord.filter(session_id=session.id).delete()
            start = datetime(2025, 1, 1, tzinfo=UTC)
            batch = []
            for seq in range(1, LOG_RECORDS + 1):
                batch.append(
                    SessionLogRecord(
                        id=uuid.uuid4(),
                        session_id=session.id,
                        seq=seq,
                        at=start + timedelta(milliseconds=seq),
                        status=LogStatus.INFO,
                        message=f"Processing object {seq}",
                    )
                )
                if len(batch) == 5000:
                    await SessionLogRecord.bulk_create(batch)
                    batch = []
            if batch:
                await SessionLogRecord.bulk_create(batch)
            await BackupSession.filter(id=session.id).update(last_seq=LOG_RECORDS)
        record = await SessionLogRecord.get(session_id=session.id, seq=90_000)
        del connections
        return str(session.id), record.seq, str(record.id)
    finally:
        await Tortoise.close_connections()


async def count_statements(db: Database, bearer: str) -> dict[tuple[str, int], int]:
    """Statements each page sends, counted at the database client, in process."""
    from tortoise import Tortoise

    from vdc_graph.app import create_app
    from vdc_graph.db.config import tortoise_config
    from vdc_graph.settings import Settings

    settings = Settings(
        database_url=db.url, state_dir=db.state_dir, rate_limit_points_per_hour=10**9
    )
    await Tortoise.init(config=tortoise_config(db.url))
    counted: list[str] = []

    class Count(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            counted.append(record.getMessage())

    logger = logging.getLogger("tortoise.db_client")
    logger.addHandler(Count())
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    found: dict[tuple[str, int], int] = {}
    try:
        app = create_app(settings, manage_database=False)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport,
            base_url="http://bench",
            headers={"Authorization": f"Bearer {bearer}"},
        ) as client:
            for name, document in (
                ("customers", CUSTOMERS_PAGE),
                ("flex-backups", FLEX_BACKUPS_PAGE),
            ):
                for size in (5, 20, 100):
                    query = document.replace("first: 20", f"first: {size}")
                    await client.post("/graphql", json={"query": query})  # warm-up
                    counted.clear()
                    response = await client.post("/graphql", json={"query": query})
                    assert response.status_code == 200 and "errors" not in response.json()
                    found[(name, size)] = len(counted)
    finally:
        await Tortoise.close_connections()
    return found


def graphql_core_alone(rows: list[dict], repeat: int) -> float:
    """Seconds graphql-core takes to execute the large list's selection over loaded rows."""
    from graphql import build_schema, execute, parse

    schema = build_schema(
        """type Query { backupSessions: Conn }
        type Conn { nodes: [S!]! }
        type N { displayName: String name: String }
        type S { id: ID! policyName: String! status: String! startedAt: String endedAt: String
          progress: Int! processedObjects: Int! transferredBytes: String!
          transferredItems: String! trigger: String! retryCount: Int! createdAt: String!
          startedBy: String! customer: N policy: N }"""
    )
    document = parse(LARGE_LIST)
    root = {"backupSessions": {"nodes": rows}}
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = execute(schema, document, root_value=root)
        times.append(time.perf_counter() - started)
        assert not result.errors, result.errors
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--customers", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    db = database(args.backend, args.customers)
    bearer = token(db)
    print(f"{db.backend}, {args.customers} customers")

    statements = asyncio.run(count_statements(db, bearer))
    for name in ("customers", "flex-backups"):
        counts = [statements[(name, n)] for n in (5, 20, 100)]
        print(f"  SQL statements per {name} page for 5/20/100 rows: {counts} (target: constant)")

    session_id, seq, record_id = asyncio.run(long_log(db))
    from strawberry import relay

    from vdc_graph.db.pagination import SortKey, encode_cursor

    class _Row:
        def __init__(self, seq: int, pk: str) -> None:
            self.seq, self.pk = seq, pk

    deep_log_cursor = encode_cursor(SortKey("SEQUENCE", "seq"), _Row(seq, record_id))  # type: ignore[arg-type]
    session_gid = str(relay.GlobalID("BackupSession", session_id))

    with server(db, "graphql") as running:
        client = Client(running.url, bearer)
        for root, query in (("customers", CUSTOMERS), ("backupSessions", SESSIONS)):
            deep = cursor_of_page(client, query, root, 500)
            first, last = alternating(
                client, (query, {"first": 20}), (query, {"first": 20, "after": deep}), args.repeat
            )
            report(
                f"{root}: page 500 / page 1 ({last * 1000:.1f} / {first * 1000:.1f} ms)",
                last / first,
                "<= 1.2",
            )
        start, deep = alternating(
            client,
            (LOGS, {"id": session_gid}),
            (LOGS, {"id": session_gid, "after": deep_log_cursor}),
            args.repeat,
        )
        report(
            f"log at record 90,000 / start ({deep * 1000:.1f} / {start * 1000:.1f} ms)",
            deep / start,
            "<= 1.2",
        )
        plain, search = alternating(
            client,
            (CUSTOMERS, {"first": 20}),
            (CUSTOMERS, {"first": 20, "search": "contoso"}),
            args.repeat,
        )
        report(
            f"search page / plain page ({search * 1000:.1f} / {plain * 1000:.1f} ms)",
            search / plain,
            "<= 2",
        )
        data = client.post(LARGE_LIST)["backupSessions"]["nodes"]
        assert len(data) == 100
        end_to_end = statistics.median(client.seconds(LARGE_LIST) for _ in range(args.repeat))
    alone = graphql_core_alone(data, args.repeat)
    values = 100 * 15
    report(
        f"100 sessions x 15 fields: end to end / graphql-core alone "
        f"({end_to_end * 1e6 / values:.1f} / {alone * 1e6 / values:.1f} us a value)",
        end_to_end / alone,
        "<= 1.5",
    )


if __name__ == "__main__":
    main()
