"""One log format for the whole process: our structlog events and the libraries' stdlib records.

Operators grep and ship one stream, so apscheduler, aiohttp and SQLAlchemy lines must carry
the same timestamp, level and shape as ours, in either a console or a JSON rendering.
"""

from __future__ import annotations

import logging
import sys

import structlog
from structlog.typing import Processor

__all__ = ["LOG_FORMATS", "configure_logging"]

LOG_FORMATS = ("console", "json")
_HANDLER_NAME = "ritualbot"
# Libraries whose INFO lines narrate their own workings ("Added job", "Context impl
# SQLiteImpl"); ours say what the bot did.
_CHATTY = ("apscheduler", "alembic")
# Their debug lines carry statement parameters, secrets included (the stored secret key).
_NEVER_DEBUG = ("aiosqlite", "asyncpg")


def _level(level: str) -> int:
    name = level.strip().upper()
    if name == "WARN":
        name = "WARNING"
    number = logging.getLevelNamesMapping().get(name)
    if number is None:
        raise ValueError(f"unknown log level {level!r}")
    return number


def _renderer(fmt: str) -> list[Processor]:
    """Plain tracebacks only: rich's default prints local variables, and locals hold tokens."""
    if fmt == "json":
        return [structlog.processors.format_exc_info, structlog.processors.JSONRenderer()]
    if fmt == "console":
        return [
            structlog.dev.ConsoleRenderer(
                colors=sys.stderr.isatty(), exception_formatter=structlog.dev.plain_traceback
            )
        ]
    raise ValueError(f"unknown log format {fmt!r}, expected one of {', '.join(LOG_FORMATS)}")


def configure_logging(level: str, fmt: str) -> None:
    """Route structlog and stdlib logging to one stderr handler; safe to call again to change it.

    Loggers are not cached on first use so a later call (or a test's `capture_logs`) still
    takes effect for loggers created at import time.
    """
    number = _level(level)
    renderer = _renderer(fmt)
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.processors.StackInfoRenderer(),
            structlog.processors.UnicodeDecoder(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, structlog.stdlib.ExtraAdder()],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *renderer],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(formatter)

    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(number)

    quiet = logging.DEBUG if number <= logging.DEBUG else logging.WARNING
    for name in _CHATTY:
        logging.getLogger(name).setLevel(quiet)
    for name in _NEVER_DEBUG:
        logging.getLogger(name).setLevel(max(number, logging.INFO))
    for name in ("sqlalchemy.engine", "sqlalchemy.pool"):
        logging.getLogger(name).setLevel(logging.WARNING)
    for name in ("aiohttp", "apscheduler", "sqlalchemy"):
        library = logging.getLogger(name)
        library.propagate = True
        for own in [h for h in library.handlers if not isinstance(h, logging.NullHandler)]:
            library.removeHandler(own)
    logging.captureWarnings(True)
