"""Model alerts: understood by the grammar, not built yet."""

from __future__ import annotations

from rituals.alerts import grammar
from rituals.kinds import Kind


class AlertsKind(Kind):
    word = grammar.WORD
    title = "alert"
    verbs = grammar.VERBS
    ready = False
    help = (
        "alerts connect · alerts rule add MODEL METRIC OP THRESHOLD · alerts list · "
        "alerts mute MODEL DURATION"
    )


KIND = AlertsKind
