"""The explorer page: served by the server itself, working offline in a real browser."""

from __future__ import annotations

import asyncio
import gzip
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest

from tests.backup_support import connected_customer, gid, make_policy
from tests.factories import make_customer, make_provider, make_user, token_for
from vdc_graph.engine.simulator import SimulatorEngine
from vdc_graph.enums import Permission
from vdc_graph.http import explorer_assets, graphiql

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
    assert (await api.http.get("/graphql/explorer/manifest.json")).status_code == 404


async def test_the_page_and_assets_are_compressed_and_answered_304_when_unchanged(api):
    for path in ["/graphql", *(f"/graphql/explorer/{name}" for name in graphiql.ASSETS)]:
        html = {"Accept": "text/html"} if path == "/graphql" else {}
        first = await api.http.get(path, headers={**html, "Accept-Encoding": "gzip"})
        assert first.status_code == 200, path
        assert first.headers["content-encoding"] == "gzip", path
        assert first.headers["cache-control"] == "no-cache"
        assert int(first.headers["content-length"]) < len(first.content) or len(first.content) < 600
        etag = first.headers["etag"]
        again = await api.http.get(
            path, headers={**html, "Accept-Encoding": "gzip", "If-None-Match": etag}
        )
        assert again.status_code == 304 and again.content == b"", path
        assert again.headers["etag"] == etag
        # A client that takes no gzip gets the same bytes uncompressed.
        plain = await api.http.get(path, headers={**html, "Accept-Encoding": "identity"})
        assert "content-encoding" not in plain.headers and plain.content == first.content
        stale = await api.http.get(path, headers={**html, "If-None-Match": '"other"'})
        assert stale.status_code == 200


def test_the_vendored_scripts_match_the_lockfile():
    manifest = json.loads(explorer_assets.MANIFEST.read_text())
    lock = explorer_assets.sha256(explorer_assets.LOCKFILE.read_bytes())
    assert manifest["packageLock"] == lock, "package-lock.json changed: run ./dev explorer"
    assert sorted(manifest["files"]) == sorted(explorer_assets.SOURCES)
    for name, entry in manifest["files"].items():
        vendored = gzip.decompress((explorer_assets.VENDOR / f"{name}.gz").read_bytes())
        assert explorer_assets.sha256(vendored) == entry["sha256"], name


@pytest.mark.skipif(
    not explorer_assets.MODULES.is_dir(),
    reason="needs the npm packages: ./dev installs them with npm ci when npm is present",
)
def test_the_vendored_scripts_are_what_npm_installs_from_the_lockfile():
    installed = json.loads((explorer_assets.MODULES / ".package-lock.json").read_text())
    locked = json.loads(explorer_assets.LOCKFILE.read_text())
    for path, package in installed["packages"].items():
        assert locked["packages"][path]["version"] == package["version"], path
    for name, source in explorer_assets.SOURCES.items():
        vendored = gzip.decompress((explorer_assets.VENDOR / f"{name}.gz").read_bytes())
        assert vendored == (explorer_assets.MODULES / source).read_bytes(), (
            f"{name} differs from {source}: run ./dev explorer"
        )


async def test_missing_assets_are_explained(api, monkeypatch, tmp_path):
    monkeypatch.setitem(graphiql.ASSETS, "graphiql.min.js", tmp_path / "absent.js")
    page = await api.http.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 503
    assert "./dev explorer" in page.text


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
async def test_graphiql_shows_a_session_log_subscription_as_records_arrive(
    live_server, settings, monkeypatch
):
    """Signed through GraphiQL's headers pane (the token bar left empty), as the CLI says."""
    from playwright.async_api import async_playwright

    # The session waits in the queue until the pane shows it: however slow the browser, the
    # subscription starts before the run does, so the run is watched live.
    released = asyncio.Event()
    simulate = SimulatorEngine._simulate

    async def simulate_once_released(self, session, run):
        await released.wait()
        await simulate(self, session, run)

    monkeypatch.setattr(SimulatorEngine, "_simulate", simulate_once_released)
    settings.engine_step_seconds = 0.05  # a session of some seconds, watched live
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
        await page.wait_for_selector("text=no token")
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
        await set_editor(page, QUERY_EDITOR, subscription)
        # GraphiQL parses the text shortly after a change; it picks WebSocket for a subscription.
        await page.wait_for_function(
            f"() => document.querySelector('{QUERY_EDITOR}')"
            ".CodeMirror.documentAST?.definitions[0].operation === 'subscription'"
        )
        response = page.locator(".graphiql-response")

        # A token the server refuses: the socket's reason is on the page at once.
        await page.click(".graphiql-editor-tools button:has-text('Headers')")
        await set_editor(page, HEADERS_EDITOR, '{"Authorization": "Bearer not-a-token"}')
        await page.click(".graphiql-execute-button")
        await page.wait_for_selector("#token-state.refused", timeout=10000)
        refusal = await page.inner_text("#token-state")
        await response.get_by_text("Socket closed with event 4403").first.wait_for(timeout=10000)
        ARTIFACTS.mkdir(exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / "explorer-refused.png"))

        # The right token in the headers pane signs the subscription.
        await set_editor(page, HEADERS_EDITOR, f'{{"Authorization": "Bearer {token}"}}')
        await page.click(".graphiql-execute-button")
        async with asyncio.timeout(30):
            while '"status": "QUEUED"' not in await response.inner_text():
                await asyncio.sleep(0.05)
        released.set()
        shown: list[str] = []
        # Each event replaces the pane's content: note every content it shows until the end
        # (a generous deadline: the whole session runs in it on a machine that may be busy).
        async with asyncio.timeout(90):
            while '"status": "SUCCESS"' not in (shown or [""])[-1]:
                text = await response.inner_text()
                if not shown or text != shown[-1]:
                    shown.append(text)
                await asyncio.sleep(0.05)
        await page.screenshot(path=str(ARTIFACTS / "explorer-subscription.png"))
        await browser.close()

    assert refusal.startswith("subscription refused (4403): "), refusal
    assert "token" in refusal.lower(), refusal  # the server's reason, not a bare "Forbidden"
    # The pane showed the session running, then its last records as they arrived.
    assert any('"status": "RUNNING"' in text for text in shown), shown
    assert len([text for text in shown if '"sequence"' in text]) > 2, shown
    assert "Job finished at: " in shown[-1]
    assert '"progress": 100' in shown[-1]
    assert outside == []


QUERY_EDITOR = ".graphiql-query-editor .CodeMirror"
HEADERS_EDITOR = ".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror"


async def set_editor(page, selector: str, text: str) -> None:
    """Sets an editor's text at once (CodeMirror's own API)."""
    await page.wait_for_selector(selector)
    await page.evaluate(
        "([selector, text]) => document.querySelector(selector).CodeMirror.setValue(text)",
        [selector, text],
    )
