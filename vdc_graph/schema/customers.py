"""Customers: the ``customers`` list, ``customer(id)``, their details and their intake."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay
from strawberry.types import Info

from vdc_graph import clock
from vdc_graph.db import models
from vdc_graph.db.queries import backup as backup_queries
from vdc_graph.db.queries.customers import CustomerFilter as CustomerFilterQuery
from vdc_graph.db.queries.licensed_users import LicensedUserFilter as LicensedUserFilterQuery
from vdc_graph.resolvers import customers as resolve
from vdc_graph.resolvers import downloads, hints
from vdc_graph.resolvers import licensed_users as licensed
from vdc_graph.resolvers import onboarding as wizard_state
from vdc_graph.resolvers import policies as resolve_policies
from vdc_graph.resolvers import sessions as resolve_sessions
from vdc_graph.resolvers.ids import Ref

from .common import OrderDirection, Payload, UserError
from .enums import (
    AddedBy,
    ContactKind,
    ContractType,
    DeviceLoginState,
    LicenseModel,
    M365Service,
    NotificationTopic,
    OnboardingStep,
    Region,
    SourceType,
    SubscriptionPlan,
    described,
)
from .licensed_users import (
    LicensedUserConnection,
    LicensedUserFilter,
    LicensedUserOrder,
    LicensedUserOrderField,
)
from .relay import Connection, ModelNode, page_args
from .scalars import Month

if TYPE_CHECKING:
    from .backup import BackupPolicy, BackupSession
    from .customer_people import Invitation
    from .offboarding import OffboardingRequest


FIRST = Annotated[
    int | None, strawberry.argument(description="Page size from the start (1..100, default 20).")
]
AFTER = Annotated[str | None, strawberry.argument(description="Start after this cursor.")]
LAST = Annotated[int | None, strawberry.argument(description="Page size from the end (1..100).")]
BEFORE = Annotated[str | None, strawberry.argument(description="End before this cursor.")]


@strawberry.type(description="A VDC subscription of a customer.")
class Subscription(ModelNode):
    model = models.Subscription
    plan: SubscriptionPlan = strawberry.field(description="The plan subscribed to.")
    subscription_id: str = strawberry.field(description="The subscription's ID in licensing.")


@strawberry.type(description="A person who administers a customer's backup in the customer portal.")
class CustomerAdminUser(ModelNode):
    model = models.CustomerAdminUser
    email: str = strawberry.field(description="Microsoft 365 sign-in address (a UPN).")
    first_name: str = strawberry.field(description="First name.")
    last_name: str = strawberry.field(description="Last name.")
    send_welcome_email: bool = strawberry.field(description="Whether a welcome email is sent.")


@strawberry.type(description="An address range allowed to reach the customer portal.")
class IpRange(ModelNode):
    model = models.IpRange
    start_address: str = strawberry.field(description="First address of the range.")
    end_address: str = strawberry.field(description="Last address of the range.")
    added_by: AddedBy = strawberry.field(description="Whether the provider or customer added it.")


@strawberry.type(description="Someone who receives notifications: an email or a Teams webhook.")
class NotificationContact(ModelNode):
    model = models.NotificationContact
    kind: ContactKind = strawberry.field(description="Email address or Teams incoming webhook.")
    address: str = strawberry.field(description="The email address or the webhook URL.")

    @strawberry.field(description="The topics sent to this contact.")
    def topics(self) -> list[NotificationTopic]:
        return [NotificationTopic(t) for t in self.topics]  # type: ignore[attr-defined]


@strawberry.type(description="How many licensed users a customer had in one month.")
class LicensedUsersMonth:
    month: Month = strawberry.field(description="The month.")
    licensed_users: int = strawberry.field(description="Licensed users that month.")


@strawberry.type(description="A customer's settings (they apply once the customer is active).")
class CustomerSettings:
    region: Region | None = strawberry.field(description="Storage region; none until onboarded.")
    enable_self_service: bool = strawberry.field(
        description="Customer users may sign in and restore their own mail and files."
    )
    allow_create_delete_policy: bool = strawberry.field(
        description="The customer may create and delete backup policies."
    )
    allow_edit_trigger_policy: bool = strawberry.field(
        description="The customer may edit and start backup policies."
    )
    auto_create_policies: bool = strawberry.field(
        description="Recommended backup policies are created at onboarding."
    )
    allow_multiple_regions: bool = strawberry.field(
        description="Data may be kept in more than one region."
    )
    enable_email_previews: bool = strawberry.field(description="Email previews are shown.")
    restrict_access_to_ip_ranges: bool = strawberry.field(
        description="The customer portal only answers requests from the customer's IP ranges."
    )
    retention_years: int | None = strawberry.field(
        description="How many years backups are kept; null while pending or when unlimited."
    )
    retention_unlimited: bool = strawberry.field(
        description="Backups are kept without a time limit (an onboarded customer without years)."
    )
    protected_services: list[M365Service] = strawberry.field(
        description="The Microsoft 365 services chosen for protection at onboarding."
    )


@strawberry.type(description="Where a customer's managed onboarding stands.")
class Onboarding:
    step: OnboardingStep = strawberry.field(description="The current step of the wizard.")
    legal_accepted_by: str | None = strawberry.field(
        description="Who confirmed the legal agreement."
    )
    legal_accepted_at: datetime | None = strawberry.field(
        description="When the legal agreement was confirmed."
    )
    legal_agreement_version: str | None = strawberry.field(
        description="The version of the agreement confirmed (see `platform.legalAgreement`)."
    )
    region: Region | None = strawberry.field(description="Chosen storage region.")
    retention_years: int | None = strawberry.field(
        description="Chosen retention in whole years; null with unlimited or not yet chosen."
    )
    retention_unlimited: bool = strawberry.field(description="Retention is unlimited.")
    tenant_connected_at: datetime | None = strawberry.field(
        description="When the Microsoft 365 tenant was connected."
    )
    finished_at: datetime | None = strawberry.field(description="When onboarding finished.")
    custom_app_id: str | None = strawberry.field(
        description="The application ID of the customer's own app registration, when one is used."
    )
    applied_recommended_policies: bool | None = strawberry.field(
        description="Whether finishing applied the recommended policies; null until finished."
    )

    @strawberry.field(description="Services chosen for protection.")
    def services(self) -> list[M365Service]:
        return [M365Service(s) for s in self.services]  # type: ignore[attr-defined]

    @strawberry.field(
        description="The device code the customer's Global Administrator enters at Microsoft; "
        "present while onboarding waits for that sign-in."
    )
    def device_login(self) -> DeviceLogin | None:
        return device_login_of(self)  # type: ignore[arg-type]


@strawberry.type(description="A device code for Microsoft's device login.")
class DeviceLogin:
    user_code: str = strawberry.field(description="The short code to enter.")
    verification_url: str = strawberry.field(description="Where to enter it.")
    expires_at: datetime = strawberry.field(description="When the code stops working.")
    interval_seconds: int = strawberry.field(
        description="How often to check whether the sign-in happened."
    )
    expired: bool = strawberry.field(description="The code has expired: renew it.")
    device_code: strawberry.Private[str | None] = None

    @strawberry.field(
        description="Whether the administrator has signed in yet, asked of Microsoft now (poll "
        "this query every `intervalSeconds`; when COMPLETED, `onboardingCheckDeviceLogin` "
        "connects the tenant once)."
    )
    async def state(self, info: Info) -> DeviceLoginState:
        return await wizard_state.device_login_state(info.context, self.device_code, self.expired)


def device_login_of(onboarding: models.Onboarding) -> DeviceLogin | None:
    """The device code while onboarding waits for the administrator's sign-in."""
    if onboarding.step is not OnboardingStep.AWAITING_DEVICE_LOGIN:
        return None
    return DeviceLogin(
        user_code=onboarding.user_code or "",
        verification_url=onboarding.verification_url or "",
        expires_at=onboarding.device_code_expires_at,  # type: ignore[arg-type]
        interval_seconds=onboarding.poll_interval_seconds,
        expired=onboarding.device_code_expires_at <= clock.now(),  # type: ignore[operator]
        device_code=onboarding.device_code,
    )


