"""Statements whose SQL differs by backend, written once."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from datetime import datetime, timedelta
from typing import Any, ClassVar, TypeVar

from sqlalchemy import (
    ColumnElement,
    Table,
    TextClause,
    bindparam,
    delete,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, InstrumentedAttribute
from sqlalchemy.sql import coercions, roles
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import NullType

_PREPARED: dict[tuple[str, Hashable], Any] = {}


def prepared(session: AsyncSession, key: Hashable, build: Callable[[], Any]) -> Any:
    """A statement built once per backend and reused, its values bound at each execution.

    Building a statement and working out its cache key cost more than running it on the hot
    path (every request resolves its sender, records its delivery id and queues its reply);
    a statement object kept and reused has both done once.
    """
    slot = (session.bind.dialect.name, key)
    statement = _PREPARED.get(slot)
    if statement is None:
        statement = _PREPARED[slot] = build()
    return statement


def insert_ignoring_conflicts(
    session: AsyncSession, model: type[DeclarativeBase], conflict: list[str]
) -> Any:
    """An INSERT that skips rows clashing on ``conflict``: the database's claim primitive.

    It inserts into the table, not the mapped class: the ORM's bulk path would compile the
    statement anew on every execution. Return ``table.c`` columns from it, not the class's
    attributes, or the ORM path comes back.
    """
    dialect = session.bind.dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(model.__table__).on_conflict_do_nothing(index_elements=conflict)


def inserting_once(
    session: AsyncSession,
    table: Table,
    columns: Sequence[str],
    conflict: Sequence[str],
    *,
    returning: str | Sequence[str] | None = None,
    rows: int = 1,
) -> TextClause:
    """``INSERT … ON CONFLICT (conflict) DO NOTHING [RETURNING …]`` as a statement compiled
    once, for the hot paths: `insert_ignoring_conflicts` builds SQLAlchemy 2.0's dialect
    inserts, which have no cache key and are compiled afresh on every execution. SQLite and
    PostgreSQL write this the same; values bind by column name, typed as their columns.
    With ``rows`` above one it inserts that many rows, whose values bind as ``column_n``
    (RETURNING then answers for every row inserted, in one statement).
    """
    quote = session.bind.dialect.identifier_preparer.quote
    names = [[c if rows == 1 else f"{c}_{n}" for c in columns] for n in range(rows)]
    values = ", ".join("(" + ", ".join(":" + name for name in row) + ")" for row in names)
    sql = (
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in columns)}) "
        f"VALUES {values} ON CONFLICT ({', '.join(quote(c) for c in conflict)}) DO NOTHING"
    )
    returned = [returning] if isinstance(returning, str) else list(returning or ())
    if returned:
        sql += f" RETURNING {', '.join(quote(c) for c in returned)}"
    statement = text(sql).bindparams(
        *(
            bindparam(name, type_=table.c[column].type)
            for row in names
            for column, name in zip(columns, row, strict=True)
        )
    )
    return statement.columns(*(table.c[c] for c in returned)) if returned else statement


async def claim_unset(
    session: AsyncSession, column: InstrumentedAttribute[Any], row_id: int, value: Any
) -> bool:
    """Set ``column`` on one row only if it is still unset; True for the caller that did.

    Two processes racing to remind, escalate or summarize the same thing both run this; the
    database lets exactly one of them win.
    """
    model = column.class_
    result = await session.execute(
        update(model)
        .where(model.id == row_id, column.is_(None))
        .values({column.key: value})
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


async def delete_before(
    session: AsyncSession, column: InstrumentedAttribute[Any], before: datetime, *, batch: int
) -> int:
    """Delete up to ``batch`` of the oldest rows whose ``column`` is before ``before``: a
    bounded statement, so pruning a large table never holds it for long."""
    model: Any = column.class_
    oldest = select(model.id).where(column < before).order_by(model.id).limit(batch)
    result = await session.execute(
        delete(model).where(model.id.in_(oldest)).execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


Leased = TypeVar("Leased", bound=DeclarativeBase)


async def claim_lane_heads(
    session: AsyncSession,
    model: type[Leased],
    worker: str,
    now: datetime,
    *,
    platforms: list[str],
    limit: int,
    lease: timedelta,
    waiting: Sequence[ColumnElement[bool]] = (),
    workers: int = 1,
) -> list[Leased]:
    """Lease up to ``limit`` rows, each the oldest ``waiting`` row of its lane, to ``worker``.

    The queues (outbox, inbound journal) keep a lane in order this way even when several
    processes share them: on PostgreSQL ``SKIP LOCKED`` lets them claim side by side without
    waiting on, or taking, each other's rows; a lease that runs out frees the row again. Of
    the free lane heads found, one of ``workers`` processes takes only its fair share, so a
    few busy lanes are handled side by side rather than all by whoever claimed first.
    """
    table: Any = model
    values = {
        "now": now,
        "platforms": list(platforms),
        "limit": limit,
        "worker": worker,
        "until": now + lease,
    }
    if workers > 1:
        # Counted without locking: a share locked and then partly dropped would still keep
        # a worker claiming at the same moment from the rest.
        count = prepared(
            session,
            ("lane heads counted", table.__name__),
            lambda: select(func.count()).select_from(_ready(table, waiting).subquery()),
        )
        heads = (await session.execute(count, values)).scalar()
        if not heads:
            return []
        values["limit"] = min(limit, -(-heads // workers))
    # One statement: the rows are picked and locked (skipping those another process holds)
    # and leased at once, a round trip fewer than picking first. Built once per queue, so
    # ``waiting`` must be the same at every call for one ``model``.
    claim = prepared(session, ("lane heads", table.__name__), lambda: _claim(table, waiting))
    claimed = await session.execute(claim, values)
    return sorted(claimed.scalars(), key=lambda row: row.id)


def _free(table: Any) -> Any:
    return or_(table.claimed_until.is_(None), table.claimed_until < bindparam("now"))


class _OneOf(ColumnElement[bool]):
    """``column IN (subquery)``; on PostgreSQL ``column = ANY(ARRAY(subquery))``, which
    runs the subquery exactly once, before the scan: as ``IN``, a planner misled by a
    queue's stale statistics could put it inside a nested loop and rescan its result for
    every row of the queue."""

    type = NullType()
    _traverse_internals: ClassVar[list[tuple[str, InternalTraversal]]] = [
        ("column", InternalTraversal.dp_clauseelement),
        ("subquery", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, column: Any, subquery: Any) -> None:
        self.column = coercions.expect(roles.ExpressionElementRole, column)
        self.subquery = subquery


@compiles(_OneOf)
def _one_of(element: _OneOf, compiler: Any, **kw: Any) -> str:
    return compiler.process(element.column.in_(element.subquery), **kw)


@compiles(_OneOf, "postgresql")
def _one_of_array(element: _OneOf, compiler: Any, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    return f"{column} = ANY(ARRAY({compiler.process(element.subquery, **kw)}))"


def _ready(table: Any, waiting: Sequence[ColumnElement[bool]]) -> Any:
    lane_heads = select(func.min(table.id)).where(*waiting).group_by(table.lane)
    return select(table.id).where(
        _OneOf(table.id, lane_heads),
        table.platform.in_(bindparam("platforms", expanding=True)),
        table.next_attempt_at <= bindparam("now"),
        _free(table),
    )


def _claim(table: Any, waiting: Sequence[ColumnElement[bool]]) -> Any:
    """The rows are picked in a CTE, which PostgreSQL runs once (materialized): written as
    ``id IN (subquery)`` the planner may re-run the subquery for each row it updates, and
    each run, skipping the rows just locked, picks new ones, past the limit."""
    picked = (
        _ready(table, waiting)
        .order_by(table.id)
        .limit(bindparam("limit"))
        .with_for_update(skip_locked=True, of=table)
        .cte("picked")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    rows = table.__table__
    leased = (
        update(rows)
        .where(rows.c.id == picked.c.id, *waiting, _free(table))
        .values(claimed_by=bindparam("worker"), claimed_until=bindparam("until"))
        .returning(*rows.c)
    )
    # Loaded through a SELECT of the entity: an UPDATE of the mapped class itself takes
    # the ORM's bulk path, which compiles the statement anew at every claim.
    return select(table).from_statement(leased)


async def claim_holders(session: AsyncSession, model: Any, now: datetime) -> list[str]:
    """The workers holding live claims on a queue."""
    rows = await session.execute(
        select(model.claimed_by).where(model.claimed_until > now).distinct()
    )
    return [w for w in rows.scalars() if w]


async def release_claims(session: AsyncSession, model: Any, workers: list[str]) -> int:
    """Free every claim of ``workers`` (stopped processes) so others take the rows now."""
    if not workers:
        return 0
    result = await session.execute(
        update(model)
        .where(model.claimed_by.in_(workers))
        .values(claimed_until=None, claimed_by=None)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def renew_claims(session: AsyncSession, model: Any, worker: str, until: datetime) -> None:
    """Extend the leases ``worker`` still holds."""
    await session.execute(
        update(model)
        .where(model.claimed_by == worker, model.claimed_until.is_not(None))
        .values(claimed_until=until)
        .execution_options(synchronize_session=False)
    )
