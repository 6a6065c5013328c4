"""Onboarding: legal agreement → connect tenant → device login → finish.

The same steps serve both paths: the provider's wizard (``managed``: CUSTOMER_MANAGEMENT on the
customer) and the invitee's (``invitations.by_token``: the invitation link's token). Each step
checks that the wizard is where that step belongs; a wrong order, a repeat or a bad value is a
userError with a code and nothing changes. Going back is allowed until the tenant is connected.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass

from tortoise.exceptions import IntegrityError

from vdc_graph import clock
from vdc_graph.context import RequestContext
from vdc_graph.db.models import BackupPolicy, Customer, Onboarding
from vdc_graph.db.queries import customer_changes as queries
from vdc_graph.enums import ContractType, M365Service, OnboardingStep, Region
from vdc_graph.errors import Forbidden, UserError, UserErrorCode, UserErrors
from vdc_graph.identity import LoginState, device_login
from vdc_graph.identity.simulator import UnknownDeviceLogin, complete_login
from vdc_graph.notify import webhook_events

from . import rules
from .ids import Ref
from .managing import customer_to_change
from .platform import LEGAL_AGREEMENT, MAX_RETENTION_YEARS, MIN_RETENTION_YEARS
from .recommended_policies import create_recommended_policies
from .usage import ensure_license_management_allowed

# A customer that finishes onboarding starts billing month by month.
ACTIVE_CONTRACT = ContractType.MONTH_TO_MONTH


def _refuse(message: str, field: str, code: UserErrorCode) -> UserErrors:
    return UserErrors([UserError(message, ["input", field], code)])


def _parts(wizard: Wizard) -> tuple[str, Customer, Onboarding]:
    return wizard.who, wizard.customer, wizard.onboarding


def _wrong_step(onboarding: Onboarding, *expected: OnboardingStep) -> UserErrors:
    wanted = " or ".join(s.value for s in expected)
    return _refuse(
        f"Onboarding is at {onboarding.step.value}; this step needs {wanted}",
        "customerId",
        UserErrorCode.WRONG_STEP,
    )


@dataclass(frozen=True)
class Wizard:
    """One customer's onboarding, opened for a step by someone allowed to take it."""

    who: str  # recorded as the one who confirmed the legal agreement
    customer: Customer
    onboarding: Onboarding


async def managed(ctx: RequestContext, ref: Ref) -> Wizard:
    """The provider's wizard: the caller needs CUSTOMER_MANAGEMENT and must see the customer."""
    principal, customer = await customer_to_change(ctx, ref)
    rules.onboard_customer(principal, customer)
    return await open_wizard(principal.email or "", customer)


async def open_wizard(who: str, customer: Customer) -> Wizard:
    """The customer's onboarding (started when it was not), refused once it has finished."""
    onboarding = await Onboarding.get_or_none(customer_id=customer.id)
    if onboarding is None:
        onboarding = await Onboarding.create(customer_id=customer.id)
    if onboarding.step is OnboardingStep.FINISHED or customer.contract_type is not (
        ContractType.PENDING
    ):
        raise _refuse(
            "This customer has finished onboarding", "customerId", UserErrorCode.INVALID_STATE
        )
    return Wizard(who, customer, onboarding)


async def accept_legal_agreement(opening: Awaitable[Wizard]) -> Customer:
    who, customer, onboarding = _parts(await opening)
    if onboarding.step is not OnboardingStep.LEGAL_AGREEMENT:
        raise _wrong_step(onboarding, OnboardingStep.LEGAL_AGREEMENT)
    onboarding.legal_accepted_by = who
    onboarding.legal_accepted_at = clock.now()
    onboarding.legal_agreement_version = LEGAL_AGREEMENT.version
    onboarding.step = OnboardingStep.CONNECT_TENANT
    await onboarding.save()
    return customer


@dataclass(frozen=True)
class ConnectTenantInput:
    region: Region
    retention_years: int | None = None
    retention_unlimited: bool = False
    services: list[M365Service] | None = None  # None: all
    custom_app_id: str | None = None
    custom_app_credential_ref: str | None = None


