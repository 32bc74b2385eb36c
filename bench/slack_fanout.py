"""Slack fan-out benchmark: 2,000 stand-up prompts through a fake Slack that enforces limits.

The fake Web API answers 429 (Retry-After: 1) to a second message in one channel within a
second, and to anything past a workspace-wide budget per second. The floor is the time
those limits allow (members / budget); the figure is how close delivery comes to it, and
how many 429s it ran into on the way. Run: `.venv/bin/python -m bench.slack_fanout
[--members N] [--per-second R]`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import tempfile
import time
from collections import deque
from datetime import timedelta
from pathlib import Path

from aiohttp import web
from slack_sdk.web.async_client import AsyncWebClient

from bench.fanout import PLACE, prepare
from handlers.slack.pool import Pool
from handlers.slack.port import SlackPort
from rituals.clock import SystemClock
from rituals.delivery import Delivery
from rituals.identity import Actor


class LimitedSlack:
    """chat.postMessage with Slack's two limits: per channel, and per workspace."""

    def __init__(self, per_second: int) -> None:
        self.per_second = per_second
        self.recent: deque[float] = deque()
        self.last_in_channel: dict[str, float] = {}
        self.delivered = 0
        self.limited = 0

    async def handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if method != "chat.postMessage":
            return web.json_response({"ok": True, "team_id": "T1", "user_id": "UBOT"})
        body = await request.json()
        now = time.monotonic()
        while self.recent and now - self.recent[0] >= 1.0:
            self.recent.popleft()
        channel = body["channel"]
        too_soon = now - self.last_in_channel.get(channel, -10.0) < 1.0
        if too_soon or len(self.recent) >= self.per_second:
            self.limited += 1
            return web.json_response(
                {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": "1"}
            )
        self.recent.append(now)
        self.last_in_channel[channel] = now
        self.delivered += 1
        return web.json_response({"ok": True, "channel": channel, "ts": f"{now:.6f}"})


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--per-second", type=int, default=200, help="workspace budget")
    args = parser.parse_args()
    slack = LimitedSlack(args.per_second)
    app = web.Application()
    app.router.add_post("/api/{method}", slack.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    pool = Pool()
    client = pool.client(token="xoxb-bench", base_url=f"http://127.0.0.1:{port}/api/")

    async def clients(_team: str) -> AsyncWebClient:
        return client

    opened = contextlib.asynccontextmanager(pool.lifetime)(app)
    with tempfile.TemporaryDirectory() as tmp:
        await opened.__aenter__()
        clock = SystemClock()
        db, rituals, _ = await prepare(
            f"sqlite+aiosqlite:///{Path(tmp) / 'fanout.db'}",
            args.members,
            platform="slack",
            clock=clock,
        )
        delivery = Delivery(
            db,
            {"slack": SlackPort(clients, pool)},
            clock,
            lane_interval={"slack": timedelta(seconds=1)},
        )
        started = time.perf_counter()
        await rituals.command(Actor("slack", "W", "lead", "Lead", "UTC"), PLACE, "standup now")
        while slack.delivered < args.members + 1:
            _sent, claimed = await delivery.drain_once()
            if claimed == 0:
                await asyncio.sleep(0.05)
        elapsed = time.perf_counter() - started
        await opened.__aexit__(None, None, None)
        await db.dispose()
    await runner.cleanup()
    floor = (args.members + 1) / args.per_second
    print(f"members {args.members}, workspace budget {args.per_second}/s, 1/s per channel")
    print(
        f"delivered {slack.delivered} in {elapsed:.1f}s; floor {floor:.1f}s; "
        f"time / floor x{elapsed / floor:.2f}; 429s {slack.limited}"
    )


if __name__ == "__main__":
    asyncio.run(main())
