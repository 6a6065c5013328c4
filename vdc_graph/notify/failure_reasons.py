"""Why a message could not be delivered, in words safe to show to any reader of the history.

The raw error of a mail server (kept in ``last_error`` for operators) may name hosts and
addresses; the reason shown in the API says only which side failed and how. Teams failures
carry the outbound client's generic reasons already.
"""

from __future__ import annotations

import aiosmtplib
import httpx

UNREACHABLE = "The receiving server could not be reached"
RECIPIENT_REFUSED = "The mail server refused the recipient"
MAIL_REFUSED = "The mail server refused the message"
UNDELIVERABLE = "The message could not be delivered"


def generic_reason(exc: BaseException) -> str:
    from .teams import TeamsRefused  # the deliverers import the outbox; keep this one-way

    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused | aiosmtplib.SMTPRecipientRefused):
        return RECIPIENT_REFUSED
    if isinstance(exc, aiosmtplib.SMTPConnectError | aiosmtplib.SMTPTimeoutError):
        return UNREACHABLE
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return MAIL_REFUSED
    if isinstance(exc, TeamsRefused):  # already generic: the outbound client's own reasons
        reason = str(exc)
        return reason[:1].upper() + reason[1:]
    if isinstance(
        exc, OSError | TimeoutError | aiosmtplib.SMTPServerDisconnected | httpx.TransportError
    ):
        return UNREACHABLE
    return UNDELIVERABLE
