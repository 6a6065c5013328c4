"""Rate-limit response headers, from the budget a request reports in ``extensions.rateLimit``.

Read from that one report (cost, remaining, limit, resetAt), whichever limiter produced it:
- ``RateLimit-Policy: "points";q=<limit>;w=3600`` and ``RateLimit: "points";r=<remaining>;
  t=<seconds until whole>`` (the IETF HTTPAPI fields);
- ``X-RateLimit-Limit``, ``X-RateLimit-Remaining``, ``X-RateLimit-Reset`` (Unix time) for
  clients that know the common trio;
- on a refusal (429), ``Retry-After``: the seconds until the request's cost has refilled.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from vdc_graph import clock

WINDOW_SECONDS = 3600  # the budget is points per hour


def rate_limit_headers(extensions: Mapping[str, Any] | None, *, refused: bool) -> dict[str, str]:
    report = (extensions or {}).get("rateLimit")
    if not report:
        return {}
    limit, remaining, cost = int(report["limit"]), int(report["remaining"]), int(report["cost"])
    reset_at = datetime.fromisoformat(report["resetAt"].replace("Z", "+00:00"))
    until_whole = max(0, math.ceil((reset_at - clock.now()).total_seconds()))
    headers = {
        "RateLimit-Policy": f'"points";q={limit};w={WINDOW_SECONDS}',
        "RateLimit": f'"points";r={remaining};t={until_whole}',
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": str(math.ceil(reset_at.timestamp())),
    }
    if refused and limit:
        missing = max(cost - remaining, 0)
        headers["Retry-After"] = str(max(1, math.ceil(missing * WINDOW_SECONDS / limit)))
    return headers
