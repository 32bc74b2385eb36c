"""The `backlog` words: items with ML types and priorities, lists and sprints."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rituals.commands import Command, Verb
from rituals.commands import tokens as t

WORD = "backlog"
TYPES = ("data", "experiment", "feature", "model", "eval", "deploy", "monitor", "docs")
_PRIORITY = re.compile(r"[pP]([0-3])")
_SCOPES = ("mine", "open", "done", *TYPES, "p0", "p1", "p2", "p3")


@dataclass(frozen=True)
class BacklogAdd(Command):
    title: str
    kind: str | None = None  # one of TYPES
    priority: int | None = None  # 0..3
    owner: str | None = None


@dataclass(frozen=True)
class BacklogList(Command):
    """``scope`` is one of mine, open, done, a type, or a priority p0..p3; empty means open."""

    scope: str = "open"


@dataclass(frozen=True)
class BacklogDone(Command):
    item_id: int


@dataclass(frozen=True)
class BacklogAssign(Command):
    item_id: int
    owner: str


@dataclass(frozen=True)
class BacklogPrio(Command):
    item_id: int
    priority: int


@dataclass(frozen=True)
class BacklogSprint(Command):
    item_id: int
    sprint: str


@dataclass(frozen=True)
class BacklogExport(Command):
    pass


def _add(args: list[str], rest: str) -> Command:
    kind: str | None = None
    priority: int | None = None
    leading = 0
    for token in args[:2]:
        if kind is None and token.lower() in TYPES:
            kind = token.lower()
        elif priority is None and _PRIORITY.fullmatch(token):
            priority = int(token[1])
        else:
            break
        leading += 1
    title = t.drop(rest, leading)
    owner = t.mention(args[-1]) if len(args) > leading else None
    if owner is not None:
        title = title[: -len(args[-1])]
    return BacklogAdd(t.free_text(title, "title", 300), kind, priority, owner)


def _list(args: list[str], rest: str) -> Command:
    scope = t.at_most(args, 1)[0].lower() if args else "open"
    if scope not in _SCOPES:
        raise t.Reject(f"list what? one of {', '.join(_SCOPES)}; not {t.quote(scope)}")
    return BacklogList(scope)


def _sprint(args: list[str], rest: str) -> Command:
    t.require(args, "id", "sprint name")
    return BacklogSprint(t.ident(args[0]), t.free_text(t.drop(rest, 1), "sprint name", 100))


VERBS = {
    "add": Verb(_add, "backlog add data p1 Deduplicate the click logs @ana"),
    "list": Verb(_list, "backlog list mine"),
    "done": Verb(t.fixed(BacklogDone, t.ident), "backlog done 7"),
    "assign": Verb(t.fixed(BacklogAssign, t.ident, t.user), "backlog assign 7 @ana"),
    "prio": Verb(t.fixed(BacklogPrio, t.ident, t.priority), "backlog prio 7 p0"),
    "sprint": Verb(_sprint, "backlog sprint 7 Sprint 15"),
    "export": Verb(t.fixed(BacklogExport), "backlog export"),
}
