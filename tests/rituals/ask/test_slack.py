"""Through Slack's real endpoint: `/ask` answers privately through the command's
response_url, and a retro's written summary replaces the plain one with chat.update."""

from __future__ import annotations

from rituals.identity import Admins
from storage.db import Database
from tests.handlers.slack.harness import running
from tests.rituals.llm.fake_openai import FakeOpenAI, as_json, material_of

WRITTEN = {
    "headline": "Flaky CI held up the ranker",
    "themes": [{"title": "CI", "summary": "flaky and slow", "items": [1]}],
    "suggested_actions": [],
}


async def test_ask_and_a_written_retro_summary_over_slack(
    db: Database, fake_openai: FakeOpenAI
) -> None:
    async with running(db) as team:
        runtime = team.rituals.rt
        runtime.llm = fake_openai.model()
        assert await team.command("UALICE", "start Sprint 14", "/retro") == 200
        assert await team.command("UBOB", "add improve Ranker blocked by flaky CI", "/retro") == 200
        fake_openai.respond = as_json(WRITTEN)
        assert await team.command("UALICE", "close", "/retro") == 200
        await team.deliver()
        (summary,) = [p for p in team.slack.posts() if p["text"].startswith("Retro summary")]
        assert "replaces it here shortly" in str(summary["blocks"])

        assert await team.rituals.kinds["ask"].write_summaries() == 1
        await team.deliver()

        (update,) = [
            u for u in team.slack.called("chat.update") if u["text"].startswith("Retro summary")
        ]
        assert update["text"] == "Retro summary: Sprint 14 — Flaky CI held up the ranker"
        assert update["channel"] == "C1"
        assert "Written by the model" in str(update["blocks"])

        fake_openai.respond = as_json(
            {"answer": "Flaky CI blocked the ranker.", "sources": ["p1"], "found": True}
        )
        assert await team.command("UALICE", "what blocked the ranker?", "/ask") == 200
        await team.rituals.kinds["ask"].settled()
        await team.deliver()

        replies = team.private_replies()
        assert any(r.startswith("Looking through 1 passage of #") for r in replies)
        assert any("On “what blocked the ranker?”" in r for r in replies)
        (passage,) = material_of(fake_openai.bodies[-1])["passages"]
        assert passage["text"] == "To improve: Ranker blocked by flaky CI"
        assert passage["who"] == "Bob"


async def test_a_slack_user_the_operator_named_is_an_admin_without_the_slack_role(
    db: Database,
) -> None:
    async with running(db) as team:
        team.rituals.rt.admins = Admins.of(["ubob"])  # ids compare without regard to case

        assert await team.command("UALICE", "model off", "/ask") == 200
        assert await team.command("UBOB", "model off", "/ask") == 200
        await team.deliver()

        refused, done = team.private_replies()[-2:]
        assert refused.startswith("Only a workspace admin")
        assert done.startswith("The model is now off for this workspace")
