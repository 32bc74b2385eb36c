"""Crash benchmark: kill -9 during a burst of stand-up answers, restart, count what survived.

A stand-up of 50 people starts; each answers its three questions by signed `message.im`
events while the server process is killed with SIGKILL a few times mid-burst and started
again on the same database (requests that meet a dead server are sent again, as Slack does);
each kill comes once what was acknowledged before the previous one is stored.
Reports, for answers Slack got a 200 for: acknowledged, stored, lost, stored twice, filed
under the wrong question, and the longest delay from acknowledgement to the stored answer.
Target: 0 lost, delay under 10 s. Run: `.venv/bin/python bench/crash.py [--people N]
[--kills K] [--postgres DSN]`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
from aiohttp import web
from sqlalchemy import select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import free_port, run_ritualbot, wait_until_up  # noqa: E402
from bench.fanout import fresh_databases  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.models import Answer, Response  # noqa: E402
from tests.handlers.slack.signing import headers  # noqa: E402

SECRET = "bench-secret"
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


def users(people: int) -> list[str]:
    return [f"U{n:04d}" for n in range(people)]


async def fake_slack(port: int, people: int) -> web.AppRunner:
    """auth.test, users.info, the channel's members, and every chat call accepted."""

    async def answer(request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if method == "auth.test":
            return web.json_response(
                {"ok": True, "team_id": "T1", "user_id": "UBOT", "bot_id": "B"}
            )
        if method == "users.info":
            user = (await request.post()).get("user") or request.query.get("user", "U0")
            return web.json_response(
                {"ok": True, "user": {"id": user, "name": user, "tz": "UTC", "profile": {}}}
            )
        if method == "conversations.members":
            return web.json_response(
                {"ok": True, "members": users(people), "response_metadata": {"next_cursor": ""}}
            )
        if method == "conversations.open":
            return web.json_response({"ok": True, "channel": {"id": "D1"}})
        return web.json_response({"ok": True, "channel": "C1", "ts": "1.1", "message_ts": "1.1"})

    app = web.Application()
    app.router.add_route("*", "/api/{method}", answer)
    app.router.add_post("/respond", lambda _r: web.Response(text="ok"))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner


def slash(user: str, text: str, trigger: str, api_port: int) -> str:
    return urlencode(
        {
            "command": "/standup",
            "text": text,
            "user_id": user,
            "user_name": user,
            "team_id": "T1",
            "channel_id": "C1",
            "channel_name": "ml",
            "trigger_id": trigger,
            "response_url": f"http://127.0.0.1:{api_port}/respond",
        }
    )


def dm(user: str, text: str, n: int) -> str:
    ts = f"1700000000.{n:06d}"
    return json.dumps(
        {
            "token": "legacy",
            "team_id": "T1",
            "api_app_id": "A1",
            "type": "event_callback",
            "event_id": f"Ev{n:06d}",
            "event_time": int(time.time()),
            "event": {
                "type": "message",
                "channel": "D" + user,
                "channel_type": "im",
                "user": user,
                "text": text,
                "ts": ts,
                "event_ts": ts,
            },
        }
    )


class Server:
    """ritualbot in a process of its own, killed with SIGKILL and started again at will."""

    def __init__(self, port: int, api_port: int, database: str) -> None:
        self.port, self.api_port, self.database = port, api_port, database
        self.proc: asyncio.subprocess.Process | None = None
        self.starts: list[float] = []

    async def start(self) -> None:
        began = time.perf_counter()
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            __file__,
            "--serve",
            "--port",
            str(self.port),
            "--api-port",
            str(self.api_port),
            "--database",
            self.database,
            cwd=ROOT,
        )
        await wait_until_up(self.port)
        self.starts.append(time.perf_counter() - began)

    async def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        await self.proc.wait()

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.terminate()
            await self.proc.wait()


async def post(http: aiohttp.ClientSession, port: int, body: str, kind: str) -> float:
    """Send until the server acknowledges (as Slack retries); the instant of the 200."""
    url = f"http://127.0.0.1:{port}/slack/events"
    while True:
        try:
            async with http.post(url, data=body, headers=headers(body, kind, secret=SECRET)) as r:
                await r.read()
                if r.status == 200:
                    return time.perf_counter()
        except (aiohttp.ClientError, OSError):
            pass
        await asyncio.sleep(0.05)


