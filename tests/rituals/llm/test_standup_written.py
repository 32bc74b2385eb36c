"""The stand-up summary goes out plain at its time; the model's version replaces it in place,
or, when the model fails in any way, the plain one stays, marked as such, within the timeout."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp import web
from prometheus_client import REGISTRY
from sqlalchemy import select

from rituals.llm.models import WrittenSummary
from rituals.llm.written import PENDING, PLAIN
from storage.db import Database
from tests.helpers import Posted, Team, person
from tests.rituals.llm.fake_openai import FakeOpenAI, as_json, completion, material_of, status

MONDAY = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
ANA = person("ana", name="Ana")
BEN = person("ben", name="Ben")
TIMEOUT = 1.0


def written(who: list[str], *, blocker_who: list[str] | None = None) -> dict[str, Any]:
    return {
        "headline": "Ranker v3 trained; eval blocked on GPU quota",
        "blockers": [
            {"text": "GPU quota holds up the eval", "who": blocker_who or who, "unblocker": "Ben"}
        ],
        "points": [{"text": "Trained ranker v3", "who": who}],
        "themes": [],
    }


async def standup(db: Database, fake: FakeOpenAI, *people, **config: Any) -> Team:
    team = Team(db, MONDAY)
    team.runtime.llm = fake.model(**config)
    await team.type(ANA, "standup setup at 09:30 days mon-fri tz UTC summary 18:00")
    await team.type(ANA, "standup questions done? | next? | blockers?")
    for who in people:
        await team.type(who, "standup join")
    await team.type(ANA, "standup now")
    await team.deliver()
    return team


async def answers(team: Team, who, *texts: str) -> None:
    for text in texts:
        await team.dm(who, text)


def model_seconds() -> float:
    return REGISTRY.get_sample_value("ritualbot_llm_seconds_sum", {"purpose": "standup"}) or 0.0


def summaries(posted: list[Posted]) -> list[Posted]:
    return [p for p in posted if p.message.text.startswith("Stand-up #")]


async def plain_then_written(team: Team) -> tuple[Posted, list[Posted], float]:
    """The summary as posted, what the sweep then changed, and how long the sweep took."""
    (posted,) = summaries(await team.deliver())
    started = time.perf_counter()
    await team.bot.kinds["ask"].write_summaries()
    took = time.perf_counter() - started
    return posted, summaries(await team.deliver()), took


async def test_the_models_summary_replaces_the_plain_one_in_place(
    db: Database, fake_openai: FakeOpenAI
) -> None:
    fake_openai.respond = as_json(written(["Ana"]))
    team = await standup(db, fake_openai, BEN)
    await answers(team, ANA, "trained ranker v3", "eval", "waiting on GPU quota")
    await answers(team, BEN, "labels", "more labels", "none")

    posted, (update,), _ = await plain_then_written(team)

    assert posted.op == "post" and PENDING in posted.message.context
    assert "2/2 answered" in posted.message.text
    assert update.op == "update" and update.thread == posted.ref
    assert update.message.text == (
        "Stand-up #ml-team — Mon 23 Nov: Ranker v3 trained; eval blocked on GPU quota"
    )
    blocked, short = update.message.sections[:2]
    assert blocked.text.splitlines() == [
        "*Blocked*",
        "• GPU quota holds up the eval — Ana (unblocker: Ben)",
    ]
    assert short.text.splitlines() == ["*In short*", "• Trained ranker v3 — Ana"]
    assert update.message.context.startswith("Written by the model (gpt-4o-mini)")
    assert PENDING not in update.message.context
    # The ledger, the buttons and the thread of answers stay as the plain summary had them.
    assert any("waiting on GPU quota" in s.text for s in update.message.sections[2:])
    assert update.message.buttons == posted.message.buttons
    (body,) = fake_openai.bodies
    seen = material_of(body)
    assert [p["name"] for p in seen["people"]] == ["Ana", "Ben"]
    assert body["response_format"]["type"] == "json_schema"
    instructions = body["messages"][0]["content"]
    assert instructions.startswith("You summarize one day's asynchronous stand-up")
    schema = json.loads(instructions.rsplit("matching this schema:\n", 1)[1])
    assert set(schema["properties"]) == {"headline", "blockers", "points", "themes"}
    async with db.session() as session:
        (row,) = (await session.execute(select(WrittenSummary))).scalars()
        assert (row.status, row.reason, row.prompt_tokens, row.completion_tokens) == (
            "written",
            "ok",
            120,
            40,
        )
        assert row.material == {}


async def test_a_point_naming_someone_who_said_nothing_is_rejected(
    db: Database, fake_openai: FakeOpenAI
) -> None:
    fake_openai.respond = as_json(written(["Ana", "Ben"]))
    team = await standup(db, fake_openai, BEN)
    await answers(team, ANA, "trained ranker v3", "eval", "none")
    team.clock.set(datetime(2026, 11, 23, 18, 0, tzinfo=UTC))  # Ben never answered
    await team.standups.sweep()

    posted, (update,), _ = await plain_then_written(team)

    assert "No answer yet: Ben" in posted.text
    assert update.message.context.startswith(PLAIN + " · ")
    assert update.message.text == posted.message.text
    assert update.message.sections == posted.message.sections


async def test_a_point_citing_nobody_is_rejected(db: Database, fake_openai: FakeOpenAI) -> None:
    bad = written(["Ana"])
    bad["themes"] = [{"text": "Everyone is happy", "who": []}]
    fake_openai.respond = as_json(bad)
    team = await standup(db, fake_openai)
    await answers(team, ANA, "trained ranker v3", "eval", "none")

    _, (update,), _ = await plain_then_written(team)

    assert update.message.context.startswith(PLAIN)
    assert "Everyone is happy" not in update.text


async def invalid_json(_body: dict[str, Any]) -> web.Response:
    return completion("Sure! Here is the summary: {headline: oops")


async def refusal(_body: dict[str, Any]) -> web.Response:
    return completion(None, refusal="I can't help with that.")


async def off_schema(_body: dict[str, Any]) -> web.Response:
    return completion(json.dumps({"points": "not a list"}))


@pytest.mark.parametrize(
    ("failure", "reason"),
    [
        (invalid_json, "invalid_json"),
        (status(429, **{"retry-after": "0"}), "rate_limited"),
        (status(500), "server_error"),
        ("hang", "timeout"),
        (refusal, "refusal"),
        (off_schema, "invalid"),
    ],
)
async def test_every_failure_leaves_the_plain_summary_within_the_timeout(
    db: Database, fake_openai: FakeOpenAI, failure: Any, reason: str
) -> None:
    fake_openai.respond = fake_openai.hang if failure == "hang" else failure
    team = await standup(db, fake_openai, timeout=TIMEOUT)
    await answers(team, ANA, "trained ranker v3", "eval", "none")

    spent_before = model_seconds()
    posted, (update,), took = await plain_then_written(team)

    # The timeout bounds the call, retries included (the bot's own measure of it); the
    # sweep around it adds only its database work, on a machine other test runs share.
    spent = model_seconds() - spent_before
    assert spent < TIMEOUT + 0.5 and took < TIMEOUT + 5
    if failure == "hang":
        assert spent >= TIMEOUT
    assert update.op == "update" and update.thread == posted.ref
    assert update.message.context.startswith(PLAIN + " · ")
    assert update.message.text == posted.message.text
    async with db.session() as session:
        (row,) = (await session.execute(select(WrittenSummary))).scalars()
        assert (row.status, row.reason) == ("plain", reason)
    # Nothing is asked twice: the row is finished.
    assert await team.bot.kinds["ask"].write_summaries() == 0


async def test_without_a_model_the_summary_is_plain_and_unmarked(db: Database) -> None:
    team = Team(db, MONDAY)
    await team.type(ANA, "standup setup at 09:30 days mon-fri tz UTC summary 18:00")
    await team.type(ANA, "standup now")
    await team.deliver()
    await answers(team, ANA, "a", "b", "none")

    (posted,) = summaries(await team.deliver())

    assert PENDING not in posted.message.context and PLAIN not in posted.message.context
    async with db.session() as session:
        assert list((await session.execute(select(WrittenSummary))).scalars()) == []


async def test_a_workspace_admin_turns_the_model_off_and_on(
    db: Database, fake_openai: FakeOpenAI
) -> None:
    fake_openai.respond = as_json(written(["Ana"]))
    team = await standup(db, fake_openai)
    admin = person("boss", name="Boss")
    admin = type(admin)(**{**admin.__dict__, "admin": True})

    assert "Only a workspace admin" in await team.type(ANA, "ask model off")
    assert "is now off for this workspace" in await team.type(admin, "ask model off")
    assert "off for this workspace" in await team.type(ANA, "ask model")
    await answers(team, ANA, "a", "b", "none")

    (posted,) = summaries(await team.deliver())

    assert PENDING not in posted.message.context
    assert await team.bot.kinds["ask"].write_summaries() == 0
    assert fake_openai.bodies == []
    assert "is on again" in await team.type(admin, "ask model on")


async def test_redaction_masks_emails_tokens_and_links_in_what_the_model_receives(
    db: Database, fake_openai: FakeOpenAI
) -> None:
    fake_openai.respond = as_json(written(["Ana"]))
    team = await standup(db, fake_openai)
    secrets = (
        "ana.k@example.com",
        "xoxb-12345678901-abcdefABCDEF",
        "sk-proj-abcdefghijklmnop1234",
        "https://grafana.internal.example.com/d/ranker?token=abc",
        "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
    )
    await answers(
        team,
        ANA,
        f"mailed {secrets[0]} and rotated {secrets[1]}",
        f"use {secrets[2]} for the eval, dashboard {secrets[3]}",
        f"CI token {secrets[4]} expired",
    )

    await plain_then_written(team)

    (raw,) = fake_openai.raw
    for secret in secrets:
        assert secret not in raw
    assert "grafana.internal" not in raw
    assert "ana.k" not in raw
    sent = json.dumps(material_of(fake_openai.bodies[0]))
    assert "[email]" in sent and "[secret]" in sent and "[link]" in sent
    assert "mailed" in sent and "rotated" in sent


async def test_with_redaction_off_the_text_goes_as_written(
    db: Database, fake_openai: FakeOpenAI
) -> None:
    fake_openai.respond = as_json(written(["Ana"]))
    team = await standup(db, fake_openai, redact=False)
    await answers(team, ANA, "mailed ana.k@example.com", "b", "none")

    await plain_then_written(team)

    assert "ana.k@example.com" in fake_openai.raw[0]


async def test_a_restart_before_the_model_answered_loses_nothing(
    db: Database, fake_openai: FakeOpenAI
) -> None:
    """The request is a row: another process (another Team on the same database) writes it."""
    fake_openai.respond = as_json(written(["Ana"]))
    team = await standup(db, fake_openai)
    await answers(team, ANA, "trained ranker v3", "eval", "none")
    (posted,) = summaries(await team.deliver())

    after_restart = Team(db, MONDAY)
    after_restart.port = team.port
    after_restart.delivery = team.delivery
    after_restart.runtime.llm = fake_openai.model()
    assert await after_restart.bot.kinds["ask"].write_summaries() == 1

    (update,) = summaries(await team.deliver())
    assert update.thread == posted.ref and "Written by the model" in update.message.context


async def test_themes_across_days_may_name_who_spoke_on_an_earlier_day(
    db: Database, fake_openai: FakeOpenAI
) -> None:
    across = written(["Ana"])
    across["themes"] = [{"text": "Label quality keeps coming up", "who": ["Ana", "Ben"]}]
    fake_openai.respond = as_json(across)
    team = await standup(db, fake_openai, BEN)
    await answers(team, ANA, "relabelled slice", "eval", "none")
    await answers(team, BEN, "label audit", "more labels", "none")
    assert await team.bot.kinds["ask"].write_summaries() == 1
    await team.deliver()
    team.clock.set(datetime(2026, 11, 24, 8, 0, tzinfo=UTC))
    await team.type(ANA, "standup now")
    await team.deliver()
    await answers(team, ANA, "label noise at 4%", "clean labels", "none")
    team.clock.set(datetime(2026, 11, 24, 18, 0, tzinfo=UTC))
    await team.standups.sweep()
    await team.deliver()

    assert await team.bot.kinds["ask"].write_summaries() == 1
    (update,) = [p for p in summaries(await team.deliver()) if p.op == "update"]

    second = material_of(fake_openai.bodies[-1])
    assert [p["name"] for p in second["people"]] == ["Ana"]
    assert second["no_answer"] == ["Ben"]
    ((earlier),) = second["earlier_days"]
    assert earlier["day"] == "2026-11-23"
    assert [p["name"] for p in earlier["people"]] == ["Ana", "Ben"]
    assert "Written by the model" in update.message.context
    assert "Label quality keeps coming up — Ana, Ben" in update.text


async def test_a_written_version_that_would_arrive_hours_late_is_not_shown(
    db: Database, fake_openai: FakeOpenAI
) -> None:
    """A process down for hours must not swap a summary people have read long ago."""
    fake_openai.respond = as_json(written(["Ana"]))
    team = await standup(db, fake_openai)
    await answers(team, ANA, "trained ranker v3", "eval", "none")
    (posted,) = summaries(await team.deliver())
    team.clock.set(datetime(2026, 11, 23, 12, 0, tzinfo=UTC))

    assert await team.bot.kinds["ask"].write_summaries() == 1

    (update,) = summaries(await team.deliver())
    assert update.thread == posted.ref
    assert update.message.context.startswith(PLAIN) and fake_openai.bodies == []


async def test_two_processes_sweeping_at_once_ask_the_model_once(
    db: Database, fake_openai: FakeOpenAI
) -> None:
    fake_openai.respond = as_json(written(["Ana"]))
    team = await standup(db, fake_openai)
    other = Team(db, MONDAY)
    other.runtime.llm = fake_openai.model()
    await answers(team, ANA, "trained ranker v3", "eval", "none")
    (posted,) = summaries(await team.deliver())

    done = await asyncio.gather(
        team.bot.kinds["ask"].write_summaries(), other.bot.kinds["ask"].write_summaries()
    )

    assert sorted(done) == [0, 1] and len(fake_openai.bodies) == 1
    (update,) = summaries(await team.deliver())
    assert update.thread == posted.ref
