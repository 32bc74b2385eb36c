"""Alerts benchmark: the webhook door under load, and an Alertmanager storm.

1. Webhook: ritualbot's `POST /hooks/alerts/{token}` and a bare aiohttp handler that only
   reads the body and answers 202, each in a process of its own, get the same requests at
   the same concurrency (32 senders by default): half are repeats of one alert (one
   fingerprint, as Alertmanager resends it), half new alerts of 16 models. Reported: requests
   per second and latency percentiles of both, their ratio, and what ritualbot queued for
   the channel (repeats must queue nothing). ritualbot stores and commits every request
   before it answers; its per-sender rate limit is lifted here, since the door is measured,
   not the limiter.
2. Storm: 1,000 alerts in 10 Alertmanager groups arrive as Alertmanager sends them (each
   group's notification listing all its alerts so far, ten notifications a group), with
   delivery paced as Slack asks (one message a second per channel): messages sent to the
   channel, against the 1,000 a post per alert would take, and the time until the channel
   is quiet (everything delivered).

Run: `.venv/bin/python bench/alerts.py [--requests N] [--concurrency C] [--storm N]
[--pace SECONDS]`; BENCH_DATABASE_URL points it at an empty PostgreSQL database instead.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import Run, expect_ok, free_port, load, run_ritualbot, wait_until_up  # noqa: E402


def am_alert(name: str, n: int, status: str = "firing") -> dict[str, Any]:
    labels = {"alertname": name, "model": f"m{n % 16}", "severity": "warning", "shard": str(n)}
    return {
        "status": status,
        "labels": labels,
        "annotations": {"summary": f"{name} on shard {n}"},
        "startsAt": "2030-01-07T08:58:30Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus:9090/graph",
        "fingerprint": f"{name}-{n:06d}",
    }


def am_body(group: str, alerts: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "version": "4",
        "groupKey": f'{{}}:{{alertname="{group}"}}',
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "ritualbot",
        "groupLabels": {"alertname": group},
        "commonLabels": {"alertname": group},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "alerts": alerts,
    }


def bodies(count: int) -> list[bytes]:
    """Half repeats of one alert, half new alerts of 16 models, interleaved."""
    repeat = json.dumps(am_body("Repeat", [am_alert("Repeat", 0)])).encode()
    found = []
    for n in range(count):
        if n % 2:
            found.append(repeat)
        else:
            plain = {
                "model": f"m{n % 16}",
                "metric": "auc",
                "value": 0.5,
                "threshold": 0.7,
                "severity": "warning",
                "labels": {"n": str(n)},
            }
            found.append(json.dumps(plain).encode())
    return found


async def prepare(database: str, platform: str = "console") -> str:
    """The schema, a channel and its webhook token, as `alerts connect` makes them."""
    from rituals.alerts import channel, keys
    from storage import directory
    from storage.db import Database

    db = Database(database)
    await db.upgrade()
    now = datetime.now(UTC)
    async with db.session() as session:
        workspace = await directory.workspace(session, platform, "local", now)
        room = await directory.channel(session, workspace.id, "bench", "bench")
        ritual = await channel.ritual_for(session, room, "UTC", now)
        url, _ = await keys.connect(session, ritual, configured_key="", public_url="", now=now)
        token = url.rsplit("/", 1)[1]
    await db.dispose()
    return token


async def queued(database: str) -> tuple[int, int, int]:
    """Posts and updates queued for the channel, and alerts stored."""
    from sqlalchemy import func, select

    from rituals.alerts.models import Alert
    from storage.db import Database
    from storage.models import OutboxMessage

    db = Database(database)
    async with db.session() as session:
        ops = dict(
            (
                await session.execute(
                    select(OutboxMessage.op, func.count()).group_by(OutboxMessage.op)
                )
            ).all()
        )
        alerts = await session.scalar(select(func.count()).select_from(Alert))
    await db.dispose()
    return ops.get("post", 0), ops.get("update", 0), int(alerts or 0)


async def serve_bare(port: int) -> None:
    async def hook(request: web.Request) -> web.Response:
        await request.read()
        return web.json_response({"ok": True}, status=202)

    app = web.Application()
    app.router.add_post("/hooks/alerts/{token}", hook)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    await asyncio.Event().wait()


async def serve_ours(port: int, database: str) -> None:
    import handlers.hooks.door as webhook

    webhook.RATE = 0
    await run_ritualbot(port, database, RITUALBOT_LOG_LEVEL="WARNING")


@asynccontextmanager
async def server(kind: str, database: str) -> AsyncIterator[int]:
    port = free_port()
    args = [sys.executable, __file__, "--serve", kind, "--port", str(port), "--database", database]
    process = await asyncio.create_subprocess_exec(*args, cwd=ROOT)
    try:
        await wait_until_up(port)
        yield port
    finally:
        process.terminate()
        await process.wait()


async def hammer(port: int, token: str, found: list[bytes], concurrency: int) -> Run:
    url = f"http://127.0.0.1:{port}/hooks/alerts/{token}"

    async def send(http: aiohttp.ClientSession, body: bytes) -> None:
        async with http.post(url, data=body, headers={"Content-Type": "application/json"}) as r:
            await expect_ok(r)

    return await load(found, concurrency, send)


async def webhook_figures(args: argparse.Namespace, tmp: Path) -> None:
    database = os.environ.get("BENCH_DATABASE_URL") or f"sqlite+aiosqlite:///{tmp / 'ours.db'}"
    token = await prepare(database)
    found = bodies(args.requests + args.concurrency)
    async with server("bare", "") as port:
        bare = await hammer(port, token, found, args.concurrency)
    async with server("ours", database) as port:
        ours = await hammer(port, token, found, args.concurrency)
    posts, updates, stored = await queued(database)
    print(bare.line("bare 202", "requests"))
    print(ours.line("ritualbot", "requests"))
    print(
        f"ratio (ritualbot / bare 202): throughput x{ours.rate / bare.rate:.2f}, "
        f"p99 x{ours.p99 / bare.p99:.1f}"
    )
    new = (len(found) + 1) // 2
    groups = len({n % 16 for n in range(0, len(found), 2)}) + 1
    repeats = "none" if stored == new + 1 and posts == groups else "SOME"
    print(
        f"webhook: {len(found)} requests, {len(found) - new} of them repeats of one alert: "
        f"{stored} alerts stored, {posts} messages posted (one per group: {groups}) and "
        f"{updates} updates queued; repeats stored or posted {repeats}"
    )


class Pacer:
    """A chat platform that records what it is sent, and when."""

    platform = "bench"

    def __init__(self) -> None:
        self.sent: list[tuple[str, float]] = []

    async def _take(self, op: str) -> Any:
        from rituals.port import Sent

        self.sent.append((op, time.perf_counter()))
        return Sent("bench", f"m{len(self.sent)}")

    async def post(self, workspace: str, channel: str, message: Any, *, thread: Any = None) -> Any:
        return await self._take("post")

    async def update(self, workspace: str, sent: Any, message: Any) -> Any:
        return await self._take("update")

    async def direct(self, workspace: str, user: str, message: Any) -> Any:
        return await self._take("direct")

    async def ephemeral(self, *args: Any, **kwargs: Any) -> Any:
        return await self._take("ephemeral")


async def storm_figures(args: argparse.Namespace, tmp: Path) -> None:
    from bot.kinds import registry
    from bot.logging import configure_logging
    from handlers.hooks.alerts import read
    from rituals.clock import SystemClock
    from rituals.delivery import Delivery
    from rituals.router import Rituals
    from rituals.runtime import Runtime
    from storage.db import Database

    configure_logging("WARNING", "console")
    database = f"sqlite+aiosqlite:///{tmp / 'storm.db'}"
    if os.environ.get("BENCH_DATABASE_URL"):
        database = os.environ["BENCH_DATABASE_URL"]
    token = await prepare(database, "bench")
    db = Database(database)
    clock = SystemClock()
    runtime = Runtime(db=db, clock=clock)
    rituals = Rituals(runtime, registry())
    port = Pacer()
    delivery = Delivery(
        db, {"bench": port}, clock, lane_interval={"bench": timedelta(seconds=args.pace)}
    )
    runtime.sent_later = delivery.wake
    stop = asyncio.Event()
    worker = asyncio.create_task(delivery.run(stop))
    groups, per_group = 10, args.storm // 10
    requests = []
    for step in range(1, 11):
        for group in range(groups):
            alerts = [am_alert(f"Storm{group}", n) for n in range(per_group * step // 10)]
            requests.append(json.dumps(am_body(f"Storm{group}", alerts)).encode())
    started = time.perf_counter()
    limit = asyncio.Semaphore(8)

    async def send(raw: bytes) -> None:
        async with limit:
            reply = await rituals.hook("alerts", token, read(raw))
            assert reply.status == 200, reply.body

    await asyncio.gather(*(send(raw) for raw in requests))
    received = time.perf_counter() - started
    stored = args.storm
    while True:
        from sqlalchemy import func, select

        from storage.models import OutboxMessage

        async with db.session() as session:
            pending = await session.scalar(
                select(func.count()).where(
                    OutboxMessage.status == "pending", OutboxMessage.platform == "bench"
                )
            )
        if not pending:
            break
        await asyncio.sleep(0.05)
    quiet = (port.sent[-1][1] if port.sent else time.perf_counter()) - started
    stop.set()
    delivery.wake()
    await worker
    await db.dispose()
    sent_posts = sum(1 for op, _ in port.sent if op == "post")
    sent_updates = sum(1 for op, _ in port.sent if op == "update")
    print(
        f"storm: {stored} alerts in {groups} groups over {len(requests)} Alertmanager "
        f"notifications, stored in {received:.2f} s"
    )
    print(
        f"storm: {sent_posts} messages posted and {sent_updates} updates sent "
        f"(a post per alert would be {stored}); quiet {quiet:.1f} s after the first "
        f"notification, at one message per {args.pace:g} s per channel"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--storm", type=int, default=1000)
    parser.add_argument("--pace", type=float, default=1.0)
    parser.add_argument("--serve", choices=["ours", "bare"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--database", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve == "bare":
        asyncio.run(serve_bare(args.port))
        return
    if args.serve == "ours":
        asyncio.run(serve_ours(args.port, args.database))
        return

    async def both() -> None:
        with tempfile.TemporaryDirectory() as tmp:
            await webhook_figures(args, Path(tmp))
            await storm_figures(args, Path(tmp))

    asyncio.run(both())


if __name__ == "__main__":
    main()
