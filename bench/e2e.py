"""End-to-end Slack benchmark: from the first signed request until the last reply arrived.

The acknowledgement benchmarks stop at the door; people wait for the reply. This one runs a
fake Slack Web API in this process, so it sees every reply arrive, and ritualbot (or a bare
slack-bolt app) in a process of its own pointed at it. It reports:

- the bare bolt app's acknowledgement rate for the same signed commands (its ceiling);
- ritualbot's end-to-end rate for read-only commands (`/standup status`) and writing ones
  (`/standup away until ...` and `back`), from 50 people of a channel whose stand-up is set
  up with them in it: commands over the time from the first request until the last
  reply arrived, at its `response_url` or, for a command that only reads, inside the
  acknowledgement itself (the bare app's acknowledgement carries no reply);
- a stand-up burst: `standup now` asks every member of a large channel, and each answers its
  three questions as `message.im` events a second after each question arrives; p50 and p99
  from an answer's acknowledgement to the next question's (or the closing thanks') arrival.

Each runs on SQLite and, when PostgreSQL answers at BENCH_PG_DSN (default the machine's), on a
fresh PostgreSQL database.

Run: `.venv/bin/python bench/e2e.py [--requests N] [--concurrency C] [--members M]
[--scenarios status,writes,burst] [--databases sqlite,postgresql] [--workers N]`, where
``--workers`` is ritualbot's RITUALBOT_WORKERS on PostgreSQL; BENCH_PROFILE=FILE leaves
ritualbot's CPU profile in FILE.PID.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import expect_ok, free_port, load, run_ritualbot, wait_until_up  # noqa: E402
from bench.slack_ack import SECRET, serve_bare  # noqa: E402

QUESTION = re.compile(r"question (\d+) of (\d+)")
COMMANDS: dict[str, tuple[str, str | list[str]]] = {
    "status": ("standup status", "status"),
    # Personal writes with a private reply; join and leave announce themselves in the channel,
    # which Slack lets a bot do about once a second, so their pace would be Slack's.
    "writes": ("away/back", ["away until 2030-08-15", "back"]),
}
# The people of channel C1, whose stand-up the read and write scenarios use.
PEOPLE = 50
# The large channel of the stand-up burst, a stand-up of its own.
BURST = "C2"
# A person takes a moment to read a question and type the answer; without it the bench would
# measure Slack's pace of about one message a second per conversation, which we keep to.
THINK = 1.0
PG_DSN = os.environ.get("BENCH_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")
# How many of the last run's replies came inside the acknowledgement.
INLINE = {"share": 0.0}


@dataclass
class FakeSlack:
    """The Web API both apps talk to; it notes when each reply arrives, and for whom: at
    ``response_url`` or in the channel (``responses``), or as a direct message."""

    members: dict[str, list[str]] = field(default_factory=dict)
    responses: list[float] = field(default_factory=list)
    direct: dict[str, list[tuple[float, str]]] = field(default_factory=lambda: defaultdict(list))
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    on_direct: Any = None

    async def api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        body = await _params(request)
        if method == "auth.test":
            return web.json_response({"ok": True, "team_id": "T1", "user_id": "UBOT"})
        if method == "users.info":
            user = body.get("user") or request.query.get("user", "U0")
            profile = {"id": user, "name": user, "real_name": user, "tz": "UTC", "profile": {}}
            return web.json_response({"ok": True, "user": profile})
        if method == "conversations.members":
            cursor = int(body.get("cursor") or request.query.get("cursor") or 0)
            members = self.members.get(body.get("channel") or request.query.get("channel"), [])
            page = members[cursor : cursor + 200]
            more = str(cursor + 200) if cursor + 200 < len(members) else ""
            return web.json_response(
                {"ok": True, "members": page, "response_metadata": {"next_cursor": more}}
            )
        if method == "chat.postMessage":
            channel = str(body.get("channel", ""))
            if channel.startswith("U"):
                self.direct[channel].append((time.perf_counter(), str(body.get("text", ""))))
                self.arrived.set()
                if self.on_direct is not None:
                    self.on_direct(channel, str(body.get("text", "")))
            else:  # a public reply goes to the channel
                self.responses.append(time.perf_counter())
                self.arrived.set()
            return web.json_response({"ok": True, "channel": channel, "ts": f"{time.time():.6f}"})
        return web.json_response({"ok": True, "channel": "C1", "ts": "1.1", "message_ts": "1.1"})

    async def respond(self, _request: web.Request) -> web.Response:
        self.responses.append(time.perf_counter())
        self.arrived.set()
        return web.Response(text="ok")

    async def until(self, done: Any, limit: float = 600.0) -> None:
        deadline = time.perf_counter() + limit
        while not done():
            self.arrived.clear()
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                raise SystemExit("the replies never all arrived")
            with suppress(TimeoutError):
                await asyncio.wait_for(self.arrived.wait(), min(remaining, 1.0))


async def _params(request: web.Request) -> dict[str, Any]:
    if request.content_type == "application/json":
        data = await request.json()
        return data if isinstance(data, dict) else {}
    form = parse_qs(await request.text())
    return {key: values[-1] for key, values in form.items()}


@asynccontextmanager
async def fake_slack(fake: FakeSlack) -> AsyncIterator[int]:
    app = web.Application()
    app.router.add_route("*", "/api/{method}", fake.api)
    app.router.add_post("/respond", fake.respond)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield port
    finally:
        await runner.cleanup()


def cpu_seconds(pid: int) -> float:
    """CPU time a process and its workers have used so far (Linux): steadier than wall time
    on a busy machine."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    used = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    for task in Path(f"/proc/{pid}/task").iterdir():
        with suppress(OSError):
            for child in (task / "children").read_text().split():
                with suppress(OSError):
                    used += cpu_seconds(int(child))
    return used


