"""On SQLite `ask` retrieves through the FTS5 tables of revision 0017, never by reading every
row: each kind's query is planned on its table's index, the triggers keep the index in step
with every insert, edit and delete, an upgraded database finds the history it held before,
and no question is read as FTS5 syntax."""

from __future__ import annotations

import re
import string
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, create_engine, delete, event, select, text, update
from sqlalchemy.orm import Session

from rituals.backlog.models import BacklogItem
from rituals.llm.search import matching, recall_of, stem
from rituals.retro.models import Retro
from storage import fulltext
from storage.db import Database
from storage.models import Answer, Base
from tests.helpers import Team
from tests.rituals.ask.test_recall_kinds import ANA, BEN, recalled
from tests.rituals.ask.test_recall_kinds import history as kinds_history
from tests.storage.test_migration_0004 import _to

MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
FTS = re.compile(r"\bFROM (\w+_fts)\b")


async def everything(db: Database) -> Team:
    """#ml-team's hypotheses, alerts and backlog, a stand-up of Ana's and a retro item."""
    team = await kinds_history(db)
    await team.type(ANA, "standup setup at 09:30 days mon-fri tz UTC summary 18:00")
    await team.type(ANA, "standup now")
    for said in ("trained the ranker v3", "eval on holdout", "ranker eval blocked on GPU quota"):
        await team.dm(ANA, said)
    await team.type(BEN, "retro start Sprint 14")
    await team.type(BEN, "retro add improve The ranker rollout was blocked by flaky CI anon")
    await team.deliver()
    return team


async def texts(team: Team, question: str) -> list[str]:
    return [r.text for r in await recalled(team, question)]


async def hits(db: Database, fts: str, word: str) -> list[int]:
    """The rows of ``fts``'s table whose words hold ``word``, as the index has them."""
    async with db.engine.connect() as conn:
        rows = await conn.execute(
            text(f"SELECT rowid FROM {fts} WHERE {fts} MATCH :q ORDER BY rowid"),
            {"q": fulltext.phrase(word)},
        )
        return list(rows.scalars())


async def test_every_kinds_recall_is_planned_on_its_fts5_table(sqlite_db: Database) -> None:
    team = await everything(sqlite_db)
    sent: list[tuple[str, Any]] = []

    def record(_c: Any, _cursor: Any, statement: str, parameters: Any, *_rest: Any) -> None:
        sent.append((statement, parameters))

    event.listen(sqlite_db.engine.sync_engine, "before_cursor_execute", record)
    try:
        found = await recalled(team, "what blocked the ranker vendor work?")
    finally:
        event.remove(sqlite_db.engine.sync_engine, "before_cursor_execute", record)

    assert {r.ritual for r in found} >= {"stand-up", "hypothesis", "alert", "backlog"}
    assert not [s for s, _ in sent if "LIKE" in s]
    searches = [(s, p) for s, p in sent if " MATCH " in s]
    assert {m for s, _ in searches for m in FTS.findall(s)} == set(fulltext.DECLARED)
    async with sqlite_db.engine.connect() as conn:
        for statement, parameters in searches:
            rows = await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            plan = [row[-1] for row in rows]
            for fts in FTS.findall(statement):
                assert f"SCAN {fts} VIRTUAL TABLE INDEX 0:M1" in plan, plan
            # Every table is reached through an index: no SCAN but the full-text ones.
            scans = [line for line in plan if line.startswith("SCAN")]
            assert all("VIRTUAL TABLE INDEX" in line for line in scans), plan
            if "FROM answer_fts" in statement:
                # Stand-up answers, the longest history, are read only as the index finds them.
                assert "SEARCH answer USING INTEGER PRIMARY KEY (rowid=?)" in plan, plan


