"""Slack installations and OAuth states kept in our database, one row per workspace.

slack_sdk's store interface, implemented on our own models, so installs survive restarts and
every process of a deployment sees the same tokens.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from sqlalchemy import delete, select

from storage.db import Database
from storage.models import OAuthState, SlackInstallation
from storage.queries import insert_ignoring_conflicts


class DatabaseInstallationStore(AsyncInstallationStore):
    def __init__(self, db: Database) -> None:
        self.db = db

    async def async_save(self, installation: Installation) -> None:
        await self.async_save_bot(installation.to_bot())

    async def async_save_bot(self, bot: Bot) -> None:
        """Insert or replace the workspace's bot: a reinstall brings a new token."""
        values: dict[str, Any] = {
            "enterprise_id": bot.enterprise_id or "",
            "team_id": bot.team_id or "",
            "team_name": bot.team_name or "",
            "app_id": bot.app_id or "",
            "bot_token": bot.bot_token,
            "bot_id": bot.bot_id,
            "bot_user_id": bot.bot_user_id,
            "bot_scopes": ",".join(bot.bot_scopes or []),
            "installer_user_id": "",
            "installed_at": datetime.fromtimestamp(float(bot.installed_at), UTC),
        }
        async with self.db.session() as session:
            stmt = insert_ignoring_conflicts(
                session, SlackInstallation, ["enterprise_id", "team_id"]
            )
            await session.execute(stmt.values(**values))
            row = (
                await session.execute(
                    select(SlackInstallation).where(
                        SlackInstallation.enterprise_id == values["enterprise_id"],
                        SlackInstallation.team_id == values["team_id"],
                    )
                )
            ).scalar_one()
            for key, value in values.items():
                setattr(row, key, value)

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        async with self.db.session() as session:
            row = (
                await session.execute(
                    select(SlackInstallation).where(
                        SlackInstallation.enterprise_id == (enterprise_id or ""),
                        SlackInstallation.team_id == (team_id or ""),
                    )
                )
            ).scalar_one_or_none()
        if row is None:
            return None
        return Bot(
            app_id=row.app_id or None,
            enterprise_id=row.enterprise_id or None,
            team_id=row.team_id,
            team_name=row.team_name,
            bot_token=row.bot_token,
            bot_id=row.bot_id,
            bot_user_id=row.bot_user_id,
            bot_scopes=row.bot_scopes,
            installed_at=row.installed_at.timestamp(),
        )

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        bot = await self.async_find_bot(enterprise_id=enterprise_id, team_id=team_id)
        if bot is None:
            return None
        return Installation(
            app_id=bot.app_id,
            enterprise_id=bot.enterprise_id,
            team_id=bot.team_id,
            team_name=bot.team_name,
            bot_token=bot.bot_token,
            bot_id=bot.bot_id,
            bot_user_id=bot.bot_user_id,
            bot_scopes=bot.bot_scopes,
            user_id=user_id or "",
            installed_at=bot.installed_at,
        )

    async def async_delete_installation(self, **kwargs: Any) -> None:
        await self.async_delete_bot(**kwargs)

    async def async_delete_bot(
        self, *, enterprise_id: str | None = None, team_id: str | None = None, **_: Any
    ) -> None:
        """Slack's `app_uninstalled` and `tokens_revoked`: the workspace's token is gone."""
        async with self.db.session() as session:
            await session.execute(
                delete(SlackInstallation).where(
                    SlackInstallation.enterprise_id == (enterprise_id or ""),
                    SlackInstallation.team_id == (team_id or ""),
                )
            )


class DatabaseStateStore(AsyncOAuthStateStore):
    """OAuth states: random, single use, ten minutes to live."""

    def __init__(self, db: Database, *, ttl: timedelta = timedelta(minutes=10)) -> None:
        self.db = db
        self.ttl = ttl

    @property
    def logger(self) -> Any:
        import logging

        return logging.getLogger(__name__)

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        state = secrets.token_urlsafe(24)
        async with self.db.session() as session:
            session.add(OAuthState(state=state, expires_at=datetime.now(UTC) + self.ttl))
        return state

    async def async_consume(self, state: str) -> bool:
        async with self.db.session() as session:
            result = await session.execute(
                delete(OAuthState).where(
                    OAuthState.state == state[:64], OAuthState.expires_at > datetime.now(UTC)
                )
            )
            return result.rowcount == 1  # type: ignore[attr-defined]
