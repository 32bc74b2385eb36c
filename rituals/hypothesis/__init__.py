"""Hypothesis check-ins: understood by the grammar, not built yet."""

from __future__ import annotations

from rituals.hypothesis import grammar
from rituals.kinds import Kind


class HypothesisKind(Kind):
    word = grammar.WORD
    title = "hypothesis"
    verbs = grammar.VERBS
    ready = False
    help = (
        "hypothesis add We believe X will result in Y; we'll know when METRIC OP TARGET "
        "[by YYYY-MM-DD] · hypothesis list · checkin ID STATUS TEXT · close ID OUTCOME"
    )


KIND = HypothesisKind
