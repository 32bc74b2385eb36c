"""Connecting a channel: a secret URL only its leads hand out, stored as a keyed hash,
rotated and revoked; a wrong token cannot tell whether a channel exists."""

from __future__ import annotations

from sqlalchemy import select

from rituals.alerts import channel as alerts_channel
from rituals.alerts import keys
from rituals.alerts.models import AlertHook
from storage import directory
from storage.app_settings import stored_secret_key
from storage.db import Database
from storage.models import OutboxMessage
from tests.handlers.alerts.payloads import plain
from tests.helpers import CHANNEL, PLATFORM, WORKSPACE, Team
from tests.rituals.alerts.support import ANA, BEN, CAL, MONDAY, alerts, connect, send
from tests.rituals.retro.support import OTHER_CHANNEL, known, say_in, snapshot


async def test_the_url_is_said_privately_and_only_its_hash_is_kept(team: Team) -> None:
    team.runtime.public_url = "https://bot.example.org"
    reply = await team.type(ANA, "alerts connect")
    assert "https://bot.example.org/hooks/alerts/" in reply
    token = reply.split("/hooks/alerts/")[1].split()[0]
    assert len(token) >= 40
    sent = await team.deliver()
    assert [p.op for p in sent] == ["ephemeral"]
    async with team.runtime.db.session() as session:
        (hook,) = (await session.execute(select(AlertHook))).scalars()
        assert token not in hook.token_hash and len(hook.token_hash) == 64
        # The reply that carried it leaves no delivery record.
        payloads = [
            str(r.payload) for r in (await session.execute(select(OutboxMessage))).scalars()
        ]
        assert not any(token in p for p in payloads)


async def test_rotating_and_disconnecting_revoke_the_old_url(team: Team) -> None:
    first = await connect(team)
    second = await connect(team)
    assert first != second
    assert (await send(team, first, plain(threshold=1))).status == 404
    assert (await send(team, second, plain(threshold=1))).status == 200
    assert "disconnected" in await team.type(ANA, "alerts disconnect")
    assert (await send(team, second, plain(threshold=1))).status == 404
    assert "no alert webhook" in await team.type(ANA, "alerts disconnect")


async def test_only_the_lead_or_an_admin_connects(team: Team) -> None:
    await known(team, ANA, BEN)
    await connect(team, ANA)
    before = await snapshot(team.runtime.db)
    assert "Only Ana or a workspace admin" in await team.type(BEN, "alerts connect")
    assert "Only Ana" in await team.type(BEN, "alerts disconnect")
    assert "Only Ana" in await team.type(BEN, "alerts mute churn 1h")
    assert await snapshot(team.runtime.db) == before
    admin = type(BEN)(**{**BEN.__dict__, "admin": True})
    assert "/hooks/alerts/" in await team.type(admin, "alerts connect")


async def test_tampered_short_and_foreign_tokens_post_nothing(team: Team) -> None:
    token = await connect(team)
    other = await say_in(team, OTHER_CHANNEL, BEN, "alerts connect")
    assert "/hooks/alerts/" in other
    await team.deliver()
    before = await snapshot(team.runtime.db)
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    for wrong in (tampered, token[:10], "", "x" * 5000, token + "x", token.upper()):
        reply = await send(team, wrong, plain(threshold=1))
        assert (reply.status, dict(reply.body)) == (404, {"error": "not found"})
    assert await snapshot(team.runtime.db) == before
    assert await team.deliver() == []
    # The other channel's token posts in the other channel only.
    other_token = other.split("/hooks/alerts/")[1].split()[0]
    assert (await send(team, other_token, plain(threshold=1))).status == 200
    sent = await team.deliver()
    assert [p.to for p in sent] == ["C2"]
    assert len(await alerts(team.runtime.db)) == 1


async def test_the_configured_secret_key_signs_the_tokens(db: Database) -> None:
    configured = Team(db, MONDAY)
    configured.runtime.secret_key = "k" * 40
    token = await connect(configured)
    async with db.session() as session:
        (hook,) = (await session.execute(select(AlertHook))).scalars()
        assert hook.token_hash == keys.hashed("k" * 40, token)
        assert hook.token_hash != keys.hashed(await stored_secret_key(session), token)
    assert (await send(configured, token, plain(threshold=1))).status == 200
    # The same database without the setting: the stored key, so that token opens nothing.
    stored = Team(db, MONDAY)
    assert (await send(stored, token, plain(threshold=1))).status == 404
    second = await connect(stored)
    async with db.session() as session:
        (hook,) = (await session.execute(select(AlertHook))).scalars()
        assert hook.token_hash == keys.hashed(await stored_secret_key(session), second)


async def test_the_lead_hands_on_and_names_co_leads(team: Team) -> None:
    await known(team, ANA, BEN, CAL)
    await connect(team, ANA)
    assert "Only Ana" in await team.type(BEN, "alerts lead @ben")
    assert "Ben Ode now leads the alerts ritual" in await team.type(ANA, "alerts lead @ben")
    assert "Only Ben Ode" in await team.type(ANA, "alerts mute churn 1h")
    assert "led by Ben Ode, Cal" in await team.type(BEN, "alerts coleads @cal")
    assert "muted until" in await team.type(CAL, "alerts mute churn 1h")
    assert "I don't know who @zed is" in await team.type(BEN, "alerts coleads @zed")


async def test_a_webhook_connected_on_the_server_is_not_taken_over(team: Team) -> None:
    await known(team, ANA, BEN)
    async with team.runtime.db.session() as session:
        workspace = await directory.workspace(session, PLATFORM, WORKSPACE, MONDAY)
        room = await directory.channel(session, workspace.id, CHANNEL.channel, CHANNEL.name)
        ritual = await alerts_channel.ritual_for(session, room, "UTC", MONDAY)
        url, _ = await keys.connect(session, ritual, configured_key="", public_url="", now=MONDAY)
    token = url.rsplit("/", 1)[1]
    before = await snapshot(team.runtime.db)
    for line in ("alerts connect", "alerts disconnect", "alerts oncall @ben"):
        assert "connected on the bot's server" in await team.type(BEN, line)
    assert await snapshot(team.runtime.db) == before
    assert (await send(team, token, plain(threshold=1))).status == 200
    admin = type(ANA)(**{**ANA.__dict__, "admin": True})
    assert "Ben Ode now leads the alerts ritual" in await team.type(admin, "alerts lead @ben")
    assert "/hooks/alerts/" in await team.type(BEN, "alerts connect")
