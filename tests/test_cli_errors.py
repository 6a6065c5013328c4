"""Expected command-line failures: one or two lines with the cause and the fix, no traceback."""

from __future__ import annotations

import pytest

from tests.test_cli import env, free_port, run

__all__ = ["env"]  # the fixture, shared with the command-line tests


def refused(env: dict[str, str], *args: str) -> str:
    result = run(env, *args, check=False)
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    message = result.stderr.strip()
    assert "Traceback" not in message and len(message.splitlines()) <= 2, message
    return message


@pytest.mark.parametrize(
    "args",
    [
        ("token", "--email", "admin@demo.example"),
        ("import-customers", "CSV"),
        ("usage-reports", "generate", "--month", "2025-03"),
        ("serve", "--port", "0"),
    ],
)
def test_an_unmigrated_database_names_the_migrate_command(env, tmp_path, args):
    csv = tmp_path / "customers.csv"
    csv.write_text("displayName,externalId\nContoso,C-1\n")
    message = refused(env, *(str(csv) if a == "CSV" else a for a in args))
    assert "not migrated" in message or "missing" in message
    assert "run `vdc-graph migrate`" in message


def test_a_file_that_is_not_utf8_is_refused_with_the_fix(env, tmp_path):
    run(env, "migrate")
    latin1 = tmp_path / "customers.csv"
    latin1.write_bytes("displayName,externalId\nMüller GmbH,M-1\n".encode("latin-1"))
    message = refused(env, "import-customers", str(latin1))
    assert str(latin1) in message and "not UTF-8" in message and "CSV UTF-8" in message


def test_a_csv_without_the_required_columns_names_them(env, tmp_path):
    run(env, "migrate")
    wrong = tmp_path / "customers.csv"
    wrong.write_text("name,id\nContoso,C-1\n")
    message = refused(env, "import-customers", str(wrong))
    assert "display_name, external_id" in message and "found: name, id" in message


def test_an_unsupported_database_url_names_the_variable_and_hides_the_password(env):
    message = refused({**env, "VDC_DATABASE_URL": "mysql://app:hunter2@db/vdc"}, "migrate")
    assert "VDC_DATABASE_URL" in message and "mysql://" in message and "sqlite://" in message
    assert "hunter2" not in message


def test_an_unreachable_database_says_so_and_hides_the_password(env):
    url = f"postgres://app:hunter2@127.0.0.1:{free_port()}/vdc"
    message = refused({**env, "VDC_DATABASE_URL": url}, "migrate")
    assert "cannot connect to the database" in message and "VDC_DATABASE_URL" in message
    assert "hunter2" not in message


def test_a_sqlite_path_in_a_missing_folder_is_refused_at_once(env, tmp_path):
    folder = tmp_path / "not-there"
    message = refused({**env, "VDC_DATABASE_URL": f"sqlite://{folder}/vdc.db"}, "migrate")
    assert f"the folder {folder}" in message and "mkdir -p" in message
    assert not folder.exists()


@pytest.mark.parametrize(
    ("variable", "value", "rule"),
    [
        ("VDC_ENGINE_STEP_SECONDS", "-1", "greater than or equal to 0"),
        ("VDC_ENGINE_FAILURE_RATE", "1.5", "less than or equal to 1"),
        ("VDC_MAX_DEPTH", "0", "greater than 0"),
        ("VDC_SMTP_PORT", "70000", "less than or equal to 65535"),
        ("VDC_WEBHOOK_MAX_ATTEMPTS", "many", "valid integer"),
        ("VDC_PUBLIC_URL", "portal.example", "http:// or https://"),
        ("VDC_MODE", "staging", "'development' or 'production'"),
    ],
)
def test_a_bad_setting_is_refused_at_start_up_with_its_name_and_rule(env, variable, value, rule):
    for command in ("migrate", "serve"):
        message = refused({**env, variable: value}, command)
        assert message.startswith(f"configuration error: {variable}: "), message
        assert rule in message and repr(value) in message
