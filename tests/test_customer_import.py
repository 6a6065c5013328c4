"""``vdc-graph import-customers``: a real process importing a CSV file into the test database."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

from tests.factories import make_customer, make_provider
from vdc_graph.db.models import Customer, Onboarding, Subscription
from vdc_graph.enums import ContractType, LicenseModel, SourceType

ROOT = Path(__file__).resolve().parent.parent


def run_cli(database_url: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VDC_")}
    env.update(VDC_DATABASE_URL=database_url, VDC_STATE_DIR=str(tmp_path / "state"))
    return subprocess.run(
        [sys.executable, "-m", "vdc_graph", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


HEADER = ["displayName", "externalId", "sourceType", "m365Account", "flexSubscriptionId"]


async def test_valid_rows_are_kept_and_each_rejected_row_is_named(db, tmp_path):
    provider = await make_provider()
    await make_customer(provider, display_name="Known", external_id="EXT-KNOWN")
    path = write_csv(
        tmp_path / "customers.csv",
        [*HEADER, "licenseModel"],
        [
            ["Contoso", "EXT-1", "CLOUDBLUE", "contoso.onmicrosoft.com", "FLEX-1", "FIXED"],
            ["", "EXT-2", "DIRECT", "", "", ""],  # line 3: no name
            ["Fabrikam", "EXT-3", "NOPE", "", "", ""],  # line 4: bad source
            ["Known again", "EXT-KNOWN", "", "", "", ""],  # idempotent: not a rejection
            ["Northwind", "", "", "", "", ""],  # line 6: no external ID
            ["Litware", "EXT-4", "", "", "", "monthly"],  # line 7: bad license model
            ["Tailspin", "EXT-5", "", "", "", ""],
        ],
    )
    result = run_cli(db, tmp_path, "import-customers", str(path))
    assert result.returncode == 1, result.stderr
    rejected = [line for line in result.stdout.splitlines() if "rejected:" in line]
    assert [line.split(":")[0] for line in rejected] == ["line 3", "line 4", "line 6", "line 7"]
    assert "display name" in rejected[0] and "NOPE" in rejected[1]
    assert "external ID" in rejected[2] and "monthly" in rejected[3]
    assert "2 customer(s) registered, 1 already registered, 4 row(s) rejected" in result.stdout
    contoso = await Customer.get(external_id="EXT-1")
    assert contoso.contract_type is ContractType.PENDING
    assert (
        contoso.source_type is SourceType.CLOUDBLUE and contoso.license_model is LicenseModel.FIXED
    )
    assert await Onboarding.filter(customer_id=contoso.id).exists()
    assert await Subscription.filter(customer_id=contoso.id, subscription_id="FLEX-1").exists()
    tailspin = await Customer.get(external_id="EXT-5")
    assert tailspin.source_type is SourceType.VCSP_PULSE
    assert await Customer.filter(provider_id=provider.id).count() == 3
    assert (await Customer.get(external_id="EXT-KNOWN")).display_name == "Known"


async def test_a_bad_header_or_missing_file_is_refused(db, tmp_path):
    await make_provider()
    path = write_csv(tmp_path / "bad.csv", ["name", "id"], [["A", "1"]])
    result = run_cli(db, tmp_path, "import-customers", str(path))
    assert result.returncode == 2 and "display_name, external_id" in result.stderr
    missing = run_cli(db, tmp_path, "import-customers", str(tmp_path / "nope.csv"))
    assert missing.returncode == 2 and "no such file" in missing.stderr


async def test_ten_thousand_rows(db, tmp_path):
    provider = await make_provider()
    await make_provider("Other")
    rows = [[f"Customer {i:05d}", f"EXT-{i:05d}", "VCSP_PULSE", "", ""] for i in range(10_000)]
    rows[1234][0] = ""  # one bad row
    path = write_csv(tmp_path / "big.csv", [*HEADER], rows)
    result = run_cli(
        db, tmp_path, "import-customers", str(path), "--provider", provider.display_name
    )
    assert result.returncode == 1, result.stderr
    assert "9999 customer(s) registered, 0 already registered, 1 row(s) rejected" in result.stdout
    assert "line 1236: rejected" in result.stdout
    assert "10000/10000" in result.stderr  # the progress bar reached the end
    assert await Customer.filter(provider_id=provider.id).count() == 9_999
    # Importing again changes nothing: every row is known already.
    again = run_cli(
        db, tmp_path, "import-customers", str(path), "--provider", provider.pro_partner_id
    )
    assert "0 customer(s) registered, 9999 already registered" in again.stdout
    assert await Customer.filter(provider_id=provider.id).count() == 9_999
