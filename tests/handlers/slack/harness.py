"""Our Slack app behind a real HTTP server, Slack's Web API faked, the clock in the test's hand."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlparse

from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select, text

from bot.kinds import registry
from bot.web import init_app
from handlers.journal import Journal
from handlers.slack.pool import Pool
from handlers.slack.setup import multi_workspace, single_workspace
from rituals.clock import FakeClock
from rituals.delivery import Delivery
from rituals.kinds import Registry
from rituals.router import Rituals
from rituals.runtime import Runtime
from storage.db import Database
from storage.models import JournalEntry
from tests.handlers.slack import signing
from tests.handlers.slack.fake_slack import Call, FakeSlack

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
        if response.status == 200 and response.content_type == JSON:
            self.slack.calls.append(Call("ack", await response.json()))
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
        """Texts that reached a person privately: in the acknowledgement of their command
        (one that only reads), or later through its response_url."""
        return [
            c.args.get("text", "") for c in self.slack.calls if c.method in ("ack", "response_url")
        ]

    async def dm(self, user: str, text: str, *, event_id: str | None = None) -> int:
        self._ts += 1
        ts = f"1700001000.{self._ts:06d}"
        body = signing.event(signing.dm(user, text, ts=ts), event_id=event_id or f"Ev{ts}")
        return await self.post(body, JSON)

    async def deliver(self) -> None:
        await self.delivery.drain()

    async def send(self, body: str | bytes, headers: dict[str, str]) -> int:
        """POST to /slack/events with exactly these headers (signed or not)."""
        response = await self.http.post("/slack/events", data=body, headers=headers)
        return response.status

    async def stored(self) -> int:
        """Requests waiting in the journal."""
        async with self.db.session() as session:
            return (await session.execute(select(func.count(JournalEntry.id)))).scalar_one()

    async def post_while_busy(self, bodies: list[str]) -> list[ClientResponse]:
        """POST ``bodies`` together while another unit of work holds the database (on
        PostgreSQL the ritual table, on SQLite the writer's turn), so that their handling
        waits and they queue up; the responses once it lets go."""
        async with self.db.session() as session:
            if self.db.dialect == "postgresql":
                await session.execute(text("LOCK TABLE ritual IN ACCESS EXCLUSIVE MODE"))
            else:
                await session.execute(text("SELECT 1"))
            sent = [
                asyncio.ensure_future(
                    self.http.post("/slack/events", data=body, headers=signing.headers(body, FORM))
                )
                for body in bodies
            ]
            await asyncio.sleep(0.3)
        return list(await asyncio.gather(*sent))

    def calls_to_slack(self) -> list[str]:
        """Web API methods called for requests (auth.test at start-up aside)."""
        return [c.method for c in self.slack.calls if c.method != "auth.test"]


@asynccontextmanager
async def running(
    db: Database, slack: FakeSlack | None = None, kinds: Registry | None = None
) -> AsyncIterator[SlackTeam]:
    """``slack`` is the Web API to fake (team T1's by default); ``kinds`` the ritual kinds
    (the bot's own by default)."""
    slack = slack or FakeSlack()
    slack.add_user("UALICE", "Alice", "Europe/Berlin")
    slack.add_user("UBOB", "Bob", "America/New_York")
    # Both are in #ml-team, so the roster sync before a stand-up keeps them.
    slack.channels.setdefault("C1", ["UALICE", "UBOB"])
    api = await slack.start()
    clock = FakeClock(MONDAY_0800)
    rituals = Rituals(Runtime(db=db, clock=clock), kinds or registry())
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


class Installer:
    """Our app in OAuth mode, any workspace may install it; Slack's Web API faked."""

    def __init__(self, http: TestClient, slack: FakeSlack, delivery: Delivery, db: Database):
        self.http, self.slack, self.delivery, self.db = http, slack, delivery, db

    async def start(self) -> tuple[str, str]:
        """Open /slack/install: the authorize link's state, and the state cookie."""
        response = await self.http.get("/slack/install", allow_redirects=False)
        page = await response.text()
        link = re.search(r'href="([^"]+oauth/v2/authorize[^"]+)"', page)
        assert response.status in (200, 302) and (link or response.headers.get("Location"))
        url = link.group(1).replace("&amp;", "&") if link else response.headers["Location"]
        query = parse_qs(urlparse(url).query)
        assert query["client_id"] == ["cid"]
        assert "commands" in query["scope"][0]
        return query["state"][0], response.cookies["slack-app-oauth-state"].value

    async def finish(self, code: str, state: str, cookie: str) -> int:
        response = await self.http.get(
            f"/slack/oauth_redirect?code={code}&state={state}",
            headers={"Cookie": f"slack-app-oauth-state={cookie}"},
            allow_redirects=False,
        )
        return response.status


@asynccontextmanager
async def installing(db: Database) -> AsyncIterator[Installer]:
    slack = FakeSlack()
    slack.add_user("UCARA", "Cara", "Asia/Tokyo")
    api = await slack.start()
    clock = FakeClock(MONDAY_0800)
    rituals = Rituals(Runtime(db=db, clock=clock), registry())
    edge, port = multi_workspace(
        rituals,
        client_id="cid",
        client_secret="csecret",
        signing_secret=signing.SECRET,
        api_url=api,
        public_url="https://bot.example.org",
    )
    server = TestServer(init_app(db=db, extra_routes=edge.routes), host="127.0.0.1")
    async with TestClient(server) as http:
        yield Installer(http, slack, Delivery(db, {"slack": port}, clock), db)
    await slack.close()
