"""Parsed and validated documents, kept by their text: a client repeats the same few documents
with new variables, so each is parsed and validated once, not on every request.

The cache is bounded (least recently used first out), so unique texts cannot grow memory, and
keyed by the document's text alone: however a document arrives (sent whole, or looked up from a
persisted hash), the same text finds the same entry. Only documents that parse are kept.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from graphql import DocumentNode, GraphQLError, OperationDefinitionNode, parse

DEFAULT_MAXSIZE = 512


@dataclass
class CachedDocument:
    document: DocumentNode
    # Set once the document passed validation, which depends only on the text and the schema,
    # never on variables or the caller (a document that fails is validated again each time:
    # its errors are answers, built afresh for each request).
    valid: bool = False
    operations: list[OperationDefinitionNode] = field(default_factory=list)

    def operation(self, name: str | None) -> OperationDefinitionNode | None:
        """The operation a request with ``operationName`` ``name`` runs, when there is one."""
        chosen = [o for o in self.operations if name is None or (o.name and o.name.value == name)]
        return chosen[0] if len(chosen) == 1 else None


class DocumentCache:
    def __init__(self, maxsize: int = DEFAULT_MAXSIZE) -> None:
        self.maxsize = maxsize
        self._entries: OrderedDict[str, CachedDocument] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def peek(self, query: str) -> CachedDocument | None:
        return self._entries.get(query)

    def get(self, query: str, max_tokens: int) -> CachedDocument:
        """The parsed document of ``query``; raises the GraphQLError of a document that does not
        parse (within ``max_tokens``). A cached document was parsed within the same limit,
        since the limit is fixed for the process."""
        entry = self._entries.get(query)
        if entry is not None:
            self._entries.move_to_end(query)
            return entry
        document = parse(query, max_tokens=max_tokens)
        entry = CachedDocument(
            document,
            operations=[d for d in document.definitions if isinstance(d, OperationDefinitionNode)],
        )
        self._entries[query] = entry
        if len(self._entries) > self.maxsize:
            self._entries.popitem(last=False)
        return entry

    @staticmethod
    def validated(
        entry: CachedDocument, validate: Callable[[DocumentNode], list[GraphQLError]]
    ) -> list[GraphQLError]:
        if entry.valid:
            return []
        errors = validate(entry.document)
        entry.valid = not errors
        return errors
