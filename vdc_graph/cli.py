"""The command line: ``vdc-graph`` (also ``python -m vdc_graph``)."""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from tortoise import Tortoise, connections
from tortoise.expressions import Q

from vdc_graph.cli_errors import CommandError, check_sqlite_folder, explain
from vdc_graph.settings import Settings, describe_errors, get_settings

DEFAULT_PORT = 8000
_DURATION = re.compile(r"^\s*(\d+)\s*([smhd]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> timedelta:
    """``90``, ``90s``, ``30m``, ``8h`` or ``7d``."""
    match = _DURATION.match(text)
    if not match or int(match.group(1)) <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration such as 30m, 8h or 7d")
    return timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])


@asynccontextmanager
async def database(settings: Settings) -> AsyncIterator[None]:
    """The migrated database (an unmigrated one is refused, naming `migrate`)."""
    from vdc_graph.db.config import DatabaseNotMigrated, pending_migrations, tortoise_config

    check_sqlite_folder(settings.database_url)
    await Tortoise.init(
        config=tortoise_config(
            settings.database_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms
        )
    )
    try:
        # Connect first: the migration plan alone takes an unreachable database for an empty one.
        await connections.get("default").execute_query("SELECT 1")
        pending = await pending_migrations()
        if pending:
            raise DatabaseNotMigrated(pending)
        yield
    finally:
        await Tortoise.close_connections()


async def _check_database(settings: Settings) -> None:
    async with database(settings):
        pass


async def _migrate(settings: Settings) -> list[str]:
    from vdc_graph.db.config import migrate, pending_migrations, tortoise_config

    check_sqlite_folder(settings.database_url)
    config = tortoise_config(settings.database_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms)
    await Tortoise.init(config=config)
    try:
        pending = await pending_migrations()
    finally:
        await Tortoise.close_connections()
    if pending:
        await migrate(config)
        await Tortoise.close_connections()
    return pending


async def _make_migrations() -> list[str]:
    from vdc_graph.db.config import make_migrations, migrate, tortoise_config

    # The models are compared with what the migrations build, on a scratch database.
    with tempfile.TemporaryDirectory() as scratch:
        config = tortoise_config(f"sqlite://{scratch}/scratch.db")
        await migrate(config)
        await Tortoise.close_connections()
        await Tortoise.init(config=config)
        try:
            return await make_migrations()
        finally:
            await Tortoise.close_connections()


def cmd_makemigrations(settings: Settings, args: argparse.Namespace) -> int:
    written = asyncio.run(_make_migrations())
    print(
        "\n".join(f"wrote {path}" for path in written)
        if written
        else "the migrations already match the models"
    )
    return 0


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    applied = asyncio.run(_migrate(settings))
    print(
        f"applied {len(applied)} migration(s): {', '.join(applied)}"
        if applied
        else "the database is up to date"
    )
    return 0


async def _seed(settings: Settings, customers: int, seed: int) -> str:
    from vdc_graph.demo import seed_demo

    async with database(settings):
        summary = await seed_demo(customers=customers, seed=seed, progress=True)
    if not summary.created:
        return "demo data already present; nothing written"
    return (
        f"seeded {summary.providers} providers, {summary.users} users, "
        f"{summary.customers} customers, {summary.policies} policies, "
        f"{summary.sessions} sessions, {summary.log_records} log records, "
        f"{summary.licensed_users} licensed users"
    )


def cmd_seed(settings: Settings, args: argparse.Namespace) -> int:
    asyncio.run(_migrate(settings))
    print(asyncio.run(_seed(settings, args.customers, args.seed)))
    return 0


