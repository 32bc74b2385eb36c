"""The ritual kinds this bot runs: one line each, in the order help lists them; and how the
webhook edge reads the bodies posted to the kinds that take hooks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rituals.kinds import Registry

if TYPE_CHECKING:
    from handlers.hooks import BodyReader

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


def hook_readers() -> dict[str, BodyReader]:
    """Each hooked kind's body reader, by the kind's word: the edge's translators of what
    senders post (plain JSON, Alertmanager, Grafana) into what the kind takes."""
    from handlers.hooks import alerts

    return {"alerts": alerts.read}
