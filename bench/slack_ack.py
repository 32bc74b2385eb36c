"""Slack acknowledgement benchmark: signed slash commands against our endpoint and a bare app.

Each server runs in a process of its own with a fake Slack Web API beside it; this process
sends the same signed `/standup` commands to both at the same concurrency and reports
requests per second and latency percentiles, and the ratio between the two. Our commands
write (`join` and `leave` alternate, each a committed change plus an outbox reply).

Run: `.venv/bin/python bench/slack_ack.py [--requests N] [--concurrency C]`; set
BENCH_DATABASE_URL to an empty PostgreSQL database to measure on it instead of SQLite.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp

ROOT = Path(__file__).resolve().parents[1]
SECRET = "bench-secret"
USERS = [f"U{n:04d}" for n in range(50)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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
    """ritualbot itself: settings from the environment, exactly as `ritualbot run` builds it."""
    for name in list(os.environ):
        if name.startswith(("SLACK_", "MICROSOFT_", "OPENAI_", "RITUALBOT_")):
            del os.environ[name]
    os.environ.update(
        DATABASE_URL=database,
        PORT=str(port),
        SLACK_BOT_TOKEN="xoxb-bench",
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=api,
        RITUALBOT_LOG_LEVEL="WARNING",
    )
    from bot.app import run
    from bot.settings import load_settings

    await run(load_settings(), console=False)


def signed(body: str) -> dict[str, str]:
    from tests.handlers.slack.signing import headers

    return headers(body, "application/x-www-form-urlencoded", secret=SECRET)


async def wait_until_up(port: int) -> None:
    for _ in range(400):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.1):
                return
        except OSError:
            await asyncio.sleep(0.05)
    raise SystemExit(f"server on {port} never came up")


async def load(
    port: int, api_port: int, requests: int, concurrency: int
) -> tuple[float, list[float]]:
    from tests.handlers.slack.signing import slash

    url = f"http://127.0.0.1:{port}/slack/events"
    bodies = [
        slash(
            "/standup",
            "join" if n % 2 == 0 else "leave",
            user=USERS[n % len(USERS)],
            channel="C1",
            response_url=f"http://127.0.0.1:{api_port}/respond",
        )
        for n in range(requests + concurrency)
    ]
    latencies: list[float] = []

    async def worker(http: aiohttp.ClientSession) -> None:
        while not queue.empty():
            body = queue.get_nowait()
            started = time.perf_counter()
            async with http.post(url, data=body, headers=signed(body)) as response:
                await response.read()
                if response.status != 200:
                    raise SystemExit(f"HTTP {response.status}: {await response.text()}")
            latencies.append(time.perf_counter() - started)

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as http:
        warm, bodies = bodies[:concurrency], bodies[concurrency:]
        queue = asyncio.Queue()
        for body in bodies:
            queue.put_nowait(body)
        for body in warm:
            async with http.post(url, data=body, headers=signed(body)) as response:
                await response.read()
        started = time.perf_counter()
        await asyncio.gather(*(worker(http) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return elapsed, latencies


async def handled_after(port: int, expected: int, started: float) -> float | None:
    """Seconds from the first request until the server says it handled them all, read off
    its /metrics; None for a server that handles each command before acknowledging it."""
    url = f"http://127.0.0.1:{port}/metrics"
    async with aiohttp.ClientSession() as http:
        for _ in range(6000):
            async with http.get(url) as response:
                if response.status != 200:
                    return None
                text = await response.text()
            done = sum(
                float(line.rsplit(" ", 1)[1])
                for line in text.splitlines()
                if line.startswith("ritualbot_journal_handled_total{") and 'outcome="ok"' in line
            )
            if done >= expected:
                return time.perf_counter() - started
            await asyncio.sleep(0.05)
    raise SystemExit("the server never handled every stored command")


def report(name: str, requests: int, elapsed: float, latencies: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(latencies, n=100)
    rate = requests / elapsed
    print(
        f"{name:9s} {rate:8,.0f} req/s  p50 {cuts[49] * 1000:6.1f} ms  "
        f"p99 {cuts[98] * 1000:6.1f} ms  ({requests} requests)"
    )
    return rate, cuts[98]


async def measure(
    kind: str, requests: int, concurrency: int, tmp: Path
) -> tuple[float, list[float], float | None]:
    port, api_port = free_port(), free_port()
    args = [
        sys.executable,
        os.environ.get("BENCH_SERVE_SCRIPT", __file__),
        "--serve",
        kind,
        "--port",
        str(port),
        "--api-port",
        str(api_port),
    ]
    database = os.environ.get("BENCH_DATABASE_URL") or f"sqlite+aiosqlite:///{tmp / (kind + '.db')}"
    args += ["--database", database]
    server = await asyncio.create_subprocess_exec(*args, cwd=ROOT)
    try:
        await wait_until_up(port)
        started = time.perf_counter()
        elapsed, latencies = await load(port, api_port, requests, concurrency)
        handled = None
        if kind == "ours":
            handled = await handled_after(port, requests + concurrency, started)
        return elapsed, latencies, handled
    finally:
        server.terminate()
        await server.wait()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--serve", choices=["ours", "bare"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--api-port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--database", help=argparse.SUPPRESS)
    args = parser.parse_args()
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
    bare_rate, _ = report("bare bolt", args.requests, *bare[:2])
    our_rate, our_p99 = report("ritualbot", args.requests, *ours[:2])
    print(f"ratio (ritualbot / bare bolt): throughput x{our_rate / bare_rate:.2f}")
    if ours[2] is not None:
        total = args.requests + args.concurrency
        print(
            f"ritualbot handled all {total} stored commands {ours[2]:.1f} s after the first "
            f"request ({total / ours[2]:,.0f} commands/s end to end)"
        )
    target = our_rate >= 0.8 * bare_rate and our_p99 < 0.050
    print(f"target (>= 0.8 x bare throughput, p99 < 50 ms): {'met' if target else 'NOT met'}")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    asyncio.run(main())