async def _token(
    settings: Settings, email: str, expires: timedelta | None, provider: str | None
) -> str:
    from vdc_graph.auth import mint_development_token
    from vdc_graph.db.models import PortalUser

    async with database(settings):
        query = PortalUser.filter(email_key=email.strip().lower())
        if provider:
            query = query.filter(provider__display_name=provider)
        users = await query
    if not users:
        raise SystemExit(
            f"no user with the email {email}" + (f" in {provider}" if provider else "")
        )
    if len(users) > 1:
        raise SystemExit(f"{email} is a user of several providers; pass --provider NAME")
    user = users[0]
    return mint_development_token(
        settings, user_id=user.id, provider_id=user.provider_id, expires_in=expires
    )


def cmd_token(settings: Settings, args: argparse.Namespace) -> int:
    if settings.development_secret() is None:
        print("development tokens need VDC_DEV_TOKEN_SECRET (or development mode)", file=sys.stderr)
        return 2
    print(asyncio.run(_token(settings, args.email, args.expires, args.provider)))
    return 0


async def _provider_principal(provider: str | None, permission: str = "CUSTOMER_MANAGEMENT") -> Any:
    """The principal the command line acts as: the provider's customer management (or the
    ``permission`` named)."""
    from vdc_graph.auth import Principal
    from vdc_graph.db.models import ServiceProvider
    from vdc_graph.enums import Permission

    query = ServiceProvider.all()
    if provider:
        query = query.filter(Q(display_name=provider) | Q(pro_partner_id=provider))
    found = await query.limit(2)
    if not found:
        raise SystemExit(f"no provider {provider}" if provider else "no provider exists yet")
    if len(found) > 1:
        raise SystemExit("there are several providers; pass --provider NAME or PRA-ID")
    return Principal(
        provider_id=found[0].id,
        user_id=None,
        api_key_id=None,
        email=None,
        permissions=frozenset({Permission.MONITORING_ACCESS, Permission(permission)}),
        customer_scope=None,
        expires_at=None,
    )


async def _import_customers(settings: Settings, path: Path, provider: str | None) -> int:
    from tqdm import tqdm

    from vdc_graph.context import RequestContext
    from vdc_graph.customer_import import BadFile, import_customers, read_rows
    from vdc_graph.errors import UserErrors

    # The whole file is read once before the database is opened: its encoding and header are
    # checked, and its rows counted for the progress bar.
    try:
        with path.open(newline="", encoding="utf-8") as stream:
            total = sum(1 for _ in read_rows(stream))
    except UnicodeDecodeError as exc:
        raise CommandError(
            f"cannot import {path}: it is not UTF-8 text (byte "
            f"{exc.object[exc.start : exc.start + 1]!r} at offset {exc.start}); "
            "save it as CSV UTF-8 and try again"
        ) from None
    except BadFile as exc:
        raise CommandError(f"cannot import {path}: {exc}") from None
    async with database(settings):
        ctx = RequestContext(settings=settings, principal=await _provider_principal(provider))
        with tqdm(total=total, unit="row", desc="importing", file=sys.stderr) as bar:
            try:
                summary = await import_customers(
                    ctx,
                    path,
                    on_reject=lambda line, why: tqdm.write(f"line {line}: rejected: {why}"),
                    on_row=lambda: bar.update(1),
                )
            except BadFile as exc:
                print(f"cannot import {path}: {exc}", file=sys.stderr)
                return 2
            except UserErrors as exc:
                for error in exc.errors:
                    print(f"cannot import {path}: {error.message}", file=sys.stderr)
                return 2
    print(
        f"{summary.created} customer(s) registered, {summary.existing} already registered, "
        f"{len(summary.rejected)} row(s) rejected"
    )
    return 1 if summary.rejected else 0


