"""`ask`'s retrieval on SQLite: the FTS5 index against the LIKE scan it replaced.

Stores ``--answers`` stand-up answers in the asking channel (and as many again spread over
``--channels`` other channels of the workspace), written from a Zipf-distributed vocabulary
in which the searched words are rare, middling or common. Then times, for a few questions,
one `ask`'s retrieval (every kind's `recall` for the channel, up to 12 passages), median of
``--rounds``: through the FTS5 tables (`rituals.llm.search.matching`) and through the
``lower(text) LIKE '%stem%'`` it replaced (`rituals.llm.search.like`, what SQLite ran
before revision 0017). Run: `.venv/bin/python bench/recall.py [--answers 50000] [--rounds 5]`.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.kinds import registry
from rituals.alerts import recall as alerts_recall
from rituals.backlog import recall as backlog_recall
from rituals.hypothesis import recall as hypothesis_recall
from rituals.kinds import Recalled
from rituals.llm import search
from rituals.llm.search import recall_of
from rituals.retro import recall as retro_recall
from rituals.standup import recall as standup_recall
from storage.db import Database
from storage.models import Answer, Channel, Member, Occurrence, Response, Ritual, Workspace

RECALLS = (standup_recall, retro_recall, hypothesis_recall, alerts_recall, backlog_recall)
START = date(2024, 1, 1)
PEOPLE = 50
QUESTIONS = (
    "Anything blocking you?",
    "What did you get done since the last stand-up?",
    "What will you work on today?",
)
# Searched words, at the rank of the vocabulary they are drawn at (1 = the most common).
PLACED = {"eval": 3, "ranker": 60, "blocked": 400, "quota": 2500}
ASKED = (
    ("rare words", "any gpu quota trouble?"),
    ("middling words", "what blocked the ranker?"),
    ("with a common word", "what blocked the ranker eval?"),
)


def vocabulary(rng: random.Random, size: int) -> list[str]:
    syllables = ["ka", "lo", "mi", "tre", "ban", "sor", "ul", "pen", "dax", "vi", "ro", "ne"]
    words: list[str] = []
    seen = set(PLACED) | {"gpu"}
    while len(words) < size:
        word = "".join(rng.choice(syllables) for _ in range(rng.randint(2, 4)))
        if word not in seen:
            seen.add(word)
            words.append(word)
    for word, rank in sorted(PLACED.items(), key=lambda p: p[1]):
        words.insert(rank - 1, word)
    words.insert(2600, "gpu")
    return words


def texts(rng: random.Random, count: int, words: list[str]) -> Iterator[str]:
    weights = list(itertools.accumulate(1 / (rank + 1) for rank in range(len(words))))
    for _ in range(count):
        drawn = rng.choices(words, cum_weights=weights, k=rng.randint(6, 18))
        yield " ".join(drawn).capitalize()


async def store(db: Database, answers: int, others: int, channels: int) -> tuple[int, int, int]:
    """The history; the ids of the asking channel, of a channel with no history and of the
    smallest other channel."""
    rng = random.Random(15)
    words = vocabulary(rng, 5000)
    now = datetime(2024, 1, 1, 9, 0, tzinfo=UTC)
    async with db.session() as session:
        workspace = Workspace(platform="bench", external_id="W", name="bench", created_at=now)
        session.add(workspace)
        await session.flush()
        places = [
            Channel(workspace_id=workspace.id, external_id=f"C{n}", name=f"team-{n}")
            for n in range(channels + 1)
        ]
        empty = Channel(workspace_id=workspace.id, external_id="C-empty", name="quiet")
        session.add_all([*places, empty])
        people = [
            Member(workspace_id=workspace.id, external_id=f"U{n}", name=f"Person {n}")
            for n in range(PEOPLE)
        ]
        session.add_all(people)
        await session.flush()
        asking = places[0].id
        # The other channels get 1, 2, 3… parts of their answers: the first one is small.
        parts = channels * (channels + 1) // 2
        shares = [answers] + [others * n // parts for n in range(1, channels + 1)]
        for place, share in zip(places, shares, strict=False):
            ritual = Ritual(
                channel_id=place.id, kind="standup", tz="UTC", created_at=now, updated_at=now
            )
            session.add(ritual)
            await session.flush()
            await _standups(session, ritual.id, [m.id for m in people], share, rng, words)
    return asking, empty.id, places[min(1, channels)].id


async def _standups(
    session: Any,
    ritual_id: int,
    people: list[int],
    count: int,
    rng: random.Random,
    words: list[str],
) -> None:
    """``count`` answers, three a person a day, as many days as it takes."""
    per_day = len(people) * len(QUESTIONS)
    days = -(-count // per_day)
    moments = [
        datetime.combine(START + timedelta(days=d), datetime.min.time(), UTC) for d in range(days)
    ]
    occurrences = (
        (
            await session.execute(
                insert(Occurrence).returning(Occurrence.id, sort_by_parameter_order=True),
                [
                    {
                        "ritual_id": ritual_id,
                        "scheduled_at": at,
                        "local_date": at.date(),
                        "started_at": at,
                        "summary_due_at": at,
                        "questions": list(QUESTIONS),
                        "status": "summarized",
                    }
                    for at in moments
                ],
            )
        )
        .scalars()
        .all()
    )
    responses = (
        (
            await session.execute(
                insert(Response).returning(Response.id, sort_by_parameter_order=True),
                [
                    {"occurrence_id": o, "member_id": m, "prompted_at": at, "next_question": 3}
                    for o, at in zip(occurrences, moments, strict=True)
                    for m in people
                ],
            )
        )
        .scalars()
        .all()
    )
    slots = [(r, q) for r in responses for q in range(len(QUESTIONS))][:count]
    rows = [
        {
            "response_id": r,
            "question_index": q,
            "question": QUESTIONS[q],
            "text": said,
            "answered_at": moments[0],
        }
        for (r, q), said in zip(slots, texts(rng, len(slots), words), strict=True)
    ]
    await session.execute(insert(Answer), rows)


@contextmanager
def searching_by(matching: Callable[..., Any]) -> Iterator[None]:
    """Every kind's `recall` searching with ``matching``."""
    saved = [module.matching for module in RECALLS]
    for module in RECALLS:
        module.matching = matching  # type: ignore[attr-defined]
    try:
        yield
    finally:
        for module, found in zip(RECALLS, saved, strict=True):
            module.matching = found  # type: ignore[attr-defined]


