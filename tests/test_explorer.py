"""The explorer page: served by the server itself, working offline in a real browser."""

from __future__ import annotations

import asyncio
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest

from tests.backup_support import connected_customer, gid, make_policy
from tests.factories import make_customer, make_provider, make_user, token_for
from vdc_graph.enums import Permission
from vdc_graph.http import graphiql

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


class References(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value for name, value in attrs if name in ("src", "href") and value]


def test_the_page_references_no_external_url():
    parser = References()
    parser.feed((graphiql.EXPLORER / "index.html").read_text())
    assert parser.urls, "the page loads its scripts"
    for url in parser.urls:
        parsed = urlparse(url)
        assert not parsed.netloc and parsed.scheme in ("", "data"), url
    script = (graphiql.EXPLORER / "explorer.js").read_text()
    assert not re.search(r"https?://", script)


async def test_every_asset_is_installed_and_served(api):
    assert graphiql.missing_assets() == [], graphiql.INSTALL_HINT
    for name in graphiql.ASSETS:
        response = await api.http.get(f"/graphql/explorer/{name}")
        assert response.status_code == 200, name
    assert (await api.http.get("/graphql/explorer/package.json")).status_code == 404


async def test_missing_assets_are_explained(api, monkeypatch, tmp_path):
    monkeypatch.setitem(graphiql.ASSETS, "graphiql.min.js", tmp_path / "absent.js")
    page = await api.http.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 503
    assert "npm ci --prefix vdc_graph/http/explorer" in page.text


async def offline(page, outside: list[str]) -> None:
    """The page gets no network beyond the server: any other request is noted and refused."""

    async def route(route):
        if urlparse(route.request.url).hostname not in ("127.0.0.1", "localhost"):
            outside.append(route.request.url)
            await route.abort()
        else:
            await route.continue_()

    await page.route("**/*", route)


@pytest.mark.skipif(
    CHROMIUM is None, reason="needs Chromium: apt-get install chromium (.ci/run installs it)"
)
async def test_graphiql_runs_a_customers_query_offline(live_server, settings):
    from playwright.async_api import async_playwright

    provider = await make_provider()
    await make_customer(provider, display_name="Northwind Traders")
    token = token_for(settings, await make_user(provider, []))
    outside: list[str] = []

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, headless=True)
        page = await browser.new_page(viewport={"width": 1400, "height": 900})

        await offline(page, outside)
        await page.goto(f"{live_server.http_url}/graphql")
        await page.fill("#token", token)
        await page.click("text=Use token")
        await page.wait_for_selector("text=signed in with the token")
        editor = page.locator(".graphiql-query-editor .CodeMirror").first
        await editor.click()
        await page.keyboard.press("Control+A")
        await page.keyboard.type("{ customers { totalCount nodes { displayName } } }")
        await page.click(".graphiql-execute-button")
        response = page.locator(".graphiql-response")
        await response.get_by_text("Northwind Traders").wait_for(timeout=15000)
        shown = await response.inner_text()
        ARTIFACTS.mkdir(exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / "explorer-query.png"))
        await browser.close()

    assert '"totalCount": 1' in shown
    assert outside == []


@pytest.mark.skipif(
    CHROMIUM is None, reason="needs Chromium: apt-get install chromium (.ci/run installs it)"
)
async def test_graphiql_shows_a_session_log_subscription_as_records_arrive(live_server, settings):
    from playwright.async_api import async_playwright

    settings.engine_step_seconds = 0.25  # a session of a few seconds, watched live
    settings.engine_warning_rate = settings.engine_failure_rate = 0.0
    provider = await make_provider()
    policy = await make_policy(await connected_customer(provider))
    token = token_for(settings, await make_user(provider, [Permission.BACKUP_MANAGEMENT]))

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, headless=True)
        page = await browser.new_page(viewport={"width": 1400, "height": 900})
        outside: list[str] = []
        await offline(page, outside)
        await page.goto(f"{live_server.http_url}/graphql")
        await page.fill("#token", token)
        await page.click("text=Use token")
        await page.wait_for_selector("text=signed in with the token")
        async with httpx.AsyncClient(base_url=live_server.http_url) as http:
            started = await http.post(
                "/graphql",
                json={
                    "query": "mutation($id: ID!) { backupPolicyStart(input: {id: $id}) "
                    "{ session { id } } }",
                    "variables": {"id": gid("BackupPolicy", policy.id)},
                },
                headers={"Authorization": f"Bearer {token}"},
            )
        session_id = started.json()["data"]["backupPolicyStart"]["session"]["id"]
        subscription = (
            f'subscription Watch {{ sessionLog(sessionId: "{session_id}") {{\n'
            "  session { status progress }\n  records { sequence message }\n  cursor\n} }"
        )
        # Set the editor's text at once (CodeMirror's own API), then run it.
        await page.evaluate(
            "text => document.querySelector('.graphiql-query-editor .CodeMirror')"
            ".CodeMirror.setValue(text)",
            subscription,
        )
        # GraphiQL parses the text shortly after a change; it picks WebSocket for a subscription.
        await page.wait_for_function(
            "() => document.querySelector('.graphiql-query-editor .CodeMirror')"
            ".CodeMirror.documentAST?.definitions[0].operation === 'subscription'"
        )
        await page.click(".graphiql-execute-button")
        response = page.locator(".graphiql-response")
        shown: list[str] = []
        # Each event replaces the pane's content: note every content it shows until the end.
        async with asyncio.timeout(30):
            while '"status": "SUCCESS"' not in (shown or [""])[-1]:
                text = await response.inner_text()
                if not shown or text != shown[-1]:
                    shown.append(text)
                await asyncio.sleep(0.05)
        ARTIFACTS.mkdir(exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / "explorer-subscription.png"))
        await browser.close()

    # The pane showed the session running, then its last records as they arrived.
    assert any('"status": "RUNNING"' in text for text in shown), shown
    assert len([text for text in shown if '"sequence"' in text]) > 2, shown
    assert "Job finished at: " in shown[-1]
    assert '"progress": 100' in shown[-1]
    assert outside == []
