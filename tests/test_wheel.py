"""The package as a user installs it: sdist and wheel built, the wheel installed into a fresh
virtual environment (no checkout, no Node.js), its server serving the explorer."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import httpx

from tests.test_cli import free_port, stop, wait_until_healthy
from tests.test_explorer import References
from vdc_graph.http import explorer_assets

ROOT = Path(__file__).resolve().parent.parent
UV = Path(sys.executable).parent / "uv"


def uv(*args: str, cwd: Path) -> None:
    subprocess.run([str(UV), *args], cwd=cwd, check=True, timeout=600, capture_output=True)


def expected_bytes(url: str) -> bytes:
    name = url.rsplit("/", 1)[1]
    if name in explorer_assets.SOURCES:
        return gzip.decompress((explorer_assets.VENDOR / f"{name}.gz").read_bytes())
    return (explorer_assets.EXPLORER / name).read_bytes()


def test_the_installed_wheel_serves_graphiql_and_its_assets(tmp_path):
    # The sdist first, then the wheel from it: both must carry the explorer.
    uv("build", "--quiet", "--out-dir", str(tmp_path / "dist"), str(ROOT), cwd=tmp_path)
    wheel = next((tmp_path / "dist").glob("vdc_graph-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "vdc_graph/http/explorer/vendor/graphiql.min.js.gz" in names
    assert not [n for n in names if "node_modules" in n]

    venv = tmp_path / "venv"
    uv("venv", "--quiet", "--python", sys.executable, str(venv), cwd=tmp_path)
    uv(
        "pip", "install", "--quiet", "--python", str(venv / "bin/python"),
        "-c", str(ROOT / "requirements.lock"), str(wheel),
        cwd=tmp_path,
    )  # fmt: skip

    home = tmp_path / "home"  # a working folder outside any checkout
    home.mkdir()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("VDC_")}
    env = {
        **clean,
        "PATH": f"{venv / 'bin'}:/usr/bin:/bin",  # no Node.js, no project venv
        "VDC_DATABASE_URL": f"sqlite://{home}/vdc.db",
        "VDC_STATE_DIR": str(home / "state"),
    }
    where = subprocess.run(
        [str(venv / "bin/python"), "-c", "import vdc_graph; print(vdc_graph.__file__)"],
        env=env, cwd=home, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert where.stdout.startswith(str(venv)), where.stdout
    cli = str(venv / "bin/vdc-graph")
    subprocess.run([cli, "migrate"], env=env, cwd=home, check=True, timeout=120)
    port = free_port()
    server = subprocess.Popen(
        [cli, "serve", "--port", str(port)],
        env=env, cwd=home, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        wait_until_healthy(port, server)
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=30) as http:
            page = http.get("/graphql", headers={"Accept": "text/html"})
            assert page.status_code == 200 and '<div id="graphiql">' in page.text
            assert page.headers["content-encoding"] == "gzip"
            refs = References()
            refs.feed(page.text)
            assets = [u for u in refs.urls if u.startswith("/graphql/explorer/")]
            assert len(assets) == len(explorer_assets.SOURCES) + 2  # + our script and style
            for url in assets:
                response = http.get(url)
                assert response.status_code == 200, url
                assert response.headers["content-encoding"] == "gzip", url
                assert response.content == expected_bytes(url), url
                again = http.get(url, headers={"If-None-Match": response.headers["etag"]})
                assert again.status_code == 304, url
    finally:
        stop(server)