async def _import_software_usage(settings: Settings, months: dict, provider: str | None) -> int:
    from vdc_graph.context import RequestContext
    from vdc_graph.db.transactions import atomic
    from vdc_graph.errors import UserErrors
    from vdc_graph.resolvers.usage import report_software_usage

    async with database(settings):
        principal = await _provider_principal(provider, "SITE_SETTINGS")
        ctx = RequestContext(settings=settings, principal=principal)
        for month, counts in sorted(months.items()):
            try:
                async with atomic():
                    _, changed = await report_software_usage(ctx, month, counts, True)
            except UserErrors as exc:
                for error in exc.errors:
                    print(f"{month:%Y-%m}: refused: {error.message}", file=sys.stderr)
                return 2
            print(f"{month:%Y-%m}: {'updated' if changed else 'unchanged'}")
    return 0


def cmd_import_software_usage(settings: Settings, args: argparse.Namespace) -> int:
    from vdc_graph.software_usage import read_csv

    if not args.file.is_file():
        print(f"no such file: {args.file}", file=sys.stderr)
        return 2
    try:
        months = read_csv(args.file.read_text(encoding="utf-8").splitlines())
    except ValueError as exc:
        print(f"cannot import {args.file}: {exc}", file=sys.stderr)
        return 2
    return asyncio.run(_import_software_usage(settings, months, args.provider))


def cmd_import_customers(settings: Settings, args: argparse.Namespace) -> int:
    if not args.file.is_file():
        print(f"no such file: {args.file}", file=sys.stderr)
        return 2
    return asyncio.run(_import_customers(settings, args.file, args.provider))


async def _complete_device_login(
    settings: Settings,
    user_code: str,
    tenant_id: str | None,
    tenant_domain: str,
    users: int | None = None,
) -> str:
    from vdc_graph.identity.simulator import UnknownDeviceLogin, complete_login

    async with database(settings):
        try:
            login = await complete_login(user_code, tenant_id, tenant_domain, users)
        except (UnknownDeviceLogin, ValueError) as exc:
            raise SystemExit(str(exc)) from None
    return f"signed in with {login.user_code}: tenant {login.tenant_id}"


def cmd_complete_device_login(settings: Settings, args: argparse.Namespace) -> int:
    if settings.identity_platform != "simulated" or not settings.is_development:
        print("device logins are simulated in development only", file=sys.stderr)
        return 2
    print(
        asyncio.run(
            _complete_device_login(
                settings, args.user_code, args.tenant_id, args.tenant_domain, args.users
            )
        )
    )
    return 0


def cmd_export_schema(settings: Settings, args: argparse.Namespace) -> int:
    from vdc_graph.schema.root import build_schema

    sdl = str(build_schema(settings)) + "\n"
    if args.output:
        Path(args.output).write_text(sdl)
    else:
        sys.stdout.write(sdl)
    return 0


def cmd_trusted_documents(settings: Settings, args: argparse.Namespace) -> int:
    from vdc_graph.http.persisted import build_manifest

    text = json.dumps(build_manifest([Path(p) for p in args.paths]), indent=2) + "\n"
    if args.output:
        Path(args.output).write_text(text)
    else:
        sys.stdout.write(text)
    return 0


def _serve(settings: Settings, host: str, port: int, workers: int) -> None:
    import uvicorn

    from vdc_graph.logs import configure_logging

    configure_logging(settings)
    if workers > 1:
        _share_metrics_between_workers(settings)
    uvicorn.run(
        "vdc_graph.app:create_served_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        timeout_graceful_shutdown=10,
        ws_max_size=settings.max_body_bytes,  # a message is bounded like an HTTP body
        # uvicorn believes X-Forwarded-For from loopback by default, which would let any local
        # caller choose its address; the app believes only VDC_TRUSTED_PROXIES itself
        # (http/client_address.py), so uvicorn must not rewrite the peer first.
        proxy_headers=False,
        forwarded_allow_ips="",
        log_config=None,  # ours (configure_logging), in every worker
        access_log=False,  # one line per request comes from the request log instead
        log_level=settings.log_level.lower(),
    )


