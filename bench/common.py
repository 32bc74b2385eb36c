"""What the acknowledgement benchmarks share: ports, the concurrent load, and the report."""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
Send = Callable[[aiohttp.ClientSession, Any], Awaitable[None]]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def wait_until_up(port: int) -> None:
    for _ in range(400):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.1):
                return
        except OSError:
            await asyncio.sleep(0.05)
    raise SystemExit(f"server on {port} never came up")


async def expect_ok(response: aiohttp.ClientResponse) -> None:
    await response.read()
    if response.status >= 300:
        raise SystemExit(f"HTTP {response.status}: {await response.text()}")


@dataclass
class Run:
    """One server's figures: every request's latency, and when all were handled."""

    requests: int
    elapsed: float
    latencies: list[float]
    handled_after: float | None = None

    @property
    def rate(self) -> float:
        return self.requests / self.elapsed

    @property
    def p99(self) -> float:
        return statistics.quantiles(self.latencies, n=100)[98]

    def line(self, name: str, unit: str) -> str:
        cuts = statistics.quantiles(self.latencies, n=100)
        return (
            f"{name:10s} {self.rate:8,.0f} {unit}/s  p50 {cuts[49] * 1000:6.1f} ms  "
            f"p99 {cuts[98] * 1000:6.1f} ms  ({self.requests} {unit})"
        )


async def load(bodies: Sequence[Any], concurrency: int, send: Send) -> Run:
    """Send ``bodies`` with ``concurrency`` requests in flight; the first ``concurrency``
    warm the connections and are not counted."""
    warm, counted = list(bodies[:concurrency]), list(bodies[concurrency:])
    queue: asyncio.Queue[Any] = asyncio.Queue()
    for body in counted:
        queue.put_nowait(body)
    latencies: list[float] = []

    async def worker(http: aiohttp.ClientSession) -> None:
        while not queue.empty():
            body = queue.get_nowait()
            started = time.perf_counter()
            await send(http, body)
            latencies.append(time.perf_counter() - started)

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as http:
        for body in warm:
            await send(http, body)
        started = time.perf_counter()
        await asyncio.gather(*(worker(http) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return Run(len(counted), elapsed, latencies)


async def handled_after(port: int, platform: str, expected: int, started: float) -> float:
    """Seconds from ``started`` until the server's /metrics say it handled ``expected``
    stored requests of ``platform``."""
    url = f"http://127.0.0.1:{port}/metrics"
    prefix = "ritualbot_journal_handled_total{"
    async with aiohttp.ClientSession() as http:
        for _ in range(12000):
            async with http.get(url) as response:
                text = await response.text()
            done = sum(
                float(line.rsplit(" ", 1)[1])
                for line in text.splitlines()
                if line.startswith(prefix)
                and f'platform="{platform}"' in line
                and 'outcome="ok"' in line
            )
            if done >= expected:
                return time.perf_counter() - started
            await asyncio.sleep(0.05)
    raise SystemExit("the server never handled every stored request")


def arguments(description: str, *ports: str) -> argparse.Namespace:
    """The benches' command line: load size, and the hidden options a server process gets."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--serve", choices=["ours", "bare"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    for port in ports:
        parser.add_argument(f"--{port}", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--database", help=argparse.SUPPRESS)
    return parser.parse_args()


def compare(bare: Run, ours: Run, *, baseline: str, unit: str, total: int) -> None:
    """Both servers' figures, their ratio, and how long ours took to handle everything."""
    print(bare.line(baseline, unit))
    print(ours.line("ritualbot", unit))
    print(f"ratio (ritualbot / {baseline}): throughput x{ours.rate / bare.rate:.2f}")
    assert ours.handled_after is not None
    print(
        f"ritualbot handled all {total} stored {unit} {ours.handled_after:.1f} s after the "
        f"first request ({total / ours.handled_after:,.0f} {unit}/s end to end)"
    )


@asynccontextmanager
async def serving(script: str, kind: str, tmp: Path, side: str) -> AsyncIterator[tuple[int, int]]:
    """Run ``script --serve kind`` in a process of its own, with its fake platform on a port
    of its own (``--side``); yields both ports once the server answers, stops it after."""
    port, side_port = free_port(), free_port()
    database = os.environ.get("BENCH_DATABASE_URL") or f"sqlite+aiosqlite:///{tmp / (kind + '.db')}"
    args = [sys.executable, script, "--serve", kind, "--port", str(port)]
    args += [f"--{side}", str(side_port), "--database", database]
    server = await asyncio.create_subprocess_exec(*args, cwd=ROOT)
    try:
        await wait_until_up(port)
        await wait_until_up(side_port)
        yield port, side_port
    finally:
        server.terminate()
        await server.wait()


async def run_ritualbot(port: int, database: str, **settings: str) -> None:
    """ritualbot itself, built from the environment exactly as `ritualbot run` builds it,
    with only ``settings`` besides the database and port (none of the machine's own)."""
    for name in list(os.environ):
        if name.startswith(("SLACK_", "MICROSOFT_", "OPENAI_", "RITUALBOT_")):
            del os.environ[name]
    os.environ.update(DATABASE_URL=database, HOST="127.0.0.1", PORT=str(port), **settings)
    from bot.app import run
    from bot.settings import load_settings

    await run(load_settings(), console=False)
