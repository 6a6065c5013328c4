"""Throughput of the customers page and the Flex Backups page: ``/graphql`` against the raw
Starlette endpoint answering the same JSON (``bench/raw_app.py``), side by side.

    .venv/bin/python -m bench.pages [--backend sqlite|postgres] [--customers 10000]
        [--rounds 5] [--seconds 10] [--connections 16] [--sweep] [--soak MINUTES]

Each round runs ``wrk -t1 -c16`` against one server, then the other (servers on core 0, wrk on
core 1), alternating which goes first; it prints each round, the medians and the ratio
GraphQL / raw (target: at least 0.5). ``--sweep`` measures the customers page at 1, 2, 4, 8,
16, 32 and 64 connections and draws ``bench/customers-page.png`` (throughput, p50 and p99
latency, GraphQL and raw). ``--soak M`` loads the customers page for M minutes and compares the
server's RSS after 1 minute with its RSS at the end (target: within 10 %).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import httpx

from bench.harness import Database, Load, database, median, server, token, wrk

CUSTOMERS_PAGE = """query CustomersPage {
  customers(first: 20) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    nodes {
      id displayName m365Account externalId contractType licenseModel sourceType
      licensesUsed activationDate storageConsumedGb backedUpAccounts totalActiveAccounts
      userChange
    }
  }
}"""

FLEX_BACKUPS_PAGE = """query FlexBackupsPage {
  backupPolicies(first: 20) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    nodes {
      id name enabled lastRun lastStatus averageProcessingSeconds scheduleIntervalHours
      customer { id displayName }
    }
  }
}"""

PAGES = {
    "customers": (CUSTOMERS_PAGE, "/customers"),
    "flex-backups": (FLEX_BACKUPS_PAGE, "/policies"),
}
SWEEP = (1, 2, 4, 8, 16, 32, 64)
PLOT = Path(__file__).resolve().parent / "customers-page.png"


def check_same_answer(graphql_url: str, raw_url: str, bearer: str) -> None:
    """Both endpoints must answer the same JSON, or the comparison means nothing."""
    headers = {"Authorization": f"Bearer {bearer}"}
    for name, (document, path) in PAGES.items():
        ours = httpx.post(
            graphql_url + "/graphql", json={"query": document}, headers=headers, timeout=120
        )
        theirs = httpx.post(raw_url + path, json={}, headers=headers, timeout=120)
        ours.raise_for_status()
        theirs.raise_for_status()
        body = ours.json()
        body.pop("extensions", None)  # the rate budget report: not part of the page
        if body != theirs.json():
            raise SystemExit(
                f"the {name} answers differ:\n{json.dumps(body)[:800]}\n{theirs.text[:800]}"
            )


def measure(db: Database, rounds: int, seconds: int, connections: int) -> None:
    bearer = token(db)
    results: dict[tuple[str, str], list[Load]] = {}
    with server(db, "graphql") as graphql, server(db, "raw") as raw:
        check_same_answer(graphql.url, raw.url, bearer)
        targets = {"graphql": (graphql, "/graphql"), "raw": (raw, None)}
        for name, (document, raw_path) in PAGES.items():
            for kind in targets:  # warm both up (caches, connections, JIT of SQLite plans)
                target, path = targets[kind]
                wrk(target, path or raw_path, {"query": document}, bearer, seconds=2)
            for round_ in range(rounds):
                order = ["graphql", "raw"] if round_ % 2 == 0 else ["raw", "graphql"]
                for kind in order:
                    target, path = targets[kind]
                    load = wrk(
                        target,
                        path or raw_path,
                        {"query": document},
                        bearer,
                        connections=connections,
                        seconds=seconds,
                    )
                    results.setdefault((name, kind), []).append(load)
                    print(
                        f"{db.backend} {name:<13} round {round_ + 1} {kind:<7} "
                        f"{load.requests_per_second:8.1f} req/s  p50 {load.p50_ms:6.2f} ms  "
                        f"p99 {load.p99_ms:6.2f} ms  cpu {load.cpu_ms_per_request:5.2f} ms/req"
                        + (f"  NON-2XX {load.errors}" if load.errors else ""),
                        flush=True,
                    )
    print(
        f"\n{db.backend}: medians of {rounds} alternating rounds, wrk -t1 -c{connections}, "
        f"{seconds} s each"
    )
    for name in PAGES:
        ours, theirs = results[(name, "graphql")], results[(name, "raw")]
        rps_ours = median([r.requests_per_second for r in ours])
        rps_theirs = median([r.requests_per_second for r in theirs])
        cpu_ours = median([r.cpu_ms_per_request for r in ours])
        cpu_theirs = median([r.cpu_ms_per_request for r in theirs])
        print(
            f"  {name:<13} graphql {rps_ours:7.1f} req/s ({cpu_ours:.2f} ms cpu)"
            f"  raw {rps_theirs:7.1f} req/s ({cpu_theirs:.2f} ms cpu)"
            f"  ratio {rps_ours / rps_theirs:.2f} (target >= 0.5)"
        )


def sweep(db: Database, seconds: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    bearer = token(db)
    curves: dict[str, list[Load]] = {"graphql": [], "raw": []}
    with server(db, "graphql") as graphql, server(db, "raw") as raw:
        check_same_answer(graphql.url, raw.url, bearer)
        targets = {"graphql": (graphql, "/graphql"), "raw": (raw, "/customers")}
        for target, path in targets.values():
            wrk(target, path, {"query": CUSTOMERS_PAGE}, bearer, seconds=2)
        for connections in SWEEP:
            for kind in ("graphql", "raw") if connections % 2 else ("raw", "graphql"):
                target, path = targets[kind]
                load = wrk(
                    target,
                    path,
                    {"query": CUSTOMERS_PAGE},
                    bearer,
                    connections=connections,
                    seconds=seconds,
                )
                curves[kind].append(load)
                print(
                    f"{db.backend} c={connections:<3} {kind:<7} {load.requests_per_second:8.1f} "
                    f"req/s  p50 {load.p50_ms:7.2f} ms  p99 {load.p99_ms:7.2f} ms",
                    flush=True,
                )
    figure, (throughput, latency) = plt.subplots(1, 2, figsize=(12, 4.5))
    for kind, style in (("graphql", "o-"), ("raw", "s--")):
        loads = curves[kind]
        throughput.plot(SWEEP, [x.requests_per_second for x in loads], style, label=kind)
        latency.plot(SWEEP, [x.p50_ms for x in loads], style, label=f"{kind} p50")
        latency.plot(SWEEP, [x.p99_ms for x in loads], style, alpha=0.5, label=f"{kind} p99")
    for axis in (throughput, latency):
        axis.set_xscale("log", base=2)
        axis.set_xticks(SWEEP, [str(c) for c in SWEEP])
        axis.set_xlabel("connections (wrk -t1)")
        axis.grid(True, alpha=0.3)
        axis.legend()
    throughput.set_ylabel("requests / s")
    latency.set_ylabel("latency (ms)")
    latency.set_yscale("log")
    figure.suptitle(
        f"Customers page (first: 20, {db.backend}): /graphql vs raw Starlette, server on one core"
    )
    figure.tight_layout()
    figure.savefig(PLOT, dpi=110)
    print(f"plot written to {PLOT}")


def soak(db: Database, minutes: float) -> None:
    bearer = token(db)
    with server(db, "graphql") as graphql:
        started = time.monotonic()
        wrk(graphql, "/graphql", {"query": CUSTOMERS_PAGE}, bearer, seconds=60)
        after_one = graphql.rss_mb()
        remaining = max(0.0, minutes * 60 - (time.monotonic() - started))
        while remaining > 0:
            step = int(min(60, max(1, remaining)))
            wrk(graphql, "/graphql", {"query": CUSTOMERS_PAGE}, bearer, seconds=step)
            remaining = minutes * 60 - (time.monotonic() - started)
        at_end = graphql.rss_mb()
    growth = (at_end - after_one) / after_one
    print(
        f"{db.backend}: RSS after 1 min {after_one:.1f} MB, after {minutes:g} min {at_end:.1f} MB "
        f"({growth:+.1%}, target within 10 %)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--customers", type=int, default=10000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--sweep", action="store_true", help="draw bench/customers-page.png")
    parser.add_argument("--soak", type=float, metavar="MINUTES", help="RSS growth under load")
    args = parser.parse_args()
    db = database(args.backend, args.customers)
    if args.soak:
        soak(db, args.soak)
    elif args.sweep:
        sweep(db, args.seconds)
    else:
        measure(db, args.rounds, args.seconds, args.connections)


if __name__ == "__main__":
    main()
