"""What every webhook body reader shares: the refusal it raises, and JSON as senders write it.

A reader turns the raw bytes posted to ``/hooks/<word>/{token}`` into the neutral input its
kind takes, or raises `BadBody`, which the door answers with a 400 naming the reason; the
kind never sees a body it could not read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

MAX_DEPTH = 16
# PostgreSQL text holds no NUL, and no database takes half of a surrogate pair.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class BadBody(ValueError):
    """Why a body is refused, in a sentence the sender's operator can act on."""


# The raw body, read within the door's size limit, into what the kind's `hook` takes.
BodyReader = Callable[[bytes], object]


def json_body(raw: bytes) -> Any:
    """JSON as senders write it: UTF-8, no NaN or Infinity, not nested past ``MAX_DEPTH``,
    no text the database cannot keep."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadBody("the body is not UTF-8 text") from exc
    try:
        body = json.loads(text, parse_constant=_no_constant)
    except RecursionError as exc:
        raise BadBody("the JSON is nested too deeply") from exc
    except ValueError as exc:
        raise BadBody(f"the body is not JSON: {str(exc)[:120]}") from exc
    _check(body)
    return body


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _check(body: Any) -> None:
    pending = [(body, 0)]
    while pending:
        found, depth = pending.pop()
        if depth > MAX_DEPTH:
            raise BadBody("the JSON is nested too deeply")
        if isinstance(found, str):
            if _UNSTORABLE.search(found):
                raise BadBody("a string holds a NUL or half a surrogate pair")
        elif isinstance(found, dict):
            pending.extend((k, depth + 1) for k in found)
            pending.extend((v, depth + 1) for v in found.values())
        elif isinstance(found, list):
            pending.extend((item, depth + 1) for item in found)
