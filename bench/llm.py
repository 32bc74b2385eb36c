"""Written-summary benchmark: the overhead of the model's summary outside the model call.

For stand-ups of 10, 100 and 1,000 answers (one person's answers each), queues a plain
summary and its written-version request, then times the sweep that writes it against a fake
OpenAI-compatible server on 127.0.0.1 answering at once: claiming, redacting, chunking
over the token budget, validating, rendering and queueing the update in place. The model
call on the wire (the bot's own ``ritualbot_llm_seconds``) is subtracted; what is left,
redaction and validation included, is the overhead the bot adds, reported per answer and as
a ratio to the model call. Run:
`.venv/bin/python bench/llm.py [--sizes 10,100,1000] [--rounds 3] [--postgres DSN]`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from aiohttp import web
from prometheus_client import REGISTRY
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.fanout import fresh_databases
from bot.kinds import registry
from bot.logging import configure_logging
from rituals import outbound
from rituals.clock import FakeClock
from rituals.identity import Actor, Place
from rituals.llm import summaries
from rituals.llm.model import Model, ModelConfig
from rituals.llm.models import WrittenSummary
from rituals.router import Rituals
from rituals.runtime import Runtime
from rituals.standup import written
from rituals.standup.summary import OpenBlocker, PersonAnswers, StandupDigest, summary_message
from rituals.where import where_of
from storage.db import Database
from storage.models import Channel

START = datetime(2030, 1, 7, 17, 0, tzinfo=UTC)
PLACE = Place("C-bench", "bench")
LEAD = Actor("bench", "W", "lead", "Lead", "UTC")
PURPOSES = ("standup", "standup_part", "standup_merge")


def digest(size: int) -> StandupDigest:
    people = [
        PersonAnswers(
            f"Person {n:04d}",
            [
                (
                    "What did you get done since the last stand-up?",
                    f"Finished step {n} of the feature pipeline, see https://ci.example.com/{n}",
                ),
                ("What will you work on today?", f"Evaluate ranker variant {n} on the holdout"),
                ("Anything blocking you?", "none" if n % 7 else f"waiting on data@example.com {n}"),
            ],
        )
        for n in range(size)
    ]
    blockers = [
        OpenBlocker(n, f"Person {n:04d}", "waiting on data", 1, None) for n in range(0, size, 7)
    ]
    return StandupDigest("bench", date(2030, 1, 7), people, [], [], blockers)


async def fake_model(request: web.Request) -> web.Response:
    """Answers at once: names whom each part mentions, merges by keeping the points."""
    body = await request.json()
    seen = json.loads(body["messages"][-1]["content"])
    if "partial_summaries" in seen:
        points = [p for part in seen["partial_summaries"] for p in part["points"]][:8]
        out: dict[str, Any] = {"headline": "merged", "points": points}
    else:
        names = [p["name"] for p in seen["people"]]
        out = {"headline": "part", "points": [{"text": "pipeline moved", "who": names[:3]}]}
    return web.json_response(
        {
            "id": "x",
            "object": "chat.completion",
            "created": 0,
            "model": "fake",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": json.dumps(out)},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120},
        }
    )


def model_seconds() -> tuple[float, float]:
    total = calls = 0.0
    for purpose in PURPOSES:
        total += REGISTRY.get_sample_value("ritualbot_llm_seconds_sum", {"purpose": purpose}) or 0
        calls += REGISTRY.get_sample_value("ritualbot_llm_seconds_count", {"purpose": purpose}) or 0
    return total, calls


async def one(url: str, base_url: str, size: int) -> tuple[float, float, int, str]:
    db = Database(url)
    await db.upgrade()
    model = Model(ModelConfig(api_key="sk-bench", base_url=base_url, timeout=30)).warm()
    rt = Runtime(db=db, clock=FakeClock(START), llm=model)
    rituals = Rituals(rt, registry())
    await rituals.command(LEAD, PLACE, "help")
    found = digest(size)
    async with db.session() as session:
        channel = (await session.execute(select(Channel))).scalar_one()
        where = await where_of(session, channel.id)
        outbox_id = await outbound.queue(
            session, where.post(), summaries.pending(summary_message(found, "x", full=False)), START
        )
        assert outbox_id is not None
        await summaries.request(
            session,
            "standup",
            workspace_id=channel.workspace_id,
            channel_id=channel.id,
            outbox_id=outbox_id,
            material=written.material(found),
            now=START,
        )
    before, calls_before = model_seconds()
    started = time.perf_counter()
    done = await summaries.sweep(rt)
    total = time.perf_counter() - started
    after, calls_after = model_seconds()
    async with db.session() as session:
        row = (await session.execute(select(WrittenSummary))).scalar_one()
        status = row.status
    await model.close()
    await db.dispose()
    assert done == 1
    return total, after - before, int(calls_after - calls_before), status


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,1000")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--postgres",
        metavar="DSN",
        help="run on PostgreSQL, e.g. postgresql://postgres@127.0.0.1:5432/test",
    )
    args = parser.parse_args()
    configure_logging("WARNING", "console")
    app = web.Application()
    app.router.add_post("/v1/chat/completions", fake_model)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    base_url = f"http://127.0.0.1:{port}/v1"
    print(f"database: {'PostgreSQL' if args.postgres else 'SQLite'}, rounds: {args.rounds}")
    try:
        for size in (int(s) for s in args.sizes.split(",")):
            runs = []
            for _ in range(args.rounds):
                async with fresh_databases(args.postgres) as urls:
                    runs.append(await one(urls[0], base_url, size))
            total = statistics.median(r[0] for r in runs)
            inside = statistics.median(r[1] for r in runs)
            overhead = total - inside
            calls, status = runs[0][2], runs[0][3]
            print(
                f"answers={size} calls={calls} status={status} total={total * 1000:.1f} ms "
                f"model={inside * 1000:.1f} ms overhead={overhead * 1000:.1f} ms "
                f"per answer={overhead / size * 1e6:.0f} us "
                f"ratio (overhead / model call) x{overhead / inside:.2f}"
            )
    finally:
        await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(main())
