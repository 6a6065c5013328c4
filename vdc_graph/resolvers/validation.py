"""Checks of addresses users type: email, UPN, https URL, IP address."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

_EMAIL = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)
_UPN_LOCAL = re.compile(r"^[A-Za-z0-9_'-]+(\.[A-Za-z0-9_'-]+)*$")
# Local parts that name a group or shared mailbox rather than a person who signs in.
GROUP_LOCAL_PARTS = frozenset(
    {"all", "everyone", "group", "groups", "team", "staff", "admins", "distribution", "dl"}
)


def is_email(text: str) -> bool:
    return len(text) <= 254 and bool(_EMAIL.match(text))


def upn_problem(text: str) -> str | None:
    """Why ``text`` is not a Microsoft 365 sign-in name (UPN) of a person, or None."""
    if not is_email(text):
        return f"{text or 'An empty address'} is not an email address"
    local = text.split("@", 1)[0]
    if "+" in local:
        return f"{text} is an alias (a + address); enter the user's sign-in name"
    if not _UPN_LOCAL.match(local):
        return f"{text} is not a Microsoft 365 sign-in name"
    if local.lower() in GROUP_LOCAL_PARTS:
        return f"{text} is a group address; enter a person's sign-in name"
    return None


def is_https_url(text: str) -> bool:
    try:
        parts = urlsplit(text)
    except ValueError:
        return False
    return parts.scheme == "https" and bool(parts.hostname) and " " not in text


def ip_address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None
