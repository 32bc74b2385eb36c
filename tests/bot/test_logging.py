"""One log stream: our events and the libraries' records, as JSON or for a console, on stderr."""

from __future__ import annotations

import json
import logging

import pytest
import structlog

from bot.logging import configure_logging


@pytest.fixture(autouse=True)
def restore_logging():
    yield
    configure_logging("INFO", "console")


def test_json_lines_carry_our_events_and_library_records(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("INFO", "json")
    structlog.get_logger("rituals.test").info("stand-up started", ritual_id=7)
    logging.getLogger("apscheduler.scheduler").warning("Run time of job was missed")
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    ours, theirs = lines
    assert (ours["event"], ours["ritual_id"], ours["level"]) == ("stand-up started", 7, "info")
    assert ours["timestamp"].endswith("Z")
    assert (theirs["event"], theirs["logger"], theirs["level"]) == (
        "Run time of job was missed",
        "apscheduler.scheduler",
        "warning",
    )


def test_the_level_filters_and_a_second_call_replaces_the_first(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("INFO", "json")
    configure_logging("WARNING", "json")
    log = structlog.get_logger("rituals.test")
    log.info("hidden")
    log.warning("shown")
    lines = capsys.readouterr().err.splitlines()
    assert [json.loads(line)["event"] for line in lines] == ["shown"]


@pytest.mark.parametrize(("level", "fmt"), [("LOUD", "json"), ("INFO", "xml")])
def test_bad_level_or_format_is_refused(level: str, fmt: str) -> None:
    with pytest.raises(ValueError):
        configure_logging(level, fmt)


async def test_debug_logging_never_prints_statement_parameters(
    capsys: pytest.CaptureFixture[str], tmp_path
) -> None:
    from storage.app_settings import secret_key
    from storage.db import Database

    configure_logging("DEBUG", "json")
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'secret.db'}")
    try:
        await db.upgrade()
        key = await secret_key(db)
    finally:
        await db.dispose()
    assert key not in capsys.readouterr().err


async def test_start_up_chatter_of_the_libraries_stays_out_of_the_log(
    capsys: pytest.CaptureFixture[str], tmp_path
) -> None:
    from storage.db import Database

    configure_logging("INFO", "json")
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'quiet.db'}")
    try:
        await db.upgrade()
    finally:
        await db.dispose()
    logging.getLogger("apscheduler.scheduler").info('Added job "ritual" to job store "default"')
    assert capsys.readouterr().err == ""
