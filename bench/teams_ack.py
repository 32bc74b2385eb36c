"""Teams benchmark: channel activities against our /api/messages and a bare botbuilder bot.

Each server runs in a process of its own with a fake Bot Connector beside it; this process
posts the same Activity JSON (``@ritualbot standup join|leave`` from 50 people in one
channel) to both at the same concurrency and reports activities per second, latency
percentiles and the ratio. The bare bot is botbuilder's `CloudAdapter` with an
`ActivityHandler` that echoes each message back through the connector before it answers, as
the samples do; ours answers once the activity is stored, then commits each command and its
reply, which delivery sends through the connector: how long that took for every activity is
reported too.

Run: `.venv/bin/python bench/teams_ack.py [--requests N] [--concurrency C]`; set
BENCH_DATABASE_URL to an empty PostgreSQL database to measure on it instead of SQLite.
"""

from __future__ import annotations

import asyncio
import itertools
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    Run,
    arguments,
    compare,
    expect_ok,
    handled_after,
    load,
    run_ritualbot,
    serving,
)

USERS = [f"29:user-{n:04d}" for n in range(50)]
TENANT = "bench-tenant"
CHANNEL = "19:bench@thread.tacv2"
BOT = "28:bench-bot"


async def fake_connector(port: int) -> web.AppRunner:
    """Just enough Bot Connector for both bots: open 1:1 chats, post and update activities."""
    ids = itertools.count(1)

    async def create(request: web.Request) -> web.Response:
        body = await request.json()
        return web.json_response({"id": f"a:1on1-{body['members'][0]['id']}"}, status=201)

    async def post(_request: web.Request) -> web.Response:
        return web.json_response({"id": str(next(ids))}, status=201)

    app = web.Application()
    app.router.add_post("/v3/conversations", create)
    app.router.add_post("/v3/conversations/{conversation}/activities", post)
    app.router.add_post("/v3/conversations/{conversation}/activities/{reply}", post)
    app.router.add_put("/v3/conversations/{conversation}/activities/{activity}", post)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner


async def serve_bare(port: int) -> None:
    """The baseline: botbuilder's aiohttp CloudAdapter and an echo bot, no auth (no app id)."""
    from botbuilder.core import ActivityHandler, TurnContext
    from botbuilder.integration.aiohttp import (
        CloudAdapter,
        ConfigurationBotFrameworkAuthentication,
    )

    class Config:
        APP_ID = ""
        APP_PASSWORD = ""

    class EchoBot(ActivityHandler):
        async def on_message_activity(self, turn_context: TurnContext) -> None:
            await turn_context.send_activity(f"echo: {turn_context.activity.text}")

    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(Config()))
    bot = EchoBot()

    async def messages(request: web.Request) -> web.Response:
        return await adapter.process(request, bot)

    app = web.Application()
    app.router.add_post("/api/messages", messages)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    await asyncio.Event().wait()


async def serve_ours(port: int, database: str) -> None:
    """ritualbot itself, as `ritualbot run` builds it with no platform credentials on
    127.0.0.1: Teams without authentication, for local testing."""
    await run_ritualbot(port, database, RITUALBOT_LOG_LEVEL="ERROR")


def activity(n: int, service_url: str) -> dict[str, Any]:
    """``@ritualbot standup join`` (or ``leave``) posted in the channel by one of 50 people."""
    user = USERS[n % len(USERS)]
    activity_id = f"{1_700_000_000_000 + n}"
    return {
        "type": "message",
        "id": activity_id,
        "timestamp": "2026-11-23T08:00:00.000Z",
        "serviceUrl": service_url,
        "channelId": "msteams",
        "from": {"id": user, "name": user[3:]},
        "recipient": {"id": BOT, "name": "ritualbot"},
        "conversation": {
            "id": f"{CHANNEL};messageid={activity_id}",
            "conversationType": "channel",
            "isGroup": True,
            "tenantId": TENANT,
        },
        "text": f"<at>ritualbot</at> standup {'join' if n % 2 == 0 else 'leave'}",
        "entities": [
            {
                "type": "mention",
                "mentioned": {"id": BOT, "name": "ritualbot"},
                "text": "<at>ritualbot</at>",
            }
        ],
        "channelData": {
            "tenant": {"id": TENANT},
            "team": {"id": CHANNEL, "name": "Bench"},
            "channel": {"id": CHANNEL, "name": "bench"},
        },
    }


async def measure(kind: str, requests: int, concurrency: int, tmp: Path) -> Run:
    async with serving(__file__, kind, tmp, "connector-port") as (port, connector_port):
        service_url = f"http://127.0.0.1:{connector_port}/"
        url = f"http://127.0.0.1:{port}/api/messages"

        async def send(http: aiohttp.ClientSession, body: dict[str, Any]) -> None:
            async with http.post(url, json=body) as response:
                await expect_ok(response)

        bodies = [activity(n, service_url) for n in range(requests + concurrency)]
        started = time.perf_counter()
        run = await load(bodies, concurrency, send)
        if kind == "ours":
            run.handled_after = await handled_after(port, "teams", len(bodies), started)
        return run


async def main() -> None:
    args = arguments(__doc__.splitlines()[0], "connector-port")
    if args.serve:
        await fake_connector(args.connector_port)
        if args.serve == "bare":
            await serve_bare(args.port)
        else:
            await serve_ours(args.port, args.database)
        return
    with tempfile.TemporaryDirectory() as tmp:
        bare = await measure("bare", args.requests, args.concurrency, Path(tmp))
        ours = await measure("ours", args.requests, args.concurrency, Path(tmp))
    print(f"concurrency {args.concurrency}, channel activities @ritualbot standup join|leave")
    total = args.requests + args.concurrency
    compare(bare, ours, baseline="bare echo", unit="activities", total=total)
    print(f"target (>= 2 x bare throughput): {'met' if ours.rate >= 2 * bare.rate else 'NOT met'}")


if __name__ == "__main__":
    asyncio.run(main())
