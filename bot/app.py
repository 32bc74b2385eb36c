"""The composition root: builds the bot from settings and runs it in one process."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TextIO

import structlog
from aiohttp import web

from bot.logging import configure_logging
from bot.scheduler import RitualScheduler
from bot.settings import Settings
from bot.web import init_app, serve
from handlers.console.port import ConsolePort
from handlers.console.session import ConsoleSession
from rituals.clock import Clock, SystemClock
from rituals.delivery import Delivery
from rituals.port import ChatPort
from rituals.router import Rituals
from rituals.runtime import Runtime
from storage.app_settings import secret_key
from storage.db import Database

log = structlog.get_logger(__name__)


@dataclass
class Bot:
    settings: Settings
    db: Database
    runtime: Runtime
    rituals: Rituals
    delivery: Delivery
    scheduler: RitualScheduler
    console: ConsoleSession | None = None
    stop: asyncio.Event = field(default_factory=asyncio.Event)


def build(
    settings: Settings,
    *,
    clock: Clock | None = None,
    out: TextIO = sys.stdout,
    read_line: Callable[[], str] | None = None,
) -> Bot:
    db = Database(settings.database_url)
    grace = timedelta(seconds=settings.misfire_grace_seconds)
    runtime = Runtime(db=db, clock=clock or SystemClock(), grace=grace)
    rituals = Rituals(runtime)
    ports: dict[str, ChatPort] = {}
    console = None
    if settings.console_enabled:
        ports["console"] = ConsolePort(out, me=settings.console_user)
        console = ConsoleSession(
            rituals,
            user=settings.console_user,
            channel=settings.console_channel,
            tz=settings.console_tz,
            out=out,
            read_line=read_line,
        )
    delivery = Delivery(db, ports, runtime.clock)
    scheduler = RitualScheduler(rituals, grace=grace)
    runtime.sent_later = delivery.wake
    runtime.schedule_changed = scheduler.changed
    return Bot(settings, db, runtime, rituals, delivery, scheduler, console)


def lifetimes(bot: Bot) -> list[Callable[[web.Application], AsyncIterator[None]]]:
    """Start-up and shut-down in order: database first, then delivery, then the scheduler."""

    async def database(_app: web.Application) -> AsyncIterator[None]:
        await bot.db.upgrade()
        await secret_key(bot.db)
        yield
        await bot.db.dispose()

    async def delivery(_app: web.Application) -> AsyncIterator[None]:
        stop = asyncio.Event()
        task = asyncio.create_task(bot.delivery.run(stop))
        yield
        stop.set()
        await task
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(bot.delivery.drain(), timeout=5)

    async def scheduler(_app: web.Application) -> AsyncIterator[None]:
        await bot.scheduler.start()
        yield
        bot.scheduler.shutdown()

    return [database, delivery, scheduler]


async def run(settings: Settings, **kwargs: object) -> int:
    """Serve until a signal arrives or the console session ends."""
    quiet = settings.console_enabled and "log_level" not in settings.model_fields_set
    configure_logging("WARNING" if quiet else settings.log_level, settings.log_format)
    bot = build(settings, **kwargs)  # type: ignore[arg-type]
    app = init_app(db=bot.db, lifetimes=lifetimes(bot))
    runner = await serve(app, settings.host, settings.port)
    log.info(
        "ritualbot running",
        url=settings.public_url,
        platforms=["console"] if bot.console else [],
        database=bot.db.engine.url.render_as_string(hide_password=True),
    )
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, bot.stop.set)
    console_task = None
    if bot.console is not None:
        console_task = asyncio.create_task(bot.console.run())
        console_task.add_done_callback(lambda _t: bot.stop.set())
    await bot.stop.wait()
    if console_task is not None and not console_task.done():
        console_task.cancel()
    await runner.cleanup()
    return 0
