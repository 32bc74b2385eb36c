"""`ask`: private answers from the asking channel's own stored rituals, citing their days;
nothing found is said plainly, without asking the model."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from hypothesis import given
from hypothesis import strategies as st

from bot.kinds import registry
from rituals.ask.grammar import AskModel, AskQuestion
from rituals.identity import Actor, Place
from rituals.llm.search import recall_of
from storage.db import Database
from tests.helpers import CHANNEL, PLATFORM, Posted, Team, person
from tests.rituals.llm.fake_openai import FakeOpenAI, as_json, completion, material_of

MONDAY = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
ANA = person("ana", name="Ana")
BEN = person("ben", name="Ben")
DATA = Place("C2", "data-team")
ELSEWHERE = Actor(PLATFORM, "W2", "zed", "Zed", "UTC")
GRAMMAR = registry().grammar


async def history(db: Database, fake: FakeOpenAI | None) -> Team:
    """A stand-up and a retro in #ml-team, a retro in #data-team, and another workspace's
    retro in a channel of the same id: all of them about the ranker."""
    team = Team(db, MONDAY)
    if fake is not None:
        team.runtime.llm = fake.model()
    await team.type(ANA, "standup setup at 09:30 days mon-fri tz UTC summary 18:00")
    await team.type(ANA, "standup now")
    for text in ("trained the ranker v3", "eval on holdout", "ranker eval blocked on GPU quota"):
        await team.dm(ANA, text)
    await team.type(BEN, "retro start Sprint 14")
    await team.type(BEN, "retro add improve The ranker rollout was blocked by flaky CI anon")
    await team.bot.command(BEN, DATA, "retro start Data sprint")
    await team.bot.command(BEN, DATA, "retro add improve Ranker features were late")
    await team.bot.command(ELSEWHERE, CHANNEL, "retro start Theirs")
    await team.bot.command(ELSEWHERE, CHANNEL, "retro add improve Their ranker leaked")
    await team.deliver()
    return team


async def ask(team: Team, question: str, who: Actor = ANA) -> tuple[str, list[Posted]]:
    reply = await team.type(who, f"ask {question}")
    await team.bot.kinds["ask"].settled()
    later = [p for p in await team.deliver() if p.op == "ephemeral" and p.text != reply]
    return reply, later


def answer(sources: list[str], text: str = "GPU quota blocked the ranker eval.") -> Any:
    return as_json({"answer": text, "sources": sources, "found": True})


async def citing_all(body: dict[str, Any]) -> web.Response:
    ids = [p["id"] for p in material_of(body)["passages"]]
    found = {"answer": "GPU quota blocked the ranker eval.", "sources": ids, "found": True}
    return completion(json.dumps(found))


async def test_the_answer_draws_only_on_the_asking_channels_rituals_and_cites_them(
    db: Database, fake_openai: FakeOpenAI
) -> None:
    fake_openai.respond = citing_all
    team = await history(db, fake_openai)

    reply, (private,) = await ask(team, "what blocked the ranker last month?")

    assert reply.startswith("Looking through 3 passages of #ml-team's history")
    assert private.to == "C1/ana"
    assert private.message.sections[0].text == "GPU quota blocked the ranker eval."
    cited = private.message.context
    assert "stand-up, Mon 23 Nov 2026" in cited and "retro “Sprint 14”, Mon 23 Nov 2026" in cited
    (body,) = fake_openai.bodies
    seen = material_of(body)
    assert seen["question"] == "what blocked the ranker last month?"
    texts = " ".join(p["text"] for p in seen["passages"])
    assert "GPU quota" in texts and "flaky CI" in texts
    assert "features were late" not in texts and "leaked" not in texts
    # The anonymous retro item goes without an author; nothing else of the history goes.
    assert all("who" not in p for p in seen["passages"] if "flaky" in p["text"])
    assert "eval on holdout" not in json.dumps(seen)


async def test_another_workspace_asking_in_a_channel_of_the_same_id_sees_only_its_own(
    db: Database, fake_openai: FakeOpenAI
) -> None:
    fake_openai.respond = answer(["p1"], "Their ranker leaked.")
    team = await history(db, fake_openai)

    _, (private,) = await ask(team, "what about the ranker?", ELSEWHERE)

    (body,) = fake_openai.bodies
    assert [p["text"] for p in material_of(body)["passages"]] == ["To improve: Their ranker leaked"]
    assert "retro “Theirs”" in private.message.context


async def test_an_empty_history_gets_nothing_found_without_asking_the_model(
    db: Database, fake_openai: FakeOpenAI
) -> None:
    team = Team(db, MONDAY)
    team.runtime.llm = fake_openai.model()

    reply, later = await ask(team, "what blocked the ranker?")

    assert reply.startswith("Nothing found in #ml-team's rituals about “what blocked the ranker?”")
    assert later == [] and fake_openai.bodies == []


async def test_a_question_matching_nothing_stored_gets_nothing_found(
    db: Database, fake_openai: FakeOpenAI
) -> None:
    team = await history(db, fake_openai)

    reply, _ = await ask(team, "what happened with the kubernetes upgrade?")

    assert reply.startswith("Nothing found")
    assert fake_openai.bodies == []


async def test_a_question_passed_over_with_skip_is_no_passage(db: Database) -> None:
    team = Team(db, MONDAY)
    await team.type(ANA, "standup setup at 09:30 days mon-fri tz UTC summary 18:00")
    await team.type(ANA, "standup now")
    await team.dm(ANA, "trained the ranker v3")
    await team.dm(ANA, "skip")

    reply, _ = await ask(team, "what was skipped?")

    assert reply.startswith("Nothing found"), reply


async def test_without_a_model_the_passages_themselves_answer(db: Database) -> None:
    team = await history(db, None)

    reply = await team.type(ANA, "ask what blocked the ranker?")

    assert "From #ml-team's history" in reply and "3 passages" in reply
    assert "stand-up, Mon 23 Nov 2026 — Ana: Anything blocking you?" in reply
    assert "retro “Sprint 14”, Mon 23 Nov 2026: To improve: The ranker rollout" in reply
    assert "The model is off here" in reply


async def test_an_answer_citing_a_passage_it_was_not_given_falls_back_to_the_passages(
    db: Database, fake_openai: FakeOpenAI
) -> None:
    fake_openai.respond = answer(["p7"])
    team = await history(db, fake_openai)

    _, (private,) = await ask(team, "what blocked the ranker?")

    assert private.message.text.startswith("From #ml-team's history")
    assert "no answer this time" in private.message.context


async def test_a_refusal_or_an_error_falls_back_to_the_passages(
    db: Database, fake_openai: FakeOpenAI
) -> None:
    async def refuse(_body: dict[str, Any]) -> web.Response:
        return completion(None, refusal="no")

    fake_openai.respond = refuse
    team = await history(db, fake_openai)

    _, (private,) = await ask(team, "what blocked the ranker?")

    assert "GPU quota" in private.text


async def test_the_model_may_say_the_passages_hold_no_answer(
    db: Database, fake_openai: FakeOpenAI
) -> None:
    fake_openai.respond = as_json({"answer": "They do not say.", "sources": [], "found": False})
    team = await history(db, fake_openai)

    _, (private,) = await ask(team, "who owns the ranker?")

    assert private.message.text == "#ml-team's history holds no answer to “who owns the ranker?”."


async def test_a_question_of_stop_words_only_is_refused_clearly(db: Database) -> None:
    team = Team(db, MONDAY)

    reply = await team.type(ANA, "ask what is it?")

    assert reply.startswith("Sorry — that question has no word to search")


def test_time_words_become_a_range_and_are_not_searched_for() -> None:
    query = recall_of("What blocked the ranker work last month?", datetime(2026, 11, 23).date())

    assert query.terms == ("blocked", "ranker", "work")
    assert query.since is not None and query.since.isoformat() == "2026-10-23"


def test_ask_takes_free_text_and_model_words_only_alone() -> None:
    assert GRAMMAR.parse("ask what blocked the ranker?") == AskQuestion("what blocked the ranker?")
    assert GRAMMAR.parse("/ask model off") == AskModel(False)
    assert GRAMMAR.parse("ask model") == AskModel(None)
    assert GRAMMAR.parse("ask model drift last week?") == AskQuestion("model drift last week?")


@given(st.text(max_size=600))
def test_any_question_parses_to_a_question_or_a_usage_reply(text: str) -> None:
    parsed = GRAMMAR.parse(f"ask {text}")
    if isinstance(parsed, AskQuestion):
        assert parsed.text and len(parsed.text) <= 500
        assert recall_of(parsed.text, datetime(2026, 1, 1).date()).terms is not None


async def test_a_workspace_that_turned_the_model_off_gets_the_passages_and_nothing_leaves(
    db: Database, fake_openai: FakeOpenAI
) -> None:
    fake_openai.respond = citing_all
    team = await history(db, fake_openai)
    admin = Actor(PLATFORM, "W1", "boss", "Boss", "UTC", admin=True)
    await team.type(admin, "ask model off")
    await team.deliver()

    reply, later = await ask(team, "what blocked the ranker?")

    assert reply.startswith("From #ml-team's history") and "The model is off here" in reply
    assert later == [] and fake_openai.bodies == []


ODD = [
    "'; DROP TABLE answer; --",
    "100% _done_ \\ %",
    "C++ & | ! :* <-> ranker",
    "Größe über ünïcödé",
    "🚀 launch 🚀",
    # FTS5's own syntax, read as words on SQLite as on PostgreSQL
    '"ranker NEAR(gpu quota, 2) text: answer_fts: ^eval* {text}: (',
    'ranker OR gpu AND NOT flaky -ci + \x00 "',
    "ranker " + "NEAR(" * 80 + '"' * 80,
]


async def test_odd_questions_search_safely_on_either_database(db: Database) -> None:
    team = await history(db, None)

    for question in ODD:
        reply = await team.type(ANA, f"ask {question}")
        assert reply.startswith(("Nothing found", "From #ml-team's history")), reply
    assert "The ranker rollout" in await team.type(ANA, "ask C++ & | ! :* <-> ranker")
    # NOT and AND are no operators: the item about flaky CI is found, not left out.
    assert "flaky CI" in await team.type(ANA, "ask ranker NOT flaky AND -CI")
