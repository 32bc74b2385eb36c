"""Builds the Slack edge from settings: one bot token, one workspace (OAuth comes later).

It also registers Slack's channel roster with the rituals, so stand-ups follow channels.
"""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from handlers.slack.app import SlackEdge
from handlers.slack.port import PLATFORM, SlackPort
from handlers.slack.roster import SlackRoster
from rituals.router import Rituals


def single_workspace(
    rituals: Rituals, *, token: str, signing_secret: str, api_url: str
) -> tuple[SlackEdge, SlackPort]:
    client = AsyncWebClient(token=token, base_url=api_url, timeout=15)

    async def clients(_team: str) -> AsyncWebClient:
        return client

    edge = SlackEdge(rituals, signing_secret=signing_secret, client=client, clients=clients)
    rituals.rt.rosters[PLATFORM] = SlackRoster(clients, edge.people)
    return edge, SlackPort(clients)
