"""Items on the console: filing, changing state, owner, priority, sprint and title, each
change in the item's history; who may change what; and bad input that changes nothing."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from storage.db import Database
from tests.helpers import CHANNEL, Team
from tests.rituals.backlog.support import (
    ANA,
    BEN,
    CAL,
    ELSEWHERE,
    MONDAY,
    OTHER_CHANNEL,
    changes,
    known,
    press,
    rows,
    say_in,
    snapshot,
)


async def test_an_item_is_filed_with_defaults_and_a_number_per_channel(team: Team) -> None:
    await known(team, ANA, BEN)
    said = await team.type(ANA, "backlog add Fix the loader")
    assert said.startswith("Ana filed #1 [p2 feature] Fix the loader")
    assert "[Done]  [Assign to me]" in said
    await team.type(ANA, "backlog add data p1 Deduplicate the click logs @ben")
    await say_in(team, OTHER_CHANNEL, ANA, "backlog add eval Rerun the baseline")

    found = await rows(team.runtime.db)
    assert [(n, t, p, s, title) for n, t, p, s, title, _ in found] == [
        (1, "feature", 2, "open", "Fix the loader"),
        (2, "data", 1, "open", "Deduplicate the click logs"),
        (1, "eval", 2, "open", "Rerun the baseline"),
    ]
    posted = await team.deliver()
    filed = [p for p in posted if p.op == "post" and "filed" in p.text]
    assert sorted(p.to for p in filed) == ["C1", "C1", "C2"]
    assert any("Deduplicate the click logs — @Ben Ode" in p.text for p in filed)


async def test_assign_to_me_is_offered_only_on_items_nobody_owns(team: Team) -> None:
    await known(team, ANA, BEN)
    filed = await team.type(ANA, "backlog add data p1 Deduplicate the click logs @ben")
    assert "[Done]" in filed and "Assign to me" not in filed
    await team.type(ANA, "backlog add Fix the loader")
    assert "[Done]  [Assign to me]" in await team.type(CAL, "backlog show 2")
    await team.type(CAL, "backlog assign 2 me")
    shown = await team.type(ANA, "backlog show 2")
    assert "[Done]" in shown and "Assign to me" not in shown
    assert "Assign to me" not in await team.type(ANA, "backlog show 1")


async def test_each_change_is_recorded_with_who_and_what(team: Team) -> None:
    await known(team, ANA, BEN)
    await team.type(ANA, "backlog add data p1 Deduplicate the click logs")
    assert "#1 is now Ben Ode's" in await team.type(ANA, "backlog assign 1 @ben")
    assert "#1 is p0 now" in await team.type(ANA, "backlog prio #1 p0")
    assert "moved #1 [p0 data] Deduplicate the click logs — @Ben Ode — doing" in await team.type(
        BEN, "backlog doing 1"
    )
    assert "titled: Dedup clicks and views" in await team.type(
        BEN, "backlog edit 1 Dedup clicks and views"
    )
    assert "Sprint 15 (planned" in await team.type(ANA, "backlog sprint 1 Sprint 15")
    assert "— done" in await team.type(BEN, "backlog done 1")
    assert await changes(team.runtime.db) == [
        "filed",
        "owner @Ben Ode",
        "priority p0",
        "state doing",
        "title was: Deduplicate the click logs",
        "sprint Sprint 15",
        "state done",
    ]
    shown = await team.type(CAL, "backlog show 1")
    assert "2030-01-07 09:00 Ana: filed" in shown
    assert "Ben Ode: state done" in shown
    assert "[Done]" not in shown


async def test_repeating_a_change_says_so_and_records_nothing(team: Team) -> None:
    await team.type(ANA, "backlog add Fix the loader")
    assert "p2 already" in await team.type(ANA, "backlog prio 1 p2")
    await team.type(ANA, "backlog done 1")
    assert "done already" in await team.type(ANA, "backlog done 1")
    assert await changes(team.runtime.db) == ["filed", "state done"]


async def test_only_their_own_items_for_people_who_do_not_lead(team: Team) -> None:
    await known(team, ANA, BEN, CAL)
    await team.type(ANA, "backlog add Fix the loader")
    await team.type(ANA, "backlog add Pin the images @ben")
    before = await snapshot(team.runtime.db)
    lines = ("backlog done 1", "backlog prio 1 p0", "backlog edit 1 mine now", "backlog drop 2")
    for line in lines:
        said = await team.type(CAL, line)
        assert "is not yours" in said, line
    assert "is not yours" in await team.type(CAL, "backlog assign 2 @cal")
    assert await snapshot(team.runtime.db) == before
    # Ben owns #2, so he may change it; anyone may take #1, which nobody owns.
    assert "moved" in await team.type(BEN, "backlog doing 2")
    assert "#1 is now Cal's" in await team.type(CAL, "backlog assign 1 me")
    assert "moved" in await team.type(CAL, "backlog done 1")


async def test_leads_and_admins_change_anyones_items(team: Team) -> None:
    await known(team, ANA, BEN, CAL)
    await team.type(ANA, "backlog add Kick-off")  # the first to file leads the backlog
    await team.type(BEN, "backlog add Pin the images")
    assert "moved" in await team.type(ANA, "backlog done 2")
    await team.type(BEN, "backlog add Third")
    assert "is not yours" in await team.type(CAL, "backlog prio 3 p0")
    admin = replace(CAL, admin=True)
    assert "p0 now" in await team.type(admin, "backlog prio 3 p0")
    assert "Ben Ode now leads the backlog" in await team.type(ANA, "backlog lead @ben")
    assert "Only Ben Ode or a workspace admin" in await team.type(ANA, "backlog coleads @cal")
    assert (await team.type(CAL, "backlog lead @cal")).startswith(
        "Only Ben Ode or a workspace admin can change who leads this channel's backlog."
    )
    assert "The backlog is led by Ben Ode, Cal." in await team.type(BEN, "backlog coleads @cal")


async def test_buttons_mark_done_and_assign_to_the_presser(team: Team) -> None:
    await known(team, ANA, BEN)
    await team.type(ANA, "backlog add Fix the loader")
    (filed,) = [p for p in await team.deliver() if "filed" in p.text]
    done, mine = filed.message.buttons
    assert (done.action_id, mine.action_id) == ("backlog.done", "backlog.mine")
    assert "#1 is now Ben Ode's" in await press(team, BEN, mine.action_id, mine.value)
    assert "is Ben Ode's already" in await press(team, BEN, mine.action_id, mine.value)
    assert "— done" in await press(team, BEN, done.action_id, done.value)
    # From the person's private chat (Teams shows private replies there) it still works.
    await team.type(ANA, "backlog add Second")
    second = [p for p in await team.deliver() if "filed" in p.text][-1].message.buttons[0]
    assert "— done" in await press(team, ANA, second.action_id, second.value, place=None)


async def test_bad_ids_other_channels_and_workspaces_are_not_found(team: Team) -> None:
    await known(team, ANA, BEN)
    await team.type(ANA, "backlog add Fix the loader")
    await say_in(team, OTHER_CHANNEL, ANA, "backlog add Theirs")
    await say_in(team, OTHER_CHANNEL, ANA, "backlog add Theirs too")
    await known(team, ELSEWHERE)
    await team.bot.direct_message(ELSEWHERE, "help")
    before = await snapshot(team.runtime.db)
    assert "no item #2 in this channel" in await team.type(ANA, "backlog done 2")
    assert "no item #99" in await team.type(ANA, "backlog assign 99 @ben")
    assert "there is no #0" in await team.type(ANA, "backlog done 0")
    assert "expected an id" in await team.type(ANA, "backlog done x")
    reply = await team.bot.command(ELSEWHERE, CHANNEL, "backlog done 1")
    assert reply is not None and "no item #1" in reply.message.text
    filed = next(p for p in await team.deliver() if "Theirs too" in p.text)
    button = filed.message.buttons[0]
    # A button of C2's #2 pressed in C1, or in another workspace's private chat: not found.
    assert "out of date" in await press(team, ANA, button.action_id, button.value)
    reply = await team.bot.action(ELSEWHERE, None, button.action_id, button.value)
    assert reply is not None and "out of date" in reply.message.text
    for value in ("", "C1", "C1|x", "C1|m|x", "C1|m|0", "C1|m|99999999999", "nope|m|1"):
        assert "out of date" in await press(team, ANA, "backlog.done", value), value
    # In the channel the channel vouches for the value (its HMAC is for private chats).
    assert "no item #5" in await press(team, ANA, "backlog.done", "C1|m|5")
    assert (await snapshot(team.runtime.db)) == before


async def test_unknown_values_and_long_titles_are_refused(team: Team) -> None:
    await known(team, ANA)
    await team.type(ANA, "backlog add Fix the loader")
    before = await snapshot(team.runtime.db)
    cases = {
        "backlog add " + "t" * 301: "title is too long: 301 characters, the limit is 300",
        "backlog add data p1 @ana": "title is missing",
        "backlog prio 1 p7": "p0, p1, p2 or p3",
        "backlog prio 1 high": "p0, p1, p2 or p3",
        "backlog list spaceship": "not 'spaceship'",
        "backlog list data model": "one type at a time",
        "backlog edit 1 " + "x" * 301: "title is too long",
    }
    for line, expected in cases.items():
        said = await team.type(ANA, line)
        assert expected in said, line
    assert "I don't know who @zed is here; nothing changed" in await team.type(
        ANA, "backlog add Fix it @zed"
    )
    assert "I don't know who @zed" in await team.type(ANA, "backlog assign 1 @zed")
    assert "I don't know who @zed" in await team.type(ANA, "backlog list @zed")
    assert "no sprint named 'S9'" in await team.type(ANA, "backlog list sprint S9")
    assert await snapshot(team.runtime.db) == before


async def test_commands_in_private_point_to_the_channel(team: Team) -> None:
    assert "work in the channel" in await team.dm(ANA, "/backlog add Fix the loader")
    assert await rows(team.runtime.db) == []


async def test_a_typed_add_alone_opens_the_form_and_the_form_files(db: Database) -> None:
    team = Team(db, MONDAY)
    await known(team, ANA, BEN)
    assert team.bot.form_for("backlog add") == "backlog.add"
    form = await team.bot.open_form(ANA, CHANNEL, "backlog.add", "")
    assert [f.key for f in form.fields] == [  # type: ignore[union-attr]
        "type",
        "priority",
        "title",
        "description",
        "link",
        "owner",
    ]
    bad = {"type": "rocket", "priority": "p9", "title": "x" * 301, "link": "javascript:1"}
    errors = await team.bot.submit_form(ANA, "backlog.add", "C1", bad)
    assert isinstance(errors, dict)
    assert set(errors) == {"type", "priority", "title", "link"}
    unknown = {"type": "eval", "priority": "p1", "title": "Rerun", "owner": "@zed"}
    assert "zed" in str(await team.bot.submit_form(ANA, "backlog.add", "C1", unknown))
    assert await rows(db) == []
    good = {
        "type": "eval",
        "priority": "p1",
        "title": "Rerun the baseline",
        "description": "On the cleaned set",
        "link": "https://example.org/run/7",
        "owner": "@ben",
    }
    reply = await team.bot.submit_form(ANA, "backlog.add", "C1", good)
    assert not isinstance(reply, dict) and reply is not None
    assert "filed #1 [p1 eval] Rerun the baseline — @Ben Ode" in reply.message.plain_text()
    assert "https://example.org/run/7" in reply.message.plain_text()


async def test_items_filed_at_once_get_numbers_of_their_own(team: Team) -> None:
    await team.type(ANA, "backlog add Kick-off")
    await asyncio.gather(*(team.type(who, f"backlog add Item {n}") for n, who in
                           enumerate((ANA, BEN, CAL, ANA, BEN, CAL))))  # fmt: skip
    assert sorted(n for n, *_ in await rows(team.runtime.db)) == [1, 2, 3, 4, 5, 6, 7]


async def test_a_persons_home_lists_their_open_items(team: Team) -> None:
    await known(team, ANA, BEN)
    await team.type(ANA, "backlog add data p1 Dedup clicks @ben")
    await team.type(ANA, "backlog add Not Bens")
    await say_in(team, OTHER_CHANNEL, ANA, "backlog add eval p0 Rerun @ben")
    page = (await team.bot.home(BEN)).plain_text()
    assert "*Your open backlog items*\n• #data-team: #1 [p0 eval] Rerun" in page
    assert "• #ml-team: #1 [p1 data] Dedup clicks — @Ben Ode" in page
    assert "Not Bens" not in page


async def test_huge_digit_strings_in_buttons_forms_and_commands_are_refused(team: Team) -> None:
    """``int()`` refuses more than 4,300 digits with an error: every number a button, a
    form or a command carries is checked for length first."""
    await known(team, ANA)
    await team.type(ANA, "backlog add Fix the loader")
    before = await snapshot(team.runtime.db)
    huge = "9" * 5000
    pressed = {
        "backlog.done": (f"C1|m|{huge}", huge),
        "backlog.mine": (f"C1|m|{huge}",),
        "backlog.carry": (f"C1|m|{huge}|next",),
        "backlog.page": (
            f"C1|m|{huge}|next|1|1|",
            f"C1|m|2|next|{huge}|1|",
            f"C1|m|2|prev|1|{huge}|",
        ),
        "retro.task": (huge,),
    }
    for action, values in pressed.items():
        for value in values:
            for place in (CHANNEL, None):
                said = await press(team, ANA, action, value, place=place)
                assert "out of date" in said, (action, value[:20], place)
    for line in (f"backlog done {huge}", f"backlog list page {huge}", f"backlog sprint {huge} x"):
        said = await team.type(ANA, line)
        assert said.startswith("Sorry") or "too long" in said, said[:80]
    errors = await team.bot.submit_form(
        ANA, "backlog.add", CHANNEL.channel, {"title": "x", "priority": f"p{huge}"}
    )
    assert isinstance(errors, dict) and "priority" in errors
    assert (await snapshot(team.runtime.db)) == before
