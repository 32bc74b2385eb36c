"""Slack acknowledgement benchmark: signed slash commands against our endpoint and a bare app.

Each server runs in a process of its own with a fake Slack Web API beside it; this process
sends the same signed `/standup` commands to both at the same concurrency and reports
requests per second and latency percentiles, and the ratio between the two. Our commands
write (`join` and `leave` alternate, each a committed change plus an outbox reply).

Run: `.venv/bin/python bench/slack_ack.py [--requests N] [--concurrency C]`; set
BENCH_DATABASE_URL to an empty PostgreSQL database to measure on it instead of SQLite.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp

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

SECRET = "bench-secret"
USERS = [f"U{n:04d}" for n in range(50)]


async def fake_slack(port: int) -> web.AppRunner:
    """Just enough Web API for both apps: auth.test, users.info, and chat methods."""

    async def answer(request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if method == "auth.test":
            return web.json_response(
                {"ok": True, "team_id": "T1", "user_id": "UBOT", "bot_id": "B"}
            )
        if method == "users.info":
            user = request.query.get("user", "U0")
            return web.json_response(
                {
                    "ok": True,
                    "user": {"id": user, "name": user, "tz": "Europe/Berlin", "profile": {}},
                }
            )
        return web.json_response({"ok": True, "channel": "C1", "ts": "1.1", "message_ts": "1.1"})

    async def respond(_request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_route("*", "/api/{method}", answer)
    app.router.add_post("/respond", respond)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner


async def serve_bare(port: int, api: str) -> None:
    """The baseline: a slack-bolt app on aiohttp that does nothing but acknowledge."""
    from slack_sdk.web.async_client import AsyncWebClient

    bolt = AsyncApp(signing_secret=SECRET, client=AsyncWebClient(token="xoxb-bench", base_url=api))

    @bolt.command("/standup")
    async def ack_only(ack) -> None:
        await ack()

    async def handle(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    app = web.Application()
    app.router.add_post("/slack/events", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    await asyncio.Event().wait()


async def serve_ours(port: int, api: str, database: str) -> None:
    """ritualbot with one workspace's Slack credentials, its Web API the fake beside it."""
    await run_ritualbot(
        port,
        database,
        SLACK_BOT_TOKEN="xoxb-bench",
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=api,
        RITUALBOT_LOG_LEVEL="WARNING",
    )


def signed(body: str) -> dict[str, str]:
    from tests.handlers.slack.signing import headers

    return headers(body, "application/x-www-form-urlencoded", secret=SECRET)


def commands(api_port: int, count: int) -> list[str]:
    from tests.handlers.slack.signing import slash

    return [
        slash(
            "/standup",
            "join" if n % 2 == 0 else "leave",
            user=USERS[n % len(USERS)],
            channel="C1",
            response_url=f"http://127.0.0.1:{api_port}/respond",
        )
        for n in range(count)
    ]


async def measure(kind: str, requests: int, concurrency: int, tmp: Path) -> Run:
    async with serving(__file__, kind, tmp, "api-port") as (port, api_port):
        url = f"http://127.0.0.1:{port}/slack/events"

        async def send(http: aiohttp.ClientSession, body: str) -> None:
            async with http.post(url, data=body, headers=signed(body)) as response:
                await expect_ok(response)

        started = time.perf_counter()
        run = await load(commands(api_port, requests + concurrency), concurrency, send)
        if kind == "ours":
            run.handled_after = await handled_after(port, "slack", requests + concurrency, started)
        return run


async def main() -> None:
    args = arguments(__doc__.splitlines()[0], "api-port")
    if args.serve:
        await fake_slack(args.api_port)
        api = f"http://127.0.0.1:{args.api_port}/api/"
        if args.serve == "bare":
            await serve_bare(args.port, api)
        else:
            await serve_ours(args.port, api, args.database)
        return
    with tempfile.TemporaryDirectory() as tmp:
        bare = await measure("bare", args.requests, args.concurrency, Path(tmp))
        ours = await measure("ours", args.requests, args.concurrency, Path(tmp))
    print(f"concurrency {args.concurrency}, signed /standup join|leave")
    total = args.requests + args.concurrency
    compare(bare, ours, baseline="bare bolt", unit="requests", total=total)
    target = ours.rate >= 0.8 * bare.rate and ours.p99 < 0.050
    print(f"target (>= 0.8 x bare throughput, p99 < 50 ms): {'met' if target else 'NOT met'}")


if __name__ == "__main__":
    asyncio.run(main())
