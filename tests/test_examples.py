"""The ready-to-run operations in examples/: each one is valid against the schema, says what it
does and which variables it needs, and does what it says when run against the API."""

from __future__ import annotations

import io
import itertools
import zipfile
from datetime import timedelta
from pathlib import Path

import graphql
import httpx
import pytest
from gql import Client, GraphQLRequest, gql
from gql.transport.websockets import WebsocketsTransport

from tests.backup_support import connected_customer, ended, fast_settings, gid, make_policy
from tests.factories import make_customer, make_provider, make_user, token_for
from vdc_graph import clock
from vdc_graph.db.models import BackupSession, Onboarding, SessionLogRecord
from vdc_graph.enums import ContractType, Permission
from vdc_graph.usage_reports import generate_report

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
FILES = sorted(EXAMPLES.glob("*.graphql"))


@pytest.fixture
def settings(tmp_path):
    return fast_settings(tmp_path, engine_step_seconds=0.01)


def example(name: str) -> str:
    return (EXAMPLES / name).read_text()


async def run(api, name: str, operation: str, variables: dict, token: str) -> dict:
    """Runs one operation of an example file, sent as the whole file with its operationName."""
    response = await api.http.post(
        "/graphql",
        json={"query": example(name), "operationName": operation, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
    )
    body = response.json()
    assert response.status_code == 200, body
    assert "errors" not in body, body["errors"]
    return body["data"]


def test_there_is_an_example_for_each_main_task():
    assert [f.name for f in FILES] == [
        "export-sessions.graphql",
        "invite-customer.graphql",
        "list-customers.graphql",
        "onboard-customer.graphql",
        "start-policy-and-watch.graphql",
        "submit-usage-report.graphql",
    ]
    readme = (EXAMPLES / "README.md").read_text()
    assert all(f.name in readme for f in FILES)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_each_example_is_valid_and_explains_itself(path):
    schema = graphql.build_schema((ROOT / "schema.graphql").read_text())
    text = path.read_text()
    document = graphql.parse(text)
    assert graphql.validate(schema, document) == []
    header = "\n".join(itertools.takewhile(lambda line: line.startswith("#"), text.splitlines()))
    assert header.count("\n") > 2 and "Variables" in header and "Needs:" in header, header
    for operation in document.definitions:
        assert isinstance(operation, graphql.OperationDefinitionNode)
        # Named, so a client can pick it; the header names it and explains its variables.
        assert operation.name and operation.name.value
        if len(document.definitions) > 1:
            assert operation.name.value in header
        for variable in operation.variable_definitions or ():
            assert variable.variable.name.value in header, variable.variable.name.value


async def test_list_customers(api, settings):
    provider = await make_provider()
    for name in ("Contoso", "Fabrikam", "Contoso Europe"):
        await make_customer(provider, display_name=name)
    await make_customer(await make_provider("Other"), display_name="Contoso Elsewhere")
    token = token_for(settings, await make_user(provider, []))
    page = (await run(api, "list-customers.graphql", "ListCustomers", {}, token))["customers"]
    assert page["totalCount"] == 3
    assert [n["displayName"] for n in page["nodes"]] == ["Contoso", "Contoso Europe", "Fabrikam"]
    found = await run(
        api, "list-customers.graphql", "ListCustomers", {"search": "contoso", "first": 1}, token
    )
    assert found["customers"]["totalCount"] == 2
    assert found["customers"]["nodes"][0]["displayName"] == "Contoso"
    rest = await run(
        api,
        "list-customers.graphql",
        "ListCustomers",
        {"search": "contoso", "after": found["customers"]["pageInfo"]["endCursor"]},
        token,
    )
    assert [n["displayName"] for n in rest["customers"]["nodes"]] == ["Contoso Europe"]


async def test_onboard_a_customer(api, settings):
    provider = await make_provider()
    token = token_for(settings, await make_user(provider, [Permission.CUSTOMER_MANAGEMENT]))
    name = "onboard-customer.graphql"

    async def step(operation: str, variables: dict) -> dict:
        (result,) = (await run(api, name, operation, variables, token)).values()
        assert result["userErrors"] == [], result["userErrors"]
        return result

    registered = await step(
        "RegisterCustomer",
        {"displayName": "Contoso", "externalId": "SUB-1", "sourceType": "DIRECT"},
    )
    customer = registered["customer"]
    assert customer["contractType"] == "PENDING"
    assert customer["onboarding"]["step"] == "LEGAL_AGREEMENT"
    cid = customer["id"]
    accepted = await step("AcceptLegalAgreement", {"customerId": cid})
    assert accepted["customer"]["onboarding"]["step"] == "CONNECT_TENANT"
    connected = await step(
        "ConnectTenant", {"customerId": cid, "region": "EMEA", "retentionYears": 7}
    )
    onboarding = connected["customer"]["onboarding"]
    assert onboarding["step"] == "AWAITING_DEVICE_LOGIN"
    assert onboarding["deviceLogin"]["userCode"]
    waiting = await step("CheckDeviceLogin", {"customerId": cid})
    assert waiting["customer"]["onboarding"]["step"] == "AWAITING_DEVICE_LOGIN"
    await step("SimulateDeviceLogin", {"customerId": cid, "tenantDomain": "contoso.example"})
    checked = await step("CheckDeviceLogin", {"customerId": cid})
    assert checked["customer"]["onboarding"]["step"] == "TENANT_CONNECTED"
    assert checked["customer"]["microsoftTenantId"]
    finished = await step("FinishOnboarding", {"customerId": cid, "applyRecommendedPolicies": True})
    assert finished["policiesCreated"] == 3  # one per service
    assert finished["customer"]["contractType"] == "MONTH_TO_MONTH"
    assert finished["customer"]["onboarding"]["step"] == "FINISHED"


async def test_invite_a_customer(api, settings):
    provider = await make_provider()
    customer = await make_customer(provider, contract_type=ContractType.PENDING)
    await Onboarding.create(customer=customer)
    token = token_for(settings, await make_user(provider, [Permission.CUSTOMER_MANAGEMENT]))
    variables = {
        "customerId": gid("Customer", customer.id),
        "emails": "it@contoso.com; admin@contoso.com",
    }
    result = (await run(api, "invite-customer.graphql", "InviteCustomer", variables, token))[
        "customerInvite"
    ]
    assert result["userErrors"] == []
    assert [(i["email"], i["sendCount"]) for i in result["invitations"]] == [
        ("it@contoso.com", 1),
        ("admin@contoso.com", 1),
    ]
    again = await run(
        api,
        "invite-customer.graphql",
        "InviteCustomer",
        {**variables, "emails": "it@contoso.com"},
        token,
    )
    assert again["customerInvite"]["invitations"][0]["sendCount"] == 2


async def test_start_a_policy_and_watch_its_log(live_server, settings):
    provider = await make_provider()
    customer = await connected_customer(provider)
    policy = await make_policy(customer, "Daily")
    token = token_for(settings, await make_user(provider, [Permission.BACKUP_MANAGEMENT]))
    text = example("start-policy-and-watch.graphql")

    async def query(operation: str, variables: dict) -> dict:
        async with httpx.AsyncClient(base_url=live_server.http_url) as http:
            response = await http.post(
                "/graphql",
                json={"query": text, "operationName": operation, "variables": variables},
                headers={"Authorization": f"Bearer {token}"},
            )
        body = response.json()
        assert "errors" not in body, body
        return body["data"]

    policies = await query("CustomerPolicies", {"customerId": gid("Customer", customer.id)})
    assert [p["name"] for p in policies["backupPolicies"]["nodes"]] == ["Daily"]
    policy_id = policies["backupPolicies"]["nodes"][0]["id"]
    assert policy_id == gid("BackupPolicy", policy.id)
    started = (await query("StartPolicy", {"policyId": policy_id}))["backupPolicyStart"]
    assert started["userErrors"] == [] and started["session"]["status"] == "QUEUED"
    session_id = started["session"]["id"]

    transport = WebsocketsTransport(
        url=live_server.ws_url,
        init_payload={"authorization": f"Bearer {token}"},
        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
    )
    events = []
    async with Client(transport=transport) as session:
        request = GraphQLRequest(
            gql(text), variable_values={"sessionId": session_id}, operation_name="WatchSessionLog"
        )
        async for event in session.subscribe(request):  # ends when the session has ended
            events.append(event["sessionLog"])
    stored = await SessionLogRecord.filter(
        session_id=(await BackupSession.get(policy_id=policy.id)).id
    ).order_by("seq")
    records = [r for e in events for r in e["records"]]
    assert [(r["sequence"], r["message"]) for r in records] == [(r.seq, r.message) for r in stored]
    assert events[-1]["session"]["status"] == "SUCCESS"
    assert records[-1]["message"].startswith("Job finished at: ")


async def test_export_sessions(api, settings):
    provider = await make_provider()
    customer = await connected_customer(provider, display_name="Contoso")
    await connected_customer(provider, display_name="Fabrikam")
    policy = await make_policy(customer, "Daily")
    token = token_for(settings, await make_user(provider, [Permission.BACKUP_MANAGEMENT]))
    start = await api.data(
        "mutation($id: ID!) { backupPolicyStart(input: {id: $id}) { session { id } } }",
        {"id": gid("BackupPolicy", policy.id)},
        token=token,
    )
    session = await ended((await BackupSession.get(policy_id=policy.id)).id)
    name = "export-sessions.graphql"
    found = await run(api, name, "FindCustomer", {"search": "contoso"}, token)
    assert [c["displayName"] for c in found["customers"]["nodes"]] == ["Contoso"]
    customer_id = found["customers"]["nodes"][0]["id"]
    today = clock.now().date()
    month_start = today.replace(day=1)
    next_month = (month_start + timedelta(days=32)).replace(day=1)
    sessions = await run(
        api,
        name,
        "CustomerSessions",
        {
            "customerId": customer_id,
            "from": f"{month_start}T00:00:00Z",
            "to": f"{next_month}T00:00:00Z",
        },
        token,
    )
    listed = sessions["backupSessions"]["nodes"]
    assert [s["id"] for s in listed] == [start["backupPolicyStart"]["session"]["id"]]
    assert listed[0]["status"] == "SUCCESS" and listed[0]["policyName"] == "Daily"
    # The downloads the README names, with the ids the queries found.
    headers = {"Authorization": f"Bearer {token}"}
    archive = await api.http.get(
        "/exports/sessions.zip",
        params={"customerId": customer_id, "month": f"{today:%Y-%m}"},
        headers=headers,
    )
    assert archive.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(archive.content)).namelist()
    assert "sessions.csv" in names and len(names) == 2
    log = await api.http.get(
        "/exports/session-log.csv", params={"sessionId": listed[0]["id"]}, headers=headers
    )
    assert log.status_code == 200
    lines = log.text.strip().splitlines()
    assert len(lines) == 1 + await SessionLogRecord.filter(session_id=session.id).count()


