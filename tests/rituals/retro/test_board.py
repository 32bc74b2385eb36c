"""Opening a board, adding items, hidden boards, and items that wait for the next retro."""

from __future__ import annotations

from rituals.identity import Place
from rituals.messages import Form
from rituals.retro.board import SECTION_LIMIT
from rituals.retro.grammar import MAX_ITEM
from tests.helpers import CHANNEL, Team
from tests.rituals.retro.support import (
    ANA,
    BEN,
    CAL,
    OTHER_CHANNEL,
    boards,
    item_ids,
    known,
    latest_board,
    retros,
    say_in,
    snapshot,
    thread_items,
)


async def test_one_board_message_is_posted_then_updated_in_place(team: Team) -> None:
    assert "Retro open" in await team.type(ANA, "retro start Sprint 14")
    await team.type(BEN, "retro add well Shipped the ranker")
    await team.type(CAL, "retro add improve Flaky CI")
    sent = await team.deliver()

    board, *updates = boards(sent)
    assert board.op == "post" and board.thread is None
    assert board.text.startswith("Retro: Sprint 14")
    assert [u.op for u in updates] == ["update", "update"]
    assert all(u.thread == board.ref for u in updates)
    assert "#1 Shipped the ranker" in updates[-1].text
    assert "#2 Flaky CI" in updates[-1].text


async def test_items_are_posted_whole_in_the_boards_thread_with_a_vote_button(team: Team) -> None:
    await team.type(ANA, "retro start Sprint 14")
    assert await team.type(BEN, "retro add well: Shipped the ranker") == "Added #1 under Went well."
    sent = await team.deliver()

    (item,) = thread_items(sent)
    assert item.thread == boards(sent)[0].ref
    assert item.message.text == "#1 · Went well"
    assert item.message.sections[0].text == "Shipped the ranker"
    assert item.message.context == "from Ben Ode"
    assert [(b.action_id, b.value) for b in item.message.buttons] == [("retro.vote", "1")]


async def test_a_channel_has_one_open_retro(team: Team) -> None:
    await known(team, ANA, BEN)
    await team.type(ANA, "retro start Sprint 14")
    before = await snapshot(team.runtime.db)

    reply = await team.type(BEN, "retro start Sprint 15")

    assert "already open here: Sprint 14" in reply
    assert await snapshot(team.runtime.db) == before
    assert "Retro open" in await say_in(team, OTHER_CHANNEL, BEN, "retro start Data sprint")
    assert [r.title for r in await retros(team.runtime.db)] == ["Sprint 14", "Data sprint"]


async def test_categories_follow_the_format(team: Team) -> None:
    await known(team, ANA, BEN)
    await team.type(ANA, "retro start Q3 format ssc")
    before = await snapshot(team.runtime.db)

    reply = await team.type(BEN, "retro add well Shipped")

    assert "'well' is not a category of this retro; use start, stop, continue or action" in reply
    assert "Try: retro add start YOUR TEXT" in reply
    assert await snapshot(team.runtime.db) == before
    assert await team.type(BEN, "retro add stop Friday deploys") == "Added #1 under Stop."
    board = await latest_board(team)
    assert "*Start*" in board and "*Stop*\n• #1 Friday deploys" in board


async def test_postmortem_board_has_its_own_headings(team: Team) -> None:
    await team.type(ANA, "retro start Outage format postmortem")
    await team.type(BEN, "retro add cause Cache stampede")
    board = await latest_board(team)
    for heading in ("What happened", "Impact", "Root cause", "What we change"):
        assert f"*{heading}*" in board
    assert "*Root cause*\n• #1 Cache stampede" in board


async def test_a_hidden_board_shows_counts_until_revealed(team: Team) -> None:
    await team.type(ANA, "retro start Sprint 14 hidden")
    reply = await team.type(BEN, "retro add improve Too many meetings")
    assert (
        reply
        == "Added #1 under To improve; it stays hidden until the facilitator reveals the board."
    )
    await team.type(CAL, "retro add improve Slow reviews")
    sent = await team.deliver()
    assert thread_items(sent) == []
    board = boards(sent)[-1].text
    assert "*To improve*: 2 items" in board and "meetings" not in board
    assert "Voting opens once" in await team.type(CAL, "retro vote 1")

    assert "Only Ana or a workspace admin can reveal" in await team.type(BEN, "retro reveal")
    assert await team.type(ANA, "retro reveal") == "Revealed 2 items; voting is open."
    sent = await team.deliver()
    assert [p.message.sections[0].text for p in thread_items(sent)] == [
        "Too many meetings",
        "Slow reviews",
    ]
    assert "#1 Too many meetings" in boards(sent)[-1].text
    assert await team.type(ANA, "retro reveal") == "The items are revealed already."