def _connect_problems(data: ConnectTenantInput) -> list[UserError]:
    problems = []
    if data.retention_unlimited and data.retention_years is not None:
        problems.append(
            UserError(
                "Choose a retention in years or unlimited, not both",
                ["input", "retentionYears"],
                UserErrorCode.INVALID,
            )
        )
    elif not data.retention_unlimited and data.retention_years is None:
        problems.append(
            UserError(
                "Choose a retention of 1 to 25 years, or unlimited",
                ["input", "retentionYears"],
                UserErrorCode.REQUIRED,
            )
        )
    elif data.retention_years is not None and not (
        MIN_RETENTION_YEARS <= data.retention_years <= MAX_RETENTION_YEARS
    ):
        problems.append(
            UserError(
                f"Retention must be 1 to 25 whole years (got {data.retention_years})",
                ["input", "retentionYears"],
                UserErrorCode.OUT_OF_RANGE,
            )
        )
    if data.services is not None and not data.services:
        problems.append(
            UserError(
                "Choose at least one service to protect",
                ["input", "services"],
                UserErrorCode.REQUIRED,
            )
        )
    app_id = (data.custom_app_id or "").strip()
    credential = (data.custom_app_credential_ref or "").strip()
    if bool(app_id) != bool(credential):
        problems.append(
            UserError(
                "A custom app registration needs both its application ID and a certificate "
                "or secret reference",
                ["input", "customApp"],
                UserErrorCode.REQUIRED,
            )
        )
    elif app_id and not _is_guid(app_id):
        problems.append(
            UserError(
                "The application ID is a GUID such as 00000000-0000-0000-0000-000000000000",
                ["input", "customApp", "applicationId"],
                UserErrorCode.INVALID,
            )
        )
    return problems


def _is_guid(text: str) -> bool:
    import uuid

    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return len(text) == 36


async def _issue_device_code(ctx: RequestContext, onboarding: Onboarding) -> None:
    code = await device_login(ctx.settings).start()
    onboarding.device_code = code.device_code
    onboarding.user_code = code.user_code
    onboarding.verification_url = code.verification_url
    onboarding.device_code_expires_at = code.expires_at
    onboarding.poll_interval_seconds = code.interval_seconds


async def connect_tenant(
    ctx: RequestContext, opening: Awaitable[Wizard], data: ConnectTenantInput
) -> Customer:
    """Record the tenant's choices and issue a device code; choosing again issues a new one."""
    _, customer, onboarding = _parts(await opening)
    if onboarding.step not in (
        OnboardingStep.CONNECT_TENANT,
        OnboardingStep.AWAITING_DEVICE_LOGIN,
    ):
        raise _wrong_step(
            onboarding, OnboardingStep.CONNECT_TENANT, OnboardingStep.AWAITING_DEVICE_LOGIN
        )
    if problems := _connect_problems(data):
        raise UserErrors(problems)
    chosen = data.services or list(M365Service)
    onboarding.region = data.region
    onboarding.retention_years = data.retention_years
    onboarding.retention_unlimited = data.retention_unlimited
    onboarding.services = [s.value for s in M365Service if s in chosen]
    onboarding.custom_app_id = (data.custom_app_id or "").strip() or None
    onboarding.custom_app_credential_ref = (data.custom_app_credential_ref or "").strip() or None
    await _issue_device_code(ctx, onboarding)
    onboarding.step = OnboardingStep.AWAITING_DEVICE_LOGIN
    await onboarding.save()
    return customer


async def renew_device_code(ctx: RequestContext, opening: Awaitable[Wizard]) -> Customer:
    _, customer, onboarding = _parts(await opening)
    if onboarding.step is not OnboardingStep.AWAITING_DEVICE_LOGIN:
        raise _wrong_step(onboarding, OnboardingStep.AWAITING_DEVICE_LOGIN)
    expires = onboarding.device_code_expires_at
    if expires is not None and expires > clock.now():
        raise _refuse(
            "The device code is still valid; renew it once it has expired",
            "customerId",
            UserErrorCode.INVALID_STATE,
        )
    await _issue_device_code(ctx, onboarding)
    await onboarding.save()
    return customer


async def check_device_login(ctx: RequestContext, opening: Awaitable[Wizard]) -> Customer:
    """Ask the identity platform whether the administrator signed in; connect when they did.

    Still waiting is not an error: the onboarding stays at AWAITING_DEVICE_LOGIN. The tenant
    that signed in must be the customer's registered M365 account (filled in when none was) and
    connected to no other customer.
    """
    _, customer, onboarding = _parts(await opening)
    if onboarding.step is not OnboardingStep.AWAITING_DEVICE_LOGIN or not onboarding.device_code:
        raise _wrong_step(onboarding, OnboardingStep.AWAITING_DEVICE_LOGIN)
    outcome = await device_login(ctx.settings).poll(onboarding.device_code)
    if outcome.state is LoginState.EXPIRED:
        raise _refuse(
            "The device code has expired; renew it and sign in again",
            "customerId",
            UserErrorCode.EXPIRED,
        )
    if outcome.state is LoginState.COMPLETED:
        await _check_signed_in_tenant(customer, outcome.tenant_id, outcome.tenant_domain)
        onboarding.step = OnboardingStep.TENANT_CONNECTED
        onboarding.tenant_connected_at = clock.now()
        onboarding.device_code = None
        await onboarding.save()
        customer.microsoft_tenant_id = outcome.tenant_id
        if outcome.tenant_domain and not customer.m365_account:
            customer.m365_account = outcome.tenant_domain.lower()
        try:
            await customer.save(update_fields=["microsoft_tenant_id", "m365_account"])
        except IntegrityError as exc:  # connected elsewhere at the same moment
            raise _tenant_taken(outcome.tenant_id) from exc
    return customer


