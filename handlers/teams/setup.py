"""Builds the Teams edge, its chat port and its roster from the MICROSOFT_* settings."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import structlog
from aiohttp import web

from handlers.journal import Journal
from handlers.teams.activity import PLATFORM
from handlers.teams.adapter import TeamsAdapter, TeamsAuth
from handlers.teams.app import TeamsEdge
from handlers.teams.connector import Connector
from handlers.teams.port import TeamsPort
from handlers.teams.references import References
from handlers.teams.roster import TeamsRoster
from rituals.roster import CachedRoster
from rituals.router import Rituals

log = structlog.get_logger(__name__)


def teams(
    rituals: Rituals, auth: TeamsAuth, *, journal: Journal | None = None
) -> tuple[TeamsEdge, TeamsPort]:
    """The edge serving `/api/messages` and the port the outbox sends through; the
    channel roster is registered with the rituals so stand-ups follow their team."""
    adapter = TeamsAdapter(auth)
    references = References(rituals.rt.db, rituals.rt.clock)
    port = TeamsPort(Connector(adapter.token), references)
    rituals.rt.rosters[PLATFORM] = CachedRoster(TeamsRoster(adapter, references))
    return TeamsEdge(rituals, adapter, references, port, journal), port


def teams_lifetime(
    port: TeamsPort, *, authenticated: bool
) -> Callable[[web.Application], AsyncIterator[None]]:
    """Says so once the server is up if `/api/messages` takes requests without a token;
    closes the port's HTTP connections when the server stops."""

    async def lifetime(_app: web.Application) -> AsyncIterator[None]:
        if not authenticated:
            log.warning(
                "Teams endpoint /api/messages accepts requests without authentication, for "
                "local testing (Bot Framework Emulator); set MICROSOFT_APP_ID to require "
                "Bot Connector tokens"
            )
        yield
        await port.connector.close()

    return lifetime
