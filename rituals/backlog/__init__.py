"""The slash-command backlog: understood by the grammar, not built yet."""

from __future__ import annotations

from rituals.backlog import grammar
from rituals.kinds import Kind


class BacklogKind(Kind):
    word = grammar.WORD
    title = "backlog"
    verbs = grammar.VERBS
    ready = False
    help = (
        "backlog add [TYPE] [p0-p3] TITLE [@owner] · list · done ID · assign ID @user · "
        "prio ID pN · sprint ID NAME · export"
    )


KIND = BacklogKind