@strawberry.type(description="A customer of the service provider: one Microsoft 365 tenant.")
class Customer(ModelNode):
    model = models.Customer
    display_name: str = strawberry.field(description="The customer's name.")

    @strawberry.field(
        description="The tenant's domain, such as `contoso.onmicrosoft.com`; null until known."
    )
    def m365_account(self) -> str | None:
        return self.m365_account or None  # type: ignore[attr-defined]  # "" in the database

    microsoft_tenant_id: str | None = strawberry.field(
        description="The Microsoft Entra tenant ID; null until the tenant is connected."
    )
    external_id: str | None = strawberry.field(
        description="The marketplace subscription ID the licensing system knows it by."
    )
    veeam_account_id: str | None = strawberry.field(
        description="The Veeam account ID; null when not known."
    )
    flex_subscription_id: str | None = strawberry.field(
        description="The Flex subscription ID; null when there is none."
    )
    express_subscription_id: str | None = strawberry.field(
        description="The Express subscription ID; null when there is none."
    )
    premium_subscription_id: str | None = strawberry.field(
        description="The Premium subscription ID; null when there is none."
    )
    contract_type: ContractType = strawberry.field(description="Contract type and status.")
    license_model: LicenseModel = strawberry.field(description="How the customer is billed.")
    source_type: SourceType = strawberry.field(description="Where the customer came from.")
    licenses_used: int = strawberry.field(description="Licences in use.")
    activation_date: datetime | None = strawberry.field(
        description="When the customer was onboarded; null while pending."
    )
    storage_consumed_gb: float = strawberry.field(description="Backup storage used, in GB.")
    backed_up_accounts: int = strawberry.field(description="Accounts with a backup.")
    total_active_accounts: int = strawberry.field(
        description="Licensed (active) accounts in the tenant."
    )
    user_change: int = strawberry.field(description="Licensed users this month minus last month.")
    created_at: datetime = strawberry.field(description="When the customer was registered.")

    @strawberry.field(description="The customer's settings.")
    def settings(self) -> CustomerSettings:
        c = self
        return CustomerSettings(
            region=c.region,
            enable_self_service=c.enable_self_service,
            allow_create_delete_policy=c.allow_create_delete_policy,
            allow_edit_trigger_policy=c.allow_edit_trigger_policy,
            auto_create_policies=c.auto_create_policies,
            allow_multiple_regions=c.allow_multiple_regions,
            enable_email_previews=c.enable_email_previews,
            restrict_access_to_ip_ranges=c.restrict_access_to_ip_ranges,
            retention_years=c.retention_years,
            retention_unlimited=c.activation_date is not None and c.retention_years is None,
            protected_services=[M365Service(x) for x in c.protected_services or []],
        )

    @strawberry.field(description="The customer's managed-onboarding state.")
    async def onboarding(self, info: Info) -> Onboarding | None:
        return await resolve.customer_onboarding(info.context, self)  # type: ignore[arg-type]

    @strawberry.field(description="The customer's VDC subscriptions.")
    async def subscriptions(self, info: Info) -> list[Subscription]:
        return await resolve.customer_subscriptions(info.context, self)  # type: ignore[arg-type]

    @strawberry.field(description="The customer's admin users.")
    async def admin_users(self, info: Info) -> list[CustomerAdminUser]:
        return await resolve.customer_admin_users(info.context, self)  # type: ignore[arg-type]

    @strawberry.field(description="Addresses invited to onboard the customer by themselves.")
    async def invitations(
        self, info: Info
    ) -> list[Annotated[Invitation, strawberry.lazy("vdc_graph.schema.customer_people")]]:
        return await resolve.customer_invitations(info.context, self)  # type: ignore[arg-type]

    @strawberry.field(description="Requests to offboard the customer, newest first.")
    async def offboarding_requests(
        self, info: Info
    ) -> list[Annotated[OffboardingRequest, strawberry.lazy("vdc_graph.schema.offboarding")]]:
        return await resolve.customer_offboarding_requests(info.context, self)  # type: ignore[arg-type]

    @strawberry.field(description="Address ranges added by the provider and by the customer.")
    async def ip_ranges(self, info: Info) -> list[IpRange]:
        return await resolve.customer_ip_ranges(info.context, self)  # type: ignore[arg-type]

    @strawberry.field(description="Who receives this customer's notifications.")
    async def notification_contacts(self, info: Info) -> list[NotificationContact]:
        return await resolve.customer_contacts(info.context, self)  # type: ignore[arg-type]

    @strawberry.field(description="Whether system notifications are sent for this customer.")
    def allow_system_notifications(self) -> bool:
        return self.allow_system_notifications  # type: ignore[attr-defined]

    @strawberry.field(description="The language of notifications, such as `en` or `de`.")
    def notification_language(self) -> str:
        return self.notification_language  # type: ignore[attr-defined]

    @strawberry.field(
        description="The tenant's licensed users with their protection status, a page at a time "
        "(default order: display name)."
    )
    async def licensed_users(
        self,
        info: Info,
        filter: Annotated[
            LicensedUserFilter | None, strawberry.argument(description="Which users to list.")
        ] = None,
        order_by: Annotated[
            LicensedUserOrder | None,
            strawberry.argument(description="The order; display name ascending by default."),
        ] = None,
        first: FIRST = None,
        after: AFTER = None,
        last: LAST = None,
        before: BEFORE = None,
    ) -> LicensedUserConnection:
        flt = filter or LicensedUserFilter()
        order = order_by or LicensedUserOrder(field=LicensedUserOrderField.DISPLAY_NAME)
        page = await licensed.list_licensed_users(
            info.context,
            self,  # type: ignore[arg-type]
            LicensedUserFilterQuery(
                search=flt.search, protection_statuses=tuple(flt.protection_statuses or ())
            ),
            order.field.value,
            order.direction is OrderDirection.DESC,
            page_args(info, first, after, last, before),
        )
        return LicensedUserConnection(page=page)

    @strawberry.field(
        description="Whether you may change its settings, IP ranges and notifications now "
        "(`customerUpdateSettings`, `customerSetIpRanges`, `customerUpdateNotifications`)."
    )
    def viewer_can_edit(self, info: Info) -> bool:
        return hints.edit_customer(info.context, self)  # type: ignore[arg-type]

    @strawberry.field(description="Whether you may take it through the onboarding wizard now.")
    def viewer_can_onboard(self, info: Info) -> bool:
        return hints.onboard_customer(info.context, self)  # type: ignore[arg-type]

    @strawberry.field(description="Whether `customerInvite` would invite to it for you now.")
    async def viewer_can_invite(self, info: Info) -> bool:
        return await hints.invite_customer(info.context, self)  # type: ignore[arg-type]

    @strawberry.field(description="Whether `customerAdminUserAdd` would add for you now.")
    def viewer_can_add_admin_user(self, info: Info) -> bool:
        return hints.add_admin_user(info.context, self)  # type: ignore[arg-type]

    @strawberry.field(
        description="Whether `offboardingRequestCreate` would ask for its offboarding now."
    )
    async def viewer_can_offboard(self, info: Info) -> bool:
        return await hints.offboard_customer(info.context, self)  # type: ignore[arg-type]

    @strawberry.field(
        description="A link to the licensed users as CSV (`/exports/licensed-users.csv`): signed "
        "for you, usable without a header, valid for `VDC_DOWNLOAD_URL_TTL_SECONDS`."
    )
    def licensed_users_download_url(self, info: Info) -> str:
        return downloads.link(
            info.context,
            "/exports/licensed-users.csv",
            {"customerId": relay.to_base64("Customer", self.id)},  # type: ignore[attr-defined]
        )

    @strawberry.field(
        description="A link to the month's sessions and their logs as ZIP "
        "(`/exports/sessions.zip`): signed for you, usable without a header, valid for "
        "`VDC_DOWNLOAD_URL_TTL_SECONDS`; the download needs BACKUP_MANAGEMENT."
    )
    def sessions_download_url(
        self,
        info: Info,
        month: Annotated[Month, strawberry.argument(description="The month (UTC).")],
    ) -> str:
        return downloads.link(
            info.context,
            "/exports/sessions.zip",
            {
                "customerId": relay.to_base64("Customer", self.id),  # type: ignore[attr-defined]
                "month": month.strftime("%Y-%m"),
            },
        )

    @strawberry.field(
        description="The customer's backup policies (its Backup Policies tab), by name."
    )
    async def backup_policies(
        self,
        info: Info,
        first: FIRST = None,
        after: AFTER = None,
        last: LAST = None,
        before: BEFORE = None,
    ) -> Connection[Annotated[BackupPolicy, strawberry.lazy("vdc_graph.schema.backup")]]:
        from .backup import BackupPolicy

        page = await resolve_policies.list_policies(
            info.context,
            backup_queries.PolicyFilter(customer_id=self.id),  # type: ignore[attr-defined]
            "NAME",
            False,
            page_args(info, first, after, last, before),
        )
        return Connection[BackupPolicy](page=page)

    @strawberry.field(description="The customer's backup sessions, newest first.")
    async def backup_sessions(
        self,
        info: Info,
        first: FIRST = None,
        after: AFTER = None,
        last: LAST = None,
        before: BEFORE = None,
    ) -> Connection[Annotated[BackupSession, strawberry.lazy("vdc_graph.schema.backup")]]:
        from .backup import BackupSession

        page = await resolve_sessions.list_sessions(
            info.context,
            backup_queries.SessionFilter(customer_id=self.id),  # type: ignore[attr-defined]
            page_args(info, first, after, last, before),
        )
        return Connection[BackupSession](page=page)

    @strawberry.field(description="Licensed users per month, oldest first.")
    async def licensed_users_history(self, info: Info) -> list[LicensedUsersMonth]:
        rows = await resolve.customer_licensed_months(info.context, self)  # type: ignore[arg-type]
        return [LicensedUsersMonth(month=r.month, licensed_users=r.licensed_users) for r in rows]


