"""Self-service onboarding: invitations by email, and the invitee's steps with its token.

The invitee takes the wizard's own steps (legal agreement, region and retention, device login,
finish) without signing in: the link's token is the credential, for that customer only.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar
from urllib.parse import quote

from vdc_graph import clock
from vdc_graph.context import RequestContext
from vdc_graph.db.models import BackupPolicy, Customer, Invitation, Onboarding
from vdc_graph.db.queries import customer_changes as queries
from vdc_graph.enums import ContractType, MessageTopic, OutboxKind
from vdc_graph.errors import UserError, UserErrorCode, UserErrors
from vdc_graph.notify.outbox import enqueue

from . import rules
from .ids import Ref
from .managing import customer_to_change
from .onboarding import Wizard, finish, open_wizard
from .usage import suspension_months
from .validation import is_email

T = TypeVar("T")
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
                invited_by=principal.actor_label,
                sent_at=now,
                send_count=1,
                token_hash=token_hash(token),
                expires_at=expires,
            )
        else:  # a resend: a new link, the old one stops working
            invitation.sent_at = now
            invitation.invited_by = principal.actor_label
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


async def by_token(token: str) -> Wizard:
    """The invitee's wizard: the link's token authorises the steps for its customer only.

    The token works until it expires, is replaced by a resend, or onboarding finishes.
    """
    invitation = await _valid_invitation(token)
    customer = await Customer.select_for_update().get(id=invitation.customer_id)
    if customer.deleted_at is not None or customer.contract_type is not ContractType.PENDING:
        raise _refuse(
            "This customer has finished onboarding already",
            ["input", "token"],
            UserErrorCode.INVALID_STATE,
        )
    return await open_wizard(invitation.email, customer)


async def _valid_invitation(token: str) -> Invitation:
    invitation = await _usable(token, for_update=True)
    if invitation is None:
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
    return invitation


async def _usable(token: str, for_update: bool = False) -> Invitation | None:
    """The invitation this token opens, unless it was accepted or replaced (expired or not)."""
    query = Invitation.filter(token_hash=token_hash(token), accepted_at__isnull=True)
    if for_update:
        query = query.select_for_update()
    return await query.first()


async def as_token_step(step: Awaitable[T]) -> T:
    """An onboarding step taken with a link: its refusals name the link's token, the input's
    field that opened the customer (the provider's wizard names ``customerId``)."""
    try:
        return await step
    except UserErrors as exc:
        raise UserErrors(
            [
                UserError(e.message, ["input", "token"], e.code)
                if e.field == ["input", "customerId"]
                else e
                for e in exc.errors
            ]
        ) from exc


async def accept(token: str) -> tuple[Customer, list[BackupPolicy]]:
    """The invitee's last step: the customer becomes active (its tenant must be connected), with
    the recommended policies when it auto-creates them; the link then stops working."""
    customer, policies = await as_token_step(finish(by_token(token), None, "INVITATION"))
    await Invitation.filter(token_hash=token_hash(token)).update(accepted_at=clock.now())
    return customer, policies


@dataclass(frozen=True)
class InvitationView:
    """What the accept page may show the anonymous holder of a link, and nothing more."""

    email: str
    customer_name: str
    invited_by: str
    expires_at: datetime
    onboarding: Onboarding

    @property
    def expired(self) -> bool:
        return self.expires_at <= clock.now()


async def view(token: str) -> InvitationView | None:
    """The invitation a link opens (also once expired); None when unknown, used or replaced."""
    invitation = await _usable(token)
    if invitation is None:
        return None
    customer = await Customer.get_or_none(id=invitation.customer_id, deleted_at__isnull=True)
    if customer is None or customer.contract_type is not ContractType.PENDING:
        return None
    onboarding = await Onboarding.get_or_none(customer_id=customer.id) or Onboarding(
        customer_id=customer.id
    )
    return InvitationView(
        email=invitation.email,
        customer_name=customer.display_name,
        invited_by=invitation.invited_by,
        expires_at=invitation.expires_at,
        onboarding=onboarding,
    )
