"""Session downloads: one log as CSV, a customer's month as a streamed ZIP of CSV files."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import UTC, datetime

import pytest

from tests.backup_support import connected_customer, ended, fast_settings, gid, make_policy
from tests.factories import make_provider, make_user, token_for
from vdc_graph import clock
from vdc_graph.db.models import BackupSession, SessionLogRecord
from vdc_graph.db.transactions import atomic
from vdc_graph.engine.runs import queue_session
from vdc_graph.enums import Permission, SessionTrigger

BM = Permission.BACKUP_MANAGEMENT


@pytest.fixture
def settings(tmp_path):
    return fast_settings(tmp_path, engine_warning_rate=0.3)


def read_csv(data: bytes | str) -> list[list[str]]:
    text = data.decode() if isinstance(data, bytes) else data
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


async def run(settings, policy) -> BackupSession:
    async with atomic():
        session = await queue_session(settings, policy, SessionTrigger.SCHEDULE)
    return await ended(session.id)


async def log_rows(session) -> list[list[str]]:
    rows = await SessionLogRecord.filter(session_id=session.id).order_by("seq")
    return [
        [str(r.seq), r.at.isoformat().replace("+00:00", "Z"), r.status.value, r.message]
        for r in rows
    ]


async def test_one_sessions_log_as_csv(api, settings):
    provider = await make_provider()
    session = await run(settings, await make_policy(await connected_customer(provider)))
    token = token_for(settings, await make_user(provider, [BM]))
    response = await api.http.get(
        "/exports/session-log.csv",
        params={"sessionId": gid("BackupSession", session.id)},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = read_csv(response.text)
    assert rows[0] == ["Sequence", "Time", "Status", "Message"]
    assert rows[1:] == await log_rows(session)
    # Every session has INFO lines (start, counts, end) and others (processed objects).
    info = await api.http.get(
        "/exports/session-log.csv",
        params={"sessionId": gid("BackupSession", session.id), "statuses": "INFO"},
        headers={"Authorization": f"Bearer {token}"},
    )
    expected = [row for row in await log_rows(session) if row[2] == "INFO"]
    assert read_csv(info.text)[1:] == expected
    assert 0 < len(expected) < len(rows) - 1


async def test_session_exports_need_backup_management_and_stay_in_the_provider(api, settings):
    provider, other = await make_provider(), await make_provider("Other")
    customer = await connected_customer(provider)
    session = await run(settings, await make_policy(customer))
    reader = token_for(settings, await make_user(provider, []))
    outsider = token_for(settings, await make_user(other, [BM]))
    params = {"sessionId": gid("BackupSession", session.id)}
    month = {"customerId": gid("Customer", customer.id), "month": f"{clock.now():%Y-%m}"}
    for path, query in (("/exports/session-log.csv", params), ("/exports/sessions.zip", month)):
        refused = await api.http.get(
            path, params=query, headers={"Authorization": f"Bearer {reader}"}
        )
        assert refused.status_code == 403, path
        hidden = await api.http.get(
            path, params=query, headers={"Authorization": f"Bearer {outsider}"}
        )
        assert hidden.status_code == 404, path
        assert (await api.http.get(path, params=query)).status_code == 401
    manager = token_for(settings, await make_user(provider, [BM]))
    bad = await api.http.get(
        "/exports/sessions.zip",
        params={**month, "month": "March"},
        headers={"Authorization": f"Bearer {manager}"},
    )
    assert bad.status_code == 400 and "month" in bad.json()["errors"][0]["message"]


async def test_a_customers_month_as_a_zip_that_matches_the_database(api, settings):
    provider = await make_provider()
    customer = await connected_customer(provider, display_name="Müller & Söhne 日本")
    other_customer = await connected_customer(provider)
    daily, weekly = (
        await make_policy(customer, "Daily"),
        await make_policy(customer, "Weekly / Mail"),
    )
    sessions = [await run(settings, daily), await run(settings, weekly), await run(settings, daily)]
    await run(settings, await make_policy(other_customer))  # not this customer's
    old = await run(settings, daily)  # another month
    await BackupSession.filter(id=old.id).update(created_at=datetime(2020, 1, 5, tzinfo=UTC))
    token = token_for(settings, await make_user(provider, [BM]))
    response = await api.http.get(
        "/exports/sessions.zip",
        params={"customerId": gid("Customer", customer.id), "month": f"{clock.now():%Y-%m}"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    # A name outside ASCII still gives a file name every client can take.
    assert "sessions_m-ller-s-hne_" in response.headers["content-disposition"]
    assert ".zip" in response.headers["content-disposition"]
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert archive.testzip() is None
    index = read_csv(archive.read("sessions.csv"))
    assert index[0][:3] == ["Session ID", "Policy", "Status"]
    assert [row[0] for row in index[1:]] == [gid("BackupSession", s.id) for s in sessions]
    assert [row[1] for row in index[1:]] == ["Daily", "Weekly / Mail", "Daily"]
    log_files = [row[-1] for row in index[1:]]
    assert sorted(archive.namelist()) == sorted(["sessions.csv", *log_files])
    assert "_weekly-mail_" in log_files[1]  # a safe ASCII file name
    for session, name in zip(sessions, log_files, strict=True):
        stored = await BackupSession.get(id=session.id)
        row = index[1 + sessions.index(session)]
        assert row[2] == stored.status.value and row[10] == str(stored.transferred_bytes)
        assert read_csv(archive.read(name))[1:] == await log_rows(session)