async def all_workers_up(port: int, workers: int) -> None:
    """Until each of ``workers`` answers on the port: connections made before one is up would
    all stay with the others."""
    seen: set[int] = set()
    for _ in range(600):
        connector = aiohttp.TCPConnector(force_close=True)
        async with aiohttp.ClientSession(connector=connector) as http:
            for _ in range(8):
                async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                    seen.add((await response.json()).get("worker", 0))
        if len(seen) >= workers:
            return
        await asyncio.sleep(0.1)
    raise SystemExit(f"only workers {sorted(seen)} of {workers} came up")


CPU: dict[str, int] = {}
# ritualbot's RITUALBOT_WORKERS on PostgreSQL (SQLite always runs one).
WORKERS = {"postgresql": 1}


@asynccontextmanager
async def server(kind: str, api_port: int, database: str) -> AsyncIterator[str]:
    """ritualbot or the bare app in a process of its own; yields its events URL."""
    port = free_port()
    workers = WORKERS["postgresql"] if kind == "ours" and "postgresql" in database else 1
    args = [sys.executable, __file__, "--serve", kind, "--port", str(port)]
    args += ["--api-port", str(api_port), "--database", database or "none"]
    args += ["--workers", str(workers)]
    process = await asyncio.create_subprocess_exec(*args, cwd=ROOT)
    try:
        await wait_until_up(port)
        if workers > 1:
            await all_workers_up(port, workers)
        CPU["pid"] = process.pid
        path = "/api/messages" if kind.startswith("teams") else "/slack/events"
        yield f"http://127.0.0.1:{port}{path}"
    finally:
        process.terminate()
        await process.wait()


def signed(body: str, content_type: str) -> dict[str, str]:
    from tests.handlers.slack.signing import headers

    return headers(body, content_type, secret=SECRET)


