"""The `ritualbot` command as a newcomer runs it: real processes, real ports, real files."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from typer.testing import CliRunner

from bot.cli import app
from storage import journal
from storage.db import Database
from storage.models import JournalDeadLetter

RITUALBOT = str(Path(sys.executable).with_name("ritualbot"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    ours = ("SLACK_", "MICROSOFT_", "OPENAI_", "RITUALBOT_", "HOST", "PORT", "PUBLIC_URL")
    env = {k: v for k, v in os.environ.items() if not k.startswith(ours)}
    env.update(
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        RITUALBOT_CONSOLE_TZ="Europe/Berlin",
        RITUALBOT_CONSOLE_USER="dana",
        RITUALBOT_CONSOLE_CHANNEL="ml",
    )
    env.update(extra)
    return env


async def run(*args: str, env: dict[str, str], stdin: bytes = b"") -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        RITUALBOT,
        *args,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(stdin), timeout=60)
    return proc.returncode or 0, out.decode(), err.decode()


def test_help_names_every_ritual() -> None:
    result = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    said = " ".join(result.output.split())
    for word in ("stand-ups", "retros", "hypotheses", "backlog", "alerts", "weekly digest", "ask"):
        assert word in said, word


async def test_demo_prints_a_standup_summary_with_blockers(tmp_path: Path) -> None:
    code, out, _err = await run("demo", env=clean_env(tmp_path))
    assert code == 0
    assert "Stand-up #ml-team — Mon 23 Nov: 3/3 answered, 2 open blockers (2 new)" in out
    assert "Blockers" in out and "Escalation: Maya's blocker #1" in out
    assert "Retro summary: Sprint 12 — 3 items, 4 votes" in out
    assert "From earlier retros — done? still open?" in out
    assert "Sprint review: Sprint 13 (2026-12-11 → 2026-12-11) — goal: Ship ranker v4" in out
    assert "Weekly digest of #ml-team, Tue 15 Dec – Mon 21 Dec 2026" in out
    assert "• Closed validated: #1 relabelling the noisy slice — learned: clean labels" in out


async def test_a_bad_setting_stops_start_up_with_one_line_naming_it(tmp_path: Path) -> None:
    code, out, err = await run("run", env=clean_env(tmp_path, PORT="eighty"))
    assert code == 2 and out == ""
    assert err.strip().count("\n") == 0 and "PORT" in err


async def test_db_upgrade_creates_the_schema(tmp_path: Path) -> None:
    code, out, _err = await run("db", "upgrade", env=clean_env(tmp_path))
    assert code == 0 and out.startswith("applied 0001, 0002, 0003, 0004,")
    assert (tmp_path / "bot.db").stat().st_size > 0
    code, out, _err = await run("db", "upgrade", env=clean_env(tmp_path))
    assert code == 0 and "up to date already; nothing applied" in out


async def test_an_operator_lists_and_replays_set_aside_requests(tmp_path: Path) -> None:
    env = clean_env(tmp_path)
    assert (await run("db", "upgrade", env=env))[0] == 0
    db = Database(env["DATABASE_URL"])
    when = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    async with db.session() as session:
        session.add(
            JournalDeadLetter(
                platform="slack",
                delivery_id="Ev1",
                lane="slack:T1:U1",
                content_type="application/json",
                body="{}",
                received_at=when,
                failed_at=when,
                attempts=1,
                reason="DataError: invalid byte sequence",
            )
        )

    code, out, _ = await run("journal", "list", env=env)
    assert code == 0 and "slack\tEv1\t" in out and "DataError: invalid byte sequence" in out
    code, _, err = await run("journal", "replay", env=env)
    assert code == 2 and "--all" in err
    code, out, _ = await run("journal", "replay", "1", env=env)
    assert code == 0 and "1 request put back" in out
    async with db.session() as session:
        assert await journal.pending(session) == 1
        assert await journal.dead_letters(session) == []
    await db.dispose()
    assert "no requests are set aside" in (await run("journal", "list", env=env))[1]


async def console(env: dict[str, str]) -> asyncio.subprocess.Process:
    """`ritualbot run --console` in the background, its terminal a pipe the test writes to."""
    return await asyncio.create_subprocess_exec(
        RITUALBOT,
        "run",
        "--console",
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def test_run_serves_health_and_metrics_and_holds_a_console_standup(tmp_path: Path) -> None:
    port = free_port()
    proc = await console(clean_env(tmp_path, PORT=str(port)))
    try:
        async with aiohttp.ClientSession() as http:
            health = await wait_for_health(http, f"http://127.0.0.1:{port}/healthz")
            assert health == {"status": "ok", "database": "ok"}
            lines = b"standup setup at 09:30\nstandup now\nshipped it\nnext\nnone\n"
            out, _err = await asyncio.wait_for(proc.communicate(lines), timeout=60)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    text = out.decode()
    assert "you are @dana in #ml" in text
    assert "[DM] ritualbot: Hi dana!" in text
    assert "1/1 answered, no blockers" in text
    assert proc.returncode == 0


async def test_a_second_console_on_the_same_database_is_refused_in_one_line(
    tmp_path: Path,
) -> None:
    port = free_port()
    first = await console(clean_env(tmp_path, PORT=str(port)))
    try:
        async with aiohttp.ClientSession() as http:
            await wait_for_health(http, f"http://127.0.0.1:{port}/healthz")
        second = clean_env(tmp_path, PORT=str(free_port()))
        code, out, err = await run("run", "--console", env=second, stdin=b"quit\n")
        assert code == 2 and out == ""
        assert err.strip().count("\n") == 0 and "another console is using this database" in err
        await asyncio.wait_for(first.communicate(b"quit\n"), timeout=60)
    finally:
        if first.returncode is None:
            first.kill()
            await first.wait()
    code, out, _err = await run("run", "--console", env=second, stdin=b"quit\n")
    assert code == 0 and "you are @dana in #ml" in out


async def wait_for_health(http: aiohttp.ClientSession, url: str) -> dict[str, str]:
    """Poll until the server is up: start-up time varies, a fixed sleep would be flaky."""
    for _ in range(200):
        try:
            async with http.get(url) as response:
                return await response.json()
        except aiohttp.ClientConnectionError:
            await asyncio.sleep(0.05)
    raise AssertionError(f"{url} never answered")


async def test_an_unusable_database_stops_start_up_with_one_line(tmp_path: Path) -> None:
    url = "postgresql+asyncpg://postgres@127.0.0.1:5432/ritualbot_no_such_database"
    code, _out, err = await run("run", "--no-console", env=clean_env(tmp_path, DATABASE_URL=url))
    assert code == 2
    assert err.strip().count("\n") == 0
    assert err.startswith("error: DATABASE_URL: cannot use the database:")
    assert "ritualbot_no_such_database" in err


async def test_a_port_in_use_stops_start_up_with_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, _out, err = await run("run", "--no-console", env=clean_env(tmp_path, PORT=str(port)))
    last = err.strip().splitlines()[-1]
    assert code == 2 and "Traceback" not in err
    assert last.startswith(f"error: HOST/PORT: cannot listen on 127.0.0.1:{port}")


async def test_without_a_terminal_it_serves_http_until_told_to_stop(tmp_path: Path) -> None:
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        RITUALBOT,
        "run",
        env=clean_env(tmp_path, PORT=str(port)),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with aiohttp.ClientSession() as http:
            assert (await wait_for_health(http, f"http://127.0.0.1:{port}/healthz"))[
                "status"
            ] == "ok"
        assert proc.returncode is None
        proc.send_signal(signal.SIGTERM)
        _out, err = await asyncio.wait_for(proc.communicate(), timeout=30)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0
    assert "serving HTTP only" in err.decode()


async def test_a_teams_app_id_without_its_secret_stops_start_up_with_one_line(
    tmp_path: Path,
) -> None:
    env = clean_env(tmp_path, MICROSOFT_APP_ID="00000000-0000-0000-0000-000000000001")
    code, _out, err = await run("run", "--no-console", env=env)
    assert code == 2
    assert err.strip().count("\n") == 0
    assert err.startswith("error: MICROSOFT_APP_PASSWORD: expected the app's client secret")