class CustomerOrderField(Enum):
    DISPLAY_NAME = "DISPLAY_NAME"
    M365_ACCOUNT = "M365_ACCOUNT"
    EXTERNAL_ID = "EXTERNAL_ID"
    CONTRACT_TYPE = "CONTRACT_TYPE"
    LICENSE_MODEL = "LICENSE_MODEL"
    SOURCE_TYPE = "SOURCE_TYPE"
    LICENSES_USED = "LICENSES_USED"
    ACTIVATION_DATE = "ACTIVATION_DATE"
    STORAGE_CONSUMED = "STORAGE_CONSUMED"
    BACKED_UP_ACCOUNTS = "BACKED_UP_ACCOUNTS"
    TOTAL_ACTIVE_ACCOUNTS = "TOTAL_ACTIVE_ACCOUNTS"
    USER_CHANGE = "USER_CHANGE"
    CREATED_AT = "CREATED_AT"


described(
    CustomerOrderField,
    "Columns the customer list can be ordered by.",
    DISPLAY_NAME="The display name (the default order).",
    M365_ACCOUNT="The tenant's domain.",
    EXTERNAL_ID="The external ID.",
    CONTRACT_TYPE="The contract type.",
    LICENSE_MODEL="The license model.",
    SOURCE_TYPE="The source type.",
    LICENSES_USED="Licences in use.",
    ACTIVATION_DATE="The activation date (customers without one come last ascending).",
    STORAGE_CONSUMED="Storage consumed.",
    BACKED_UP_ACCOUNTS="Accounts with a backup.",
    TOTAL_ACTIVE_ACCOUNTS="Licensed accounts in the tenant.",
    USER_CHANGE="The change in licensed users since last month.",
    CREATED_AT="When the customer was registered.",
)


