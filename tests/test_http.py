"""GraphQL over HTTP as the specification and API.md describe it: status codes, media types,
refusals before execution, masking of faults, and health checks."""

from __future__ import annotations

import pytest
from tortoise.connection import get_connection

from tests.factories import make_customer, make_provider, make_user, token_for
from vdc_graph.db.models import Customer
from vdc_graph.enums import Permission

GRAPHQL_RESPONSE = "application/graphql-response+json"
REGISTER = (
    'mutation { customerRegister(input: {displayName: "Via GET", externalId: "G-1", '
    "sourceType: DIRECT}) { created } }"
)


@pytest.fixture
async def admin(settings):
    provider = await make_provider()
    await make_customer(provider, display_name="Contoso")
    return token_for(settings, await make_user(provider, [Permission.CUSTOMER_MANAGEMENT]))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_request_without_a_token_is_401(api):
    response = await api.post("{ viewer { permissions } }")
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "data" not in response.json()


@pytest.mark.parametrize(
    "header", ["Bearer not-a-jwt", "Basic dXNlcjpwYXNz", "Bearer", "Bearer a.b.c"]
)
async def test_a_bad_token_is_401(api, header):
    response = await api.post("{ viewer { permissions } }", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_token_of_a_deleted_user_is_401(api, settings):
    provider = await make_provider()
    user = await make_user(provider, [])
    token = token_for(settings, user)
    await user.delete()
    response = await api.post("{ viewer { permissions } }", token=token)
    assert response.status_code == 401


async def test_post_answers_graphql_response_json_by_default(api, admin):
    response = await api.post("{ customers { totalCount } }", token=admin)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    body = response.json()
    assert body["data"] == {"customers": {"totalCount": 1}}
    assert "errors" not in body
    assert body["extensions"]["rateLimit"]["cost"] == 1
    assert response.headers["x-request-id"]


async def test_get_runs_queries(api, admin):
    response = await api.http.get(
        "/graphql", params={"query": "{ customers { totalCount } }"}, headers=bearer(admin)
    )
    assert response.status_code == 200
    assert response.json()["data"]["customers"]["totalCount"] == 1


async def test_a_mutation_over_get_is_405_and_changes_nothing(api, admin):
    response = await api.http.get("/graphql", params={"query": REGISTER}, headers=bearer(admin))
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert await Customer.filter(external_id="G-1").count() == 0
    # The same mutation over POST works, so the refusal was about the method alone.
    response = await api.post(REGISTER, token=admin)
    assert response.json()["data"]["customerRegister"]["created"] is True


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"],
)
async def test_csrf_prone_content_types_are_refused(api, admin, content_type):
    body = '{{"query": "{}"}}'.format(REGISTER.replace('"', '\\"'))
    response = await api.http.post(
        "/graphql", content=body, headers={**bearer(admin), "Content-Type": content_type}
    )
    assert response.status_code == 415
    assert await Customer.filter(external_id="G-1").count() == 0


