"""Builds the Slack edge from settings: one bot token, or any workspace through OAuth.

It also registers Slack's channel roster with the rituals, so stand-ups follow channels.
"""

from __future__ import annotations

from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.web.async_client import AsyncWebClient

from handlers.journal import Journal
from handlers.slack.app import SlackEdge
from handlers.slack.home import HomeTeam
from handlers.slack.installations import DatabaseInstallationStore, DatabaseStateStore
from handlers.slack.manifest import BOT_SCOPES
from handlers.slack.pool import Pool
from handlers.slack.port import PLATFORM, SlackPort
from handlers.slack.roster import SlackRoster
from rituals.port import SendError
from rituals.roster import CachedRoster
from rituals.router import Rituals


def single_workspace(
    rituals: Rituals,
    *,
    token: str,
    signing_secret: str,
    api_url: str,
    journal: Journal | None = None,
    pool: Pool | None = None,
) -> tuple[SlackEdge, SlackPort]:
    """One workspace, the token's own (auth.test says which): requests naming another
    workspace are refused at the door, since the one token would answer them."""
    pool = pool or Pool()
    client = pool.client(token=token, base_url=api_url, timeout=15)

    async def clients(_team: str) -> AsyncWebClient:
        return client

    edge = SlackEdge(
        rituals,
        signing_secret=signing_secret,
        client=client,
        clients=clients,
        journal=journal,
        home=HomeTeam(client),
    )
    rituals.rt.rosters[PLATFORM] = CachedRoster(SlackRoster(clients, edge.people))
    return edge, SlackPort(clients, pool)


def multi_workspace(
    rituals: Rituals,
    *,
    client_id: str,
    client_secret: str,
    signing_secret: str,
    api_url: str,
    public_url: str,
    authorization_url: str | None = None,
    journal: Journal | None = None,
    pool: Pool | None = None,
) -> tuple[SlackEdge, SlackPort]:
    """Any workspace may install the app (`/slack/install`); each uses its own bot token."""
    db = rituals.rt.db
    store = DatabaseInstallationStore(db)
    oauth = AsyncOAuthSettings(
        client_id=client_id,
        client_secret=client_secret,
        scopes=BOT_SCOPES,
        redirect_uri=f"{public_url.rstrip('/')}/slack/oauth_redirect",
        installation_store=store,
        state_store=DatabaseStateStore(db),
        authorization_url=authorization_url,
    )
    pool = pool or Pool()
    cache: dict[str, AsyncWebClient] = {}

    async def clients(team: str) -> AsyncWebClient:
        bot = await store.async_find_bot(enterprise_id=None, team_id=team)
        if bot is None:
            raise SendError(f"workspace {team} has not installed the app", permanent=True)
        cached = cache.get(team)
        if cached is None or cached.token != bot.bot_token:
            cached = cache[team] = pool.client(token=bot.bot_token, base_url=api_url, timeout=15)
        return cached

    edge = SlackEdge(
        rituals,
        signing_secret=signing_secret,
        client=pool.client(base_url=api_url, timeout=15),
        clients=clients,
        oauth=oauth,
        journal=journal,
    )
    rituals.rt.rosters[PLATFORM] = CachedRoster(SlackRoster(clients, edge.people))
    return edge, SlackPort(clients, pool)
