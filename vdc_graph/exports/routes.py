"""The download routes, each an ``Export`` behind the bearer token."""

from __future__ import annotations

from starlette.routing import Route

from vdc_graph.auth import Authenticator
from vdc_graph.settings import Settings

from .audit import audit_log_csv
from .customers import customers_csv
from .http import Export, export_endpoint
from .licensed_users import licensed_users_csv
from .sessions import session_log_csv, sessions_zip
from .usage import usage_report_csv

# path -> export; each download registers itself here.
EXPORTS: dict[str, Export] = {
    "/exports/customers.csv": customers_csv,
    "/exports/licensed-users.csv": licensed_users_csv,
    "/exports/session-log.csv": session_log_csv,
    "/exports/sessions.zip": sessions_zip,
    "/exports/audit-log.csv": audit_log_csv,
    "/exports/usage-report.csv": usage_report_csv,
}


def export_routes(settings: Settings, authenticator: Authenticator) -> list[Route]:
    return [
        Route(path, export_endpoint(export, settings, authenticator), methods=["GET"])
        for path, export in EXPORTS.items()
    ]