async def test_submit_a_usage_report(api, settings):
    provider = await make_provider(rental_agreement_number="RA-1", minimum_commit_points=100)
    last_month = (clock.now().date().replace(day=1) - timedelta(days=1)).replace(day=1)
    report = await generate_report(provider.id, last_month)
    token = token_for(settings, await make_user(provider, [Permission.SITE_SETTINGS]))
    name = "submit-usage-report.graphql"
    waiting = (await run(api, name, "UsageReportsToSubmit", {}, token))["usageReports"]["nodes"]
    assert [(r["id"], r["status"]) for r in waiting] == [
        (gid("UsageReport", report.id), "PENDING_REVIEW")
    ]
    assert waiting[0]["month"] == f"{last_month:%Y-%m}"
    assert waiting[0]["totals"]["totalPoints"] == "100.0"
    submitted = await run(
        api,
        name,
        "SubmitUsageReport",
        {"reportId": waiting[0]["id"], "purchaseOrderNumber": "PO-42"},
        token,
    )
    assert submitted["usageReportSubmit"]["userErrors"] == []
    assert submitted["usageReportSubmit"]["usageReport"]["status"] == "SAVED"
    assert submitted["usageReportSubmit"]["usageReport"]["purchaseOrderNumber"] == "PO-42"
    confirmed = await run(api, name, "ConfirmUsageReport", {"reportId": waiting[0]["id"]}, token)
    assert confirmed["usageReportConfirm"]["usageReport"]["status"] == "CONFIRMED"
    left = await run(api, name, "UsageReportsToSubmit", {}, token)
    assert left["usageReports"]["nodes"] == []