def commands(
    text: str | list[str], count: int, api_port: int, people: int = PEOPLE, channel: str = "C1"
) -> list[str]:
    """``count`` commands from ``people`` in turn; with several texts each person goes
    through them in order (away, then back), so every command changes something."""
    from tests.handlers.slack.signing import slash

    texts = [text] if isinstance(text, str) else text
    return [
        slash(
            "/standup",
            texts[(n // people) % len(texts)],
            user=f"U{n % people:04d}",
            channel=channel,
            response_url=f"http://127.0.0.1:{api_port}/respond",
        )
        for n in range(count)
    ]


async def post(
    http: aiohttp.ClientSession,
    url: str,
    body: str,
    content_type: str,
    inline: list[float] | None = None,
) -> None:
    """Send one signed request; a reply that came in the acknowledgement itself (a command
    that only reads) is noted in ``inline`` when it arrived."""
    async with http.post(url, data=body, headers=signed(body, content_type)) as response:
        await expect_ok(response)
        answered = response.content_type == "application/json" and "text" in await response.json()
        if inline is not None and answered:
            inline.append(time.perf_counter())


async def acknowledged(url: str, bodies: list[str], concurrency: int) -> float:
    """The bare app's acknowledgement rate for ``bodies``."""
    form = "application/x-www-form-urlencoded"
    run = await load(bodies, concurrency, lambda http, body: post(http, url, body, form))
    return run.rate


async def with_standup(fake: FakeSlack, url: str, api_port: int) -> None:
    """Channel C1's stand-up, set up by its lead with the channel's people in it, as the
    commands measured find it in use."""
    fake.members["C1"] = [f"U{n:04d}" for n in range(PEOPLE)]
    form = "application/x-www-form-urlencoded"
    # Asked by each person in turn, so no ask waits in the journal behind the one before.
    asks = commands("status", PEOPLE, api_port)[1:]
    journaled = 0  # asks answered later through response_url, to wait for
    async with aiohttp.ClientSession() as http:
        await post(http, url, commands("setup at 09:30 tz UTC", 1, api_port)[0], form)
        for status in asks:
            await asyncio.sleep(0.2)
            async with http.post(url, data=status, headers=signed(status, form)) as response:
                answer = await response.text()
            if f"U{PEOPLE - 1:04d}" in answer:
                break
            journaled += not answer
        else:
            raise SystemExit("the stand-up of the measured commands was never set up")
        await fake.until(lambda: len(fake.responses) >= journaled)
    fake.responses.clear()


async def end_to_end(
    fake: FakeSlack, url: str, bodies: list[str], concurrency: int
) -> tuple[float, float, float]:
    """Commands per second from the first request until the last reply arrived, the
    acknowledgement rate on the way, and the server's CPU milliseconds per command."""
    form = "application/x-www-form-urlencoded"
    inline: list[float] = []
    async with aiohttp.ClientSession() as http:  # one command to warm every path
        await post(http, url, bodies[0], form, inline)
    await fake.until(lambda: len(fake.responses) + len(inline) >= 1)
    fake.responses.clear()
    inline.clear()
    counted = bodies[1:]
    cpu = cpu_seconds(CPU["pid"])
    started = time.perf_counter()
    run = await load(counted, concurrency, lambda h, b: post(h, url, b, form, inline))
    await fake.until(lambda: len(fake.responses) + len(inline) >= len(counted))
    last = max(fake.responses + inline)
    per_command = (cpu_seconds(CPU["pid"]) - cpu) * 1000 / len(counted)
    INLINE["share"] = len(inline) / len(counted)
    return len(counted) / (last - started), run.rate, per_command


async def burst(fake: FakeSlack, url: str, members: int, concurrency: int) -> list[float]:
    """Every member answers three questions as soon as each arrives; the delays from each
    answer's acknowledgement to the bot's next direct message."""
    from tests.handlers.slack.signing import event

    fake.members[BURST] = [f"U{n:05d}" for n in range(members)]
    form = "application/x-www-form-urlencoded"
    acked: dict[str, float] = {}
    delays: list[float] = []
    finished: set[str] = set()
    gate = asyncio.Semaphore(concurrency)
    sent = 0
    tasks: set[asyncio.Task[None]] = set()

    async def answer(http: aiohttp.ClientSession, user: str, index: int) -> None:
        nonlocal sent
        sent += 1
        ts = f"{1_800_000_000 + sent}.000100"
        payload = {
            "type": "message",
            "channel": "D" + user[1:],
            "channel_type": "im",
            "user": user,
            "text": f"answer {index} from {user}",
            "ts": ts,
            "event_ts": ts,
        }
        body = event(payload, event_id=f"Ev{user}{index}")
        async with gate:
            await post(http, url, body, "application/json")
        acked[user] = time.perf_counter()

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as http:

        def on_direct(user: str, text: str) -> None:
            arrived = time.perf_counter()
            if user in acked:
                delays.append(arrived - acked.pop(user))
            asked = QUESTION.search(text)
            if asked is None:
                finished.add(user)
                return
            task = asyncio.create_task(later(THINK, answer(http, user, int(asked.group(1)))))
            tasks.add(task)
            task.add_done_callback(tasks.discard)

        fake.on_direct = on_direct
        lead = commands("setup at 09:30 tz UTC", 1, 0, people=1, channel=BURST)[0]
        await post(http, url, lead, form)
        await post(http, url, commands("now", 1, 0, people=1, channel=BURST)[0], form)
        await fake.until(lambda: len(finished) >= members, limit=900)
        fake.on_direct = None
    return delays


def memory_kib(pid: int) -> tuple[int, int]:
    """A process's resident memory now and at its peak (Linux), in KiB."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


async def backlog(fake: FakeSlack, api_port: int, database: str, count: int, watch: float) -> str:
    """Fill the journal with ``count`` stored `/standup status` commands, as the door would
    have stored them during an outage of the worker, then start ritualbot on it and watch its
    memory for ``watch`` seconds while it works through them."""
    from handlers.slack.door import examine
    from storage import journal
    from storage.db import Database

    db = Database(database)
    await db.upgrade()
    form = "application/x-www-form-urlencoded"
    arrivals = [
        examine(body, form, opens_form=frozenset()).arrival
        for body in commands("status", count, api_port)
    ]
    now = datetime.now(UTC)
    for start in range(0, count, 5000):
        async with db.session() as session:
            await journal.append(session, list(filter(None, arrivals[start : start + 5000])), now)
    await db.dispose()
    del arrivals
    fake.responses.clear()
    async with server("ours", api_port, database):
        pid = CPU["pid"]
        first, peak = memory_kib(pid)
        started = time.perf_counter()
        while time.perf_counter() - started < watch:
            await asyncio.sleep(0.5)
            _, peak = memory_kib(pid)
        handled = len(fake.responses)
    return (
        f"resident {first / 1024:,.0f} MiB once up, peak {peak / 1024:,.0f} MiB after "
        f"{watch:.0f} s and {handled:,} of {count:,} replies"
    )


async def later(delay: float, step: Any) -> None:
    await asyncio.sleep(delay)
    await step


@dataclass
class FakeConnector:
    """The Bot Connector both Teams bots reply through; it notes when each reply arrives."""

    replies: list[float] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def create(self, request: web.Request) -> web.Response:
        body = await request.json()
        return web.json_response({"id": f"a:1on1-{body['members'][0]['id']}"}, status=201)

    async def post(self, _request: web.Request) -> web.Response:
        self.replies.append(time.perf_counter())
        self.arrived.set()
        return web.json_response({"id": str(len(self.replies))}, status=201)

    async def until(self, count: int, limit: float = 600.0) -> None:
        deadline = time.perf_counter() + limit
        while len(self.replies) < count:
            self.arrived.clear()
            if time.perf_counter() > deadline:
                raise SystemExit("the Teams replies never all arrived")
            with suppress(TimeoutError):
                await asyncio.wait_for(self.arrived.wait(), 1.0)


@asynccontextmanager
async def fake_connector(fake: FakeConnector) -> AsyncIterator[int]:
    app = web.Application()
    app.router.add_post("/v3/conversations", fake.create)
    app.router.add_post("/v3/conversations/{conversation}/activities", fake.post)
    app.router.add_post("/v3/conversations/{conversation}/activities/{reply}", fake.post)
    app.router.add_put("/v3/conversations/{conversation}/activities/{activity}", fake.post)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield port
    finally:
        await runner.cleanup()


def activities(count: int, connector_port: int, text: str) -> list[dict[str, Any]]:
    """``@ritualbot standup TEXT`` in one channel from 50 people, as Teams posts them."""
    from bench.teams_ack import activity

    service_url = f"http://127.0.0.1:{connector_port}/"
    found = []
    for n in range(count):
        body = activity(n, service_url)
        body["text"] = f"<at>ritualbot</at> standup {text}"
        found.append(body)
    return found


async def teams(database: str, count: int, concurrency: int) -> tuple[float, float, float]:
    """The bare echo bot's replies per second, and ours end to end (first activity until the
    connector received the last reply) with the server's CPU per activity."""
    fake = FakeConnector()
    async with fake_connector(fake) as port:

        async def send(http: aiohttp.ClientSession, body: dict[str, Any]) -> None:
            async with http.post(url, json=body) as response:
                await expect_ok(response)

        bodies = activities(count + 1, port, "status")
        figures = []
        for kind in ("teams-bare", "teams-ours"):
            async with server(kind, port, database if kind == "teams-ours" else "") as url:
                async with aiohttp.ClientSession() as http:
                    await send(http, bodies[0])
                await fake.until(1)
                fake.replies.clear()
                cpu = cpu_seconds(CPU["pid"])
                started = time.perf_counter()
                await load(bodies[1:], concurrency, send)
                await fake.until(count)
                figures.append(count / (max(fake.replies) - started))
                used = (cpu_seconds(CPU["pid"]) - cpu) * 1000 / count
                fake.replies.clear()
        return figures[0], figures[1], used


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]


