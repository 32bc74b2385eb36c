"""`ask` draws on every kind's history: hypotheses (canvas, check-ins, lessons), alerts
(what fired, who took it, how it ended) and the backlog (items and the steps they went
through), of the asking channel only and within the days the question names."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from rituals.identity import Actor, Place
from rituals.kinds import Recalled
from rituals.llm.search import recall_of
from storage.db import Database
from storage.models import Channel, Workspace
from tests.helpers import CHANNEL, PLATFORM, WORKSPACE, Team, person
from tests.rituals.alerts.support import send

MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
ANA = person("ana", name="Ana")
BEN = person("ben", name="Ben")
DATA = Place("C2", "data-team")
ELSEWHERE = Actor(PLATFORM, "W2", "zed", "Zed", "UTC")
BET = "hypothesis add We believe {what} will result in better recall; we'll know when recall >= 0.8"


async def said(team: Team, who: Actor, place: Place, *commands: str) -> None:
    for command in commands:
        reply = await team.bot.command(who, place, command)
        assert reply is not None


async def alert(team: Team, who: Actor, place: Place, body: dict[str, Any]) -> None:
    reply = await team.bot.command(who, place, "alerts connect")
    assert reply is not None
    token = reply.message.plain_text().split("/hooks/alerts/", 1)[1].split()[0].rstrip(".`")
    answer = await send(team, token, body)
    assert answer.status == 200, answer.body


def ranker_alert(message: str) -> dict[str, Any]:
    return {
        "model": "ranker",
        "metric": "recall",
        "value": 0.71,
        "threshold": 0.8,
        "severity": "critical",
        "message": message,
    }


async def history(db: Database) -> Team:
    """#ml-team bets on the ranker, gets an alert about it and files work for it; #data-team
    and another workspace's channel of the same id hold the same words about their own."""
    team = Team(db, MONDAY)
    await said(
        team,
        ANA,
        CHANNEL,
        BET.format(what="fresh ranker labels"),
        "hypothesis checkin 1 at-risk recall=0.74 the ranker eval waits on the labelling vendor",
        "backlog add experiment p1 Retrain the ranker on vendor labels",
        "backlog sprint 1 Ranker push",
        "backlog done 1",
    )
    await alert(team, ANA, CHANNEL, ranker_alert("Ranker recall fell after the label refresh"))
    await said(team, BEN, CHANNEL, "alerts ack 1")
    await said(
        team,
        BEN,
        DATA,
        BET.format(what="ranker embeddings"),
        "backlog add Ranker embeddings backfill",
    )
    await alert(team, BEN, DATA, ranker_alert("Ranker embeddings stale"))
    await said(
        team,
        ELSEWHERE,
        CHANNEL,
        BET.format(what="ranker leaks"),
        "backlog add Ranker leaked test data",
    )
    await alert(team, ELSEWHERE, CHANNEL, ranker_alert("Ranker leaked"))
    await team.deliver()
    return team


async def recalled(
    team: Team, question: str, *, workspace: str = WORKSPACE, channel: str = "C1"
) -> list[Recalled]:
    """What every kind found for ``question`` in one channel, as `ask` gathers it."""
    ask = team.bot.kinds["ask"]
    async with team.runtime.db.session() as session:
        row = (
            await session.execute(
                select(Channel)
                .join(Workspace, Workspace.id == Channel.workspace_id)
                .where(Workspace.external_id == workspace, Channel.external_id == channel)
            )
        ).scalar_one()
        today = team.clock.now().date()
        return await ask.peers.recall(session, row, recall_of(question, today), 12)