async def test_rows_written_after_the_migration_are_found_as_they_now_read(
    sqlite_db: Database,
) -> None:
    team = await everything(sqlite_db)
    async with sqlite_db.session() as session:
        rows = (await session.execute(select(Answer).order_by(Answer.id))).scalars().all()
        by_text = {a.text: a for a in rows}
        edited, gone = by_text["eval on holdout"], by_text["ranker eval blocked on GPU quota"]
        assert gone.id == rows[-1].id  # the last row: its id is the next insert's again
        edited.text = "eval on the newsroom split"
        await session.delete(gone)
        # A retro's items go with it (ON DELETE CASCADE), and with them their words.
        await session.execute(delete(Retro))
        # One of a document's columns changes, and another column that is not searched.
        await session.execute(
            update(BacklogItem)
            .where(BacklogItem.title == "Retrain the ranker on vendor labels")
            .values(description="needs the orchid dataset", priority=3)
        )
    async with sqlite_db.session() as session:
        added = Answer(
            response_id=edited.response_id,
            question_index=9,
            question="Anything else?",
            text="zebra migration",
            answered_at=MONDAY,
        )
        session.add(added)
    assert added.id == gone.id

    assert await texts(team, "newsroom") == [
        "What will you work on today?: eval on the newsroom split"
    ]
    assert await texts(team, "holdout") == []
    assert await texts(team, "quota") == []
    assert await texts(team, "zebra") == ["Anything else?: zebra migration"]
    assert await texts(team, "flaky") == []
    (item,) = await texts(team, "orchid")
    assert item.startswith("Backlog item #1 [p3 experiment] Retrain the ranker on vendor labels")
    assert any(t.startswith("Backlog item #1") for t in await texts(team, "retrain"))
    # The index itself: the deleted row's words left it, though its id is in use again.
    assert await hits(sqlite_db, "answer_fts", "holdout") == []
    assert await hits(sqlite_db, "answer_fts", "quota") == []
    assert await hits(sqlite_db, "answer_fts", "zebra") == [added.id]
    assert await hits(sqlite_db, "retro_item_fts", "flaky") == []
    assert len(await hits(sqlite_db, "backlog_item_fts", "orchid")) == 1


async def test_an_upgraded_database_finds_the_history_it_held_before(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
    try:
        await _to(db, "0016")
        team = await everything(db)

        assert (await db.upgrade())[0] == "0017"

        found = " · ".join(await texts(team, "ranker"))
        for passage in (
            "trained the ranker v3",
            "ranker eval blocked on GPU quota",
            "The ranker rollout was blocked by flaky CI",
            "We believe fresh ranker labels",
            "the ranker eval waits on the labelling vendor",
            "Alert #1 ranker recall",
            "Retrain the ranker on vendor labels",
        ):
            assert passage in found
        async with db.engine.connect() as conn:
            for fts, searched in fulltext.DECLARED.items():
                table = searched.table.name
                held = await conn.execute(text(f"SELECT rowid FROM {fts} ORDER BY rowid"))
                stored = await conn.execute(text(f"SELECT id FROM {table} ORDER BY id"))
                assert held.scalars().all() == stored.scalars().all(), fts
        # An old row's words, filled in by the migration, are taken out as the triggers put
        # them in: edited, it is found by its new words only.
        async with db.session() as session:
            await session.execute(
                update(Answer).where(Answer.text == "eval on holdout").values(text="eval on dev")
            )
        assert await texts(team, "holdout") == []
        assert await hits(db, "answer_fts", "holdout") == []
        assert await texts(team, "dev") == ["What will you work on today?: eval on dev"]
    finally:
        await db.dispose()


async def test_blocked_finds_a_blocker_and_ranker_a_ranker(sqlite_db: Database) -> None:
    """The crude stems still reach other forms of a word, at the start of a word only."""
    team = await everything(sqlite_db)
    await team.type(BEN, "retro add improve Blocker: the Rankers' eval waits on infra")

    item = "To improve: Blocker: the Rankers' eval waits on infra"
    assert item in await texts(team, "blocked")
    assert item in await texts(team, "Ranker")
    assert "To improve: The ranker rollout was blocked by flaky CI" in await texts(team, "Rankers")
    # Inside a word is no match: LIKE '%anker%' found every ranker.
    assert await texts(team, "anker") == []


# --- no question is read as FTS5 syntax -----------------------------------------------------


@pytest.fixture(scope="module")
def memory() -> Iterator[Engine]:
    """An in-memory SQLite built by `create_all` (full-text tables and triggers included);
    foreign keys are not enforced, so answers stand on their own."""
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


def found(engine: Engine, stored: list[str], question: str) -> dict[int, int]:
    """The answers holding any word of ``question``, with how many of its words each holds,
    as `matching` finds them; ``stored`` replaces what was there (through the triggers)."""
    return searched(engine, stored, recall_of(question, date(2026, 11, 23)).terms)


def searched(engine: Engine, stored: list[str], terms: tuple[str, ...]) -> dict[int, int]:
    """`found` for ``terms`` as they are, not as a question makes them."""
    with Session(engine) as session, session.begin():
        session.execute(delete(Answer))
        for n, said in enumerate(stored, 1):
            session.add(
                Answer(
                    id=n,
                    response_id=1,
                    question_index=n,
                    question="?",
                    text=said,
                    answered_at=MONDAY,
                )
            )
        session.flush()
        if not terms:
            return {}
        condition, rank = matching(session, Answer.text, terms)  # type: ignore[arg-type]
        statement = select(Answer.id, rank).where(condition)
        assert " MATCH " in str(statement.compile(engine)), "searched without the index"
        return dict(session.execute(statement).tuples().all())


def literally(stored: list[str], question: str) -> dict[int, int]:
    """What a question means, worked out in Python: the answers with a word beginning with
    a term's stem, and how many terms each has one for."""
    stems = [stem(t) for t in recall_of(question, date(2026, 11, 23)).terms]
    expected = {}
    for n, said in enumerate(stored, 1):
        words = re.findall(r"[a-z0-9]+", said.lower())
        count = sum(any(w.startswith(s) for w in words) for s in stems)
        if count:
            expected[n] = count
    return expected


WORDS = st.sampled_from(
    [
        *("ranker", "Rankers", "blocked", "blocker", "NEAR", "AND", "OR", "NOT", "words"),
        *("rowid", "answer_fts", "gpu", "ci", "x1", "eval", "delete", "MATCH", "rank", "bm25"),
    ]
) | st.text(string.ascii_letters + string.digits, min_size=1, max_size=10)
SYNTAX = st.sampled_from(
    [
        *('"', "'", "*", ":", "^", "+", "-", "(", ")", "{", "}", ",", ".", "\x00", "\\", "%"),
        *("_", " ", " ", " ", "NEAR(", "words:", "{words}:", "answer_fts:", " AND ", " OR "),
        *(" NOT ", '""', '"*', "*)", " - ", " + ", ":*", "<->", "&", "|", "!"),
    ]
)
PHRASES = st.lists(st.tuples(WORDS, SYNTAX).map("".join), max_size=10).map("".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stored=st.lists(PHRASES, min_size=1, max_size=6), question=PHRASES)
@example(stored=["ranker NOT flaky", "flaky ci"], question="ranker NOT flaky")
@example(stored=['say "NEAR(a b)"', "a b"], question='NEAR(a b) "')
@example(stored=["words: ranker", "other"], question="words: ranker* OR -x")
@example(stored=["a\x00b", "b"], question='"b\x00')
def test_a_question_matches_its_words_literally(
    memory: Engine, stored: list[str], question: str
) -> None:
    assert found(memory, stored, question) == literally(stored, question)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stored=st.lists(st.text(max_size=40), min_size=1, max_size=4), question=st.text())
