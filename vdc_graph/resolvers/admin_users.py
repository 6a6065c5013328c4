"""A customer's admin users (also while it is pending), and the organizations of the caller."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vdc_graph.context import RequestContext
from vdc_graph.db.models import Customer, CustomerAdminUser
from vdc_graph.db.pagination import Page, PageArgs, paginate, sort_key
from vdc_graph.db.queries import customer_changes as queries
from vdc_graph.db.queries.customers import SORT_KEYS
from vdc_graph.enums import MessageTopic, OutboxKind, Permission
from vdc_graph.errors import UserError, UserErrorCode, UserErrors
from vdc_graph.notify.outbox import enqueue

from . import rules
from .access import changing, reading
from .ids import Ref, key_of, not_found
from .managing import customer_to_change
from .validation import upn_problem

MAX_NAME = 100


def _name_problems(first: str | None, last: str | None) -> list[UserError]:
    problems = []
    for value, field, label in ((first, "firstName", "first"), (last, "lastName", "last")):
        if value is None:
            continue
        if not value.strip():
            problems.append(
                UserError(f"Enter the {label} name", ["input", field], UserErrorCode.REQUIRED)
            )
        elif len(value.strip()) > MAX_NAME:
            problems.append(
                UserError(
                    f"The {label} name is longer than {MAX_NAME} characters",
                    ["input", field],
                    UserErrorCode.TOO_LONG,
                )
            )
    return problems


@dataclass(frozen=True)
class AdminUserInput:
    email: str
    first_name: str
    last_name: str
    send_welcome_email: bool = True


async def add_admin_user(
    ctx: RequestContext, ref: Ref, data: AdminUserInput
) -> tuple[Customer, CustomerAdminUser]:
    principal, customer = await customer_to_change(ctx, ref)
    rules.add_admin_user(principal, customer)
    email = data.email.strip()
    problems = []
    if problem := upn_problem(email):
        problems.append(UserError(problem, ["input", "email"], UserErrorCode.INVALID_EMAIL))
    elif await queries.admin_users_of(customer.id).filter(email_key=email.lower()).exists():
        problems.append(
            UserError(
                f"{email} is an admin user of this customer already",
                ["input", "email"],
                UserErrorCode.DUPLICATE,
            )
        )
    problems += _name_problems(data.first_name, data.last_name)
    if problems:
        raise UserErrors(problems)
    user = await CustomerAdminUser.create(
        customer_id=customer.id,
        email=email,
        email_key=email.lower(),
        first_name=data.first_name.strip(),
        last_name=data.last_name.strip(),
        send_welcome_email=data.send_welcome_email,
    )
    if data.send_welcome_email:
        await _welcome(ctx, customer, user)
    return customer, user


async def _welcome(ctx: RequestContext, customer: Customer, user: CustomerAdminUser) -> None:
    await enqueue(
        OutboxKind.EMAIL,
        user.email,
        provider_id=customer.provider_id,
        subject=f"Welcome to Microsoft 365 backup for {customer.display_name}",
        body=(
            f"Hello {user.first_name},\n\nyou are now an administrator of Microsoft 365 backup "
            f"for {customer.display_name}. Sign in with {user.email} at "
            f"{ctx.settings.public_url.rstrip('/')}\n"
        ),
        payload={"adminUserId": str(user.id), "customerId": str(customer.id)},
        customer_id=customer.id,
        topic=MessageTopic.WELCOME,
    )


async def _admin_user_to_change(ctx: RequestContext, ref: Ref) -> CustomerAdminUser:
    _, scope = changing(ctx, Permission.CUSTOMER_MANAGEMENT)
    user = await queries.admin_user_for_update(scope, key_of(ref, "CustomerAdminUser"))
    if user is None:
        raise not_found("CustomerAdminUser")
    return user


@dataclass(frozen=True)
class AdminUserChange:
    first_name: str | None = None
    last_name: str | None = None
    send_welcome_email: bool | None = None


async def update_admin_user(
    ctx: RequestContext, ref: Ref, change: AdminUserChange
) -> CustomerAdminUser:
    user = await _admin_user_to_change(ctx, ref)
    if problems := _name_problems(change.first_name, change.last_name):
        raise UserErrors(problems)
    if change.first_name is not None:
        user.first_name = change.first_name.strip()
    if change.last_name is not None:
        user.last_name = change.last_name.strip()
    switched_on = change.send_welcome_email is True and not user.send_welcome_email
    if change.send_welcome_email is not None:
        user.send_welcome_email = change.send_welcome_email
    await user.save()
    if switched_on:  # the welcome email the flag promises, sent now
        await _welcome(ctx, await Customer.get(id=user.customer_id), user)
    return user


async def remove_admin_user(ctx: RequestContext, ref: Ref) -> tuple[Customer, Any]:
    """The customer, and the key of the admin user removed from it."""
    user = await _admin_user_to_change(ctx, ref)
    customer = await Customer.get(id=user.customer_id)
    removed = user.id
    await user.delete()
    return customer, removed


async def organizations(ctx: RequestContext, page: PageArgs) -> Page[Customer]:
    """Customers the caller is an admin user of (by its email), in display-name order."""
    scope = reading(ctx)
    email = ctx.principal.email if ctx.principal else None
    qs = queries.organizations_of(scope, email or "")
    if not email:
        qs = qs.filter(id__in=[])
    return await paginate(qs, sort_key(SORT_KEYS, "DISPLAY_NAME"), False, page)
