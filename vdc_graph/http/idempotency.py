"""``Idempotency-Key``: a retried mutation gets the first response instead of acting twice.

The first request with a key stores a placeholder, runs, then stores its response; a retry
with the same key and body replays that response, with a different body it is refused, and
while the first still runs it is told to wait. Keys belong to their caller and live 24 hours.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from starlette.responses import JSONResponse, Response
from tortoise.exceptions import IntegrityError

from vdc_graph import clock
from vdc_graph.auth import Principal
from vdc_graph.db.models import IdempotencyRecord

KEY_LIFETIME = timedelta(hours=24)
MAX_KEY_LENGTH = 200
_RUNNING = {"running": True}


class IdempotencyConflict(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def caller_of(principal: Principal) -> str:
    if principal.api_key_id is not None:
        return f"api-key:{principal.api_key_id}"
    return f"user:{principal.user_id}"


def request_hash(params: dict[str, Any]) -> str:
    canonical = json.dumps(params, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def once(
    principal: Principal,
    key: str,
    params: dict[str, Any],
    run: Callable[[], Awaitable[Response]],
) -> Response:
    """The response for ``key``: replayed when known, else produced by ``run`` and kept."""
    if not key.strip() or len(key) > MAX_KEY_LENGTH:
        raise IdempotencyConflict(400, f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters")
    caller, digest = caller_of(principal), request_hash(params)
    await IdempotencyRecord.filter(
        caller=caller, key=key, created_at__lt=clock.now() - KEY_LIFETIME
    ).delete()
    try:
        record = await IdempotencyRecord.create(
            caller=caller, key=key, request_hash=digest, response=_RUNNING
        )
    except IntegrityError:
        return await _replay(caller, key, digest)
    try:
        response = await run()
    except BaseException:
        await record.delete()  # nothing was answered: the key may be used again
        raise
    body = json.loads(bytes(response.body)) if isinstance(response, JSONResponse) else None
    if _failed(response.status_code, body):
        await record.delete()  # a fault or a refusal to slow down: a retry must run again
        return response
    record.response = {
        "status": response.status_code,
        # A secret (an API key, a webhook's signing secret, a switch token) is shown once and
        # never stored: its replay says the response was not kept.
        "body": None if _carries_secret(body) else body,
        "media_type": response.media_type,
    }
    await record.save(update_fields=["response"])
    return response


_SECRET_FIELDS = frozenset({"secret", "token"})
_RETRYABLE_CODES = frozenset({"INTERNAL_SERVER_ERROR", "RATE_LIMITED", "TIMEOUT", "DATABASE_BUSY"})


def _failed(status: int, body: Any) -> bool:
    if status == 429 or status >= 500:
        return True
    errors = body.get("errors") if isinstance(body, dict) else None
    return any((e.get("extensions") or {}).get("code") in _RETRYABLE_CODES for e in errors or ())


def _carries_secret(value: Any) -> bool:
    if isinstance(value, dict):
        return any(
            (k in _SECRET_FIELDS and v is not None) or _carries_secret(v) for k, v in value.items()
        )
    if isinstance(value, list):
        return any(_carries_secret(v) for v in value)
    return False


async def _replay(caller: str, key: str, digest: str) -> Response:
    record = await IdempotencyRecord.get(caller=caller, key=key)
    if record.request_hash != digest:
        raise IdempotencyConflict(
            422, "This Idempotency-Key was used with a different request; use a new key"
        )
    if record.response == _RUNNING:
        raise IdempotencyConflict(
            409, "A request with this Idempotency-Key is still running; retry shortly"
        )
    stored = record.response
    if stored["body"] is None:
        raise IdempotencyConflict(
            409,
            "This Idempotency-Key was used; its response held a secret, which is shown "
            "only once and not kept",
        )
    return JSONResponse(
        stored["body"],
        status_code=stored["status"],
        media_type=stored["media_type"],
        headers={"Idempotent-Replayed": "true"},
    )


async def forget_expired() -> int:
    return await IdempotencyRecord.filter(created_at__lt=clock.now() - KEY_LIFETIME).delete()