async def recall(db: Database, channel_id: int, question: str) -> tuple[float, list[Recalled]]:
    """One `ask`'s retrieval: every kind's best 12 passages, and how long it took."""
    query = recall_of(question, START + timedelta(days=400))
    started = time.perf_counter()
    async with db.session() as session:
        channel = await session.get_one(Channel, channel_id)
        found: list[Recalled] = []
        for module in RECALLS:
            found.extend(await module.recall(session, channel, query, 12))
    return time.perf_counter() - started, found


async def timed(db: Database, channel_id: int, question: str, rounds: int) -> tuple[float, list]:
    await recall(db, channel_id, question)  # warm the cache and the statement
    runs = [await recall(db, channel_id, question) for _ in range(rounds)]
    return statistics.median(r[0] for r in runs), runs[0][1]


async def matches(db: Database, channel_id: int, question: str) -> int:
    """How many of the channel's answers hold a word of ``question`` (what LIKE reads: all)."""
    query = recall_of(question, START)
    async with db.session() as session:
        condition, _rank = search.matching(session, Answer.text, query.terms)
        return (
            await session.execute(
                select(func.count())
                .select_from(Answer)
                .join(Response, Response.id == Answer.response_id)
                .join(Occurrence, Occurrence.id == Response.occurrence_id)
                .join(Ritual, Ritual.id == Occurrence.ritual_id)
                .where(Ritual.channel_id == channel_id, condition)
            )
        ).scalar_one()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=50_000)
    parser.add_argument("--others", type=int, help="answers in other channels (as many)")
    parser.add_argument("--channels", type=int, default=9, help="other channels")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--keep", metavar="PATH", type=Path, help="store in PATH and keep it")
    args = parser.parse_args()
    others = args.answers if args.others is None else args.others
    registry()
    with tempfile.TemporaryDirectory() as scratch:
        path = args.keep or Path(scratch) / "recall.db"
        path.unlink(missing_ok=True)
        db = Database(f"sqlite+aiosqlite:///{path}")
        await db.upgrade()
        started = time.perf_counter()
        channel_id, empty_id, small_id = await store(db, args.answers, others, args.channels)
        loaded = time.perf_counter() - started
        print(
            f"SQLite: {args.answers} answers in the asking channel, {others} in "
            f"{args.channels} others, stored in {loaded:.1f} s (FTS5 triggers included); "
            f"median of {args.rounds} rounds"
        )
        try:
            for label, question in ASKED:
                hits = await matches(db, channel_id, question)
                with searching_by(lambda _session, words, terms: search.like(words, terms)):
                    before, by_like = await timed(db, channel_id, question, args.rounds)
                after, by_index = await timed(db, channel_id, question, args.rounds)
                same = len({r.text for r in by_like} & {r.text for r in by_index})
                print(
                    f"{label:<19} “{question}” matches={hits} "
                    f"LIKE {before * 1000:.1f} ms  FTS5 {after * 1000:.1f} ms  "
                    f"ratio (LIKE / FTS5) x{before / after:.1f}  "
                    f"same passages {same}/{len(by_index)}"
                )
            label, question = ASKED[-1]
            hits = await matches(db, small_id, question)
            with searching_by(lambda _session, words, terms: search.like(words, terms)):
                before, _ = await timed(db, small_id, question, args.rounds)
            after, _ = await timed(db, small_id, question, args.rounds)
            print(
                f"the smallest other channel, {label}: matches={hits} "
                f"LIKE {before * 1000:.1f} ms  FTS5 {after * 1000:.1f} ms  "
                f"ratio (LIKE / FTS5) x{before / after:.1f}"
            )
            floor, _ = await timed(db, empty_id, question, args.rounds)
            print(
                f"floor: the same retrieval in a channel with no history {floor * 1000:.1f} ms "
                "(every kind's queries and the unit of work, nothing to search)"
            )
        finally:
            await db.dispose()


if __name__ == "__main__":
    asyncio.run(main())