async def databases(tmp: Path, which: set[str]) -> AsyncIterator[tuple[str, str]]:
    if "sqlite" in which:
        yield "SQLite", f"sqlite+aiosqlite:///{tmp / 'e2e.db'}"
    if "postgresql" not in which:
        return
    try:
        import asyncpg

        admin = await asyncpg.connect(PG_DSN, timeout=5)
    except (OSError, TimeoutError) as exc:
        print(f"(PostgreSQL not reachable at {PG_DSN}: {exc}; measured on SQLite only)")
        return
    name = f"ritualbot_bench_e2e_{os.getpid()}"
    base = PG_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        workers = WORKERS["postgresql"]
        yield (
            ("PostgreSQL" if workers == 1 else f"PostgreSQL ({workers} workers)"),
            f"{base}/{name}",
        )
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def measure(args: argparse.Namespace) -> None:
    n, c = args.requests + args.concurrency + 1, args.concurrency
    with tempfile.TemporaryDirectory() as tmp:
        fake = FakeSlack()
        async with fake_slack(fake) as api_port:
            async with server("bare", api_port, "") as url:
                bare = await acknowledged(url, commands("status", n, api_port), c)
            print(
                f"bare slack-bolt app, acknowledgements: {bare:,.0f} commands/s (concurrency {c})"
            )
            index = 0
            async for name, database in databases(Path(tmp), set(args.databases.split(","))):
                index += 1
                db = database.replace("e2e.db", f"e2e{index}.db")
                prepared = False
                for scenario in args.scenarios.split(","):
                    if scenario not in COMMANDS:
                        continue
                    label, text = COMMANDS[scenario]
                    async with server("ours", api_port, db) as url:
                        if not prepared:
                            await with_standup(fake, url, api_port)
                            prepared = True
                        rate, ack, cpu = await end_to_end(fake, url, commands(text, n, api_port), c)
                    print(
                        f"{name:10s} {label:15s} end to end {rate:7,.0f} commands/s "
                        f"(x{rate / bare:.2f} of bare acks; ours acked {ack:,.0f}/s; "
                        f"{cpu:.2f} ms CPU per command; {INLINE['share']:.0%} answered in the "
                        "acknowledgement)"
                    )
                    fake.responses.clear()
                if "burst" not in args.scenarios:
                    continue
                async with server("ours", api_port, db) as url:
                    cpu = cpu_seconds(CPU["pid"])
                    delays = await burst(fake, url, args.members, c)
                    used = (cpu_seconds(CPU["pid"]) - cpu) * 1000 / max(1, len(delays))
                print(
                    f"{name:10s} burst of {args.members} x 3 answers: answer ack -> next DM "
                    f"p50 {percentile(delays, 50) * 1000:,.0f} ms, "
                    f"p99 {percentile(delays, 99) * 1000:,.0f} ms ({len(delays)} answers; "
                    f"{used:.2f} ms CPU per answer with its direct message)"
                )
                fake.direct.clear()
            if "teams" in args.scenarios:
                database = f"sqlite+aiosqlite:///{Path(tmp) / 'teams.db'}"
                bare_teams, ours, cpu = await teams(database, args.requests, c)
                print(
                    f"Teams      bare CloudAdapter echo {bare_teams:,.0f} replies/s; ritualbot "
                    f"standup status end to end {ours:,.0f}/s (x{ours / bare_teams:.2f}; "
                    f"{cpu:.2f} ms CPU per activity), SQLite"
                )
            if "backlog" in args.scenarios:
                which = set(args.databases.split(","))
                if "sqlite" in which:
                    database = f"sqlite+aiosqlite:///{Path(tmp) / 'idle.db'}"
                    async with server("ours", api_port, database):
                        idle = memory_kib(CPU["pid"])[1]
                    print(f"SQLite     idle ritualbot: peak resident {idle / 1024:,.0f} MiB")
                async for name, database in databases(Path(tmp), which):
                    figures = await backlog(fake, api_port, database, args.backlog, args.watch)
                    print(f"{name:10s} backlog of {args.backlog:,} stored requests: {figures}")


