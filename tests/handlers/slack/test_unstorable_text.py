"""Text the database cannot keep (a NUL, half a surrogate pair) never costs an answer."""

from __future__ import annotations

from sqlalchemy import select

from storage import journal
from storage.models import Answer
from tests.handlers.slack.harness import SlackTeam


async def answers(team: SlackTeam) -> list[tuple[int, str]]:
    async with team.db.session() as session:
        rows = await session.execute(select(Answer.question_index, Answer.text).order_by(Answer.id))
        return [(index, text) for index, text in rows.tuples()]


async def test_an_answer_holding_a_nul_is_stored_without_it_and_the_next_follows(
    slack_team: SlackTeam,
) -> None:
    await slack_team.start_standup()

    assert await slack_team.dm("UALICE", "trained\u0000 the ranker") == 200
    assert await slack_team.dm("UALICE", "evaluate it") == 200

    assert await answers(slack_team) == [(0, "trained the ranker"), (1, "evaluate it")]
    async with slack_team.db.session() as session:
        assert await journal.pending(session) == 0
        assert await journal.dead_letters(session) == []