@strawberry.input(description="How to order customers; ties are broken by ID.")
class CustomerOrder:
    field: CustomerOrderField = strawberry.field(description="The column to order by.")
    direction: OrderDirection = strawberry.field(
        default=OrderDirection.ASC, description="Ascending or descending."
    )


@strawberry.input(description="Which customers to list; all conditions must hold.")
class CustomerFilter:
    search: str | None = strawberry.field(
        default=None,
        description="Text found in the display name, M365 account, external ID, Veeam account "
        "ID or a subscription ID (case-insensitive).",
    )
    source_types: list[SourceType] | None = strawberry.field(
        default=None, description="Only customers from these sources."
    )
    contract_types: list[ContractType] | None = strawberry.field(
        default=None, description="Only customers with these contract types."
    )


CustomerConnection = Connection[Customer]


@strawberry.type
class CustomerQueries:
    @strawberry.field(description="The provider's customers, a page at a time.")
    async def customers(
        self,
        info: Info,
        filter: Annotated[
            CustomerFilter | None, strawberry.argument(description="Which customers to list.")
        ] = None,
        order_by: Annotated[
            CustomerOrder | None,
            strawberry.argument(description="The order; display name ascending by default."),
        ] = None,
        first: FIRST = None,
        after: AFTER = None,
        last: LAST = None,
        before: BEFORE = None,
    ) -> CustomerConnection:
        flt = filter or CustomerFilter()
        order = order_by or CustomerOrder(field=CustomerOrderField.DISPLAY_NAME)
        page = await resolve.list_customers(
            info.context,
            CustomerFilterQuery(
                search=flt.search,
                source_types=tuple(flt.source_types or ()),
                contract_types=tuple(flt.contract_types or ()),
            ),
            order.field.value,
            order.direction is OrderDirection.DESC,
            page_args(info, first, after, last, before),
        )
        return CustomerConnection(page=page)

    @strawberry.field(description="One customer by ID.")
    async def customer(
        self,
        info: Info,
        id: Annotated[relay.GlobalID, strawberry.argument(description="The customer's ID.")],
    ) -> Customer | None:
        return await resolve.get_customer(info.context, Ref(id.type_name, id.node_id))


