"""Lists on the console: filters that combine, ordered by priority then age, paged by
keyset with Next and Previous and by `page N`, answered privately; and the CSV export."""

from __future__ import annotations

import csv
import io

from sqlalchemy import select

from rituals.kinds import Handoff
from storage.models import Channel
from tests.helpers import CHANNEL, Team, person
from tests.rituals.backlog.support import ANA, BEN, CAL, known, press


async def listed(team: Team, line: str) -> list[str]:
    """The item lines of a list reply."""
    reply = await team.bot.command(ANA, CHANNEL, line)
    assert reply is not None and not reply.public
    return [x for x in reply.message.plain_text().splitlines() if x.startswith("• ")]


async def test_filters_combine_and_order_is_priority_then_age(team: Team) -> None:
    await known(team, ANA, BEN, CAL)
    await team.type(ANA, "backlog add data p2 Old data chore")
    await team.type(ANA, "backlog add model p1 Retrain ranker @ben")
    await team.type(ANA, "backlog add data p1 Dedup clicks @ben")
    await team.type(ANA, "backlog add eval p0 Rerun baseline")
    await team.type(ANA, "backlog add data p1 Label audit @cal")
    await team.type(BEN, "backlog done 3")
    await team.type(ANA, "backlog sprint 5 Sprint 15")
    await team.type(ANA, "backlog sprint 2 Sprint 15")

    def numbers(lines: list[str]) -> list[str]:
        return [line.split()[1] for line in lines]

    assert numbers(await listed(team, "backlog list")) == ["#4", "#2", "#5", "#1"]
    assert numbers(await listed(team, "backlog list open data")) == ["#5", "#1"]
    assert numbers(await listed(team, "backlog list done")) == ["#3"]
    assert numbers(await listed(team, "backlog list done @ben data")) == ["#3"]
    assert numbers(await listed(team, "backlog list @ben")) == ["#2"]
    assert numbers(await listed(team, "backlog list p1 data")) == ["#5"]
    assert numbers(await listed(team, "backlog list sprint Sprint 15")) == ["#2", "#5"]
    assert numbers(await listed(team, "backlog list p1 sprint sprint 15")) == ["#2", "#5"]
    reply = await team.bot.command(BEN, CHANNEL, "backlog list mine")
    assert reply is not None and "#2 [p1 model] Retrain ranker — @Ben Ode — Sprint 15" in (
        reply.message.plain_text()
    )
    assert "No done model items." in (await team.type(ANA, "backlog list done model"))


async def test_next_and_previous_page_by_keyset_and_page_n_jumps(team: Team) -> None:
    for n in range(1, 26):
        await team.type(ANA, f"backlog add data p{n % 2} Item {n}")
    await team.type(ANA, "backlog add model p0 Not data")
    first = await team.bot.command(ANA, CHANNEL, "backlog list data")
    assert first is not None
    assert "items 1–10 (page 1)" in first.message.text
    (next_button,) = first.message.buttons
    assert next_button.label == "Next" and next_button.action_id == "backlog.page"
    # p0 first (the even items by age), then p1.
    order = [f"#{n}" for n in range(2, 26, 2)] + [f"#{n}" for n in range(1, 26, 2)]

    def numbers(text: str) -> list[str]:
        return [line.split()[1] for line in text.splitlines() if line.startswith("• ")]

    assert numbers(first.message.plain_text()) == order[:10]
    second = await team.bot.action(ANA, CHANNEL, next_button.action_id, next_button.value)
    assert second is not None and "items 11–20 (page 2)" in second.message.text
    assert numbers(second.message.plain_text()) == order[10:20]
    previous, following = second.message.buttons
    assert (previous.label, following.label) == ("Previous", "Next")
    third = await team.bot.action(ANA, CHANNEL, following.action_id, following.value)
    assert third is not None and numbers(third.message.plain_text()) == order[20:]
    assert [b.label for b in third.message.buttons] == ["Previous"]
    back = await team.bot.action(ANA, CHANNEL, previous.action_id, previous.value)
    assert back is not None and numbers(back.message.plain_text()) == order[:10]
    assert [b.label for b in back.message.buttons] == ["Next"]

    typed = await team.type(ANA, "backlog list data page 3")
    assert numbers(typed) == order[20:]
    assert "There is no page 4: that list has 3 pages." in await team.type(
        ANA, "backlog list data page 4"
    )
    # An item done since the page was shown just leaves the next page shorter.
    await team.type(ANA, "backlog done 21")
    again = await team.bot.action(ANA, CHANNEL, following.action_id, following.value)
    assert again is not None and "#21" not in again.message.plain_text()