async def test_validation_errors_are_400_with_graphql_response_json(api, admin):
    response = await api.post("{ customers { nodes { nope } } }", token=admin)
    assert response.status_code == 400
    body = response.json()
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_legacy_json_clients_get_200_for_validation_errors(api, admin):
    response = await api.post(
        "{ customers { nodes { nope } } }", token=admin, headers={"Accept": "application/json"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["errors"]


async def test_unparsable_documents_and_bodies_are_400(api, admin):
    assert (await api.post("{ customers {", token=admin)).status_code == 400
    response = await api.http.post(
        "/graphql",
        content=b"{not json",
        headers={**bearer(admin), "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    response = await api.http.post(
        "/graphql", json=[{"query": "{ viewer { permissions } }"}], headers=bearer(admin)
    )
    assert response.status_code == 400
    assert "Batched" in response.json()["errors"][0]["message"]


async def test_variable_coercion_failure_is_400(api, admin):
    response = await api.post(
        "query($n: Int) { customers(first: $n) { totalCount } }", {"n": "ten"}, token=admin
    )
    assert response.status_code == 400


async def test_an_unacceptable_accept_header_is_406(api, admin):
    response = await api.post(
        "{ customers { totalCount } }", token=admin, headers={"Accept": "text/csv"}
    )
    assert response.status_code == 406


async def test_an_internal_error_is_masked_with_a_request_id(api, admin, caplog):
    # A real fault: the table the query needs has gone.
    await get_connection("default").execute_script('DROP TABLE "customer_admin_user"')
    query = "{ customers { nodes { displayName adminUsers { email } } } }"
    response = await api.post(query, token=admin)
    body = response.json()
    error = body["errors"][0]
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert error["extensions"]["requestId"] == response.headers["x-request-id"]
    text = response.text.lower()
    for leak in ("traceback", "customer_admin_user", "select", "sqlite", "postgres", ".py"):
        assert leak not in text, leak
    assert any(response.headers["x-request-id"] in r.getMessage() for r in caplog.records)


# --- limits: answered before anything runs -------------------------------------------------


async def test_too_deep_a_query_is_refused(api, admin, settings):
    settings.max_depth = 3
    response = await api.post("{ customers { nodes { onboarding { step } } } }", token=admin)
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert "4 levels deep" in error["message"]


async def test_too_many_aliases_are_refused(api, admin, settings):
    aliases = " ".join(f"a{i}: viewer {{ permissions }}" for i in range(settings.max_aliases + 1))
    response = await api.post(f"{{ {aliases} }}", token=admin)
    assert response.json()["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"


async def test_a_node_budget_counts_nested_connections_with_variables(api, admin, settings):
    settings.max_nodes = 150
    query = "query($n: Int) { customers(first: $n) { totalCount } }"
    assert (await api.post(query, {"n": 100}, token=admin)).status_code == 200
    response = await api.post(
        "query($n: Int) { a: customers(first: $n) { totalCount } "
        "b: customers(first: $n) { totalCount } }",
        {"n": 100},
        token=admin,
    )
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert error["extensions"]["cost"] == 200


async def test_too_many_tokens_and_too_large_documents_are_refused(api, admin, settings):
    settings.max_tokens = 50
    fields = " ".join(["totalCount"] * 60)
    response = await api.post(f"{{ customers {{ {fields} }} }}", token=admin)
    assert response.json()["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    settings.max_document_bytes = 100
    response = await api.post("{ customers { totalCount } }" + " " * 100, token=admin)
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"


async def test_introspection_works_for_signed_in_developers(api, admin):
    data = await api.data("{ __schema { queryType { name } } }", token=admin)
    assert data["__schema"]["queryType"]["name"] == "Query"


async def test_health_checks(api):
    assert (await api.http.get("/healthz")).json() == {"status": "ok"}
    ready = await api.http.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "database": "reachable", "broker": "connected"}


async def test_the_rate_limit_spends_cost_points_and_refills(api, settings):
    from datetime import UTC, datetime, timedelta

    from vdc_graph import clock

    now = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
    clock.set_clock(lambda: now)
    provider = await make_provider()
    token = token_for(
        settings,
        await make_user(provider, [Permission.CUSTOMER_MANAGEMENT]),
        expires_in=timedelta(days=1),
    )
    settings.rate_limit_points_per_hour = 25
    query = await api.post("{ customers(first: 100) { totalCount } }", token=token)
    assert query.json()["extensions"]["rateLimit"] == {
        "cost": 1,
        "remaining": 24,
        "limit": 25,
        "resetAt": "2025-03-01T09:02:24Z",
    }
    # The same budget in the response's headers (IETF fields and the common trio).
    assert query.headers["ratelimit-policy"] == '"points";q=25;w=3600'
    assert query.headers["ratelimit"] == '"points";r=24;t=144'
    assert query.headers["x-ratelimit-limit"] == "25"
    assert query.headers["x-ratelimit-remaining"] == "24"
    assert query.headers["x-ratelimit-reset"] == str(int(now.timestamp()) + 144)
    assert "retry-after" not in query.headers

    def register(n: int) -> str:
        return (
            f'mutation {{ customerRegister(input: {{displayName: "C{n}", externalId: "E{n}", '
            "sourceType: DIRECT}) { created } }"
        )

    assert (await api.post(register(1), token=token)).status_code == 200
    assert (await api.post(register(2), token=token)).status_code == 200
    refused = await api.post(register(3), token=token)
    assert refused.status_code == 429
    assert refused.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    # 4 points remain, the mutation costs 10: 6 points refill in 6 * 3600 / 25 s.
    assert refused.headers["x-ratelimit-remaining"] == "4"
    assert refused.headers["retry-after"] == "864"
    assert await Customer.filter(external_id="E3").count() == 0
    now += timedelta(hours=1)
    assert (await api.post(register(3), token=token)).status_code == 200


async def test_a_request_over_its_time_limit_is_answered_timeout(api, admin, settings):
    settings.request_timeout_seconds = 0.000001
    response = await api.post(
        "{ customers(first: 100) { totalCount nodes { displayName } } }", token=admin
    )
    assert response.status_code == 504
    assert response.json()["errors"][0]["extensions"]["code"] == "TIMEOUT"
