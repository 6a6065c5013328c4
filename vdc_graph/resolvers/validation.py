"""Checks of what users type: email, UPN, web URL, language code, IP address.

The one place for each rule: every resolver validates these through the functions here.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

_EMAIL = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)
MAX_URL = 2000
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


def is_web_url(text: str, schemes: tuple[str, ...] = ("https",)) -> bool:
    """An absolute URL with one of ``schemes`` and a host, at most ``MAX_URL`` characters."""
    try:
        parts = urlsplit(text)
        host = parts.hostname
    except ValueError:
        return False
    return parts.scheme in schemes and bool(host) and " " not in text and len(text) <= MAX_URL


def is_https_url(text: str) -> bool:
    """An https URL of a public host (what the server will POST to: never its own network)."""
    return is_web_url(text, ("https",)) and not is_internal_host(urlsplit(text).hostname or "")


def is_internal_host(host: str) -> bool:
    """A name or address literal inside our own network, which a URL must not let anyone probe."""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return not address.is_global


def ip_address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None
