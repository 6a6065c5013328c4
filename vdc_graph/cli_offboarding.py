"""``vdc-graph offboarding …``: support's review of offboarding requests, and the deletion job.

Support is the platform's operator: these commands are how a request is approved or rejected
(never by the requesting provider). The server completes approved requests on their desired
date by itself; ``run-due`` does that once, now.
"""

from __future__ import annotations

import argparse
import asyncio
from uuid import UUID

from strawberry import relay
from strawberry.relay.types import GlobalIDValueError

from vdc_graph.settings import Settings


def request_key(text: str) -> UUID:
    """A request as the API shows it (its global ID), or its raw key."""
    try:
        gid = relay.GlobalID.from_id(text)
        if gid.type_name == "OffboardingRequest":
            return UUID(gid.node_id)
    except (GlobalIDValueError, ValueError):
        pass
    try:
        return UUID(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an offboarding request ID") from None


async def _list(settings: Settings, status: str | None) -> list[str]:
    from vdc_graph.cli import database
    from vdc_graph.db.models import OffboardingRequest

    async with database(settings):
        qs = OffboardingRequest.all().prefetch_related("customer__provider")
        if status:
            qs = qs.filter(status=status)
        lines = []
        for r in await qs.order_by("desired_deletion_date", "created_at"):
            provider = r.customer.provider
            lines.append(
                f"{relay.to_base64('OffboardingRequest', r.id)}\t{r.status.value}\t"
                f"{r.desired_deletion_date}\t{provider.pro_partner_id}\t"
                f"{r.customer.display_name}\t{r.requested_by}\t{r.reason}"
            )
        return lines


def cmd_list(settings: Settings, args: argparse.Namespace) -> int:
    for line in asyncio.run(_list(settings, args.status)):
        print(line)
    return 0


async def _review(settings: Settings, args: argparse.Namespace, to: str) -> str:
    from vdc_graph.cli import database
    from vdc_graph.db.transactions import atomic
    from vdc_graph.enums import OffboardingStatus
    from vdc_graph.resolvers.offboarding import ReviewRefused, review

    async with database(settings):
        try:
            async with atomic():
                request = await review(
                    args.request, OffboardingStatus(to), args.reviewer, args.reason
                )
        except ReviewRefused as exc:
            raise SystemExit(f"refused: {exc}") from None
        return f"{request.status.value}; deletion on {request.desired_deletion_date}"


def cmd_approve(settings: Settings, args: argparse.Namespace) -> int:
    print(asyncio.run(_review(settings, args, "APPROVED")))
    return 0


def cmd_reject(settings: Settings, args: argparse.Namespace) -> int:
    asyncio.run(_review(settings, args, "REJECTED"))
    print("REJECTED")
    return 0


async def _run_due(settings: Settings) -> int:
    from vdc_graph.cli import database
    from vdc_graph.resolvers.offboarding import complete_due

    async with database(settings):
        return len(await complete_due())


def cmd_run_due(settings: Settings, args: argparse.Namespace) -> int:
    print(f"{asyncio.run(_run_due(settings))} customer(s) deleted")
    return 0


def add_commands(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "offboarding", help="support: review offboarding requests, run the deletion job"
    )
    sub = parser.add_subparsers(dest="offboarding_command", required=True)
    listing = sub.add_parser("list", help="requests, by desired deletion date")
    listing.add_argument("--status", choices=["REQUESTED", "APPROVED", "REJECTED", "COMPLETED"])
    listing.set_defaults(run=cmd_list)
    for name, run, reason_help in (
        ("approve", cmd_approve, "an optional note for the record"),
        ("reject", cmd_reject, "why (required), shown to the provider"),
    ):
        command = sub.add_parser(name, help=f"{name} a request")
        command.add_argument("request", type=request_key, help="the request's ID")
        command.add_argument("--reviewer", required=True, help="who at support decides")
        command.add_argument("--reason", default="", help=reason_help)
        command.set_defaults(run=run)
    sub.add_parser(
        "run-due", help="delete the customers whose approved date has come"
    ).set_defaults(run=cmd_run_due)
