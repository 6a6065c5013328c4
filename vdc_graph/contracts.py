"""What a customer may still do, by its contract's status.

- ``PENDING``: not onboarded: no tenant, no backups, nothing to restore.
- ``TRIAL``, ``MONTH_TO_MONTH``, ``ANNUAL``: everything.
- ``SUSPENDED`` (the licensing system paused the contract, e.g. an unpaid bill): backups
  stop (the scheduler skips its policies; starting one by hand is refused), but its backed-up
  data stays available: restores and signing in (switching into the customer) go on.
- ``EXPIRED`` (the contract ended): no backups and no restores; signing in still works, so
  the customer can see its history and ask for offboarding, and its data waits for
  retention or offboarding.
"""

from __future__ import annotations

from vdc_graph.enums import ContractType
from vdc_graph.errors import UserError, UserErrorCode, UserErrors

# Contracts the licensing system stopped: no backups (a pending customer's runs end
# DISCONNECTED: it has no tenant yet).
INACTIVE = (ContractType.SUSPENDED, ContractType.EXPIRED)
# Where the licensing system may move a customer's contract (onboarding alone ends PENDING).
CONTRACT_STATES = (
    ContractType.TRIAL,
    ContractType.MONTH_TO_MONTH,
    ContractType.ANNUAL,
    ContractType.SUSPENDED,
    ContractType.EXPIRED,
)


def refuse_backups(contract: ContractType, field: list[str]) -> None:
    if contract in INACTIVE:
        raise UserErrors(
            [
                UserError(
                    f"The customer's contract is {contract.value}: it gets no backups until "
                    "the contract is active again",
                    field,
                    UserErrorCode.CUSTOMER_INACTIVE,
                )
            ]
        )


def refuse_restores(contract: ContractType, field: list[str]) -> None:
    if contract is ContractType.EXPIRED:
        raise UserErrors(
            [
                UserError(
                    "The customer's contract has expired: its data can no longer be restored",
                    field,
                    UserErrorCode.CUSTOMER_INACTIVE,
                )
            ]
        )
