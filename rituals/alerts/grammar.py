"""The `alerts` words: connecting a webhook, rules, and muting a model."""

from __future__ import annotations

from dataclasses import dataclass

from rituals.commands import Command, Verb
from rituals.commands import tokens as t

WORD = "alerts"


@dataclass(frozen=True)
class AlertsConnect(Command):
    pass


@dataclass(frozen=True)
class AlertsRuleAdd(Command):
    model: str
    metric: str
    op: str
    threshold: float


@dataclass(frozen=True)
class AlertsList(Command):
    pass


@dataclass(frozen=True)
class AlertsMute(Command):
    model: str
    minutes: int


def _rule(args: list[str], rest: str) -> Command:
    if not args or args[0].lower() != "add":
        raise t.Reject("expected 'alerts rule add MODEL METRIC OP THRESHOLD'")
    t.require(args, "add", "model", "METRIC OP THRESHOLD")
    metric, op, threshold, tail = t.condition(" ".join(args[2:]))
    if tail:
        raise t.Reject(f"unexpected {t.quote(tail)}")
    return AlertsRuleAdd(t.free_text(args[1], "model", 100), metric, op, threshold)


def _mute(args: list[str], rest: str) -> Command:
    t.require(args, "model", "duration")
    return AlertsMute(t.free_text(args[0], "model", 100), t.duration("".join(args[1:])))


VERBS = {
    "connect": Verb(t.fixed(AlertsConnect), "alerts connect"),
    "rule": Verb(_rule, "alerts rule add ranker-v2 auc < 0.7"),
    "list": Verb(t.fixed(AlertsList), "alerts list"),
    "mute": Verb(_mute, "alerts mute ranker-v2 2h"),
}
