"""Media types of GraphQL over HTTP: what a request may send and what it accepts back."""

from __future__ import annotations

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
# Only JSON bodies are taken, so the content types a browser form can send without a preflight
# (text/plain, form-urlencoded, multipart) are refused: no page on another site can make a
# signed-in browser run a mutation (CSRF).


def media_type(header: str | None) -> str:
    return (header or "").split(";", 1)[0].strip().lower()


def _accepted(header: str) -> list[tuple[str, float]]:
    result = []
    for part in header.split(","):
        pieces = [p.strip() for p in part.split(";")]
        if not pieces[0]:
            continue
        quality = 1.0
        for param in pieces[1:]:
            if param.startswith("q="):
                try:
                    quality = float(param[2:])
                except ValueError:
                    quality = 0.0
        result.append((pieces[0].lower(), quality))
    return result


def response_type(accept: str | None) -> str | None:
    """The response media type for an ``Accept`` header; None when nothing acceptable."""
    if not accept or not accept.strip():
        return GRAPHQL_RESPONSE
    best: tuple[float, int, str] | None = None
    # Preference order on equal quality: the GraphQL media type, then legacy JSON.
    for rank, (candidate, matches) in enumerate(
        (
            (GRAPHQL_RESPONSE, (GRAPHQL_RESPONSE, "application/*", "*/*")),
            (JSON, (JSON, "application/*", "*/*")),
        )
    ):
        for offered, quality in _accepted(accept):
            if offered in matches and quality > 0:
                key = (quality, -rank, candidate)
                if best is None or key > best:
                    best = key
    return best[2] if best else None


def wants_html(accept: str | None) -> bool:
    return any(t == "text/html" for t, q in _accepted(accept or "") if q > 0)