@strawberry.input(description="A customer created by the licensing system.")
class CustomerRegisterInput:
    display_name: str = strawberry.field(description="The customer's name.")
    external_id: str = strawberry.field(
        description="The marketplace subscription ID; registering it again returns the same "
        "customer."
    )
    source_type: SourceType = strawberry.field(description="The licensing system it came from.")
    m365_account: str = strawberry.field(default="", description="The tenant's domain.")
    veeam_account_id: str = strawberry.field(default="", description="The Veeam account ID.")
    flex_subscription_id: str = strawberry.field(default="", description="The Flex subscription.")
    license_model: LicenseModel = strawberry.field(
        default=LicenseModel.VARIABLE, description="How the customer is billed."
    )


@strawberry.type(description="The result of `customerRegister`.")
class CustomerRegisterPayload(Payload):
    customer: Customer | None = strawberry.field(description="The new or existing customer.")
    created: bool = strawberry.field(
        default=False, description="False when the external ID was known already."
    )
    user_errors: list[UserError] = strawberry.field(description="Why the input was refused.")


@strawberry.type
class CustomerMutations:
    @strawberry.mutation(description="Register a customer from the licensing system (pending).")
    async def customer_register(
        self,
        info: Info,
        input: Annotated[CustomerRegisterInput, strawberry.argument(description="The customer.")],
    ) -> CustomerRegisterPayload:
        from .mutations import run_mutation

        data = resolve.RegisterCustomerInput(
            display_name=input.display_name,
            external_id=input.external_id,
            source_type=input.source_type,
            m365_account=input.m365_account,
            veeam_account_id=input.veeam_account_id,
            flex_subscription_id=input.flex_subscription_id,
            license_model=input.license_model,
        )
        return await run_mutation(
            info, CustomerRegisterPayload, lambda: resolve.register_customer(info.context, data)
        )
