"""Persisted documents: Apollo's automatic persisted queries and a manifest of trusted documents.

Both map a SHA-256 hash to a document before anything is parsed or executed:

- **APQ** (``extensions.persistedQuery = {"version": 1, "sha256Hash": …}``, POST or GET): a
  hash alone runs the document registered under it, or answers ``PERSISTED_QUERY_NOT_FOUND``
  (HTTP 200, as Apollo does, so clients send the document with its hash and register it). A
  document is registered only once it ran without a pre-execution error. The store is per
  process and bounded (entries and bytes, least recently used out first): a client that misses
  simply registers again.
- **Trusted documents** (``VDC_TRUSTED_DOCUMENTS``, a manifest file): hashes that always
  resolve. With ``VDC_TRUSTED_DOCUMENTS_ONLY`` nothing else runs, over HTTP or WebSocket
  (:func:`trusted_only_extension`), which closes arbitrary-query abuse for first-party clients.

Manifest formats: Apollo's ``{"format": "apollo-persisted-query-manifest", "version": 1,
"operations": [{"id", "name", "type", "body"}]}`` (what ``vdc-graph trusted-documents``
writes) or a plain ``{"<sha256>": "<document>"}`` map. Every hash is the SHA-256 of the exact
document text, checked when the manifest is loaded.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from vdc_graph.errors import ErrorCode
from vdc_graph.settings import Settings

NOT_FOUND = ErrorCode.PERSISTED_QUERY_NOT_FOUND
NOT_SUPPORTED = ErrorCode.PERSISTED_QUERY_NOT_SUPPORTED
NOT_IN_LIST = ErrorCode.PERSISTED_QUERY_NOT_IN_LIST
# Apollo's answer to a miss must not be cached by a proxy: the retry registers the document.
NO_CACHE = {"Cache-Control": "private, no-cache, must-revalidate"}
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def digest(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


class PersistedQueryRefused(Exception):
    def __init__(self, status: int, message: str, code: ErrorCode, headers: dict[str, str]) -> None:
        super().__init__(message)
        self.status, self.message, self.code, self.headers = status, message, code, headers


@dataclass(frozen=True)
class Resolved:
    query: str | None  # None: no persisted query; the request's own query stands
    register: str | None = None  # the hash to remember once the document ran


@lru_cache(maxsize=4)
def load_manifest(path: Path) -> dict[str, str]:
    """hash -> document, every hash checked against its document."""
    try:
        raw = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ValueError(f"VDC_TRUSTED_DOCUMENTS: cannot read {path}: {exc}") from exc
    if isinstance(raw, dict) and raw.get("format") == "apollo-persisted-query-manifest":
        pairs = [(o.get("id"), o.get("body")) for o in raw.get("operations", [])]
    elif isinstance(raw, dict):
        pairs = list(raw.items())
    else:
        raise ValueError(f"VDC_TRUSTED_DOCUMENTS: {path} is not a manifest")
    documents: dict[str, str] = {}
    for key, body in pairs:
        if not isinstance(body, str) or key != digest(body):
            raise ValueError(
                f"VDC_TRUSTED_DOCUMENTS: {path}: {key!r} is not the SHA-256 of its body"
            )
        documents[key] = body
    return documents


def build_manifest(paths: list[Path]) -> dict[str, Any]:
    """Apollo's manifest of the ``.graphql`` files under ``paths``: one document per file, its
    exact text (clients send the file as it is, choosing an operation by name)."""
    files = sorted({f for p in paths for f in ([p] if p.is_file() else p.rglob("*.graphql"))})
    return {
        "format": "apollo-persisted-query-manifest",
        "version": 1,
        "operations": [
            {"id": digest(text), "name": f.stem, "type": "document", "body": text}
            for f in files
            for text in [f.read_text()]
        ],
    }


def trusted_documents(settings: Settings) -> dict[str, str]:
    return load_manifest(settings.trusted_documents) if settings.trusted_documents else {}


class PersistedDocuments:
    """Resolves a request's persisted query; one per HTTP endpoint (so per process)."""

    def __init__(self, settings: Settings) -> None:
        self.trusted = trusted_documents(settings)
        self.only_trusted = settings.trusted_documents_only
        self.max_entries = settings.apq_max_entries
        self.max_bytes = settings.apq_max_bytes
        self._store: OrderedDict[str, str] = OrderedDict()
        self._bytes = 0

    def resolve(self, query: Any, extensions: Any) -> Resolved:
        persisted = extensions.get("persistedQuery") if isinstance(extensions, dict) else None
        if persisted is None:
            return Resolved(None)
        if not isinstance(persisted, dict) or persisted.get("version") != 1:
            raise PersistedQueryRefused(
                400, "Unsupported persisted query version", NOT_SUPPORTED, {}
            )
        wanted = persisted.get("sha256Hash")
        if not isinstance(wanted, str) or not _SHA256.match(wanted):
            raise PersistedQueryRefused(
                400, "persistedQuery.sha256Hash must be a lowercase hex SHA-256", NOT_SUPPORTED, {}
            )
        if isinstance(query, str) and query:
            if digest(query) != wanted:
                raise PersistedQueryRefused(
                    400, "provided sha does not match query", NOT_SUPPORTED, {}
                )
            known = wanted in self.trusted or self.only_trusted or self.max_entries <= 0
            return Resolved(query, None if known else wanted)
        found = self.trusted.get(wanted) or (None if self.only_trusted else self._get(wanted))
        if found is None:
            if self.only_trusted:
                raise PersistedQueryRefused(
                    400, "Only registered documents are accepted", NOT_IN_LIST, {}
                )
            if self.max_entries <= 0:
                raise PersistedQueryRefused(
                    200, "PersistedQueryNotSupported", NOT_SUPPORTED, NO_CACHE
                )
            raise PersistedQueryRefused(200, "PersistedQueryNotFound", NOT_FOUND, NO_CACHE)
        return Resolved(found)

    def remember(self, key: str, query: str) -> None:
        if key in self._store or len(query) > self.max_bytes:
            return
        self._store[key] = query
        self._bytes += len(query)
        while len(self._store) > self.max_entries or self._bytes > self.max_bytes:
            _, dropped = self._store.popitem(last=False)
            self._bytes -= len(dropped)

    def _get(self, key: str) -> str | None:
        found = self._store.get(key)
        if found is not None:
            self._store.move_to_end(key)
        return found


def trusted_only_extension(settings: Settings) -> type[SchemaExtension] | None:
    """With ``VDC_TRUSTED_DOCUMENTS_ONLY``, every operation (HTTP or WebSocket) must be one of
    the manifest's documents, checked before validation runs."""
    if not settings.trusted_documents_only:
        return None
    allowed = frozenset(trusted_documents(settings))

    class TrustedDocumentsOnly(SchemaExtension):
        def on_validate(self) -> Iterator[None]:
            ctx = self.execution_context
            if ctx.pre_execution_errors is None and digest(ctx.query or "") not in allowed:
                ctx.pre_execution_errors = [
                    GraphQLError(
                        "Only registered documents are accepted",
                        extensions={"code": NOT_IN_LIST.value},
                    )
                ]
            yield

    return TrustedDocumentsOnly
