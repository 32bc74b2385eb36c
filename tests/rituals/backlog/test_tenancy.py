"""Buttons pressed from a direct message, where no channel vouches for them: a value works
only for the person it was made for, as it was made; anything else is out of date, shows
nothing and changes nothing."""

from __future__ import annotations

from sqlalchemy import select

from rituals.backlog.channel import Refs
from rituals.identity import Actor
from storage.app_settings import stored_secret_key
from storage.models import Channel, Member
from tests.helpers import CHANNEL, Team
from tests.rituals.backlog.support import (
    ANA,
    BEN,
    CAL,
    OTHER_CHANNEL,
    known,
    press,
    say_in,
    snapshot,
)

PRIVATE = "Private plan"
CONFIGURED = "k" * 40  # RITUALBOT_SECRET_KEY


async def c2_with_a_list(team: Team) -> tuple[dict[str, str], str]:
    """C2 (where Cal is not) holds eleven items; Ana's buttons on #1 and her list's Next."""
    await known(team, ANA, BEN, CAL)
    for n in range(1, 12):
        await say_in(team, OTHER_CHANNEL, ANA, f"backlog add {PRIVATE} {n}")
    filed = next(p for p in await team.deliver() if f"{PRIVATE} 1" in p.text)
    item = {b.action_id: b.value for b in filed.message.buttons}
    shown = await team.bot.command(ANA, OTHER_CHANNEL, "backlog list")
    assert shown is not None
    (next_page,) = shown.message.buttons
    return item, next_page.value


async def test_forged_values_from_a_direct_message_reach_no_channel(team: Team) -> None:
    await c2_with_a_list(team)
    before = await snapshot(team.runtime.db)
    forged = {
        "backlog.page": ("C2|1|next|0|0|", "C2|2|next|2|10|", "C2|x|1|next|0|0|"),
        "backlog.mine": ("C2|1", "C2|x|1", "C2||1"),
        "backlog.done": ("C2|1", "C2|x|1", "C2||1"),
        "backlog.carry": ("C2|1|backlog", "C2|x|1|backlog"),
    }
    for action, values in forged.items():
        for value in values:
            said = await press(team, CAL, action, value, place=None)
            assert said.startswith("That button is out of date."), (action, value, said)
            assert PRIVATE not in said
    assert await snapshot(team.runtime.db) == before


async def test_a_value_works_only_for_whom_it_was_made_and_as_it_was_made(team: Team) -> None:
    item, next_page = await c2_with_a_list(team)
    before = await snapshot(team.runtime.db)
    external, mac, rest = next_page.split("|", 2)
    tampered = {
        "backlog.page": (
            next_page.replace("|next|", "|prev|"),
            next_page + "mine",
            f"{external}|{mac[:-1]}{'A' if mac[-1] != 'A' else 'B'}|{rest}",
            f"C1|{mac}|{rest}",
        ),
        "backlog.done": (item["backlog.done"][:-1] + "2", item["backlog.mine"]),
        "backlog.mine": (item["backlog.done"],),
    }
    for action, values in tampered.items():
        for value in values:
            said = await press(team, ANA, action, value, place=None)
            assert said.startswith("That button is out of date."), (action, value, said)
    # Ana's own values are Ana's: pressed by Cal or Ben from their private chat, nothing.
    for who in (CAL, BEN):
        said = await press(team, who, "backlog.page", next_page, place=None)
        assert said.startswith("That button is out of date.") and PRIVATE not in said
        for action, value in item.items():
            said = await press(team, who, action, value, place=None)
            assert said.startswith("That button is out of date."), (who, action)
    assert await snapshot(team.runtime.db) == before
    # As made, for Ana, from her private chat: her list's next page, her item.
    said = await press(team, ANA, "backlog.page", next_page, place=None)
    assert "(page 2)" in said and f"{PRIVATE} 11" in said
    assert "is now Ana's" in await press(
        team, ANA, "backlog.mine", item["backlog.mine"], place=None
    )


async def test_a_sprint_review_is_for_the_channel_not_a_private_chat(team: Team) -> None:
    await known(team, ANA)
    await team.type(ANA, "backlog add Open work")
    await team.type(ANA, "backlog sprint start Sprint 1 until 2030-01-18")
    await team.type(ANA, "backlog sprint 1 sprint 1")
    await team.type(ANA, "backlog sprint close")
    (review,) = [p for p in await team.deliver() if p.text.startswith("Sprint review")]
    _, back = review.message.buttons
    before = await snapshot(team.runtime.db)
    said = await press(team, ANA, back.action_id, back.value, place=None)
    assert said.startswith("That button is out of date.")
    assert await snapshot(team.runtime.db) == before
    assert "went back" in await press(team, ANA, back.action_id, back.value)


async def test_the_longest_list_value_stays_under_slacks_limit(team: Team) -> None:
    await known(team, ANA)
    sprint = "s" * 100
    await team.type(ANA, f"backlog sprint start {sprint} until 2030-01-18")
    for n in range(1, 12):
        await team.type(ANA, f"backlog add model p1 Item {n}")
        await team.type(ANA, f"backlog assign {n} @ana")
        await team.type(ANA, f"backlog sprint {n} {sprint}")
    shown = await team.bot.command(ANA, CHANNEL, f"backlog list model p1 mine sprint {sprint}")
    assert shown is not None
    (next_page,) = shown.message.buttons
    assert len(next_page.value) < 2000
    said = await press(team, ANA, "backlog.page", next_page.value, place=None)
    assert "(page 2)" in said and "Item 11" in said


async def signed_with(team: Team, key: str, value: str, actor: Actor = ANA) -> str:
    """``value`` (a list's Next button) signed again with ``key``, for ``actor``."""
    external, _mac, rest = value.split("|", 2)
    async with team.runtime.db.session() as session:
        channel = await session.scalar(select(Channel).where(Channel.external_id == external))
        member = await session.scalar(select(Member).where(Member.external_id == actor.user))
    assert channel is not None and member is not None
    return Refs(key, member.id)("backlog.page", channel, rest)


async def test_with_a_configured_secret_key_button_values_are_signed_with_it(
    team: Team,
) -> None:
    team.runtime.secret_key = CONFIGURED
    _item, next_page = await c2_with_a_list(team)
    async with team.runtime.db.session() as session:
        stored = await stored_secret_key(session)
    assert stored != CONFIGURED
    by_configured = await signed_with(team, CONFIGURED, next_page)
    by_stored = await signed_with(team, stored, next_page)
    assert next_page == by_configured

    said = await press(team, ANA, "backlog.page", by_configured, place=None)
    assert "(page 2)" in said and f"{PRIVATE} 11" in said
    said = await press(team, ANA, "backlog.page", by_stored, place=None)
    assert said.startswith("That button is out of date.") and PRIVATE not in said
