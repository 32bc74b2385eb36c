"""The ritual kinds this bot runs: one line each, in the order help lists them."""

from __future__ import annotations

from rituals.kinds import Registry

KINDS = (
    "rituals.standup",
    "rituals.retro",
    "rituals.hypothesis",
    "rituals.backlog",
    "rituals.alerts",
    "rituals.digest",
    "rituals.ask",
)


def registry() -> Registry:
    return Registry.of(KINDS)
