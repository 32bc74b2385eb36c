"""The `teams` fixture: a Teams tenant talking to our app, on each database."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from storage.db import Database
from tests.handlers.teams.harness import TeamsTeam, running


@pytest.fixture
async def teams(db: Database) -> AsyncIterator[TeamsTeam]:
    async with running(db) as team:
        yield team