async def test_hypotheses_alerts_and_backlog_items_answer_ask(db: Database) -> None:
    team = await history(db)

    reply = await team.type(ANA, "ask what happened with the ranker?")

    assert "From #ml-team's history" in reply
    assert "hypothesis, Mon 23 Nov 2026 — Ana: Hypothesis #1 (testing, at risk)" in reply
    assert "the ranker eval waits on the labelling vendor" in reply
    assert "Alert #1 ranker recall = 0.71 (threshold 0.8) [critical]" in reply
    assert "acknowledged by Ben" in reply
    assert "Backlog item #1 [p1 experiment] Retrain the ranker on vendor labels" in reply
    assert "Ana: sprint Ranker push" in reply and "Ana: state done" in reply


async def test_only_the_asking_channels_rows_are_found(db: Database) -> None:
    team = await history(db)

    mine = " ".join(r.text for r in await recalled(team, "ranker"))
    data = " ".join(r.text for r in await recalled(team, "ranker", channel="C2"))
    theirs = " ".join(r.text for r in await recalled(team, "ranker", workspace="W2"))

    assert "labels" in mine and "embeddings" not in mine and "leak" not in mine
    assert "embeddings" in data and "labels" not in data and "leak" not in data
    assert "leak" in theirs and "labels" not in theirs and "embeddings" not in theirs
    for found in (mine, data, theirs):
        assert "Hypothesis #1" in found and "Alert #" in found and "Backlog item #1" in found


async def test_each_kind_says_where_a_passage_comes_from(db: Database) -> None:
    team = await history(db)

    found = await recalled(team, "ranker recall vendor labels")

    kinds = {r.ritual for r in found}
    assert kinds == {"hypothesis", "alert", "backlog"}
    (alert,) = [r for r in found if r.ritual == "alert"]
    assert alert.who is None  # monitoring said it, not a person
    assert "Ranker recall fell after the label refresh" in alert.text
    item = next(r for r in found if r.ritual == "backlog")
    assert item.who == "Ana"


async def test_a_check_in_and_a_lesson_are_found_by_their_own_words(db: Database) -> None:
    team = await history(db)
    await said(team, ANA, CHANNEL, "hypothesis close 1 invalidated throughput capped retraining")

    (checkin,) = [r for r in await recalled(team, "vendor") if r.ritual == "hypothesis"]
    (lesson,) = [r for r in await recalled(team, "throughput") if r.ritual == "hypothesis"]

    assert checkin.text.startswith("Check-in on hypothesis #1 (recall >= 0.8): at risk")
    assert checkin.who == "Ana"
    assert lesson.text.startswith("Hypothesis #1 closed invalidated: We believe fresh ranker")
    assert lesson.text.endswith("learned: throughput capped retraining")


async def test_an_alert_resolved_is_found_with_how_it_ended(db: Database) -> None:
    team = await history(db)
    team.clock.set(MONDAY + timedelta(hours=2))
    await alert(team, ANA, CHANNEL, {**ranker_alert("Ranker recall"), "status": "resolved"})

    (found,) = [r for r in await recalled(team, "ranker") if r.ritual == "alert"]

    assert "resolved after 2 h 0 min" in found.text


async def test_the_days_a_question_names_bound_every_kind(db: Database) -> None:
    team = await history(db)
    team.clock.set(MONDAY + timedelta(days=60))
    await said(team, ANA, CHANNEL, "backlog add Ranker latency budget")

    recent = {r.text.split(":")[0] for r in await recalled(team, "ranker vendor last week")}
    everything = {r.text.split(":")[0] for r in await recalled(team, "ranker vendor")}

    # What was still going on last week: the open bet, the alert still firing, the new item;
    # not the check-in made two months ago nor the item done then.
    assert recent == {
        "Hypothesis #1 (testing, at risk)",
        "Alert #1 ranker recall = 0.71 (threshold 0.8) [critical]",
        "Backlog item #2 [p2 feature] Ranker latency budget · Fri 22 Jan Ana",
    }
    assert everything - recent == {
        "Check-in on hypothesis #1 (recall >= 0.8)",
        "Backlog item #1 [p1 experiment] Retrain the ranker on vendor labels — done — Ranker push "
        "· Mon 23 Nov Ana",
    }
