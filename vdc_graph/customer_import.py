"""Bulk intake of customers from a CSV file, through the same rules as ``customerRegister``."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from tortoise.transactions import in_transaction

from vdc_graph.auth import require
from vdc_graph.context import RequestContext
from vdc_graph.enums import LicenseModel, SourceType
from vdc_graph.errors import UserErrors
from vdc_graph.resolvers.customers import RegisterCustomerInput, register_customer
from vdc_graph.resolvers.usage import ensure_license_management_allowed

# Column names are matched ignoring case, spaces, dashes and underscores, so both
# ``displayName`` and the export's ``Display name`` work.
COLUMNS = {
    "displayname": "display_name",
    "externalid": "external_id",
    "sourcetype": "source_type",
    "m365account": "m365_account",
    "veeamaccountid": "veeam_account_id",
    "flexsubscriptionid": "flex_subscription_id",
    "licensemodel": "license_model",
}
REQUIRED = ("display_name", "external_id")
BATCH = 500  # rows per transaction


def _key(name: str) -> str:
    return "".join(c for c in name.lower() if c.isalnum())


@dataclass
class ImportSummary:
    created: int = 0
    existing: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)


class BadFile(ValueError):
    pass


def read_rows(stream: TextIO) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row by field name) for each data row."""
    reader = csv.reader(stream)
    try:
        header = next(reader)
    except StopIteration:
        raise BadFile("the file is empty") from None
    if header and header[0].startswith("\ufeff"):
        header[0] = header[0][1:]
    names = [COLUMNS.get(_key(h)) for h in header]
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise BadFile(
            "the header needs the columns " + ", ".join(missing) + f" (found: {', '.join(header)})"
        )
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        yield reader.line_num, {n: v for n, v in zip(names, row, strict=False) if n}


def _to_input(row: dict[str, str]) -> RegisterCustomerInput:
    source = (row.get("source_type") or "").strip() or SourceType.VCSP_PULSE.value
    model = (row.get("license_model") or "").strip() or LicenseModel.VARIABLE.value
    try:
        source_type = SourceType(source.upper())
    except ValueError:
        raise ValueError(
            f"source type {source!r} is not one of {', '.join(s.value for s in SourceType)}"
        ) from None
    try:
        license_model = LicenseModel(model.upper())
    except ValueError:
        raise ValueError(
            f"license model {model!r} is not one of {', '.join(m.value for m in LicenseModel)}"
        ) from None
    return RegisterCustomerInput(
        display_name=row.get("display_name", ""),
        external_id=row.get("external_id", ""),
        source_type=source_type,
        m365_account=row.get("m365_account", ""),
        veeam_account_id=row.get("veeam_account_id", ""),
        flex_subscription_id=row.get("flex_subscription_id", ""),
        license_model=license_model,
    )


async def import_customers(
    ctx: RequestContext,
    path: Path,
    *,
    on_reject: Callable[[int, str], None],
    on_row: Callable[[], None] = lambda: None,
) -> ImportSummary:
    """Register every valid row (idempotent on the external ID); report each rejected one.

    A provider whose licence management is suspended imports nothing (``UserErrors``).
    """
    await ensure_license_management_allowed(require(ctx.principal).provider_id)
    summary = ImportSummary()
    with path.open(newline="", encoding="utf-8") as stream:
        rows = read_rows(stream)
        while True:
            batch = [r for _, r in zip(range(BATCH), rows, strict=False)]
            if not batch:
                return summary
            async with in_transaction():
                for line, row in batch:
                    await _import_row(ctx, line, row, summary, on_reject)
                    on_row()


async def _import_row(
    ctx: RequestContext,
    line: int,
    row: dict[str, str],
    summary: ImportSummary,
    on_reject: Callable[[int, str], None],
) -> None:
    try:
        result = await register_customer(ctx, _to_input(row))
    except ValueError as exc:
        reason = str(exc)
    except UserErrors as exc:
        reason = "; ".join(e.message for e in exc.errors)
    else:
        if result.created:
            summary.created += 1
        else:
            summary.existing += 1
        return
    summary.rejected.append((line, reason))
    on_reject(line, reason)
