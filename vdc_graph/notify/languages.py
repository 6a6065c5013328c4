"""The languages notifications can be set to, and their canonical codes."""

from __future__ import annotations

# Code -> the language's own name, as a language picker shows it.
SUPPORTED_LANGUAGES: dict[str, str] = {
    "en": "English",
    "de": "Deutsch",
    "fr": "Français",
    "es": "Español",
    "it": "Italiano",
    "nl": "Nederlands",
    "pt-BR": "Português (Brasil)",
    "ja": "日本語",
    "ko": "한국어",
    "zh-CN": "中文 (简体)",
}
_BY_KEY = {code.lower(): code for code in SUPPORTED_LANGUAGES}


def canonical_language(text: str) -> str | None:
    """The supported code ``text`` names (ignoring case and ``_`` for ``-``), else None."""
    return _BY_KEY.get(text.strip().replace("_", "-").lower())
