"""The one key everything the bot signs or hashes is keyed with (alert webhook tokens,
backlog button values): RITUALBOT_SECRET_KEY when the deployment sets it, else the key
generated once and stored in the database, so no two parts of the bot disagree on it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from storage.app_settings import stored_secret_key


async def signing_key(session: AsyncSession, configured: str) -> str:
    """``configured`` (`Runtime.secret_key`) when set, else the stored key, read in the
    caller's unit of work."""
    return configured or await stored_secret_key(session)
