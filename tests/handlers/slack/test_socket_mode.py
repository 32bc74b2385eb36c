"""Socket Mode: envelopes over a WebSocket from the fake Slack, acknowledged, across a reconnect."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

import pytest
from sqlalchemy import select

from bot.kinds import registry
from handlers.slack.setup import single_workspace
from handlers.slack.socket import socket_mode
from rituals.clock import FakeClock
from rituals.router import Rituals
from rituals.runtime import Runtime
from rituals.standup import settings as cfg
from storage.db import Database
from storage.models import Member, Participant, Ritual
from tests.handlers.slack import signing
from tests.handlers.slack.fake_slack import FakeSlack


def command_payload(user: str, text: str) -> dict[str, Any]:
    return dict(parse_qsl(signing.slash("/standup", text, user=user)))


async def acked(slack: FakeSlack, envelope_id: str) -> dict[str, Any]:
    while True:
        ack = await asyncio.wait_for(slack.acks.get(), timeout=10)
        if ack.get("envelope_id") == envelope_id:
            return ack


@pytest.fixture
async def connected(sqlite_db: Database) -> AsyncIterator[FakeSlack]:
    slack = FakeSlack()
    slack.add_user("UALICE", "Alice", "Europe/Berlin")
    slack.add_user("UBOB", "Bob", "America/New_York")
    api = await slack.start()
    rituals = Rituals(
        Runtime(db=sqlite_db, clock=FakeClock(datetime(2026, 11, 23, 8, tzinfo=UTC))), registry()
    )
    edge, _port = single_workspace(rituals, token="xoxb-test", signing_secret="", api_url=api)
    lifetime = socket_mode(edge, "xapp-test", ping_interval=0.2)(None)  # type: ignore[arg-type]
    await anext(lifetime)
    await asyncio.wait_for(slack.connected.wait(), timeout=10)
    try:
        yield slack
    finally:
        await anext(lifetime, None)
        await slack.close()


async def test_a_slash_command_envelope_is_handled_and_acknowledged(
    connected: FakeSlack, sqlite_db: Database
) -> None:
    await connected.send_envelope(
        "slash_commands", command_payload("UALICE", "setup at 09:30"), "e1"
    )
    ack = await acked(connected, "e1")
    assert ack["envelope_id"] == "e1"
    async with sqlite_db.session() as session:
        ritual = (await session.execute(select(Ritual))).scalar_one()
        assert cfg.of(ritual).at == "09:30"


async def test_it_reconnects_after_the_socket_drops_and_keeps_handling(
    connected: FakeSlack, sqlite_db: Database
) -> None:
    await connected.send_envelope(
        "slash_commands", command_payload("UALICE", "setup at 09:30"), "e1"
    )
    await acked(connected, "e1")
    await connected.drop()
    await asyncio.wait_for(connected.connected.wait(), timeout=15)
    assert len(connected.called("apps.connections.open")) >= 2

    await connected.send_envelope("slash_commands", command_payload("UBOB", "join"), "e2")
    await acked(connected, "e2")
    async with sqlite_db.session() as session:
        joined = await session.execute(
            select(Member.external_id).join(Participant, Participant.member_id == Member.id)
        )
        assert sorted(joined.scalars()) == ["UALICE", "UBOB"]