async def test_page_buttons_that_were_tampered_with_are_out_of_date(team: Team) -> None:
    await team.type(ANA, "backlog add Fix the loader")
    for value in ("", "C1|2|next|1|1", "C1|2|sideways|1|1|", "C1|x|next|1|1|", "C2|2|next|1|1|",
                  "C1|2|next|1|1|spaceship"):  # fmt: skip
        assert "out of date" in await press(team, ANA, "backlog.page", value), value


async def test_export_sends_every_matching_item_with_its_history(team: Team) -> None:
    await known(team, ANA, BEN)
    await team.type(ANA, "backlog add data p1 =HYPERLINK(evil) @ben")
    await team.type(ANA, "backlog add eval Rerun baseline")
    await team.type(BEN, "backlog done 1")
    reply = await team.bot.command(ANA, CHANNEL, "backlog export")
    assert reply is not None and reply.message.attachment is not None
    assert reply.message.text == "2 items of the backlog (all), with their history."
    table = list(csv.DictReader(io.StringIO(reply.message.attachment.content)))
    assert [r["id"] for r in table] == ["1", "2"]
    assert table[0]["title"] == "'=HYPERLINK(evil)"
    assert table[0]["owner"] == "'@Ben Ode" and table[0]["state"] == "done"
    assert (
        table[0]["history"] == "2030-01-07 09:00 Ana: filed | 2030-01-07 09:00 Ben Ode: state done"
    )
    done = await team.bot.command(ANA, CHANNEL, "backlog export open eval")
    assert done is not None and done.message.attachment is not None
    assert done.message.attachment.content.count("\n") == 2
    posted = await team.deliver()
    assert [p.op for p in posted if p.message.attachment is not None] == ["ephemeral", "ephemeral"]


async def test_export_neutralises_formulas_in_every_text_column(team: Team) -> None:
    """A name or a giver's reference that a spreadsheet would run as a formula is text."""
    formula = person("USUM", name="SUM(A1:A9)")
    await known(team, ANA, formula)
    said = await team.type(ANA, "backlog add Owned by a formula @USUM")
    assert "filed #1" in said, said
    async with team.runtime.db.session() as session:
        channel = (
            await session.execute(select(Channel).where(Channel.external_id == CHANNEL.channel))
        ).scalar_one()
        handoff = Handoff("task", "Handed over", source="=HYPERLINK(evil)")
        await team.bot.kinds["backlog"].take(session, channel, handoff, team.clock.now(), None)
    reply = await team.bot.command(ANA, CHANNEL, "backlog export")
    assert reply is not None and reply.message.attachment is not None
    table = list(csv.DictReader(io.StringIO(reply.message.attachment.content)))
    assert [(r["owner"], r["source"]) for r in table] == [
        ("'@SUM(A1:A9)", ""),
        ("", "'=HYPERLINK(evil)"),
    ]
    for row in table:
        assert all(cell[:1] not in ("=", "+", "-", "@", "\t", "\r") for cell in row.values())


async def test_a_list_of_one_priority_pages_by_number_alone(team: Team) -> None:
    for n in range(1, 17):  # eleven p1 items, five p2 among them
        await team.type(ANA, f"backlog add data p{1 if n % 3 else 2} Item {n}")
    first = await team.bot.command(ANA, CHANNEL, "backlog list p1 data")
    assert first is not None
    (following,) = first.message.buttons
    second = await team.bot.action(ANA, CHANNEL, following.action_id, following.value)
    assert second is not None
    shown = [line.split()[1] for line in second.message.plain_text().splitlines() if "•" in line]
    assert shown == ["#16"]
    previous = next(b for b in second.message.buttons if b.label == "Previous")
    back = await team.bot.action(ANA, CHANNEL, previous.action_id, previous.value)
    assert back is not None and back.message.plain_text() == first.message.plain_text()