@example(stored=["x" * 100_000], question="x" * 100_000)
@example(stored=["ranker"], question="ranker " * 10_000 + '"' * 10_000 + "NEAR(" * 1_000)
@example(stored=["Größe über café"], question="GRÖSSE Uber cafe")
def test_no_question_raises(memory: Engine, stored: list[str], question: str) -> None:
    result = found(memory, stored, question)

    assert set(result) <= set(range(1, len(stored) + 1))
    assert all(1 <= count <= 8 for count in result.values())


def holds(said: str, term: str) -> bool:
    """Whether ``said`` holds ``term``'s stem as words: each of them in turn, the last one
    beginning a word (the meaning of ``"<stem>"*`` in FTS5, and nothing more)."""
    wanted = re.findall(r"[a-z0-9]+", stem(term).lower())
    words = re.findall(r"[a-z0-9]+", said.lower())
    if not wanted:
        return False
    *whole, first = wanted
    return any(
        words[i : i + len(whole)] == whole and words[i + len(whole)].startswith(first)
        for i in range(len(words) - len(whole))
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stored=st.lists(PHRASES, min_size=1, max_size=6), terms=st.lists(PHRASES, max_size=4))
@example(stored=["gpu", "ranker"], terms=["ranker OR gpu"])
@example(stored=["gpu", "ranker"], terms=["ranker NOT gpu", "NEAR(gpu ranker)"])
@example(stored=["gpu", "ranker"], terms=['"ranker', "answer_fts: gpu", "words:ranker"])
@example(stored=["a b", "b"], terms=["a\x00b"])
def test_terms_are_words_whatever_they_hold(
    memory: Engine, stored: list[str], terms: list[str]
) -> None:
    """`matching` quotes what it is given, not only the clean words a question makes."""
    expected = {}
    for n, said in enumerate(stored, 1):
        count = sum(holds(said, term) for term in terms)
        if count:
            expected[n] = count

    assert searched(memory, stored, tuple(terms)) == expected


def test_a_text_no_index_is_declared_for_is_still_searched_by_like(memory: Engine) -> None:
    with Session(memory) as session, session.begin():
        session.execute(delete(Answer))
        session.add(
            Answer(
                id=1,
                response_id=1,
                question_index=1,
                question="Blockers?",
                text="-",
                answered_at=MONDAY,
            )
        )
        session.flush()
        condition, rank = matching(session, Answer.question, ("blocked",))  # type: ignore[arg-type]
        statement = select(Answer.id, rank).where(condition)

        assert "LIKE" in str(statement.compile(memory))
        assert session.execute(statement).tuples().all() == [(1, 1)]
