"""The `alerts` words: connecting a webhook, acknowledging, rules, muting and on-call."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rituals.commands import Command, Verb
from rituals.commands import tokens as t

WORD = "alerts"
OPS = ("<", "<=", ">", ">=", "==", "=")


@dataclass(frozen=True)
class AlertsConnect(Command):
    pass


@dataclass(frozen=True)
class AlertsDisconnect(Command):
    pass


@dataclass(frozen=True)
class AlertsRuleAdd(Command):
    model: str
    metric: str
    op: str
    threshold: float
    for_minutes: int = 0


@dataclass(frozen=True)
class AlertsList(Command):
    reads_only: ClassVar[bool] = True


@dataclass(frozen=True)
class AlertsAck(Command):
    alert_id: int


@dataclass(frozen=True)
class AlertsMute(Command):
    model: str
    minutes: int


@dataclass(frozen=True)
class AlertsOncall(Command):
    user: str | None  # None: nobody, escalations go to the stand-up's lead


@dataclass(frozen=True)
class AlertsLead(Command):
    user: str


@dataclass(frozen=True)
class AlertsColeads(Command):
    users: tuple[str, ...]


def _rule(args: list[str], rest: str) -> Command:
    if not args or args[0].lower() != "add":
        raise t.Reject("expected 'alerts rule add MODEL METRIC OP THRESHOLD'")
    t.require(args, "add", "model", "METRIC OP THRESHOLD")
    metric, op, threshold, tail = t.condition(" ".join(args[2:]))
    minutes = 0
    if tail:
        words = tail.split()
        if words[0].lower() != "for":
            raise t.Reject(f"unexpected {t.quote(tail)}")
        if len(words) < 2:
            raise t.Reject("'for' needs a duration like 10m")
        minutes = t.duration("".join(words[1:]))
    return AlertsRuleAdd(t.free_text(args[1], "model", 100), metric, op, threshold, minutes)


def _mute(args: list[str], rest: str) -> Command:
    t.require(args, "model", "duration")
    return AlertsMute(t.free_text(args[0], "model", 100), t.duration("".join(args[1:])))


def _ack(args: list[str], rest: str) -> Command:
    t.require(args, "alert id")
    return AlertsAck(t.ident(t.at_most(args, 1)[0]))


def _oncall(args: list[str], rest: str) -> Command:
    t.require(args, "@user (or none)")
    t.at_most(args, 1)
    return AlertsOncall(None if args[0].lower() == "none" else t.user(args[0]))


VERBS = {
    "connect": Verb(t.fixed(AlertsConnect), "alerts connect"),
    "disconnect": Verb(t.fixed(AlertsDisconnect), "alerts disconnect"),
    "rule": Verb(_rule, "alerts rule add ranker-v2 auc < 0.7 for 10m"),
    "list": Verb(t.fixed(AlertsList), "alerts list"),
    "ack": Verb(_ack, "alerts ack 12"),
    "mute": Verb(_mute, "alerts mute ranker-v2 2h"),
    "oncall": Verb(_oncall, "alerts oncall @ana"),
    "lead": Verb(t.fixed(AlertsLead, t.user), "alerts lead @ana"),
    "coleads": Verb(
        lambda args, rest: AlertsColeads(t.users_or_none(args)), "alerts coleads @ana @ben"
    ),
}
