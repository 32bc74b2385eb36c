"""Text as the database can keep it, whatever a platform delivered."""

from __future__ import annotations

import re

# PostgreSQL text holds no NUL, and no database takes half of a surrogate pair.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(text: str) -> str:
    return _UNSTORABLE.sub("", text)
