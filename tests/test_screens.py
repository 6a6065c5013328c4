"""The documents in screens/: each renders one screen of the portal with one request, is valid
against schema.graphql, runs against demo data without an error or an empty string standing
for an unknown value, and issues as many SQL statements for a long page as for a short one."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import graphql
import pytest

from tests.factories import token_for
from vdc_graph.db.models import PortalUser
from vdc_graph.demo import seed_demo

ROOT = Path(__file__).resolve().parent.parent
SCREENS = ROOT / "screens"
FILES = sorted(SCREENS.glob("*.graphql"))
SMALL, LARGE = 1, 8


def test_every_screen_of_the_guide_has_its_document():
    assert [f.stem for f in FILES] == [
        "account",
        "backup-sessions",
        "customer-detail",
        "customer-support",
        "customers",
        "dashboard",
        "flex-backups",
        "invitation-accept",
        "onboarding-wizard",
        "organizations",
        "roles",
        "service-status",
        "session-log",
        "system-notifications",
        "usage-report-detail",
        "usage-reports",
        "users",
    ]
    readme = (SCREENS / "README.md").read_text()
    assert all(f"`{f.name}`" in readme for f in FILES)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_each_screen_is_valid_and_one_request(path):
    schema = graphql.build_schema((ROOT / "schema.graphql").read_text())
    document = graphql.parse(path.read_text())
    assert graphql.validate(schema, document) == []
    kinds = [d.operation for d in document.definitions]  # type: ignore[attr-defined]
    # One query renders the screen; at most a subscription follows it for live data.
    assert kinds[0] is graphql.OperationType.QUERY
    assert kinds[1:] in ([], [graphql.OperationType.SUBSCRIPTION])


@pytest.fixture
async def admin_token(db, settings) -> str:
    await seed_demo(customers=10, seed=3)
    admin = await PortalUser.get(email="admin@demo.example")
    return token_for(settings, admin)


async def _first_id(api, token: str, query: str) -> str:
    data = await api.data(query, token=token)
    (connection,) = data.values()
    assert connection["nodes"], f"the demo data has none: {query}"
    return connection["nodes"][0]["id"]


async def _variables(api, token: str, stem: str) -> dict[str, Any]:
    """The IDs a screen is opened with, found the way a portal finds them."""
    if stem == "customer-detail":
        query = """{ customers(orderBy: {field: LICENSES_USED, direction: DESC}, first: 1) {
          nodes { id } } }"""
        return {"id": await _first_id(api, token, query)}
    if stem == "onboarding-wizard":
        query = "{ customers(filter: {contractTypes: [PENDING]}, first: 1) { nodes { id } } }"
        return {"id": await _first_id(api, token, query)}
    if stem == "session-log":
        query = "{ backupSessions(filter: {statuses: [WARNING]}, first: 1) { nodes { id } } }"
        return {"id": await _first_id(api, token, query)}
    if stem == "usage-report-detail":
        return {"id": await _first_id(api, token, "{ usageReports(first: 1) { nodes { id } } }")}
    return {}


def _empty_strings(value: Any, path: str = "") -> list[str]:
    if value == "":
        return [path]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _empty_strings(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [p for v in value for p in _empty_strings(v, f"{path}[]")]
    return []


def _rows(value: Any) -> int:
    """How many objects the answer holds: grows with the page size when the page does."""
    if isinstance(value, dict):
        return 1 + sum(_rows(v) for v in value.values())
    if isinstance(value, list):
        return sum(_rows(v) for v in value)
    return 0


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
async def test_each_screen_renders_from_demo_data(api, admin_token, caplog, path):
    text = path.read_text()
    document = graphql.parse(text)
    operation = document.definitions[0]
    name = operation.name.value  # type: ignore[attr-defined]
    pages = {v.variable.name.value for v in operation.variable_definitions or ()}  # type: ignore[attr-defined]
    variables = await _variables(api, admin_token, path.stem)
    anonymous = path.stem == "invitation-accept"

    async def render(first: int | None) -> tuple[dict, int]:
        extra = {"first": first} if first is not None else {}
        caplog.clear()
        with caplog.at_level(logging.DEBUG, logger="tortoise.db_client"):
            response = await api.http.post(
                "/graphql",
                json={"query": text, "operationName": name, "variables": variables | extra},
                headers={} if anonymous else {"Authorization": f"Bearer {admin_token}"},
            )
        body = response.json()
        assert response.status_code == 200, body
        assert "errors" not in body, body["errors"]
        statements = sum(
            1
            for r in caplog.records
            if r.name == "tortoise.db_client" and "SELECT" in r.getMessage().upper()
        )
        return body["data"], statements

    await render(SMALL if "first" in pages else None)  # the caller is cached from here on
    data, statements = await render(SMALL if "first" in pages else None)
    assert _empty_strings(data) == []
    if "first" in pages:
        larger, more_statements = await render(LARGE)
        assert _rows(larger) > _rows(data), "the demo data should fill a larger page"
        assert more_statements == statements
        assert _empty_strings(larger) == []


async def test_platform_is_the_only_query_open_without_a_token(api):
    open_query = "{ platform { regions { code displayName } legalAgreement { version } } }"
    response = await api.post(open_query)
    assert response.status_code == 200, response.text
    assert [r["code"] for r in response.json()["data"]["platform"]["regions"]] == [
        "AMER",
        "EMEA",
        "APJ",
    ]
    for query in (
        "{ platform { regions { code } } customers { totalCount } }",
        "{ viewer { permissions } }",
        "{ ...P } fragment P on Query { platform { regions { code } } }",
    ):
        refused = await api.post(query)
        assert refused.status_code == 401, (query, refused.text)
