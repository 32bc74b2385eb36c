"""Finding passages in stored text: full-text search on PostgreSQL and on SQLite (FTS5).

A question becomes a `Recall`: its content words (time words such as "last month" become a
date range instead), which match any passage holding any of them, ranked by how many.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import case, false, func, literal, or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from rituals.kinds import Recall
from storage import fulltext

MAX_TERMS = 8
_WORD = re.compile(r"[^\W_]+")
_STOP_WORDS = """a about after again all also am an and any are as at be been before being
both but by can could did do does doing done for from get got had has have having he her here
hers him his how i if in into is it its just me more most my no nor not now of off on once only
or other our out over own same she should so some such than that the their them then there
these they this those through to too under until up us very was we were what when where which
while who whom why will with would you your anyone anything whats tell show give list"""
_STOP = frozenset(_STOP_WORDS.split())
_TIME = re.compile(
    r"\b(?:(?P<rel>last|this|past) (?P<unit>week|month|year|sprint)|"
    r"(?:last|past) (?P<n>\d{1,3}) (?P<units>days|weeks|months)|(?P<day>yesterday|today))\b"
)
_SUFFIXES = ("ing", "ers", "ed", "er", "es", "s")


def recall_of(question: str, today: date) -> Recall:
    """The words worth searching for in ``question`` and the days it asks about."""
    text = question.casefold()
    since: date | None = None
    until: date | None = None
    match = _TIME.search(text)
    if match:
        since, until = _window(match, today)
        text = text[: match.start()] + " " + text[match.end() :]
    terms: list[str] = []
    for word in _WORD.findall(text):
        if len(word) > 1 and word not in _STOP and word not in terms:
            terms.append(word)
    return Recall(tuple(terms[:MAX_TERMS]), since, until)


def _window(match: re.Match[str], today: date) -> tuple[date | None, date | None]:
    if match["day"] == "yesterday":
        day = today - timedelta(days=1)
        return day, day
    if match["day"] == "today":
        return today, today
    if match["n"]:
        per = {"days": 1, "weeks": 7, "months": 31}[match["units"]]
        return today - timedelta(days=int(match["n"]) * per), today
    days = {"week": 7, "sprint": 14, "month": 31, "year": 366}[match["unit"]]
    return today - timedelta(days=days), today


def stem(term: str) -> str:
    """A crude stem, so ``blocked`` finds ``blocker`` where no real stemmer runs."""
    for suffix in _SUFFIXES:
        if term.endswith(suffix) and len(term) - len(suffix) >= 3:
            return term[: -len(suffix)]
    return term


def matching(
    session: AsyncSession, column: Any, terms: tuple[str, ...]
) -> tuple[ColumnElement[bool], ColumnElement[Any]]:
    """A condition that ``column`` holds any of ``terms``, and a rank to order matches by.

    ``column`` is searched through the index `fulltext.index` declares for it. On PostgreSQL
    it is searched as `fulltext.vector` makes it, the expression its GIN index holds, so the
    planner can use the index; ranked by ``ts_rank``. On SQLite its FTS5 table is asked for
    the words beginning with each term's `stem` (``blocked`` finds ``blocker``), each term
    quoted as words only (`fulltext.phrase`), so no question is read as FTS5 syntax; ranked
    by how many of the terms a passage holds. An expression no index is declared for is
    searched by LIKE, which reads every row."""
    if not terms:
        return false(), literal(0)
    if session.bind.dialect.name == "postgresql":
        query = None
        for term in terms:
            one = func.plainto_tsquery(fulltext.CONFIG, term)
            query = one if query is None else query.op("||")(one)
        vector = fulltext.vector(column)
        return vector.op("@@")(query), func.ts_rank(vector, query)
    index = fulltext.searched(column)
    if index is None:
        return like(column, terms)
    phrases = [fulltext.phrase(stem(term), prefix=True) for term in terms]
    condition = fulltext.match(index, " OR ".join(phrases))
    if len(phrases) == 1:
        return condition, literal(1)
    return condition, _count(fulltext.match(index, p) for p in phrases)


def like(column: Any, terms: tuple[str, ...]) -> tuple[ColumnElement[bool], ColumnElement[Any]]:
    """`matching` without an index: ``lower(column) LIKE '%stem%'`` for each term, ranked by
    how many match; every row of the table is read. (Kept for text no index is declared
    for, and as the baseline `bench/recall.py` measures the index against.)"""
    lowered = func.lower(column)
    likes = [lowered.like(f"%{stem(term)}%") for term in terms]
    return or_(*likes), _count(likes)


def _count(conditions: Iterable[ColumnElement[bool]]) -> ColumnElement[Any]:
    """How many of ``conditions`` hold."""
    found = [case((condition, 1), else_=0) for condition in conditions]
    return sum(found[1:], found[0])  # type: ignore[no-any-return]


def bounds(query: Recall) -> tuple[datetime | None, datetime | None]:
    """The days asked about as instants: from the first one's start (UTC) to the start of
    the day after the last; None where the question sets no bound."""
    start = datetime.combine(query.since, time(), UTC) if query.since else None
    end = datetime.combine(query.until + timedelta(days=1), time(), UTC) if query.until else None
    return start, end


def within(instant: Any, query: Recall) -> list[ColumnElement[bool]]:
    """Conditions keeping ``instant`` (a column) within the days asked about."""
    start, end = bounds(query)
    return [
        *([instant >= start] if start else []),
        *([instant < end] if end else []),
    ]


def overlapping(began: Any, ended: Any, query: Recall) -> list[ColumnElement[bool]]:
    """Conditions that something from ``began`` to ``ended`` (null while it lasts) was
    going on during the days asked about: a bet open all month answers "last month"."""
    start, end = bounds(query)
    return [
        *([began < end] if end else []),
        *([or_(ended.is_(None), ended >= start)] if start else []),
    ]