async def test_reveal_needs_a_hidden_open_board(team: Team) -> None:
    assert "No retro is open" in await team.type(ANA, "retro reveal")
    await team.type(ANA, "retro start")
    assert "visible already" in await team.type(ANA, "retro reveal")


async def test_items_added_before_the_retro_open_with_it(team: Team) -> None:
    reply = await team.type(BEN, "retro add improve Alerts fire at night")
    assert "Filed #1 under To improve for the channel's next retro" in reply
    assert await team.type(CAL, "retro add idea Shadow deploys anon") == (
        "Added anonymously for the next retro."
    )
    assert await team.deliver() != []

    await team.type(ANA, "retro start Sprint 15")
    sent = await team.deliver()

    board = boards(sent)[0]
    assert "#1 Alerts fire at night" in board.text and "#2 Shadow deploys" in board.text
    assert [p.message.sections[0].text for p in thread_items(sent)] == [
        "Alerts fire at night",
        "Shadow deploys",
    ]
    assert thread_items(sent)[1].message.context == "anonymous"


async def test_items_filed_for_the_next_retro_follow_the_last_format(team: Team) -> None:
    await team.type(ANA, "retro start format 4ls")
    await team.type(ANA, "retro close")
    assert "use liked, learned, lacked, longed or action" in await team.type(
        BEN, "retro add well Nice"
    )
    assert "Filed #1 under Learned" in await team.type(BEN, "retro add learned Polars")


async def test_a_board_stays_within_the_platforms_section_limit(team: Team) -> None:
    await team.type(ANA, "retro start Long one")
    for n in range(40):
        await team.type(BEN, f"retro add well {n} " + "word " * 100)
    board = (await team.deliver())[-1]
    assert all(len(s.text) <= SECTION_LIMIT + 40 for s in board.message.sections)
    assert "more in the thread" in board.text


async def test_an_item_at_the_limit_is_posted_whole(team: Team) -> None:
    await team.type(ANA, "retro start")
    text = "x" * MAX_ITEM
    assert await team.type(BEN, f"retro add well {text}") == "Added #1 under Went well."
    (item,) = thread_items(await team.deliver())
    assert item.message.sections[0].text == text


async def test_retro_commands_need_a_channel(team: Team) -> None:
    assert "work in the channel of the retro" in await team.dm(ANA, "retro start Sprint 14")
    assert await retros(team.runtime.db) == []


# --- the add form ------------------------------------------------------------------------


async def test_add_alone_opens_the_form(team: Team) -> None:
    await team.type(ANA, "retro start Sprint 14 format ssc")
    assert team.bot.form_for("retro add") == "retro.add"

    form = await team.bot.open_form(ANA, CHANNEL, "retro.add", "")

    assert isinstance(form, Form)
    assert form.context == CHANNEL.channel
    category, text, anonymous = form.fields
    assert [c.value for c in category.choices] == ["start", "stop", "continue", "action"]
    assert text.multiline and not text.choices
    assert anonymous.toggle and anonymous.key == "anonymous"


async def test_add_typed_alone_where_there_is_no_form_names_the_open_boards_categories(
    team: Team,
) -> None:
    await team.type(ANA, "retro start Sprint 14 format ssc")
    reply = await team.type(BEN, "retro add")
    assert "missing category (start, stop, continue or action)" in reply
    assert "Try: retro add start" in reply
    assert "well" not in reply


async def test_add_typed_alone_names_the_post_mortems_categories(team: Team) -> None:
    await team.type(ANA, "retro start Outage format postmortem")
    reply = await team.type(BEN, "retro add")
    assert "missing category (happened, impact, cause or change)" in reply
    assert "Try: retro add happened" in reply
    assert await item_ids(team.runtime.db) == []


