"""What every ritual service needs from the outside: database, clock, and two callbacks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from rituals.clock import Clock
from rituals.identity import Admins
from rituals.llm.model import Model
from rituals.roster import Roster
from storage.db import Database


def _nothing(*_args: object) -> None:
    return None


@dataclass
class Runtime:
    """Callbacks run after commits: ``sent_later`` wakes delivery, ``schedule_changed`` resyncs."""

    db: Database
    clock: Clock
    grace: timedelta = timedelta(hours=1)
    sent_later: Callable[[], None] = _nothing
    schedule_changed: Callable[[int], None] = _nothing
    rosters: dict[str, Roster] = field(default_factory=dict)
    # Where people reach this deployment (PUBLIC_URL): links a ritual hands out start here.
    public_url: str = ""
    # The language model, off unless the composition root configures one.
    llm: Model = field(default_factory=Model)
    # RITUALBOT_SECRET_KEY when set: it keys webhook tokens and signs button values; empty,
    # the key stored in the database does (`rituals.signing`).
    secret_key: str = ""
    # People the operator named as admins (RITUALBOT_ADMINS); the edges set `Actor.admin`.
    admins: Admins = field(default_factory=Admins)
