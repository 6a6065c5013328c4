"""The explorer's third-party scripts, vendored into the package compressed.

They come from the npm registry, pinned by ``explorer/package-lock.json`` (``npm ci`` installs
them into ``explorer/node_modules``); ``python -m vdc_graph.http.explorer_assets`` (run by
``./dev explorer``) copies them gzip-compressed into ``explorer/vendor/`` with a manifest naming
the lockfile's hash. They are committed, so the wheel and the sdist carry a working explorer
and neither an install nor a build needs Node.js; a test proves they still match the lockfile.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path

EXPLORER = Path(__file__).parent / "explorer"
MODULES = EXPLORER / "node_modules"
VENDOR = EXPLORER / "vendor"
MANIFEST = VENDOR / "manifest.json"
LOCKFILE = EXPLORER / "package-lock.json"

# Served name -> the file npm installs.
SOURCES: dict[str, str] = {
    "graphiql.min.js": "graphiql/graphiql.min.js",
    "graphiql.min.css": "graphiql/graphiql.min.css",
    "plugin-explorer.umd.js": "@graphiql/plugin-explorer/dist/index.umd.js",
    "plugin-explorer.css": "@graphiql/plugin-explorer/dist/style.css",
    "graphql-ws.min.js": "graphql-ws/umd/graphql-ws.min.js",
    "react.production.min.js": "react/umd/react.production.min.js",
    "react-dom.production.min.js": "react-dom/umd/react-dom.production.min.js",
}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def compress(data: bytes) -> bytes:
    # mtime=0: the same input always gives the same bytes, so a rebuild changes nothing.
    return gzip.compress(data, compresslevel=9, mtime=0)


def build() -> dict[str, object]:
    """Writes the vendored files and their manifest from node_modules; returns the manifest."""
    missing = [path for path in SOURCES.values() if not (MODULES / path).is_file()]
    if missing:
        raise SystemExit(
            f"not installed: {', '.join(missing)}; run `npm ci --prefix {EXPLORER}` first"
        )
    VENDOR.mkdir(exist_ok=True)
    files = {}
    for name, path in SOURCES.items():
        data = (MODULES / path).read_bytes()
        (VENDOR / f"{name}.gz").write_bytes(compress(data))
        files[name] = {"source": path, "sha256": sha256(data), "bytes": len(data)}
    manifest = {"packageLock": sha256(LOCKFILE.read_bytes()), "files": files}
    MANIFEST.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest


if __name__ == "__main__":
    built = build()
    print(f"vendored {len(built['files'])} explorer files into {VENDOR}")  # type: ignore[arg-type]
