"""Reading blockers out of free-text answers, the way people actually write them."""

from __future__ import annotations

import re
from dataclasses import dataclass

NO_BLOCKER = re.compile(
    r"^\s*(none|no|nope|nothing|nada|n/?a|-+|no blockers?|nothing blocking( me)?|"
    r"not blocked|all good|all clear|no impediments?|nothing here)\s*[.!]*\s*$",
    re.IGNORECASE,
)
RESOLVED = re.compile(
    r"^\s*(?:resolved|unblocked|fixed)\b\s*(?:#(?P<id>\d+))?[\s,.;:!-]*(?P<rest>.*)$",
    re.IGNORECASE | re.DOTALL,
)
CONNECTOR = re.compile(r"^(?:but|and|now|though|however|so|then)\b[\s,]*", re.IGNORECASE)
FILLER = re.compile(
    r"^(it|that|this|now|finally|thanks|yay|nothing new|no new blockers?|no more blockers?)"
    r"\W*$",
    re.IGNORECASE,
)
MENTION = re.compile(r"<@(?P<slack>[A-Za-z0-9._-]+)(?:\|[^>]*)?>|(?<![\w.])@(?P<plain>[\w.-]*\w)")
UNCHANGED = re.compile(
    r"^\s*(same|same as (before|yesterday)|still( blocked| the same| waiting)?|as before|unchanged)"
    r"\s*[.!]*\s*$",
    re.IGNORECASE,
)
GENERIC_QUESTION_HINT = re.compile(r"block|imped|stuck", re.IGNORECASE)


@dataclass(frozen=True)
class BlockerAnswer:
    """What a blocker answer means: resolve some (``resolve_all`` or one id), open a new one."""

    resolve_all: bool = False
    resolve_id: int | None = None
    new_text: str | None = None
    unblocker: str | None = None


def mentioned(text: str) -> str | None:
    """The first person mentioned, as typed: the one named to unblock."""
    match = MENTION.search(text)
    if match is None:
        return None
    return match.group("slack") or match.group("plain")


def read(text: str) -> BlockerAnswer:
    resolve_all = False
    resolve_id = None
    body = text.strip()
    resolved = RESOLVED.match(body)
    if resolved:
        if resolved.group("id"):
            resolve_id = int(resolved.group("id"))
        else:
            resolve_all = True
        body = resolved.group("rest").strip()
        core = CONNECTOR.sub("", body)
        if FILLER.match(core) or (len(core.split()) < 2 and mentioned(core) is None):
            body = ""
    if not body or NO_BLOCKER.match(body) or UNCHANGED.match(body):
        return BlockerAnswer(resolve_all=resolve_all, resolve_id=resolve_id)
    return BlockerAnswer(
        resolve_all=resolve_all, resolve_id=resolve_id, new_text=body, unblocker=mentioned(body)
    )


def blocker_question_index(questions: list[str]) -> int | None:
    """The question that asks about blockers (mentions blocking, impediments, being stuck).

    None when no question does: then no answer is read as a blocker.
    """
    for index, question in enumerate(questions):
        if GENERIC_QUESTION_HINT.search(question):
            return index
    return None