def _share_metrics_between_workers(settings: Settings) -> None:
    """Prometheus' multi-process mode: the workers write their samples into one empty folder
    (set before any worker imports the client)."""
    import os
    import shutil

    variable = "PROMETHEUS_MULTIPROC_DIR"  # read by prometheus_client when a worker imports it
    folder = Path(os.environ.get(variable) or settings.state_dir / "metrics")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    os.environ[variable] = str(folder)


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    if args.workers > 1 and not settings.broker_crosses_processes:
        print(
            f"--workers {args.workers} needs an events broker that reaches every process: set "
            "VDC_BROKER_URL to redis://… or postgres://… (memory:// serves one process only)",
            file=sys.stderr,
        )
        return 2
    asyncio.run(_check_database(settings))  # refused here in a line, not in each worker
    _serve(settings, args.host, args.port, args.workers)
    return 0


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    if not settings.is_development:
        print("demo runs in development mode only", file=sys.stderr)
        return 2
    applied = asyncio.run(_migrate(settings))
    if applied:
        print(f"applied {len(applied)} migration(s)")
    print(asyncio.run(_seed(settings, args.customers, args.seed)))
    token = asyncio.run(_token(settings, "admin@demo.example", None, None))
    shown_host = "localhost" if args.host in ("0.0.0.0", "127.0.0.1") else args.host  # noqa: S104
    print(f"\nGraphiQL:  http://{shown_host}:{args.port}/graphql")
    print(
        "Token for admin@demo.example (Administrator), valid "
        f"{settings.dev_token_ttl_seconds // 3600} h; in GraphiQL's headers pane put"
    )
    print(f'  {{"Authorization": "Bearer {token}"}}\n')
    _serve(settings, args.host, args.port, 1)
    return 0


def parse_month(text: str):
    """``2025-03`` as the first day of that month."""
    from datetime import date

    try:
        year, month = text.split("-")
        return date(int(year), int(month), 1)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a month such as 2025-03") from exc


def parse_moment(text: str):
    """An ISO-8601 time with a zone, such as ``2025-03-01T22:00:00Z``."""
    from datetime import datetime

    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a time such as 2025-03-01T22:00Z"
        ) from exc
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} needs a time zone (end it with Z for UTC)")
    return moment


async def _provider_ids(pro_partner_id: str | None) -> list:
    from vdc_graph.db.models import ServiceProvider

    query = ServiceProvider.all()
    if pro_partner_id:
        query = query.filter(pro_partner_id=pro_partner_id)
    ids = await query.values_list("id", flat=True)
    if pro_partner_id and not ids:
        raise SystemExit(f"no provider with the ProPartner ID {pro_partner_id}")
    return list(ids)


async def _generate_reports(settings: Settings, month, provider: str | None) -> int:
    from vdc_graph.usage_reports import generate_report

    async with database(settings):
        ids = await _provider_ids(provider)
        for provider_id in ids:
            await generate_report(provider_id, month)
    return len(ids)


def cmd_usage_generate(settings: Settings, args: argparse.Namespace) -> int:
    from vdc_graph import clock
    from vdc_graph.usage_reports import month_start, previous_month

    month = args.month or previous_month(month_start(clock.now()))
    count = asyncio.run(_generate_reports(settings, month, args.provider))
    print(f"usage reports for {month:%Y-%m} generated for {count} provider(s)")
    return 0


async def _reject_report(settings: Settings, provider: str, month, reason: str) -> str:
    from tortoise.transactions import in_transaction

    from vdc_graph.db.models import UsageReport
    from vdc_graph.resolvers.usage import reject_report

    async with database(settings):
        report = await UsageReport.get_or_none(provider__pro_partner_id=provider, month=month)
        if report is None:
            raise SystemExit(f"no usage report of {provider} for {month:%Y-%m}")
        try:
            async with in_transaction():
                await reject_report(report.id, reason)
        except ValueError as exc:
            raise SystemExit(str(exc)) from None
        return report.number


