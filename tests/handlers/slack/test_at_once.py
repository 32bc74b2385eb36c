"""Reads answered inside the acknowledgement share a unit of work with the reads that
arrived beside them."""

from __future__ import annotations

from typing import Any

import aiosqlite
import pytest
from sqlalchemy import event

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


async def _while_busy_counting_connections(
    slack_team: SlackTeam, bodies: list[str]
) -> tuple[list[str], int]:
    """The answers to ``bodies`` posted while the database is held, and the most pooled
    connections in use at once meanwhile."""
    pool = slack_team.db.engine.sync_engine.pool
    busy = {"now": 0, "most": 0}

    def checked_out(*_: Any) -> None:
        busy["now"] += 1
        busy["most"] = max(busy["most"], busy["now"])

    def checked_in(*_: Any) -> None:
        busy["now"] -= 1

    event.listen(pool, "checkout", checked_out)
    event.listen(pool, "checkin", checked_in)
    try:
        responses = await slack_team.post_while_busy(bodies)  # every batch waits for the lock
    finally:
        event.remove(pool, "checkout", checked_out)
        event.remove(pool, "checkin", checked_in)
    return [(await r.json())["text"] for r in responses], busy["most"]


@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
async def test_reads_arriving_together_are_answered_by_several_batches_at_once_on_postgresql(
    slack_team: SlackTeam,
) -> None:
    assert await slack_team.command("UALICE", "setup at 09:30") == 200
    bodies = [signing.slash("/standup", "status", user="UALICE") for _ in range(12)]
    answers, most = await _while_busy_counting_connections(slack_team, bodies)
    assert all("stand-up" in answer.lower() for answer in answers)
    assert await slack_team.stored() == 0
    assert most >= 3  # the lock's holder and at least two batches waiting on it


@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
async def test_a_few_reads_arriving_during_a_batch_wait_for_the_next_one_on_postgresql(
    slack_team: SlackTeam,
) -> None:
    """Another batch starts beside a running one only once a quarter of a batch waits: a
    handful of reads answered in one batch cost a fraction of the statements and commits
    of a batch each."""
    assert await slack_team.command("UALICE", "setup at 09:30") == 200
    bodies = [signing.slash("/standup", "status", user="UALICE") for _ in range(5)]
    answers, most = await _while_busy_counting_connections(slack_team, bodies)
    assert all("stand-up" in answer.lower() for answer in answers)
    assert await slack_team.stored() == 0
    assert most == 2  # the lock's holder and the one batch waiting on it


@pytest.mark.parametrize("db", ["sqlite", "postgresql"], indirect=True)
async def test_a_replayed_read_among_others_is_answered_once_and_the_others_at_once(
    slack_team: SlackTeam,
) -> None:
    assert await slack_team.command("UALICE", "setup at 09:30") == 200
    replayed = signing.slash("/standup", "status", user="UALICE", trigger_id="replayed")
    first = await slack_team.post_while_busy([replayed])
    assert "stand-up" in (await first[0].text()).lower()
    fresh = [signing.slash("/standup", "status", user="UALICE") for _ in range(5)]
    responses = await slack_team.post_while_busy([replayed, *fresh])
    texts = [(await r.text()).lower() for r in responses]
    assert "stand-up" not in texts[0]
    assert all("stand-up" in text for text in texts[1:])
    assert await slack_team.stored() == 0
