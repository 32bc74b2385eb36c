"""Sends to one Teams conversation stay within the Bot Connector's limits per conversation
(7 a second, 8 in two seconds, 60 in 30 s), also a person's 1:1 chat, where their private
replies to commands typed in any channel land together with their direct messages. The
fake connector stamps each call with the test's clock; delivery runs as the bot runs it,
with the bot's pacing, while the clock moves in small steps (no sleeping)."""

from __future__ import annotations

from datetime import timedelta

from bot.app import PACING
from rituals.delivery import Delivery
from tests.handlers.teams import activities as act
from tests.handlers.teams.harness import TeamsTeam

BOB = "29:bob"
CHANNELS = [(act.CHANNEL, "General"), ("19:team-models@thread.tacv2", "Models")]
LIMITS = {timedelta(seconds=1): 7, timedelta(seconds=2): 8, timedelta(seconds=30): 60}
STEP = timedelta(milliseconds=100)


async def burst_of_private_replies(teams: TeamsTeam, per_place: int) -> int:
    """Bob types ``help`` ``per_place`` times in each channel and in his 1:1 chat: every
    answer is his alone, so all of them go to his 1:1 chat. How many were asked for."""
    for _ in range(per_place):
        for channel, name in CHANNELS:
            activity = act.in_channel(
                teams.service_url, BOB, "help", channel=channel, channel_name=name
            )
            assert (await teams.post(activity))[0] == 200
        assert await teams.dm(BOB, "help") == 200
    return per_place * (len(CHANNELS) + 1)


async def deliver_as_the_bot_does(teams: TeamsTeam, until: timedelta) -> None:
    """Delivery with the bot's pacing, drained at every step of the clock up to ``until``."""
    delivery = Delivery(teams.db, teams.delivery.ports, teams.clock, lane_interval=PACING)
    end = teams.clock.now() + until
    while teams.clock.now() < end:
        await delivery.drain()
        teams.clock.advance(STEP)


async def test_a_burst_of_private_replies_to_one_person_keeps_their_chats_pace(
    teams: TeamsTeam,
) -> None:
    asked = await burst_of_private_replies(teams, per_place=12)
    await deliver_as_the_bot_does(teams, timedelta(seconds=40))

    chat = f"a:1on1-{BOB}"
    assert len(teams.connector.sent_to(chat)) == asked, "every reply arrives"
    for window, limit in LIMITS.items():
        assert teams.connector.most_sent_within(chat, window) <= limit, window


async def test_the_pace_of_one_chat_holds_back_no_other(teams: TeamsTeam) -> None:
    await burst_of_private_replies(teams, per_place=4)
    assert await teams.dm("29:alice", "help") == 200
    await deliver_as_the_bot_does(teams, STEP)

    assert len(teams.connector.personal("29:alice")) == 1
