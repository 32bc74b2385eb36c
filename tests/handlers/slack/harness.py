"""Our Slack app behind a real HTTP server, Slack's Web API faked, the clock in the test's hand."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from aiohttp.test_utils import TestClient, TestServer

from bot.kinds import registry
from bot.web import init_app
from handlers.journal import Journal
from handlers.slack.pool import Pool
from handlers.slack.setup import single_workspace
from rituals.clock import FakeClock
from rituals.delivery import Delivery
from rituals.router import Rituals
from rituals.runtime import Runtime
from storage.db import Database
from tests.handlers.slack import signing
from tests.handlers.slack.fake_slack import FakeSlack

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
MONDAY_0800 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


class SlackTeam:
    """Our app behind a real HTTP server, Slack's Web API faked, the clock in the test's hand."""

    def __init__(
        self,
        db: Database,
        slack: FakeSlack,
        http: TestClient,
        clock: FakeClock,
        delivery: Delivery,
        rituals: Rituals,
        journal: Journal,
        pool: Pool,
    ):
        self.db, self.slack, self.http, self.clock = db, slack, http, clock
        self.delivery, self.rituals, self.journal = delivery, rituals, journal
        self.pool = pool
        self._ts = 0

    async def post(self, body: str, content_type: str, **kw: object) -> int:
        """Send a signed request and let the journal's worker handle what it stored."""
        response = await self.http.post(
            "/slack/events", data=body, headers=signing.headers(body, content_type, **kw)
        )
        await self.journal.drain()
        return response.status

    async def command(self, user: str, text: str, command: str = "/standup") -> int:
        body = signing.slash(command, text, user=user, response_url=self.slack.respond_url)
        return await self.post(body, FORM)

    async def start_standup(self) -> None:
        """Alice sets up the channel's stand-up, Bob joins, and Alice starts today's."""
        await self.command("UALICE", "setup at 09:30")
        await self.command("UBOB", "join")
        await self.command("UALICE", "now")

    def private_replies(self) -> list[str]:
        """Texts that reached a person through their commands' response_urls."""
        return [c.args.get("text", "") for c in self.slack.calls if c.method == "response_url"]

    async def dm(self, user: str, text: str, *, event_id: str | None = None) -> int:
        self._ts += 1
        ts = f"1700001000.{self._ts:06d}"
        body = signing.event(signing.dm(user, text, ts=ts), event_id=event_id or f"Ev{ts}")
        return await self.post(body, JSON)

    async def deliver(self) -> None:
        await self.delivery.drain()


@asynccontextmanager
async def running(db: Database) -> AsyncIterator[SlackTeam]:
    slack = FakeSlack()
    slack.add_user("UALICE", "Alice", "Europe/Berlin")
    slack.add_user("UBOB", "Bob", "America/New_York")
    api = await slack.start()
    clock = FakeClock(MONDAY_0800)
    rituals = Rituals(Runtime(db=db, clock=clock), registry())
    journal, pool = Journal(db, clock), Pool()
    edge, port = single_workspace(
        rituals,
        token="xoxb-test",
        signing_secret=signing.SECRET,
        api_url=api,
        journal=journal,
        pool=pool,
    )
    server = TestServer(init_app(db=db, extra_routes=edge.routes), host="127.0.0.1")
    delivery = Delivery(db, {"slack": port}, clock)
    async with TestClient(server) as http:
        yield SlackTeam(db, slack, http, clock, delivery, rituals, journal, pool)
    await slack.close()
