"""Whether the caller may act on an object: the decisions the mutations make before they
change anything, as plain functions of the caller and the facts about the object.

Each mutation calls its rule (with facts it reads under lock) and the `viewerCan…` hints call
the same rule (with facts read through the request's loaders), so the Actions column of a portal
always agrees with what the mutation would answer. A rule raises what the mutation answers: a
``Forbidden`` for a missing right, ``UserErrors`` for a state that does not allow the action.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

from vdc_graph.auth import Principal
from vdc_graph.contracts import refuse_backups
from vdc_graph.db.models import Customer, UsageReport
from vdc_graph.db.queries.usage import UNSUBMITTED
from vdc_graph.enums import ContractType, Permission, UsageReportStatus
from vdc_graph.errors import Forbidden, Unauthenticated, UserError, UserErrorCode, UserErrors

from .access import check_customer_flag, may_change


def allows(rule: Callable[[], None]) -> bool:
    """The hint: whether ``rule`` (a call of one rule below) lets the caller act."""
    try:
        rule()
    except (Forbidden, Unauthenticated, UserErrors):
        return False
    return True


def _refuse(message: str, field: str | None, code: UserErrorCode) -> UserErrors:
    return UserErrors([UserError(message, ["input", field] if field else None, code)])


def refuse_suspended(months: Sequence[date]) -> None:
    """Licence management is suspended while two consecutive past reports are unsubmitted."""
    if months:
        named = " and ".join(m.strftime("%B %Y") for m in months)
        raise _refuse(
            f"Licence management is suspended: the usage reports for {named} have not "
            "been submitted. Submit them to lift the suspension.",
            None,
            UserErrorCode.LICENSE_MANAGEMENT_SUSPENDED,
        )


# --- customers (CUSTOMER_MANAGEMENT) --------------------------------------------------------


def edit_customer(principal: Principal | None, customer: Customer) -> None:
    """Settings, IP ranges and notifications of an onboarded customer."""
    may_change(principal, Permission.CUSTOMER_MANAGEMENT)
    if customer.contract_type is ContractType.PENDING:
        raise _refuse(
            "The customer is still pending: finish onboarding before changing settings",
            "customerId",
            UserErrorCode.CUSTOMER_PENDING,
        )


def onboard_customer(principal: Principal | None, customer: Customer) -> None:
    """The managed onboarding wizard's steps."""
    may_change(principal, Permission.CUSTOMER_MANAGEMENT)
    if customer.contract_type is not ContractType.PENDING:
        raise _refuse(
            "This customer has finished onboarding", "customerId", UserErrorCode.INVALID_STATE
        )


def invite_customer(
    principal: Principal | None, customer: Customer, suspended: Sequence[date]
) -> None:
    """Inviting a pending customer's administrators to onboard it themselves."""
    may_change(principal, Permission.CUSTOMER_MANAGEMENT)
    refuse_suspended(suspended)
    if customer.contract_type is not ContractType.PENDING:
        raise _refuse(
            "The customer has finished onboarding; there is nothing to invite to",
            "customerId",
            UserErrorCode.INVALID_STATE,
        )


def add_admin_user(principal: Principal | None, customer: Customer) -> None:
    may_change(principal, Permission.CUSTOMER_MANAGEMENT)


def offboard_customer(
    principal: Principal | None, customer: Customer, suspended: Sequence[date], open_request: bool
) -> None:
    """Asking for the customer to be offboarded."""
    may_change(principal, Permission.CUSTOMER_MANAGEMENT)
    refuse_suspended(suspended)
    if open_request:
        raise _refuse(
            "This customer has an open offboarding request already",
            "customerId",
            UserErrorCode.DUPLICATE,
        )


# --- backup policies (BACKUP_MANAGEMENT, and the customer's flags for a switched caller) ------


def edit_policy(principal: Principal | None, customer: Customer) -> None:
    """Changing (and enabling or disabling) a policy of ``customer``."""
    checked = may_change(principal, Permission.BACKUP_MANAGEMENT)
    check_customer_flag(checked, customer, "allow_edit_trigger_policy")


def start_policy(principal: Principal | None, customer: Customer, running: bool) -> None:
    edit_policy(principal, customer)
    refuse_backups(customer.contract_type, ["input", "id"])
    if running:
        raise _refuse(
            "The policy is already running; stop it or wait until it ends",
            "id",
            UserErrorCode.ALREADY_RUNNING,
        )


def stop_policy(principal: Principal | None, customer: Customer, running: bool) -> None:
    edit_policy(principal, customer)
    if not running:
        raise _refuse("The policy is not running", "id", UserErrorCode.NOT_RUNNING)


def delete_policy(principal: Principal | None, customer: Customer, running: bool) -> None:
    checked = may_change(principal, Permission.BACKUP_MANAGEMENT)
    check_customer_flag(checked, customer, "allow_create_delete_policy")
    if running:
        raise _refuse(
            "The policy is running; stop it before deleting it",
            "id",
            UserErrorCode.ALREADY_RUNNING,
        )


# --- usage reports (SITE_SETTINGS) ------------------------------------------------------------

CONFIRMABLE = (UsageReportStatus.SAVED,)


def refuse_report_status(
    report: UsageReport, allowed: tuple[UsageReportStatus, ...], what: str
) -> None:
    """A report is changed (submitted, corrected, confirmed) only in the statuses that allow it."""
    if report.status not in allowed:
        raise _refuse(
            f"This report is {report.status.value}; only a report that is "
            f"{' or '.join(s.value for s in allowed)} can be {what}",
            "id",
            UserErrorCode.INVALID_STATE,
        )


def submit_report(principal: Principal | None, report: UsageReport) -> None:
    may_change(principal, Permission.SITE_SETTINGS)
    refuse_report_status(report, UNSUBMITTED, "submitted")


def confirm_report(principal: Principal | None, report: UsageReport) -> None:
    may_change(principal, Permission.SITE_SETTINGS)
    refuse_report_status(report, CONFIRMABLE, "confirmed")
