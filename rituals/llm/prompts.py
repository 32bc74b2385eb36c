"""Prompt templates: text files in ``prompts/``, one per summary, filled by one loader.

Templates use ``$name`` placeholders (`string.Template`), so the braces of JSON examples in
them need no escaping; an unknown placeholder is left as written rather than failing.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from string import Template

_BASES = (Path(__file__).resolve().parents[2], Path("/app"), Path("/usr/local/share/ritualbot"))


@cache
def template(name: str) -> Template:
    """The template ``prompts/<name>.txt``; a missing one is a deployment error."""
    for base in _BASES:
        path = base / "prompts" / f"{name}.txt"
        if path.is_file():
            return Template(path.read_text(encoding="utf-8"))
    raise FileNotFoundError(f"prompts/{name}.txt is missing")


def fill(name: str, **values: object) -> str:
    return template(name).safe_substitute({k: str(v) for k, v in values.items()})
