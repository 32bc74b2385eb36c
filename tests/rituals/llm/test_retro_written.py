"""The retro summary's written version: themes with counts from the board, suggested
actions, anonymous items shown to the model without authors, made-up items rejected, and
the plain summary's buttons kept when the written one takes its place."""

from __future__ import annotations

from typing import Any

from storage.db import Database
from tests.helpers import Posted, Team
from tests.rituals.llm.fake_openai import FakeOpenAI, as_json, material_of
from tests.rituals.retro.support import ANA, BEN, CAL, MONDAY, known, press


def written(*theme_items: list[int]) -> dict[str, Any]:
    return {
        "headline": "CI flakiness dominated the sprint",
        "themes": [
            {"title": f"Theme {n}", "summary": "said plainly", "items": items}
            for n, items in enumerate(theme_items, 1)
        ],
        "suggested_actions": [{"text": "Quarantine flaky tests", "items": [2, 3]}],
    }


async def closed_retro(db: Database, fake: FakeOpenAI) -> tuple[Team, Posted]:
    team = Team(db, MONDAY)
    team.runtime.llm = fake.model()
    await known(team, ANA, BEN, CAL)
    await team.type(BEN, "retro start Sprint 14")
    await team.type(BEN, "retro add well Shipped the ranker")
    await team.type(ANA, "retro add improve Flaky CI blocks merges anon")
    await team.type(CAL, "retro add improve CI takes 40 minutes")
    await team.type(ANA, "retro vote 2")
    await team.type(CAL, "retro vote 2")
    await team.type(CAL, "retro vote 3")
    await team.deliver()
    await team.type(BEN, "retro close")
    (summary,) = [p for p in await team.deliver() if p.text.startswith("Retro summary")]
    return team, summary


async def test_themes_are_counted_from_the_board_and_anonymous_items_have_no_author(
    db: Database, fake_openai: FakeOpenAI
) -> None:
    fake_openai.respond = as_json(written([2, 3], [1]))
    team, posted = await closed_retro(db, fake_openai)

    assert await team.bot.kinds["ask"].write_summaries() == 1
    (update,) = [p for p in await team.deliver() if p.op == "update" and p.thread == posted.ref]

    assert update.message.text == "Retro summary: Sprint 14 — CI flakiness dominated the sprint"
    themes, suggested = (s.text for s in update.message.sections[:2])
    assert themes.splitlines() == [
        "*Themes*",
        "• *Theme 1* (2 items, 3 votes): said plainly — #2 #3",
        "• *Theme 2* (1 item, 0 votes): said plainly — #1",
    ]
    assert suggested.splitlines() == [
        "*Suggested actions*",
        "• Quarantine flaky tests (from #2 #3)",
    ]
    items = {i["id"]: i for i in material_of(fake_openai.bodies[0])["items"]}
    assert items[1]["author"] == "Ben Ode" and items[3]["author"] == "Cal"
    assert "author" not in items[2]
    assert "Ana" not in fake_openai.raw[0]


async def test_a_theme_citing_an_item_that_does_not_exist_is_rejected(
    db: Database, fake_openai: FakeOpenAI
) -> None:
    fake_openai.respond = as_json(written([2, 99]))
    team, posted = await closed_retro(db, fake_openai)

    await team.bot.kinds["ask"].write_summaries()
    (update,) = [p for p in await team.deliver() if p.op == "update" and p.thread == posted.ref]

    assert update.message.context.startswith("Plain summary · ")
    assert update.message.sections == posted.message.sections


async def test_a_theme_citing_no_item_is_rejected(db: Database, fake_openai: FakeOpenAI) -> None:
    fake_openai.respond = as_json(written([]))
    team, posted = await closed_retro(db, fake_openai)

    await team.bot.kinds["ask"].write_summaries()
    (update,) = [p for p in await team.deliver() if p.op == "update" and p.thread == posted.ref]

    assert update.message.context.startswith("Plain summary")


async def test_the_written_version_keeps_the_action_items_to_backlog_buttons(
    db: Database, fake_openai: FakeOpenAI
) -> None:
    fake_openai.respond = as_json(written([2, 3], [1]))
    team = Team(db, MONDAY)
    team.runtime.llm = fake_openai.model()
    await known(team, ANA, BEN, CAL)
    await team.type(BEN, "retro start Sprint 14")
    await team.type(BEN, "retro add well Shipped the ranker")
    await team.type(ANA, "retro add improve Flaky CI blocks merges anon")
    await team.type(CAL, "retro add improve CI takes 40 minutes")
    await team.type(CAL, "retro add action Quarantine the flaky tests")
    await team.type(ANA, "retro add action Cache the CI images")
    await team.type(BEN, "retro close")
    (plain,) = [p for p in await team.deliver() if p.text.startswith("Retro summary")]
    assert [b.label for b in plain.message.buttons] == ["A1 to backlog", "A2 to backlog"]

    assert await team.bot.kinds["ask"].write_summaries() == 1
    (update,) = [p for p in await team.deliver() if p.op == "update" and p.thread == plain.ref]

    assert update.message.context.startswith("Written by the model")
    assert update.message.buttons == plain.message.buttons
    (first, _) = update.message.buttons
    assert "Filed in the backlog as #1" in await press(team, BEN, first.action_id, first.value)
