"""The process-wide error vocabulary.

``ApiError`` subclasses become top-level GraphQL errors with ``extensions.code``.
``UserError`` is a fixable business-rule or validation failure that a mutation payload
returns in ``userErrors``; ``UserErrors`` carries a list of them out of a resolver.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class ErrorCode(StrEnum):
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    NOT_FOUND = "NOT_FOUND"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    RATE_LIMITED = "RATE_LIMITED"
    QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
    TIMEOUT = "TIMEOUT"
    DATABASE_BUSY = "DATABASE_BUSY"  # the embedded database stayed locked: retry
    INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
    # Apollo's persisted-query codes, which its clients recognise.
    PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
    PERSISTED_QUERY_NOT_SUPPORTED = "PERSISTED_QUERY_NOT_SUPPORTED"
    PERSISTED_QUERY_NOT_IN_LIST = "PERSISTED_QUERY_NOT_IN_LIST"


class ApiError(Exception):
    """An error the client is told about as it is (never masked)."""

    code: ErrorCode = ErrorCode.INTERNAL_SERVER_ERROR

    def __init__(self, message: str, **extra: object) -> None:
        super().__init__(message)
        self.message = message
        self.extensions: dict[str, object] = {"code": self.code.value, **extra}


class Unauthenticated(ApiError):
    code = ErrorCode.UNAUTHENTICATED


class Forbidden(ApiError):
    code = ErrorCode.FORBIDDEN


class NotFound(ApiError):
    code = ErrorCode.NOT_FOUND


class BadUserInput(ApiError):
    code = ErrorCode.BAD_USER_INPUT


class QueryTooComplex(ApiError):
    code = ErrorCode.QUERY_TOO_COMPLEX


class UserErrorCode(StrEnum):
    """Why a mutation's input was refused; one closed set for the whole API."""

    INVALID = "INVALID"
    REQUIRED = "REQUIRED"
    TOO_LONG = "TOO_LONG"
    OUT_OF_RANGE = "OUT_OF_RANGE"
    DUPLICATE = "DUPLICATE"
    NOT_FOUND = "NOT_FOUND"
    INVALID_STATE = "INVALID_STATE"
    INVALID_EMAIL = "INVALID_EMAIL"
    INVALID_URL = "INVALID_URL"
    INVALID_IP_RANGE = "INVALID_IP_RANGE"
    CUSTOMER_PENDING = "CUSTOMER_PENDING"
    WRONG_STEP = "WRONG_STEP"
    EXPIRED = "EXPIRED"
    ALREADY_RUNNING = "ALREADY_RUNNING"
    NOT_RUNNING = "NOT_RUNNING"
    PERMISSION_REQUIRED = "PERMISSION_REQUIRED"
    BUILT_IN_ROLE = "BUILT_IN_ROLE"
    LAST_USER_MANAGER = "LAST_USER_MANAGER"
    LICENSE_MANAGEMENT_SUSPENDED = "LICENSE_MANAGEMENT_SUSPENDED"
    INVALID_SELECTION = "INVALID_SELECTION"
    MISMATCH = "MISMATCH"
    CUSTOMER_INACTIVE = "CUSTOMER_INACTIVE"


@dataclass(frozen=True)
class UserError:
    message: str
    field: list[str] | None
    code: UserErrorCode = UserErrorCode.INVALID


@dataclass
class UserErrors(Exception):
    """Raised by a resolver to refuse an input; nothing it started is committed."""

    errors: list[UserError] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__("; ".join(e.message for e in self.errors))