async def test_add_typed_alone_with_no_board_names_the_default_categories(team: Team) -> None:
    reply = await team.type(BEN, "retro add")
    assert "missing category (well, improve, idea or action)" in reply
    assert await retros(team.runtime.db) == []


async def test_a_named_retros_form_has_no_anonymous_toggle(team: Team) -> None:
    await team.type(ANA, "retro start Sprint 14 named")
    form = await team.bot.open_form(ANA, CHANNEL, "retro.add", "")
    assert isinstance(form, Form)
    assert [f.key for f in form.fields] == ["category", "text"]


async def test_the_form_is_refused_outside_a_channel(team: Team) -> None:
    reply = await team.bot.open_form(ANA, None, "retro.add", "")
    assert not isinstance(reply, Form)
    assert "from the channel" in reply.message.text


async def test_a_submitted_form_adds_the_item(team: Team) -> None:
    await team.type(ANA, "retro start Sprint 14")
    values = {"category": "improve", "text": "  Flaky CI  ", "anonymous": "false"}

    reply = await team.bot.submit_form(BEN, "retro.add", CHANNEL.channel, values)

    assert not isinstance(reply, dict) and reply is not None
    assert reply.message.text == "Added #1 under To improve."
    (item,) = thread_items(await team.deliver())
    assert item.message.sections[0].text == "Flaky CI"
    assert item.message.context == "from Ben Ode"


async def test_a_form_with_errors_names_each_field_and_stores_nothing(team: Team) -> None:
    await known(team, ANA, BEN)
    await team.type(ANA, "retro start Sprint 14 named")
    before = await snapshot(team.runtime.db)
    values = {"category": "meh", "text": "x" * (MAX_ITEM + 1), "anonymous": "true"}

    errors = await team.bot.submit_form(BEN, "retro.add", CHANNEL.channel, values)

    assert errors == {
        "category": "Choose one of well, improve, idea or action.",
        "text": f"{MAX_ITEM + 1} characters; the limit is {MAX_ITEM}.",
    }
    errors = await team.bot.submit_form(
        BEN, "retro.add", CHANNEL.channel, {"category": "well", "text": "", "anonymous": "true"}
    )
    assert errors == {
        "anonymous": "This retro takes named items only.",
        "text": "Write the item.",
    }
    assert await snapshot(team.runtime.db) == before


async def test_a_form_from_another_channel_is_refused(team: Team) -> None:
    await team.type(ANA, "retro start Sprint 14")
    assert not team.bot.form_belongs("retro.add", CHANNEL.channel, Place("C2"))
    assert team.bot.form_belongs("retro.add", CHANNEL.channel, CHANNEL)


# --- replies in the board's thread -------------------------------------------------------


async def reply_in_thread(team: Team, text: str, thread: str) -> str | None:
    reply = await team.bot.thread_reply(BEN, CHANNEL, thread, text)
    return reply.message.plain_text() if reply else None


async def test_a_prefixed_reply_in_the_boards_thread_adds_an_item(team: Team) -> None:
    await team.type(ANA, "retro start Sprint 14")
    board = boards(await team.deliver())[0]

    assert await reply_in_thread(team, "Improve: flaky CI", board.ref) == (
        "Added #1 under To improve."
    )

    sent = await team.deliver()
    assert [p.message.sections[0].text for p in thread_items(sent)] == ["flaky CI"]
    assert "#1 flaky CI" in boards(sent)[-1].text


async def test_other_replies_in_the_thread_are_conversation(team: Team) -> None:
    await known(team, ANA, BEN)
    await team.type(ANA, "retro start Sprint 14 format ssc")
    board = boards(await team.deliver())[0]
    before = await snapshot(team.runtime.db)

    for text in ("nice one", "well: wrong format", "note: later", "start:", "start:   "):
        assert await reply_in_thread(team, text, board.ref) is None
    assert await reply_in_thread(team, "stop: standups", "another-post") is None
    anonymous = await reply_in_thread(team, "stop: standups anon", board.ref)
    assert anonymous is not None and "cannot be anonymous" in anonymous

    assert await snapshot(team.runtime.db) == before
