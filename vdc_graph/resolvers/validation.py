"""Checks of what users type: email, UPN, web URL, DNS domain, single-line text, IP address.

The one place for each rule: every resolver validates these through the functions here.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from typing import Any
from urllib.parse import urlsplit

from vdc_graph import outbound
from vdc_graph.errors import UserError, UserErrorCode, UserErrors

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
    """A name or address literal inside our own network, which a URL must not let anyone probe.

    Any spelling counts (``127.1``, ``2130706433``, ``0x7f000001``, ``0``, ``localhost.``,
    ``[::ffff:127.0.0.1]``). Names are checked again, resolved, when a request is sent
    (``vdc_graph.outbound``): this is the early answer for what a URL names literally."""
    name = host.rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    address = outbound.literal_address(name)
    return address is not None and not outbound.is_public(address)


def ip_address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


_DNS_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_TLD = re.compile(r"^([a-z]{2,63}|xn--[a-z0-9-]{1,59})$")


def dns_domain(text: str) -> str | None:
    """``text`` as a DNS domain name in lower case (an internationalised one in its ASCII
    form), such as ``contoso.onmicrosoft.com``; None when it is not one."""
    name = text.strip().rstrip(".").lower()
    try:
        name = name.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    labels = name.split(".")
    if len(name) > 253 or len(labels) < 2 or not _TLD.match(labels[-1]):
        return None
    return name if all(_DNS_LABEL.match(label) for label in labels) else None


# Inputs that may span lines (a reason, a note, a comment); every other text is one line.
MULTI_LINE_FIELDS = frozenset({"reason", "note", "comment", "description"})
_LINE_BREAKS = frozenset("\n\r\t")
# Bidirectional overrides and isolates: they make a name read differently than it is stored.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def control_character(text: str, multi_line: bool = False) -> str | None:
    """The first control character of ``text`` (a line break only counts in single-line
    text), or None."""
    for char in text:
        if multi_line and char in _LINE_BREAKS:
            continue
        if unicodedata.category(char) == "Cc" or char in _BIDI_CONTROLS:
            return char
    return None


def text_problems(value: Any, path: list[str]) -> list[UserError]:
    """A userError for every string in ``value`` (an input as the client sent it, walked with
    its field names) that holds a control character."""
    if isinstance(value, dict):
        return [p for name, item in value.items() for p in text_problems(item, [*path, name])]
    if isinstance(value, list):
        return [p for i, item in enumerate(value) for p in text_problems(item, [*path, str(i)])]
    if not isinstance(value, str):
        return []
    name = next((p for p in reversed(path) if not p.isdigit()), "input")
    multi_line = name in MULTI_LINE_FIELDS
    char = control_character(value, multi_line)
    if char is None:
        return []
    what = "text" if multi_line else "single-line text"
    return [
        UserError(
            f"{name} is {what}: it cannot hold the control character U+{ord(char):04X}",
            path,
            UserErrorCode.INVALID,
        )
    ]


MAX_COMMENT = 1000


def checked_comment(text: str) -> str:
    """A decision's or state change's comment, trimmed; refused past ``MAX_COMMENT``."""
    text = text.strip()
    if len(text) > MAX_COMMENT:
        raise UserErrors(
            [
                UserError(
                    f"The comment is longer than {MAX_COMMENT} characters",
                    ["input", "comment"],
                    UserErrorCode.TOO_LONG,
                )
            ]
        )
    return text