def _tenant_taken(tenant_id: str) -> UserErrors:
    return _refuse(
        f"The Microsoft 365 tenant {tenant_id} is connected to another customer already; "
        "a tenant is backed up for one customer only",
        "customerId",
        UserErrorCode.DUPLICATE,
    )


async def _check_signed_in_tenant(customer: Customer, tenant_id: str, domain: str) -> None:
    registered = customer.m365_account.strip().lower()
    if registered and domain and domain.strip().lower() != registered:
        raise _refuse(
            f"The administrator signed in to {domain}, but the customer's registered Microsoft "
            f"365 account is {customer.m365_account}; sign in with an administrator of "
            f"{customer.m365_account} (go back for a new device code)",
            "customerId",
            UserErrorCode.MISMATCH,
        )
    if await queries.tenant_connected_elsewhere(tenant_id, customer.id):
        raise _tenant_taken(tenant_id)


async def device_login_state(
    ctx: RequestContext, device_code: str | None, expired: bool
) -> LoginState:
    """Where the pending device login stands, asked of the identity platform; nothing changes
    (the caller already sees the customer, so it may see this)."""
    if expired or not device_code:
        return LoginState.EXPIRED
    return (await device_login(ctx.settings).poll(device_code)).state


async def go_back(opening: Awaitable[Wizard]) -> Customer:
    _, customer, onboarding = _parts(await opening)
    if onboarding.step is OnboardingStep.AWAITING_DEVICE_LOGIN:
        onboarding.step = OnboardingStep.CONNECT_TENANT
        onboarding.device_code = onboarding.user_code = None
        onboarding.device_code_expires_at = onboarding.verification_url = None
    elif onboarding.step is OnboardingStep.CONNECT_TENANT:
        onboarding.step = OnboardingStep.LEGAL_AGREEMENT
        onboarding.legal_accepted_by = onboarding.legal_accepted_at = None
        onboarding.legal_agreement_version = None
    else:
        raise _refuse(
            f"Onboarding cannot go back from {onboarding.step.value}",
            "customerId",
            UserErrorCode.WRONG_STEP,
        )
    await onboarding.save()
    return customer


async def activate(
    customer: Customer, onboarding: Onboarding, apply_recommended: bool
) -> list[BackupPolicy]:
    """The end of both onboarding paths: the customer becomes active from now."""
    now = clock.now()
    onboarding.step = OnboardingStep.FINISHED
    onboarding.finished_at = now
    onboarding.applied_recommended_policies = apply_recommended
    await onboarding.save()  # first: the recommended policies follow its chosen services
    policies = await create_recommended_policies(customer) if apply_recommended else []
    customer.contract_type = ACTIVE_CONTRACT
    customer.activation_date = now
    customer.region = onboarding.region or customer.region
    customer.retention_years = (
        None if onboarding.retention_unlimited else onboarding.retention_years
    )
    customer.protected_services = onboarding.services or [s.value for s in M365Service]
    await customer.save()
    return policies


async def finish(
    opening: Awaitable[Wizard], apply_recommended: bool | None, path: str = "MANAGED"
) -> tuple[Customer, list[BackupPolicy]]:
    """The customer becomes active; only once its tenant is connected.

    ``apply_recommended`` None follows the customer's *auto-create backup policies* flag.
    """
    _, customer, onboarding = _parts(await opening)
    if onboarding.step is not OnboardingStep.TENANT_CONNECTED:
        raise _wrong_step(onboarding, OnboardingStep.TENANT_CONNECTED)
    await ensure_license_management_allowed(customer.provider_id)  # type: ignore[attr-defined]
    if apply_recommended is None:
        apply_recommended = customer.auto_create_policies
    policies = await activate(customer, onboarding, apply_recommended)
    await webhook_events.customer_onboarded(customer, path)
    return customer, policies


async def simulate_device_login(
    ctx: RequestContext, ref: Ref, tenant_id: str | None, tenant_domain: str
) -> Customer:
    """Development only: the Global Administrator signs in at the simulated Microsoft."""
    if not ctx.settings.is_development or ctx.settings.identity_platform != "simulated":
        raise Forbidden("Device logins can only be simulated in development")
    _, customer, onboarding = _parts(await managed(ctx, ref))
    if onboarding.step is not OnboardingStep.AWAITING_DEVICE_LOGIN or not onboarding.user_code:
        raise _wrong_step(onboarding, OnboardingStep.AWAITING_DEVICE_LOGIN)
    try:
        await complete_login(onboarding.user_code, tenant_id, tenant_domain)
    except UnknownDeviceLogin as exc:
        raise _refuse(
            "The device code has expired; renew it first", "customerId", UserErrorCode.EXPIRED
        ) from exc
    return customer
