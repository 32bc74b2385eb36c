"""Reads answered inside the acknowledgement share a unit of work with the reads that
arrived beside them."""

from __future__ import annotations

from typing import Any

import aiosqlite
import pytest

from tests.handlers.slack import signing
from tests.handlers.slack.harness import SlackTeam


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
async def test_reads_arriving_together_are_answered_at_once_with_one_commit_a_batch(
    slack_team: SlackTeam, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert await slack_team.command("UALICE", "setup at 09:30") == 200
    commits: list[str] = []
    original = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        if getattr(fn, "__name__", "") == "_end" and args[-1] is True:
            commits.append("commit")
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    # One person, known already: a first sight asks Slack who it is, which commits early.
    bodies = [signing.slash("/standup", "status", user="UALICE") for _ in range(12)]
    responses = await slack_team.post_while_busy(bodies)  # the first batch waits its turn
    answers = [(await r.json())["text"] for r in responses]
    assert all("stand-up" in answer.lower() for answer in answers)
    assert await slack_team.stored() == 0
    assert 1 <= len(commits) <= 3  # one a batch, not one a read
