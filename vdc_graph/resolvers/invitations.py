"""Self-service onboarding: invitations by email, and accepting one with its token."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote

from vdc_graph import clock
from vdc_graph.context import RequestContext
from vdc_graph.db.models import BackupPolicy, Customer, Invitation, Onboarding
from vdc_graph.db.queries import customer_changes as queries
from vdc_graph.enums import (
    ContractType,
    M365Service,
    MessageTopic,
    OnboardingStep,
    OutboxKind,
    Region,
)
from vdc_graph.errors import UserError, UserErrorCode, UserErrors
from vdc_graph.notify import webhook_events
from vdc_graph.notify.outbox import enqueue

from . import rules
from .ids import Ref
from .managing import customer_to_change
from .onboarding import activate
from .platform import LEGAL_AGREEMENT, MAX_RETENTION_YEARS, MIN_RETENTION_YEARS
from .usage import suspension_months
from .validation import is_email

_SEPARATORS = re.compile(r"[\s,;]+")
MAX_ADDRESSES = 50


def split_addresses(text: str) -> list[str]:
    """Addresses separated by commas, semicolons or spaces; repeats dropped, order kept."""
    seen: dict[str, str] = {}
    for part in _SEPARATORS.split(text.strip()):
        if part and part.lower() not in seen:
            seen[part.lower()] = part
    return list(seen.values())


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _refuse(message: str, field: list[str], code: UserErrorCode) -> UserErrors:
    return UserErrors([UserError(message, field, code)])


@dataclass(frozen=True)
class InviteResult:
    customer: Customer
    invitations: list[Invitation]


async def invite(ctx: RequestContext, ref: Ref, emails: str) -> InviteResult:
    """Email each address a link to onboard the customer; sending again is a resend.

    Every address is checked first: when any is bad, nothing is recorded or sent.
    """
    principal, customer = await customer_to_change(ctx, ref)
    suspended = await suspension_months(customer.provider_id)  # type: ignore[attr-defined]
    rules.invite_customer(principal, customer, suspended)
    addresses = split_addresses(emails)
    if not addresses:
        raise _refuse(
            "Enter at least one email address", ["input", "emails"], UserErrorCode.REQUIRED
        )
    if len(addresses) > MAX_ADDRESSES:
        raise _refuse(
            f"Invite at most {MAX_ADDRESSES} addresses at a time",
            ["input", "emails"],
            UserErrorCode.OUT_OF_RANGE,
        )
    bad = [a for a in addresses if not is_email(a)]
    if bad:
        raise UserErrors(
            [
                UserError(
                    f"{a} is not an email address", ["input", "emails"], UserErrorCode.INVALID_EMAIL
                )
                for a in bad
            ]
        )
    now = clock.now()
    expires = now + timedelta(hours=ctx.settings.invitation_ttl_hours)
    existing = {i.email_key: i for i in await queries.invitations_of(customer.id)}
    sent = []
    for address in addresses:
        token = secrets.token_urlsafe(32)
        invitation = existing.get(address.lower())
        if invitation is None:
            invitation = await Invitation.create(
                customer_id=customer.id,
                email=address,
                email_key=address.lower(),
                sent_at=now,
                send_count=1,
                token_hash=token_hash(token),
                expires_at=expires,
            )
        else:  # a resend: a new link, the old one stops working
            invitation.sent_at = now
            invitation.send_count += 1
            invitation.token_hash = token_hash(token)
            invitation.expires_at = expires
            invitation.accepted_at = None
            await invitation.save()
        await _send(ctx, customer, invitation, token)
        sent.append(invitation)
    return InviteResult(customer, sent)


async def _send(
    ctx: RequestContext, customer: Customer, invitation: Invitation, token: str
) -> None:
    link = f"{ctx.settings.public_url.rstrip('/')}/onboarding/accept?token={quote(token)}"
    await enqueue(
        OutboxKind.EMAIL,
        invitation.email,
        provider_id=customer.provider_id,
        subject=f"Set up Microsoft 365 backup for {customer.display_name}",
        body=(
            f"You are invited to set up Microsoft 365 backup for {customer.display_name}.\n\n"
            f"Open this link to start (it works once, until "
            f"{invitation.expires_at:%Y-%m-%d %H:%M} UTC):\n{link}\n"
        ),
        payload={"invitationId": str(invitation.id), "customerId": str(customer.id)},
        customer_id=customer.id,
        topic=MessageTopic.INVITATION,
    )


@dataclass(frozen=True)
class AcceptInput:
    token: str
    region: Region
    retention_years: int | None = None
    retention_unlimited: bool = False
    services: list[M365Service] | None = None


async def accept(data: AcceptInput) -> tuple[Customer, list[BackupPolicy]]:
    """The invited customer finishes onboarding; the token is the credential (single use)."""
    invitation = await Invitation.select_for_update().get_or_none(token_hash=token_hash(data.token))
    if invitation is None or invitation.accepted_at is not None:
        raise _refuse(
            "This invitation link is not valid or was used already",
            ["input", "token"],
            UserErrorCode.NOT_FOUND,
        )
    if invitation.expires_at <= clock.now():
        raise _refuse(
            "This invitation has expired; ask for a new one",
            ["input", "token"],
            UserErrorCode.EXPIRED,
        )
    customer = await Customer.select_for_update().get(id=invitation.customer_id)
    if customer.deleted_at is not None or customer.contract_type is not ContractType.PENDING:
        raise _refuse(
            "This customer has finished onboarding already",
            ["input", "token"],
            UserErrorCode.INVALID_STATE,
        )
    problems = []
    if data.retention_unlimited == (data.retention_years is not None):
        problems.append(
            UserError(
                "Choose a retention of 1 to 25 years, or unlimited",
                ["input", "retentionYears"],
                UserErrorCode.INVALID,
            )
        )
    elif data.retention_years is not None and not (
        MIN_RETENTION_YEARS <= data.retention_years <= MAX_RETENTION_YEARS
    ):
        problems.append(
            UserError(
                "Retention must be 1 to 25 whole years",
                ["input", "retentionYears"],
                UserErrorCode.OUT_OF_RANGE,
            )
        )
    if data.services is not None and not data.services:
        problems.append(
            UserError("Choose at least one service", ["input", "services"], UserErrorCode.REQUIRED)
        )
    if problems:
        raise UserErrors(problems)
    onboarding = await Onboarding.get_or_none(customer_id=customer.id) or await Onboarding.create(
        customer_id=customer.id
    )
    now = clock.now()
    chosen = data.services or list(M365Service)
    onboarding.legal_accepted_by = invitation.email
    onboarding.legal_accepted_at = now
    onboarding.legal_agreement_version = LEGAL_AGREEMENT.version
    onboarding.region = data.region
    onboarding.retention_years = data.retention_years
    onboarding.retention_unlimited = data.retention_unlimited
    onboarding.services = [s.value for s in M365Service if s in chosen]
    onboarding.step = OnboardingStep.TENANT_CONNECTED
    invitation.accepted_at = now
    await invitation.save(update_fields=["accepted_at"])
    policies = await activate(customer, onboarding, customer.auto_create_policies)
    await webhook_events.customer_onboarded(customer, "INVITATION")
    return customer, policies
