"""The `backlog` words: items with ML types and priorities, lists and sprints."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import ClassVar

from rituals.commands import Command, Verb
from rituals.commands import tokens as t

WORD = "backlog"
TYPES = ("data", "experiment", "feature", "model", "eval", "deploy", "monitor", "docs")
DEFAULT_TYPE = "feature"
DEFAULT_PRIORITY = 2
MAX_TITLE = 300
MAX_SPRINT = 100
MAX_GOAL = 300
MAX_PAGE = 10_000
_PRIORITY = re.compile(r"[pP]([0-3])")
_SCOPES = ("mine", "open", "done", *TYPES, "p0", "p1", "p2", "p3", "sprint NAME", "@user")
# A sprint name that takes an item out of its sprint, back to the backlog.
NO_SPRINT = frozenset({"none", "backlog"})


@dataclass(frozen=True)
class Filters:
    """What a list or an export shows: every filter given must hold. ``phase`` None means
    none was given (a list then shows open items, an export every item)."""

    phase: str | None = None  # open (open or doing) | done
    mine: bool = False
    type: str | None = None
    priority: int | None = None
    owner: str | None = None  # as written after the @
    sprint: str | None = None

    def words(self) -> str:
        """The filters as they are typed, so a button can carry and re-read them."""
        parts = [
            *([self.phase] if self.phase else []),
            *(["mine"] if self.mine else []),
            *([self.type] if self.type else []),
            *([f"p{self.priority}"] if self.priority is not None else []),
            *([f"@{self.owner}"] if self.owner else []),
            *([f"sprint {self.sprint}"] if self.sprint else []),
        ]
        return " ".join(parts)


@dataclass(frozen=True)
class BacklogAdd(Command):
    title: str
    kind: str | None = None  # one of TYPES
    priority: int | None = None  # 0..3
    owner: str | None = None


@dataclass(frozen=True)
class BacklogList(Command):
    reads_only: ClassVar[bool] = True

    filters: Filters = Filters()
    page: int = 1


@dataclass(frozen=True)
class BacklogMove(Command):
    """``done``, ``doing`` or ``drop`` an item: the state it moves to is the command's."""

    item_id: int
    state: ClassVar[str] = ""


@dataclass(frozen=True)
class BacklogDone(BacklogMove):
    state: ClassVar[str] = "done"


@dataclass(frozen=True)
class BacklogDoing(BacklogMove):
    state: ClassVar[str] = "doing"


@dataclass(frozen=True)
class BacklogDrop(BacklogMove):
    state: ClassVar[str] = "dropped"


@dataclass(frozen=True)
class BacklogReopen(BacklogMove):
    state: ClassVar[str] = "open"


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
    """Put an item in a sprint by name (``none`` or ``backlog``: back to the backlog)."""

    item_id: int
    sprint: str


@dataclass(frozen=True)
class BacklogEdit(Command):
    item_id: int
    title: str


@dataclass(frozen=True)
class BacklogShow(Command):
    reads_only: ClassVar[bool] = True

    item_id: int


@dataclass(frozen=True)
class BacklogSprintStart(Command):
    name: str
    until: date
    goal: str = ""


@dataclass(frozen=True)
class BacklogSprintClose(Command):
    pass


@dataclass(frozen=True)
class BacklogExport(Command):
    filters: Filters = Filters()


@dataclass(frozen=True)
class BacklogLead(Command):
    user: str


@dataclass(frozen=True)
class BacklogColeads(Command):
    users: tuple[str, ...]


def title(text: str) -> str:
    return t.free_text(text, "title", MAX_TITLE)


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
    text = t.drop(rest, leading)
    owner = t.mention(args[-1]) if len(args) > leading else None
    if owner is not None:
        text = text[: -len(args[-1])]
    return BacklogAdd(title(text), kind, priority, owner)


