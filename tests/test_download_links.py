"""`downloadUrl` links: a browser-like GET with no header downloads the file; an expired, altered
or re-targeted link is refused, and a link never reaches another provider's object."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest

from tests.backup_support import connected_customer, fast_settings, gid, make_policy
from tests.factories import make_provider, make_user, token_for
from tests.test_session_exports import log_rows, read_csv
from vdc_graph import clock
from vdc_graph.auth.download_links import download_url
from vdc_graph.auth.principal import Principal
from vdc_graph.db.models import BackupSession, PortalUser, SessionLogRecord
from vdc_graph.enums import LogStatus, Permission, SessionStatus

BM = Permission.BACKUP_MANAGEMENT
LINK = "query($id: ID!) { node(id: $id) { ... on BackupSession { downloadUrl } } }"


@pytest.fixture
def settings(tmp_path):
    return fast_settings(tmp_path)


async def run(settings, policy) -> BackupSession:
    """An ended session with a log, as the engine leaves one (written here, so no test waits
    for the engine)."""
    now = clock.now()
    session = await BackupSession.create(
        provider_id=policy.provider_id,
        customer_id=policy.customer_id,
        policy=policy,
        policy_name=policy.name,
        status=SessionStatus.SUCCESS,
        started_at=now - timedelta(minutes=5),
        ended_at=now,
        progress=100,
        started_by_label="Schedule",
        last_seq=3,
    )
    for seq, (status, message) in enumerate(
        [(LogStatus.INFO, "Started"), (LogStatus.SUCCESS, "Mailbox done"), (LogStatus.INFO, "End")],
        start=1,
    ):
        await SessionLogRecord.create(
            session=session,
            seq=seq,
            at=now - timedelta(minutes=5 - seq),
            status=status,
            message=message,
        )
    return session


async def _link(api, token: str, session_id: str) -> tuple[str, list[tuple[str, str]]]:
    url = (await api.data(LINK, {"id": session_id}, token=token))["node"]["downloadUrl"]
    parts = urlsplit(url)
    assert parts.scheme in ("http", "https") and parts.netloc
    return parts.path, parse_qsl(parts.query)


async def _get(api, path: str, query: list[tuple[str, str]]):
    """As a browser following `<a href download>`: a plain GET, no Authorization header."""
    return await api.http.get(f"{path}?{urlencode(query)}")


async def test_a_session_log_link_downloads_without_a_header(api, settings):
    provider = await make_provider()
    session = await run(settings, await make_policy(await connected_customer(provider)))
    token = token_for(settings, await make_user(provider, [BM]))
    path, query = await _link(api, token, gid("BackupSession", session.id))
    assert path == "/exports/session-log.csv"
    response = await _get(api, path, query)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert read_csv(response.text)[1:] == await log_rows(session)


async def test_expired_altered_and_retargeted_links_are_refused(api, settings):
    provider = await make_provider()
    customer = await connected_customer(provider)
    session = await run(settings, await make_policy(customer))
    other = await run(settings, await make_policy(customer, name="Other policy"))
    token = token_for(settings, await make_user(provider, [BM]))
    path, query = await _link(api, token, gid("BackupSession", session.id))

    # Another object of the same provider: the link names its one download.
    retargeted = [(k, gid("BackupSession", other.id) if k == "sessionId" else v) for k, v in query]
    assert (await _get(api, path, retargeted)).status_code == 401
    # Another download with the same signature.
    assert (await _get(api, "/exports/sessions.zip", query)).status_code == 401
    # A parameter added, or the signature changed.
    assert (await _get(api, path, [*query, ("statuses", "INFO")])).status_code == 401
    tampered = [
        (k, v[:-2] + ("AA" if v[-2:] != "AA" else "BB")) if k == "signature" else (k, v)
        for k, v in query
    ]
    assert (await _get(api, path, tampered)).status_code == 401
    # Still good now; refused once it has expired.
    assert (await _get(api, path, query)).status_code == 200
    later = clock.now() + timedelta(
        seconds=settings.download_url_ttl_seconds + settings.token_leeway_seconds + 1
    )
    clock.set_clock(lambda: later)
    expired = await _get(api, path, query)
    assert expired.status_code == 401
    assert expired.json()["errors"][0]["message"] == "The token has expired"


async def test_a_link_never_opens_another_providers_object(api, settings):
    provider, outsider_provider = await make_provider(), await make_provider("Other")
    session = await run(settings, await make_policy(await connected_customer(provider)))
    outsider = await make_user(outsider_provider, [BM])
    # Even a correctly signed link made for the outsider does not reach this provider's session.
    principal = Principal(
        provider_id=outsider.provider_id,
        user_id=outsider.id,
        api_key_id=None,
        email=outsider.email,
        permissions=frozenset([Permission.MONITORING_ACCESS, BM]),
        customer_scope=None,
        expires_at=None,
    )
    url = download_url(
        settings,
        principal,
        "http://testserver",
        "/exports/session-log.csv",
        {"sessionId": gid("BackupSession", session.id)},
    )
    parts = urlsplit(url)
    assert (await _get(api, parts.path, parse_qsl(parts.query))).status_code == 404


async def test_a_link_applies_the_callers_rights_when_used(api, settings):
    provider = await make_provider()
    session = await run(settings, await make_policy(await connected_customer(provider)))
    user = await make_user(provider, [BM])
    path, query = await _link(api, token_for(settings, user), gid("BackupSession", session.id))
    await (await PortalUser.get(id=user.id)).roles.clear()  # the right is taken away
    assert (await _get(api, path, query)).status_code == 403
    await PortalUser.filter(id=user.id).delete()
    assert (await _get(api, path, query)).status_code == 401
