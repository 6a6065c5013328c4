"""What a switch token is worth: dead once its admin user is removed (also when the email is
added again), the permissions it can use in the customer scope, and the support button."""

from __future__ import annotations

from tests.factories import make_customer, make_provider, make_user, token_for
from tests.test_admin_users import ADD, REMOVE
from tests.test_customer_switch import gid, switched_token
from vdc_graph.db.models import CustomerAdminUser, ServiceProvider
from vdc_graph.enums import Permission

VIEWER = (
    "{ viewer { customer { displayName } permissions supportButton { displayButton link text } } }"
)


async def test_a_removed_admin_users_token_stays_dead_when_the_email_returns(api, settings):
    provider = await make_provider()
    user = await make_user(provider, [Permission.CUSTOMER_MANAGEMENT], email="pat@contoso.com")
    customer = await make_customer(provider, display_name="Mine")
    manager = token_for(settings, user)
    added = await api.data(
        ADD,
        {
            "input": {
                "customerId": gid("Customer", customer),
                "email": "pat@contoso.com",
                "firstName": "Pat",
                "lastName": "Doe",
                "sendWelcomeEmail": False,
            }
        },
        token=manager,
    )
    first_entry = added["customerAdminUserAdd"]["adminUser"]["id"]
    token = await switched_token(api, settings, user, customer)
    assert (await api.data(VIEWER, token=token))["viewer"]["customer"] == {"displayName": "Mine"}

    await api.data(REMOVE, {"input": {"adminUserId": first_entry}}, token=manager)
    assert (await api.post(VIEWER, token=token)).status_code == 401
    again = await api.data(
        ADD,
        {
            "input": {
                "customerId": gid("Customer", customer),
                "email": "PAT@contoso.com",
                "firstName": "Pat",
                "lastName": "Doe",
                "sendWelcomeEmail": False,
            }
        },
        token=manager,
    )
    assert again["customerAdminUserAdd"]["userErrors"] == []
    assert await CustomerAdminUser.filter(customer_id=customer.id).count() == 1
    # The token was issued for the removed entry: it does not come back to life.
    refused = await api.post(VIEWER, token=token)
    assert refused.status_code == 401
    assert refused.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    # A new switch works.
    fresh = await switched_token(api, settings, user, customer)
    assert (await api.data(VIEWER, token=fresh))["viewer"]["customer"] == {"displayName": "Mine"}


async def test_the_customer_scope_lists_what_it_can_do_and_shows_the_support_button(api, settings):
    provider = await make_provider()
    await ServiceProvider.filter(id=provider.id).update(
        support_button_enabled=True, support_link="https://help.example/", support_text="Help"
    )
    user = await make_user(provider, list(Permission), email="pat@contoso.com")
    customer = await make_customer(provider, display_name="Mine")
    await CustomerAdminUser.create(
        customer=customer,
        email="pat@contoso.com",
        email_key="pat@contoso.com",
        first_name="P",
        last_name="D",
    )
    everything = [p.value for p in Permission]
    unswitched = (await api.data(VIEWER, token=token_for(settings, user)))["viewer"]
    assert unswitched["permissions"] == everything

    token = await switched_token(api, settings, user, customer)
    viewer = (await api.data(VIEWER, token=token))["viewer"]
    assert viewer["permissions"] == [
        "MONITORING_ACCESS",
        "CUSTOMER_MANAGEMENT",
        "BACKUP_MANAGEMENT",
        "ADVANCED_BACKUP_MANAGEMENT",
    ]
    assert viewer["supportButton"] == {
        "displayButton": True,
        "link": "https://help.example/",
        "text": "Help",
    }
    # What it does not list, it cannot do: the provider's settings and users are refused.
    for query in ("{ settings { support { link } } }", "{ users { totalCount } }"):
        errors = await api.errors(query, token=token)
        assert errors[0]["extensions"]["code"] == "FORBIDDEN"
