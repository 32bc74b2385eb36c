"""The `slack_team` fixture: a Slack workspace talking to our app, on each database; and
`installer`, our app in OAuth mode."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from storage.db import Database
from tests.handlers.slack.harness import Installer, SlackTeam, installing, running


@pytest.fixture
async def slack_team(db: Database) -> AsyncIterator[SlackTeam]:
    async with running(db) as team:
        yield team


@pytest.fixture
async def installer(db: Database) -> AsyncIterator[Installer]:
    async with installing(db) as app:
        yield app
