"""A whole stand-up over Teams: a channel command, 1:1 prompts, answers, the summary."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from storage.models import OutboxMessage, TeamsMember
from tests.handlers.teams import activities as act
from tests.handlers.teams.harness import TeamsTeam


async def start(teams: TeamsTeam) -> None:
    assert (await teams.post(act.bot_added_to_team(teams.service_url)))[0] == 200
    assert await teams.channel("29:alice", "standup setup at 09:30 tz Europe/Berlin") == 200
    assert await teams.channel("29:bob", "standup join") == 200
    assert await teams.channel("29:alice", "standup now") == 200


async def test_a_whole_standup_over_teams(teams: TeamsTeam) -> None:
    connector = teams.connector
    await start(teams)
    await teams.deliver()
    opened = [c.body["members"][0]["id"] for c in connector.of("create")]
    assert sorted(opened) == ["29:alice", "29:bob"]
    assert all(c.body["tenantId"] == act.TENANT for c in connector.of("create"))
    for user in ("29:alice", "29:bob"):
        prompt = next(c for c in connector.personal(user) if "question 1 of 3" in c.text)
        assert prompt.card is not None
        [answer_all] = prompt.card["actions"]
        assert answer_all["type"] == "Action.Execute"

    for user, answers in (
        ("29:alice", ["trained the ranker", "evaluate it", "GPU quota from @Bob"]),
        ("29:bob", ["cleaned labels", "more labels", "none"]),
    ):
        for text in answers:
            assert await teams.dm(user, text) == 200
    await teams.deliver()

    summary = next(c for c in connector.sent_to(act.CHANNEL) if "2/2 answered" in c.text)
    assert summary.reply_to is None
    assert "Blockers" in summary.text and "GPU quota from @Bob" in summary.text
    assert summary.card is not None and summary.card["actions"]
    thread = [c for c in connector.of("send") if c.reply_to == summary.activity_id]
    assert len(thread) == 2
    assert {c.conversation for c in thread} == {f"{act.CHANNEL};messageid={summary.activity_id}"}


async def test_a_person_who_blocked_the_bot_is_recorded_and_skipped(teams: TeamsTeam) -> None:
    teams.connector.blocked.add("29:bob")
    await start(teams)
    await teams.deliver()
    assert teams.connector.personal("29:bob") == []
    async with teams.db.session() as session:
        dead = (
            (await session.execute(select(OutboxMessage).where(OutboxMessage.status == "dead")))
            .scalars()
            .all()
        )
        bob = await session.execute(select(TeamsMember).where(TeamsMember.user_id == "29:bob"))
        blocked = bob.scalar_one()
    assert {m.user for m in dead} == {"29:bob"}
    assert all("403" in (m.last_error or "") for m in dead)
    assert blocked.blocked_at is not None
    for text in ("a", "b", "c"):
        await teams.dm("29:alice", text)
    teams.clock.advance(timedelta(hours=12))
    await teams.rituals.kinds["standup"].sweep()
    await teams.deliver()
    assert any("1/2 answered" in c.text for c in teams.connector.sent_to(act.CHANNEL))


async def test_server_errors_and_rate_limits_are_retried_until_delivered(
    teams: TeamsTeam,
) -> None:
    await teams.post(act.bot_added_to_team(teams.service_url))
    await teams.deliver()
    welcomed = len(teams.connector.calls)
    await teams.channel("29:alice", "standup setup at 09:30")
    teams.connector.fail("send", 500, times=2)
    teams.connector.fail("send", 429, retry_after=30)
    for _ in range(3):
        await teams.deliver()
        teams.clock.advance(timedelta(seconds=31))
    await teams.deliver()
    sends = [c for c in teams.connector.calls[welcomed:] if c.kind == "send"]
    assert [c.status for c in sends] == [500, 500, 429, 200]
    assert "set up" in sends[-1].text


async def test_someone_who_blocks_the_bot_in_their_own_chat_hears_nothing_in_the_channel(
    teams: TeamsTeam,
) -> None:
    await start(teams)
    await teams.deliver()
    teams.connector.fail("send", 403)
    assert await teams.channel("29:bob", "standup status") == 200
    await teams.deliver()
    async with teams.db.session() as session:
        bob = await session.execute(select(TeamsMember).where(TeamsMember.user_id == "29:bob"))
        assert bob.scalar_one().blocked_at is not None
    assert [c for c in teams.connector.of("send") if c.reply_to and c.status == 200] == []