async def serve_teams(args: argparse.Namespace) -> None:
    from bench.teams_ack import serve_bare as teams_bare
    from bench.teams_ack import serve_ours as teams_ours

    if args.serve == "teams-bare":
        await teams_bare(args.port)
    else:
        await teams_ours(args.port, args.database)


async def serve(args: argparse.Namespace) -> None:
    """One server; with BENCH_PROFILE=FILE set, ritualbot's CPU profile lands in FILE when
    it is stopped."""
    profile = os.environ.get("BENCH_PROFILE")
    if profile and args.serve in ("ours", "teams-ours"):
        import atexit
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
        atexit.register(lambda: profiler.dump_stats(f"{profile}.{os.getpid()}"))
    if args.serve.startswith("teams"):
        await serve_teams(args)
        return
    api = f"http://127.0.0.1:{args.api_port}/api/"
    if args.serve == "bare":
        await serve_bare(args.port, api)
        return
    await run_ritualbot(
        args.port,
        args.database,
        SLACK_BOT_TOKEN="xoxb-bench",
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=api,
        RITUALBOT_LOG_LEVEL="WARNING",
        RITUALBOT_WORKERS=str(args.workers),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--scenarios", default="status,writes,burst,teams,backlog")
    parser.add_argument("--backlog", type=int, default=100_000)
    parser.add_argument("--watch", type=float, default=30.0)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument(
        "--workers", type=int, default=1, help="ritualbot's RITUALBOT_WORKERS on PostgreSQL"
    )
    servers = ["ours", "bare", "teams-ours", "teams-bare"]
    parser.add_argument("--serve", choices=servers, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--api-port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--database", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not args.serve:
        WORKERS["postgresql"] = args.workers
    asyncio.run(serve(args) if args.serve else measure(args))


if __name__ == "__main__":
    main()