def filters(args: list[str], rest: str) -> Filters:
    """``mine|open|done|TYPE|pN|@user|sprint NAME``, in any order, each at most once; a
    sprint's name runs to the end, so ``sprint NAME`` comes last."""
    found: dict[str, object] = {}

    def once(key: str, value: object, token: str) -> None:
        if key in found:
            raise t.Reject(f"one {key} at a time; {t.quote(token)} is a second")
        found[key] = value

    for n, token in enumerate(args):
        word = token.lower()
        if word == "sprint":
            name = t.free_text(t.drop(rest, n + 1), "sprint name", MAX_SPRINT)
            once("sprint", name, token)
            break
        if word in ("open", "done"):
            once("state", word, token)
        elif word == "mine":
            once("owner", True, token)
        elif word in TYPES:
            once("type", word, token)
        elif _PRIORITY.fullmatch(token):
            once("priority", int(token[1]), token)
        elif (who := t.mention(token)) is not None:
            once("owner", who, token)
        else:
            shown = ", ".join(_SCOPES)
            raise t.Reject(f"list what? any of {shown}; not {t.quote(token)}")
    owner = found.get("owner")
    return Filters(
        phase=found.get("state"),  # type: ignore[arg-type]
        mine=owner is True,
        type=found.get("type"),  # type: ignore[arg-type]
        priority=found.get("priority"),  # type: ignore[arg-type]
        owner=owner if isinstance(owner, str) else None,
        sprint=found.get("sprint"),  # type: ignore[arg-type]
    )


def _paged(args: list[str], rest: str) -> tuple[list[str], str, int]:
    """Filters and a trailing ``page N``; the filters' text keeps its spacing, as a sprint
    name's does without one."""
    if len(args) >= 2 and args[-2].lower() == "page":
        page = t.integer(args[-1], 1, MAX_PAGE, "page")
        kept = args[:-2]
        return kept, rest.strip().rsplit(None, 2)[0] if kept else "", page
    return args, rest, 1


def _list(args: list[str], rest: str) -> Command:
    args, rest, page = _paged(args, rest)
    return BacklogList(filters(args, rest), page)


def _export(args: list[str], rest: str) -> Command:
    return BacklogExport(filters(args, rest))


def _sprint(args: list[str], rest: str) -> Command:
    verb = args[0].lower() if args else ""
    if verb == "close":
        t.at_most(args, 1)
        return BacklogSprintClose()
    if verb == "start":
        return _start(args[1:], t.drop(rest, 1))
    t.require(args, "id", "sprint name")
    return BacklogSprint(t.ident(args[0]), t.free_text(t.drop(rest, 1), "sprint name", MAX_SPRINT))


def _start(args: list[str], rest: str) -> Command:
    lowered = [a.lower() for a in args]
    if "until" not in lowered:
        raise t.Reject("missing until YYYY-MM-DD (the sprint's last day)")
    at = lowered.index("until")
    name = t.free_text(" ".join(args[:at]), "sprint name", MAX_SPRINT)
    t.require(args[at + 1 :], "the sprint's last day")
    until = t.iso_date(args[at + 1])
    goal = t.free_text(t.drop(rest, at + 2), "goal", MAX_GOAL, required=False)
    return BacklogSprintStart(name, until, goal)


def _edit(args: list[str], rest: str) -> Command:
    t.require(args, "id", "title")
    return BacklogEdit(t.ident(args[0]), title(t.drop(rest, 1)))


def _move(command: type[BacklogMove]) -> t.Handler:
    return t.fixed(command, t.ident)


VERBS = {
    "add": Verb(_add, "backlog add data p1 Deduplicate the click logs @ana"),
    "list": Verb(_list, "backlog list open data @ana page 2"),
    "done": Verb(_move(BacklogDone), "backlog done 7"),
    "doing": Verb(_move(BacklogDoing), "backlog doing 7"),
    "drop": Verb(_move(BacklogDrop), "backlog drop 7"),
    "reopen": Verb(_move(BacklogReopen), "backlog reopen 7"),
    "assign": Verb(t.fixed(BacklogAssign, t.ident, t.user), "backlog assign 7 @ana"),
    "prio": Verb(t.fixed(BacklogPrio, t.ident, t.priority), "backlog prio 7 p0"),
    "edit": Verb(_edit, "backlog edit 7 Deduplicate the click and view logs"),
    "show": Verb(t.fixed(BacklogShow, t.ident), "backlog show 7"),
    "sprint": Verb(_sprint, "backlog sprint start Sprint 15 until 2030-01-24 Ship ranker v4"),
    "export": Verb(_export, "backlog export done data"),
    "lead": Verb(t.fixed(BacklogLead, t.user), "backlog lead @ana"),
    "coleads": Verb(
        lambda args, rest: BacklogColeads(t.users_or_none(args)), "backlog coleads @ana"
    ),
}
