"""A team over the model's budget is summarized in parts and merged; every call's tokens are
counted; the merge is held to the whole team's material."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from aiohttp import web
from prometheus_client import REGISTRY

from rituals.llm.model import estimate_tokens
from rituals.standup import written
from rituals.standup.summary import OpenBlocker, PersonAnswers, StandupDigest
from tests.rituals.llm.fake_openai import FakeOpenAI, completion, material_of

QUESTIONS = ("What did you get done?", "What next?", "Anything blocking you?")


def big_team(size: int) -> StandupDigest:
    people = [
        PersonAnswers(
            f"Person {n:03d}",
            [
                (QUESTIONS[0], f"finished feature pipeline step {n} and its unit tests"),
                (QUESTIONS[1], f"evaluate ranker variant {n} on the holdout set"),
                (QUESTIONS[2], "none"),
            ],
        )
        for n in range(size)
    ]
    return StandupDigest(
        channel="ml-team",
        day=date(2030, 1, 7),
        answered=people,
        missing=["Ghost"],
        away=[],
        blockers=[OpenBlocker(1, "Person 007", "GPU quota", 3, "Ops")],
    )


async def summarize_parts(body: dict[str, Any]) -> web.Response:
    """A model that names whom its part mentions, and merges by keeping every point."""
    seen = material_of(body)
    if "partial_summaries" in seen:
        points = [p for part in seen["partial_summaries"] for p in part["points"]][:8]
        merged = {"headline": "300 people moved the ranker on", "points": points}
        return completion(json.dumps(merged), usage=(estimate_tokens(seen), 50))
    names = [p["name"] for p in seen["people"]]
    part = {"headline": "part", "points": [{"text": "pipeline steps done", "who": names[:2]}]}
    return completion(json.dumps(part), usage=(estimate_tokens(seen), 30))


def tokens(purpose: str, kind: str) -> float:
    return (
        REGISTRY.get_sample_value("ritualbot_llm_tokens_total", {"purpose": purpose, "type": kind})
        or 0.0
    )


async def test_300_members_are_summarized_in_parts_within_budget_and_merged(
    fake_openai: FakeOpenAI,
) -> None:
    fake_openai.respond = summarize_parts
    model = fake_openai.model(budget=4000, timeout=5.0)
    material = written.material(big_team(300))
    assert estimate_tokens(material) > 4000
    before = tokens("standup_part", "prompt"), tokens("standup_merge", "prompt")

    answer = await written.SUMMARY.write(model, material)

    assert answer.ok and answer.value.headline == "300 people moved the ranker on"
    *parts, merge = [material_of(b) for b in fake_openai.bodies]
    assert len(parts) >= 3
    assert all(estimate_tokens(p) <= 4000 for p in parts)
    names = [p["name"] for part in parts for p in part["people"]]
    assert names == [f"Person {n:03d}" for n in range(300)]
    # The ledger goes with the first part only, and the merge sees summaries, no answers.
    assert [len(p["blockers"]) for p in parts] == [1] + [0] * (len(parts) - 1)
    assert "people" not in merge and len(merge["partial_summaries"]) == len(parts)
    assert "holdout" not in json.dumps(merge)
    after = tokens("standup_part", "prompt"), tokens("standup_merge", "prompt")
    assert after[0] - before[0] == sum(estimate_tokens(p) for p in parts)
    assert after[1] - before[1] == estimate_tokens(merge)
    assert answer.prompt_tokens == sum(estimate_tokens(p) for p in [*parts, merge])


async def test_a_merge_that_names_someone_outside_the_team_is_rejected(
    fake_openai: FakeOpenAI,
) -> None:
    async def inventive(body: dict[str, Any]) -> web.Response:
        seen = material_of(body)
        if "partial_summaries" in seen:
            made_up = {"headline": "x", "points": [{"text": "did it all", "who": ["Ghost"]}]}
            return completion(json.dumps(made_up))
        return await summarize_parts(body)

    fake_openai.respond = inventive
    model = fake_openai.model(budget=4000, timeout=5.0)

    answer = await written.SUMMARY.write(model, written.material(big_team(300)))

    assert not answer.ok and answer.reason == "invalid"


async def test_a_failing_part_fails_the_whole_summary_without_asking_further(
    fake_openai: FakeOpenAI,
) -> None:
    async def second_fails(body: dict[str, Any]) -> web.Response:
        if len(fake_openai.bodies) == 2:
            return web.json_response({"error": {"message": "boom"}}, status=400)
        return await summarize_parts(body)

    fake_openai.respond = second_fails
    model = fake_openai.model(budget=4000, timeout=5.0)

    answer = await written.SUMMARY.write(model, written.material(big_team(300)))

    assert (answer.ok, answer.reason, len(fake_openai.bodies)) == (False, "http_400", 2)
