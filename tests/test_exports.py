"""Downloads: streamed CSV behind the bearer token, scoped like the API."""

from __future__ import annotations

import csv
import io

from tests.factories import make_customer, make_provider, make_user, token_for
from vdc_graph.enums import ContractType, SourceType


def read_csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


async def test_customers_csv_lists_every_property_of_the_callers_customers(api, settings):
    provider = await make_provider()
    other = await make_provider("Other")
    await make_customer(other, display_name="Not mine")
    for i in range(230):  # more than one internal page
        await make_customer(
            provider,
            display_name=f"Customer {i:03d}",
            licenses_used=i,
            source_type=SourceType.CLOUDBLUE if i % 2 else SourceType.DIRECT,
            contract_type=ContractType.TRIAL,
        )
    token = token_for(settings, await make_user(provider, []))
    response = await api.http.get(
        "/exports/customers.csv", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "customers.csv" in response.headers["content-disposition"]
    rows = read_csv(response.text)
    assert rows[0][:4] == ["ID", "Display name", "M365 account", "Microsoft tenant ID"]
    assert len(rows) == 231
    assert [r[1] for r in rows[1:]] == [f"Customer {i:03d}" for i in range(230)]
    # Customers are named by the API's global ID, as customer(id:) takes it.
    seen = await api.data(
        "query($id: ID!) { customer(id: $id) { displayName } }", {"id": rows[1][0]}, token=token
    )
    assert seen["customer"]["displayName"] == "Customer 000"
    assert "Not mine" not in response.text
    header = rows[0]
    first = dict(zip(header, rows[1], strict=True))
    assert first["Contract type"] == "TRIAL" and first["Licenses used"] == "0"

    filtered = await api.http.get(
        "/exports/customers.csv",
        params={"sourceTypes": "CLOUDBLUE", "search": "customer 00"},
        headers={"Authorization": f"Bearer {token}"},
    )
    names = [r[1] for r in read_csv(filtered.text)[1:]]
    assert names == [f"Customer {i:03d}" for i in range(1, 10, 2)]


async def test_customers_csv_refuses_without_rights(api, settings):
    provider = await make_provider()
    await make_customer(provider)
    assert (await api.http.get("/exports/customers.csv")).status_code == 401
    bad = await api.http.get("/exports/customers.csv", headers={"Authorization": "Bearer x"})
    assert bad.status_code == 401
    nobody = token_for(settings, await make_user(provider))
    refused = await api.http.get(
        "/exports/customers.csv", headers={"Authorization": f"Bearer {nobody}"}
    )
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    reader = token_for(settings, await make_user(provider, []))
    wrong = await api.http.get(
        "/exports/customers.csv",
        params={"sourceTypes": "NOPE"},
        headers={"Authorization": f"Bearer {reader}"},
    )
    assert wrong.status_code == 400
    assert "sourceTypes" in wrong.json()["errors"][0]["message"]
