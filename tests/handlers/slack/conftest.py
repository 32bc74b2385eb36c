"""The `slack_team` fixture: a Slack workspace talking to our app, on each database."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from storage.db import Database
from tests.handlers.slack.harness import SlackTeam, running


@pytest.fixture
async def slack_team(db: Database) -> AsyncIterator[SlackTeam]:
    async with running(db) as team:
        yield team
