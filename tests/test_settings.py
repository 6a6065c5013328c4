"""Provider settings: account, default system notifications, support button."""

from __future__ import annotations

from tests.factories import make_customer, make_provider, make_user, token_for
from vdc_graph.db.models import AuditRecord, CustomerAdminUser, NotificationContact
from vdc_graph.enums import Permission

SETTINGS = """{ settings { account { displayName proPartnerId }
  systemNotifications { language allowCustomerAdminNotifications
    contacts { kind address topics } }
  support { displayButton link text } } }"""
ACCOUNT = """mutation($input: AccountUpdateInput!) { accountUpdate(input: $input) {
  settings { account { displayName } } userErrors { code field } } }"""
NOTIFICATIONS = """mutation($input: SystemNotificationsUpdateInput!) {
  systemNotificationsUpdate(input: $input) {
  settings { systemNotifications { language allowCustomerAdminNotifications
    contacts { kind address topics } } } userErrors { code field } } }"""
SUPPORT = """mutation($input: SupportSettingsUpdateInput!) { supportSettingsUpdate(input: $input) {
  settings { support { displayButton link text } } userErrors { code field } } }"""
REGISTER = """mutation($input: CustomerRegisterInput!) { customerRegister(input: $input) {
  customer { allowSystemNotifications notificationLanguage
    notificationContacts { kind address topics } } userErrors { code } } }"""


async def site_admin(settings):
    provider = await make_provider("Acme")
    user = await make_user(provider, [Permission.SITE_SETTINGS, Permission.CUSTOMER_MANAGEMENT])
    return provider, token_for(settings, user)


async def test_account_shows_and_changes_the_display_name(api, settings):
    provider, token = await site_admin(settings)
    data = await api.data(SETTINGS, token=token)
    assert data["settings"]["account"] == {
        "displayName": "Acme",
        "proPartnerId": provider.pro_partner_id,
    }
    done = (await api.data(ACCOUNT, {"input": {"displayName": " Acme Ltd "}}, token=token))[
        "accountUpdate"
    ]
    assert done == {"settings": {"account": {"displayName": "Acme Ltd"}}, "userErrors": []}
    blank = (await api.data(ACCOUNT, {"input": {"displayName": " "}}, token=token))["accountUpdate"]
    assert blank["userErrors"] == [{"code": "REQUIRED", "field": ["input", "displayName"]}]
    record = await AuditRecord.get(action="accountUpdate")
    assert record.target_type == "ServiceProvider"
    assert (record.before["display_name"], record.after["display_name"]) == ("Acme", "Acme Ltd")


async def test_notification_defaults_are_validated_and_seed_new_customers(api, settings):
    _, token = await site_admin(settings)
    bad = (
        await api.data(
            NOTIFICATIONS,
            {
                "input": {
                    "language": "english",
                    "allowCustomerAdminNotifications": True,
                    "contacts": [
                        {"kind": "EMAIL", "address": "not-an-email", "topics": ["BACKUP_FAILED"]},
                        {
                            "kind": "TEAMS_WEBHOOK",
                            "address": "http://example.webhook.office.com/x",
                            "topics": ["BACKUP_FAILED"],
                        },
                        {"kind": "EMAIL", "address": "ops@contoso.com", "topics": []},
                    ],
                }
            },
            token=token,
        )
    )["systemNotificationsUpdate"]
    assert bad["userErrors"] == [
        {"code": "INVALID_EMAIL", "field": ["input", "contacts", "0", "address"]},
        {"code": "INVALID_URL", "field": ["input", "contacts", "1", "address"]},
        {"code": "REQUIRED", "field": ["input", "contacts", "2", "topics"]},
        {"code": "INVALID", "field": ["input", "language"]},
    ]
    contacts = [
        {"kind": "EMAIL", "address": "ops@contoso.com", "topics": ["BACKUP_FAILED"]},
        {
            "kind": "TEAMS_WEBHOOK",
            "address": "https://contoso.webhook.office.com/x",
            "topics": ["BACKUP_COMPLETE", "RESTORE_ACTIVITY"],
        },
    ]
    good = (
        await api.data(
            NOTIFICATIONS,
            {
                "input": {
                    "language": "de",
                    "allowCustomerAdminNotifications": True,
                    "contacts": contacts,
                }
            },
            token=token,
        )
    )["systemNotificationsUpdate"]
    assert good["userErrors"] == []
    assert good["settings"]["systemNotifications"] == {
        "language": "de",
        "allowCustomerAdminNotifications": True,
        "contacts": contacts,
    }
    registered = (
        await api.data(
            REGISTER,
            {"input": {"displayName": "New", "externalId": "EXT-1", "sourceType": "DIRECT"}},
            token=token,
        )
    )["customerRegister"]["customer"]
    assert registered == {
        "allowSystemNotifications": True,
        "notificationLanguage": "de",
        "notificationContacts": contacts,
    }
    # Copies: changing the defaults later leaves the customer's contacts alone.
    await api.data(
        NOTIFICATIONS,
        {"input": {"language": "en", "allowCustomerAdminNotifications": False}},
        token=token,
    )
    assert await NotificationContact.filter(customer_id__isnull=False).count() == 2


async def test_support_button_needs_an_http_link_and_text_when_displayed(api, settings):
    _, token = await site_admin(settings)
    missing = (await api.data(SUPPORT, {"input": {"displayButton": True}}, token=token))[
        "supportSettingsUpdate"
    ]
    assert missing["userErrors"] == [
        {"code": "REQUIRED", "field": ["input", "link"]},
        {"code": "REQUIRED", "field": ["input", "text"]},
    ]
    ftp = (
        await api.data(
            SUPPORT,
            {"input": {"displayButton": True, "link": "ftp://x.example", "text": "Help"}},
            token=token,
        )
    )["supportSettingsUpdate"]
    assert ftp["userErrors"] == [{"code": "INVALID_URL", "field": ["input", "link"]}]
    ok = (
        await api.data(
            SUPPORT,
            {"input": {"displayButton": True, "link": "https://help.example", "text": "Help"}},
            token=token,
        )
    )["supportSettingsUpdate"]
    assert ok["settings"]["support"] == {
        "displayButton": True,
        "link": "https://help.example",
        "text": "Help",
    }
    hidden = (await api.data(SUPPORT, {"input": {"displayButton": False}}, token=token))[
        "supportSettingsUpdate"
    ]
    assert hidden["userErrors"] == []


async def test_settings_need_site_settings_and_no_customer_scope(api, settings):
    provider = await make_provider()
    monitor = await make_user(provider, [Permission.USER_MANAGEMENT])
    errors = await api.errors(SETTINGS, token=token_for(settings, monitor))
    assert errors[0]["extensions"]["code"] == "FORBIDDEN"
    admin = await make_user(provider, [Permission.SITE_SETTINGS], email="a@contoso.com")
    customer = await make_customer(provider)
    await CustomerAdminUser.create(
        customer=customer,
        email="a@contoso.com",
        email_key="a@contoso.com",
        first_name="A",
        last_name="B",
    )
    scoped = token_for(settings, admin, customer_id=customer.id)
    errors = await api.errors(SETTINGS, token=scoped)
    assert errors[0]["extensions"]["code"] == "FORBIDDEN"
    errors = await api.errors(ACCOUNT, {"input": {"displayName": "X"}}, token=scoped)
    assert errors[0]["extensions"]["code"] == "FORBIDDEN"
