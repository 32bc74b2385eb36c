"""Webhook tokens: random, shown once, stored only as a keyed hash.

A token is looked up by its hash and compared in constant time; a token that matches no
channel gets the same answer, after the same work, as one of a channel that is gone.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from rituals.alerts.models import AlertHook
from rituals.signing import signing_key
from storage.models import Ritual

TOKEN_BYTES = 32
MAX_TOKEN = 200


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def hashed(key: str, token: str) -> str:
    return hmac.new(
        key.encode(), token.encode("utf-8", "surrogatepass"), hashlib.sha256
    ).hexdigest()


def url(public_url: str, token: str) -> str:
    return f"{public_url}/hooks/alerts/{token}"


async def connect(
    session: AsyncSession, ritual: Ritual, *, configured_key: str, public_url: str, now: datetime
) -> tuple[str, bool]:
    """A new webhook URL for the channel, for `alerts connect` and the CLI alike; True
    when it replaced one, which stops working."""
    token, replaced = await issue(session, await signing_key(session, configured_key), ritual, now)
    return url(public_url, token), replaced


async def issue(session: AsyncSession, key: str, ritual: Ritual, now: datetime) -> tuple[str, bool]:
    """A new token for the channel, replacing any earlier one; True when one was replaced."""
    token = new_token()
    found = await session.get(AlertHook, ritual.id)
    if found is None:
        session.add(AlertHook(ritual_id=ritual.id, token_hash=hashed(key, token), created_at=now))
    else:
        found.token_hash = hashed(key, token)
        found.created_at = now
    await session.flush()
    return token, found is not None


async def revoke(session: AsyncSession, ritual: Ritual) -> bool:
    result = await session.execute(delete(AlertHook).where(AlertHook.ritual_id == ritual.id))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def ritual_of(session: AsyncSession, key: str, token: str) -> Ritual | None:
    """The channel's ritual a token opens; None otherwise."""
    wanted = hashed(key, token[:MAX_TOKEN])
    row = (
        await session.execute(
            select(AlertHook.token_hash, Ritual)
            .join(Ritual, Ritual.id == AlertHook.ritual_id)
            .where(AlertHook.token_hash == wanted)
        )
    ).first()
    stored = row[0] if row is not None else hashed(key, "")
    if row is None or not hmac.compare_digest(stored, wanted) or len(token) > MAX_TOKEN:
        return None
    return row[1]
