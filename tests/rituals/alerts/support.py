"""Alert tests' team: a channel with its webhook connected, posting bodies the way the
webhook edge hands them on (read by its alerts reader), and reading what the channel shows."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from handlers.hooks.alerts import read
from rituals.alerts.models import Alert
from rituals.kinds import HookReply
from storage.db import Database
from tests.helpers import Posted, Team, person

MONDAY = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)
ANA = person("UANA", name="Ana")
BEN = person("UBEN", name="Ben Ode")
CAL = person("UCAL", name="Cal")


async def connect(team: Team, who: Any = ANA) -> str:
    """The channel's new webhook token, from the reply to `alerts connect`."""
    reply = await team.type(who, "alerts connect")
    found = re.search(r"/hooks/alerts/([A-Za-z0-9_\-]+)", reply)
    assert found, reply
    return found[1]


async def send(team: Team, token: str, body: Any) -> HookReply:
    """A body as a sender posts it, read as the webhook edge reads it, into the kind's hook."""
    return await team.bot.hook("alerts", token, read(json.dumps(body).encode()))


def group_posts(sent: list[Posted]) -> list[Posted]:
    return [p for p in sent if p.message.text.startswith("Alert: ")]


async def alerts(db: Database) -> list[Alert]:
    async with db.session() as session:
        return list((await session.execute(select(Alert).order_by(Alert.id))).scalars())