async def stored(db: Database) -> list[tuple[str, int]]:
    async with db.session() as session:
        rows = await session.execute(
            select(Answer.text, Answer.question_index).join(
                Response, Response.id == Answer.response_id
            )
        )
        return [(text, index) for text, index in rows.tuples()]


async def run(database: str, people: int, kills: int) -> None:
    port, api_port = free_port(), free_port()
    slack = await fake_slack(api_port, people)
    server = Server(port, api_port, database)
    db = Database(database)
    acked: dict[str, float] = {}
    try:
        await server.start()
        async with aiohttp.ClientSession() as http:
            await post(http, port, slash("ULEAD", "setup at 09:30 tz UTC", "t0", api_port), FORM)
            await post(http, port, slash("ULEAD", "now", "t1", api_port), FORM)
            asked = 0
            for _ in range(400):
                async with db.session() as session:
                    asked = len(list((await session.execute(select(Response.id))).scalars()))
                if asked >= people:
                    break
                await asyncio.sleep(0.05)
            texts = {u: [f"{u} answer {q}" for q in range(3)] for u in users(people)}
            total = people * 3
            counter = iter(range(1, 10**6))

            async def person(user: str) -> None:
                for text in texts[user]:
                    acked[text] = await post(http, port, dm(user, text, next(counter)), JSON)

            async def killer() -> None:
                """Each kill meets a server that had recovered from the last: everything
                acknowledged before a kill is stored before the next one."""
                for k in range(kills):
                    while len(acked) < total * (k + 1) / (kills + 1):  # noqa: ASYNC110
                        await asyncio.sleep(0.01)
                    before = set(acked)
                    await server.kill()
                    await server.start()
                    while not before <= {text for text, _ in await stored(db)}:  # noqa: ASYNC110
                        await asyncio.sleep(0.05)

            seen: dict[str, float] = {}
            burst_over = asyncio.Event()

            async def watcher() -> None:
                """When each answer first shows up in the database, during the burst too."""
                deadline = time.perf_counter() + 300
                while time.perf_counter() < deadline:
                    now = time.perf_counter()
                    for text, _ in await stored(db):
                        seen.setdefault(text, now)
                    if burst_over.is_set() and len(seen) >= len(acked):
                        return
                    await asyncio.sleep(0.05)

            watching = asyncio.create_task(watcher())
            started = time.perf_counter()
            await asyncio.gather(*(person(u) for u in users(people)), killer())
            burst_over.set()
            await watching
        rows = await stored(db)
        counts = Counter(text for text, _ in rows)
        wrong = sum(1 for text, index in rows if not text.endswith(f" {index}"))
        lost = [t for t in acked if t not in counts]
        delays = sorted((seen[t] - acked[t], t) for t in acked if t in seen)
        delay = delays[-1][0] if delays else 0.0
        if os.environ.get("BENCH_VERBOSE"):
            print("slowest:", [(round(d, 2), t) for d, t in delays[-5:]])
        print(
            f"people={people} kills={kills} acknowledged={len(acked)} stored={len(counts)} "
            f"lost={len(lost)} duplicated={sum(1 for n in counts.values() if n > 1)} "
            f"wrong_question={wrong} longest_ack_to_stored={delay:.2f}s "
            f"burst={time.perf_counter() - started:.1f}s "
            f"restart={max(server.starts[1:], default=0.0):.1f}s"
        )
        print(f"target (0 lost, delay < 10 s): {'met' if not lost and delay < 10 else 'NOT met'}")
    finally:
        await server.stop()
        await db.dispose()
        await slack.cleanup()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=50)
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--postgres", metavar="DSN", help="an admin DSN to make a database on")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--api-port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--database", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        await run_ritualbot(
            args.port,
            args.database,
            SLACK_BOT_TOKEN="xoxb-bench",
            SLACK_SIGNING_SECRET=SECRET,
            SLACK_API_URL=f"http://127.0.0.1:{args.api_port}/api/",
            RITUALBOT_LOG_LEVEL="ERROR",
        )
        return
    print(f"database: {'PostgreSQL' if args.postgres else 'SQLite'}")
    if args.postgres:
        async with fresh_databases(args.postgres) as urls:
            await run(urls[0], args.people, args.kills)
        return
    with tempfile.TemporaryDirectory() as tmp:
        await run(f"sqlite+aiosqlite:///{Path(tmp) / 'crash.db'}", args.people, args.kills)


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
