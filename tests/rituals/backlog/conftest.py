"""A team on a fake platform for every backlog test, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from storage.db import Database
from tests.helpers import Team
from tests.rituals.backlog.support import MONDAY


@pytest.fixture
async def team(db: Database) -> AsyncIterator[Team]:
    yield Team(db, MONDAY)
