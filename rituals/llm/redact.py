"""Masking what must not leave the process: e-mail addresses, secrets and links.

Applied to every string of the material just before it is sent, so the stored material
stays whole and a deployment can switch redaction on without migrating anything.
"""

from __future__ import annotations

import re
from typing import Any

_EMAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")
_URL = re.compile(r"\b(?:https?|ftp)://[^\s<>\"')\]]+|\bwww\.[^\s<>\"')\]]+", re.IGNORECASE)
_TOKEN = re.compile(
    r"\b(?:"
    r"xox[abposr]-[\w-]{8,}"  # Slack
    r"|xapp-[\w-]{8,}"
    r"|sk-[\w-]{16,}"  # OpenAI and alike
    r"|gh[pousr]_\w{20,}"  # GitHub
    r"|glpat-[\w-]{16,}"  # GitLab
    r"|AKIA[0-9A-Z]{16}"  # AWS access key id
    r"|eyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]{8,}"  # a JWT
    r")"
)
# Any other long run of letters and digits mixed is taken for a key or a token.
_LONG = re.compile(r"[A-Za-z0-9_\-+/]{32,}={0,2}")


def _long(match: re.Match[str]) -> str:
    run = match.group(0)
    mixed = any(c.isdigit() for c in run) and any(c.isalpha() for c in run)
    return "[secret]" if mixed else run


def text(value: str) -> str:
    """``value`` with links, e-mail addresses and secret-looking strings masked."""
    if len(value) < 6:
        return value
    value = _URL.sub("[link]", value)
    if "@" in value:
        value = _EMAIL.sub("[email]", value)
    value = _TOKEN.sub("[secret]", value)
    return _LONG.sub(_long, value)


def deep(value: Any) -> Any:
    """Every string inside JSON-like ``value`` masked; keys are ours and stay."""
    if isinstance(value, str):
        return text(value)
    if isinstance(value, list):
        return [deep(v) for v in value]
    if isinstance(value, dict):
        return {k: deep(v) for k, v in value.items()}
    return value
