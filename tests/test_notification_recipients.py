"""One message per recipient and event, and contact lists that cannot hold the same recipient
twice, a contact without a topic, or a language notifications are not sent in."""

from __future__ import annotations

import pytest

from tests.backup_support import fast_settings, make_policy
from tests.factories import make_provider, make_user, token_for
from tests.smtp_server import SmtpServer
from tests.test_backup_notifications import run
from tests.test_customer_settings import NOTIFY
from tests.test_email import smtp_settings
from tests.test_onboarding import gid
from tests.test_settings import NOTIFICATIONS, REGISTER
from vdc_graph.db.models import Customer, NotificationContact, Onboarding, ServiceProvider
from vdc_graph.enums import ContractType, OnboardingStep, Permission, SessionStatus
from vdc_graph.notify.deliverers import deliverers
from vdc_graph.notify.outbox import OutboxWorker

LANGUAGES = "{ notificationLanguages { code name } }"


@pytest.fixture
def settings(tmp_path):
    return fast_settings(tmp_path)


@pytest.fixture
async def provider():
    return await make_provider("Acme")


@pytest.fixture
async def admin(provider, settings):
    user = await make_user(provider, [Permission.SITE_SETTINGS, Permission.CUSTOMER_MANAGEMENT])
    return token_for(settings, user)


async def test_a_default_contact_copied_to_a_customer_gets_one_email(
    api, settings, provider, admin
):
    defaults = {
        "language": "en",
        "allowCustomerAdminNotifications": True,
        "contacts": [{"kind": "EMAIL", "address": "ops@acme.example", "topics": ["BACKUP_FAILED"]}],
    }
    done = await api.data(NOTIFICATIONS, {"input": defaults}, token=admin)
    assert done["systemNotificationsUpdate"]["userErrors"] == []
    registered = await api.data(
        REGISTER,
        {"input": {"displayName": "Contoso", "externalId": "SUB-7", "sourceType": "DIRECT"}},
        token=admin,
    )
    copied = registered["customerRegister"]["customer"]["notificationContacts"]
    assert [c["address"] for c in copied] == ["ops@acme.example"]
    # The customer also lists the same person under another spelling of the address.
    customer = await Customer.get(external_id="SUB-7")
    await NotificationContact.create(
        provider=provider,
        customer=customer,
        kind="EMAIL",
        address="OPS@Acme.example",
        topics=["BACKUP_FAILED"],
    )
    customer.contract_type = ContractType.MONTH_TO_MONTH  # onboarded, tenant never connected
    await customer.save()
    await Onboarding.filter(customer_id=customer.id).update(step=OnboardingStep.FINISHED)

    session = await run(settings, await make_policy(customer, "Daily"))
    assert session.status is SessionStatus.DISCONNECTED  # a BACKUP_FAILED event
    smtp = SmtpServer().start()
    try:
        assert await OutboxWorker(deliverers(smtp_settings(settings, smtp.port))).run_once() == 1
    finally:
        smtp.stop()
    assert [m["To"].lower() for m in smtp.messages] == ["ops@acme.example"]


async def test_duplicates_topicless_contacts_and_unknown_languages_are_refused(
    api, provider, admin
):
    customer = await Customer.create(
        provider=provider, display_name="Fabrikam", contract_type=ContractType.ANNUAL
    )
    twice = [
        {"kind": "EMAIL", "address": "it@fabrikam.example", "topics": ["BACKUP_FAILED"]},
        {"kind": "EMAIL", "address": "IT@fabrikam.example", "topics": ["BACKUP_COMPLETE"]},
        {"kind": "EMAIL", "address": "noc@fabrikam.example", "topics": []},
    ]
    refused = await api.data(
        NOTIFY,
        {"input": {"customerId": gid(customer), "language": "tlh", "contacts": twice}},
        token=admin,
    )
    errors = refused["customerUpdateNotifications"]["userErrors"]
    assert [(e["code"], e["field"]) for e in errors] == [
        ("INVALID", ["input", "language"]),
        ("DUPLICATE", ["input", "contacts", "1", "address"]),
        ("REQUIRED", ["input", "contacts", "2", "topics"]),
    ]
    assert "'tlh' is not a supported language" in errors[0]["message"]
    assert await NotificationContact.filter(customer_id=customer.id).count() == 0
    assert (await Customer.get(id=customer.id)).notification_language == "en"

    provider_side = await api.data(
        NOTIFICATIONS, {"input": {"language": "xx", "contacts": twice}}, token=admin
    )
    codes = [e["code"] for e in provider_side["systemNotificationsUpdate"]["userErrors"]]
    assert codes == ["DUPLICATE", "REQUIRED", "INVALID"]
    assert (await ServiceProvider.get(id=provider.id)).notification_language == "en"

    # The supported languages are listed; a code is accepted in any case and stored canonical.
    listed = (await api.data(LANGUAGES, token=admin))["notificationLanguages"]
    assert {"code": "pt-BR", "name": "Português (Brasil)"} in listed
    assert [item["code"] for item in listed][:3] == ["en", "de", "fr"]
    # The platform's choice list offers exactly these: a picker built from it never offers a
    # code the mutations refuse.
    offered = (await api.data("{ platform { languages { code } } }", token=admin))["platform"]
    assert [c["code"] for c in offered["languages"]] == [item["code"] for item in listed]
    ok = await api.data(
        NOTIFY, {"input": {"customerId": gid(customer), "language": "PT-br"}}, token=admin
    )
    assert ok["customerUpdateNotifications"]["customer"]["notificationLanguage"] == "pt-BR"
