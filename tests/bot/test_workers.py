"""`ritualbot run` with RITUALBOT_WORKERS: several processes on one port and one PostgreSQL
database, started, kept and stopped by the first."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import func, select

from storage.db import Database
from storage.models import Participant
from tests.bot.test_cli import RITUALBOT, clean_env, free_port, run
from tests.handlers.slack.fake_slack import FakeSlack
from tests.handlers.slack.signing import SECRET, headers, slash

FORM = "application/x-www-form-urlencoded"
PEOPLE = 24


async def workers_answering(port: int, *, want: set[int], limit: float = 60.0) -> set[int]:
    """Which workers answer health checks, each on a connection of its own, until ``want``
    have (the kernel gives each new connection to one of the processes)."""
    seen: set[int] = set()
    deadline = asyncio.get_running_loop().time() + limit
    while not want <= seen:
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"only workers {sorted(seen)} answered, wanted {sorted(want)}")
        connector = aiohttp.TCPConnector(force_close=True)
        async with aiohttp.ClientSession(connector=connector) as http:
            for _ in range(8):
                try:
                    async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                        seen.add((await response.json())["worker"])
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.1)
    return seen


def worker_pids(parent: int) -> list[int]:
    """The worker processes `ritualbot run` started (not multiprocessing's helper)."""
    found = []
    for task in Path(f"/proc/{parent}/task").iterdir():
        for child in (task / "children").read_text().split():
            command = Path(f"/proc/{child}/cmdline").read_bytes()
            if b"spawn_main" in command:
                found.append(int(child))
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"


@asynccontextmanager
async def serving(env: dict[str, str], log: Path) -> AsyncIterator[asyncio.subprocess.Process]:
    """`ritualbot run` logging to ``log``: every worker writes there, and a pipe nobody reads
    while the test talks to them would fill and stop them."""
    with log.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(
            RITUALBOT,
            "run",
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=out,
        )
    try:
        yield proc
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
async def test_workers_share_the_port_answer_every_command_and_stop_together(
    db: Database, tmp_path: Path
) -> None:
    slack = FakeSlack()
    people = [f"U{n:03d}" for n in range(PEOPLE)]
    for user in people:
        slack.add_user(user, user, "UTC")
    slack.channels["C1"] = people
    api = await slack.start()
    port = free_port()
    env = clean_env(
        tmp_path,
        DATABASE_URL=db.url,
        PORT=str(port),
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=api,
        RITUALBOT_WORKERS="3",
    )
    try:
        async with serving(env, tmp_path / "run.log") as proc:
            assert await workers_answering(port, want={0, 1, 2}) == {0, 1, 2}
            bodies = [
                slash(
                    "/standup", "setup at 09:30 tz UTC", user="U000", response_url=slack.respond_url
                )
            ]
            bodies += [
                slash("/standup", "join", user=f"U{n:03d}", response_url=slack.respond_url)
                for n in range(1, PEOPLE)
            ]
            url = f"http://127.0.0.1:{port}/slack/events"
            connector = aiohttp.TCPConnector(force_close=True)
            async with aiohttp.ClientSession(connector=connector) as http:
                for body in bodies:
                    async with http.post(url, data=body, headers=headers(body, FORM)) as answer:
                        assert answer.status == 200

            def replies() -> int:
                """Each command's one reply: private through its response_url, or a post."""
                return len(slack.called("response_url")) + len(slack.called("chat.postMessage"))

            for _ in range(600):
                if replies() >= PEOPLE:
                    break
                await asyncio.sleep(0.05)
            assert replies() == PEOPLE
            async with db.session() as session:
                joined = await session.scalar(select(func.count()).select_from(Participant))
            assert joined == PEOPLE

            first_pids = worker_pids(proc.pid)
            assert len(first_pids) == 2
            os.kill(first_pids[0], signal.SIGKILL)
            assert await workers_answering(port, want={0, 1, 2}) == {0, 1, 2}
            restarted = worker_pids(proc.pid)
            assert len(restarted) == 2 and first_pids[0] not in restarted

            proc.send_signal(signal.SIGTERM)
            await asyncio.wait_for(proc.wait(), 30)
            log = (tmp_path / "run.log").read_text()
            assert proc.returncode == 0, log[-2000:]
            assert not any(alive(pid) for pid in restarted)
            assert "worker stopped" in log and "starting a worker again" in log
    finally:
        await slack.close()


async def test_several_workers_on_sqlite_stop_start_up_with_one_line(tmp_path: Path) -> None:
    env = clean_env(tmp_path, RITUALBOT_WORKERS="2", PORT=str(free_port()))
    code, _out, err = await run("run", "--no-console", env=env)
    assert code == 2
    assert err.strip().count("\n") == 0
    assert err.startswith("error: RITUALBOT_WORKERS: SQLite takes one writer at a time")


@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
async def test_a_port_another_deployments_workers_share_is_refused_in_one_line(
    db: Database, tmp_path: Path
) -> None:
    with socket.socket() as other:
        other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        env = clean_env(tmp_path, DATABASE_URL=db.url, PORT=str(port), RITUALBOT_WORKERS="2")
        code, _out, err = await run("run", "--no-console", env=env)
    assert code == 2
    assert err.strip().splitlines()[-1] == (
        f"error: HOST/PORT: cannot listen on 127.0.0.1:{port}: something is already listening there"
    )