def cmd_usage_reject(settings: Settings, args: argparse.Namespace) -> int:
    number = asyncio.run(_reject_report(settings, args.provider, args.month, args.reason))
    print(f"{number} rejected; it is back with the provider for review")
    return 0


async def _set_status(settings: Settings, args: argparse.Namespace) -> str:
    from vdc_graph.enums import Region, ServiceHealth, ServiceName
    from vdc_graph.resolvers.status import set_status

    regions = list(Region) if args.region == "ALL" else [Region(args.region)]
    async with database(settings):
        for region in regions:
            await set_status(
                ServiceName(args.service), region, ServiceHealth(args.health), args.message
            )
    return ", ".join(regions)


def cmd_status_set(settings: Settings, args: argparse.Namespace) -> int:
    regions = asyncio.run(_set_status(settings, args))
    print(f"{args.service} is {args.health} in {regions}")
    return 0


async def _schedule(settings: Settings, args: argparse.Namespace) -> None:
    from vdc_graph.enums import Region, ServiceName
    from vdc_graph.resolvers.status import schedule_maintenance

    async with database(settings):
        try:
            await schedule_maintenance(
                ServiceName(args.service),
                Region(args.region),
                args.starts,
                args.ends,
                args.description,
            )
        except ValueError as exc:
            raise SystemExit(str(exc)) from None


def cmd_status_maintenance(settings: Settings, args: argparse.Namespace) -> int:
    asyncio.run(_schedule(settings, args))
    print(f"maintenance of {args.service} in {args.region} scheduled")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vdc-graph", description="GraphQL API for a Microsoft 365 backup service portal"
    )
    commands = parser.add_subparsers(dest="command", required=True)

    commands.add_parser("migrate", help="apply the database migrations").set_defaults(
        run=cmd_migrate
    )

    def add_server_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--host", default="127.0.0.1", help="address to listen on")
        p.add_argument("--port", type=int, default=DEFAULT_PORT, help="port to listen on")

    commands.add_parser(
        "makemigrations", help="write the migration the changed models need"
    ).set_defaults(run=cmd_makemigrations)

    serve = commands.add_parser("serve", help="run the API server")
    add_server_options(serve)
    serve.add_argument("--workers", type=int, default=1, help="worker processes")
    serve.set_defaults(run=cmd_serve)

    def add_seed_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--customers", type=int, default=40, help="demo customers to create")
        p.add_argument("--seed", type=int, default=1, help="random seed (same seed, same data)")

    demo = commands.add_parser("demo", help="migrate, seed demo data and serve (development)")
    add_server_options(demo)
    add_seed_options(demo)
    demo.set_defaults(run=cmd_demo)

    seed = commands.add_parser("seed", help="migrate and seed demo data, without serving")
    add_seed_options(seed)
    seed.set_defaults(run=cmd_seed)

    token = commands.add_parser("token", help="mint a development token for a user")
    token.add_argument("--email", required=True, help="the user's email")
    token.add_argument(
        "--expires",
        type=parse_duration,
        default=None,
        help="lifetime such as 30m, 8h or 7d (default from settings)",
    )
    token.add_argument(
        "--provider", default=None, help="provider display name, when the email exists in several"
    )
    token.set_defaults(run=cmd_token)

    intake = commands.add_parser(
        "import-customers", help="register customers from a CSV file (idempotent)"
    )
    intake.add_argument("file", type=Path, help="CSV with displayName, externalId, … columns")
    intake.add_argument(
        "--provider", default=None, help="provider display name or ProPartner ID (if several)"
    )
    intake.set_defaults(run=cmd_import_customers)

    software = commands.add_parser(
        "import-software-usage",
        help="set months' Cloud Connect and public-cloud usage from a CSV file (idempotent)",
    )
    software.add_argument(
        "file",
        type=Path,
        help="CSV with month, workload, units, licensed_units, tenant_has_rental_license",
    )
    software.add_argument(
        "--provider", default=None, help="provider display name or ProPartner ID (if several)"
    )
    software.set_defaults(run=cmd_import_software_usage)

    device = commands.add_parser(
        "complete-device-login",
        help="development: sign in at the simulated Microsoft with a device login's user code",
    )
    device.add_argument("user_code", help="the code onboarding shows")
    device.add_argument("--tenant-id", default=None, help="tenant ID to report (default: new)")
    device.add_argument("--tenant-domain", default="", help="such as contoso.onmicrosoft.com")
    device.add_argument(
        "--users", type=int, default=None, help="users in the tenant's directory (default: drawn)"
    )
    device.set_defaults(run=cmd_complete_device_login)
    from vdc_graph.cli_offboarding import add_commands as add_offboarding_commands
    from vdc_graph.enums import Region, ServiceHealth, ServiceName

    add_offboarding_commands(commands)
    usage = commands.add_parser("usage-reports", help="monthly usage reports (administration)")
    usage_commands = usage.add_subparsers(dest="usage_command", required=True)
    generate = usage_commands.add_parser(
        "generate", help="generate (or refresh, while pending review) a month's reports"
    )
    generate.add_argument(
        "--month", type=parse_month, default=None, help="YYYY-MM (default: last month)"
    )
    generate.add_argument("--provider", default=None, help="only this ProPartner ID")
    generate.set_defaults(run=cmd_usage_generate)
    reject = usage_commands.add_parser(
        "reject", help="the aggregator's rejection of a submitted report, with a reason"
    )
    reject.add_argument("--provider", required=True, help="the provider's ProPartner ID")
    reject.add_argument("--month", type=parse_month, required=True, help="YYYY-MM")
    reject.add_argument("--reason", required=True, help="why, shown to the provider")
    reject.set_defaults(run=cmd_usage_reject)

    status = commands.add_parser("service-status", help="service status (administration)")
    status_commands = status.add_subparsers(dest="status_command", required=True)
    set_ = status_commands.add_parser("set", help="set a service's status in a region")
    set_.add_argument("--service", required=True, choices=[s.value for s in ServiceName])
    set_.add_argument("--region", required=True, choices=[*(r.value for r in Region), "ALL"])
    set_.add_argument("--health", required=True, choices=[h.value for h in ServiceHealth])
    set_.add_argument("--message", default="", help="a note shown with the status")
    set_.set_defaults(run=cmd_status_set)
    maintenance = status_commands.add_parser("maintenance", help="schedule a maintenance window")
    maintenance.add_argument("--service", required=True, choices=[s.value for s in ServiceName])
    maintenance.add_argument("--region", required=True, choices=[r.value for r in Region])
    maintenance.add_argument(
        "--starts", type=parse_moment, required=True, help="ISO time, e.g. 2025-03-01T22:00Z"
    )
    maintenance.add_argument("--ends", type=parse_moment, required=True, help="ISO time")
    maintenance.add_argument("--description", default="", help="what is done")
    maintenance.set_defaults(run=cmd_status_maintenance)

    export = commands.add_parser("export-schema", help="print the schema in SDL")
    export.add_argument("--output", "-o", default=None, help="write to this file")
    export.set_defaults(run=cmd_export_schema)

    trusted = commands.add_parser(
        "trusted-documents", help="write the manifest of trusted documents (.graphql files)"
    )
    trusted.add_argument("paths", nargs="*", default=["examples"], help="files or folders")
    trusted.add_argument("--output", help="write to this file instead of stdout")
    trusted.set_defaults(run=cmd_trusted_documents)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = get_settings()
    except ValidationError as exc:  # invalid VDC_* settings
        for line in describe_errors(exc):
            print(f"configuration error: {line}", file=sys.stderr)
        return 2
    try:
        return args.run(settings, args)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        message = explain(exc, settings.database_url)
        if message is None:
            raise
        print(f"error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
