"""The composition root: builds the bot from settings and runs it in one process."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TextIO

import structlog
from aiohttp import web

from bot.kinds import hook_readers, registry
from bot.logging import configure_logging
from bot.scheduler import RitualScheduler
from bot.settings import Settings
from bot.web import init_app, serve
from bot.workers import Workers, port_free
from handlers.console.port import ConsolePort
from handlers.console.session import ConsoleSession
from handlers.journal import Journal
from rituals import leases
from rituals.clock import Clock, SystemClock
from rituals.delivery import Delivery
from rituals.identity import Admins
from rituals.llm.model import Model, ModelConfig
from rituals.port import ChatPort
from rituals.router import Rituals
from rituals.runtime import Runtime
from storage import notices
from storage.app_settings import hold, let_go, secret_key
from storage.db import Database

log = structlog.get_logger(__name__)

# Slack asks for about one message a second per channel. Teams allows a bot 7 sends a second,
# 8 in two seconds and 60 in 30 s to one conversation (a channel, a group chat, a person's 1:1
# chat, which their private replies go to as well): two a second keeps a long summary thread
# inside all three.
PACING = {"slack": timedelta(seconds=1), "teams": timedelta(seconds=0.5)}


@dataclass
class Bot:
    settings: Settings
    db: Database
    runtime: Runtime
    rituals: Rituals
    delivery: Delivery
    scheduler: RitualScheduler
    journal: Journal
    console: ConsoleSession | None = None
    routes: list[Callable[[web.Application], None]] = field(default_factory=list)
    connections: list[Callable[[web.Application], AsyncIterator[None]]] = field(
        default_factory=list
    )
    clients: list[Callable[[web.Application], AsyncIterator[None]]] = field(default_factory=list)
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    def add_routes(self, app: web.Application) -> None:
        for add in self.routes:
            add(app)

    @property
    def platforms(self) -> list[str]:
        return sorted(self.delivery.ports)


def build(
    settings: Settings,
    *,
    console: bool = True,
    clock: Clock | None = None,
    out: TextIO = sys.stdout,
    read_line: Callable[[], str] | None = None,
) -> Bot:
    db = Database(settings.database_url)
    grace = timedelta(seconds=settings.misfire_grace_seconds)
    runtime = Runtime(
        db=db,
        clock=clock or SystemClock(),
        grace=grace,
        public_url=settings.public_url,
        llm=model(settings),
        secret_key=settings.secret_key.get_secret_value() if settings.secret_key else "",
        admins=Admins.of(settings.admins),
    )
    rituals = Rituals(runtime, registry())
    journal = Journal(db, runtime.clock, workers=settings.workers)
    ports: dict[str, ChatPort] = {}
    session = None
    if settings.console_enabled and console:
        console_port = ports["console"] = ConsolePort(out, me=settings.console_user)
        session = ConsoleSession(
            rituals,
            user=settings.console_user,
            channel=settings.console_channel,
            tz=settings.console_tz,
            out=out,
            url=settings.public_url,
            read_line=read_line,
            shown=console_port.shown,
        )
    routes: list[Callable[[web.Application], None]] = []
    connections: list[Callable[[web.Application], AsyncIterator[None]]] = []
    # Outbound HTTP pools: open before delivery starts, closed after its last drain.
    clients: list[Callable[[web.Application], AsyncIterator[None]]] = []
    secret = settings.slack_signing_secret
    app_token = settings.slack_app_token
    if settings.slack_client_id and settings.slack_client_secret and secret:
        from handlers.slack.pool import Pool
        from handlers.slack.setup import multi_workspace

        pool = Pool()
        clients.append(pool.lifetime)
        edge, ports["slack"] = multi_workspace(
            rituals,
            client_id=settings.slack_client_id,
            client_secret=settings.slack_client_secret.get_secret_value(),
            signing_secret=secret.get_secret_value(),
            api_url=settings.slack_api_url,
            public_url=settings.public_url,
            journal=journal,
            pool=pool,
        )
        routes.append(edge.routes)
    elif settings.slack_bot_token and (secret or app_token):
        from handlers.slack.pool import Pool
        from handlers.slack.setup import single_workspace
        from handlers.slack.socket import socket_mode

        pool = Pool()
        clients.append(pool.lifetime)
        edge, ports["slack"] = single_workspace(
            rituals,
            token=settings.slack_bot_token.get_secret_value(),
            signing_secret=secret.get_secret_value() if secret else "",
            api_url=settings.slack_api_url,
            journal=journal,
            pool=pool,
        )
        if secret:
            routes.append(edge.routes)
        if app_token:
            connections.append(socket_mode(edge, app_token.get_secret_value()))
    # With no credentials and no terminal, a loopback server takes Bot Framework Emulator
    # requests unauthenticated; the console itself skips botbuilder's second of imports.
    local_teams = (
        settings.console_enabled
        and not console
        and settings.host in ("127.0.0.1", "localhost", "::1")
    )
    if settings.teams_enabled or local_teams:
        from handlers.teams.adapter import TeamsAuth
        from handlers.teams.setup import teams, teams_lifetime

        password = settings.microsoft_app_password
        if (
            settings.teams_enabled
            and not password
            and settings.microsoft_app_type != ("UserAssignedMSI")
        ):
            raise StartupError(
                "MICROSOFT_APP_PASSWORD: expected the app's client secret with "
                f"MICROSOFT_APP_ID ({settings.microsoft_app_type})"
            )
        auth = (
            TeamsAuth(
                app_id=settings.microsoft_app_id,
                password=password.get_secret_value() if password else None,
                tenant_id=settings.microsoft_app_tenant_id,
                app_type=settings.microsoft_app_type,
            )
            if settings.teams_enabled
            else TeamsAuth()
        )
        teams_edge, teams_port = teams(rituals, auth, journal=journal)
        ports["teams"] = teams_port
        routes.append(teams_edge.routes)
        clients.append(teams_lifetime(teams_port, authenticated=settings.teams_enabled))
    if rituals.hooked:
        from handlers.hooks import HookEdge

        routes.append(HookEdge(rituals, hook_readers()).routes)
    delivery = Delivery(db, ports, runtime.clock, lane_interval=PACING)
    db.one_lane.update(name for name, port in ports.items() if getattr(port, "one_lane", False))
    scheduler = RitualScheduler(rituals, grace=grace)
    runtime.sent_later = lambda: db.after_commit(delivery.wake)
    runtime.schedule_changed = lambda ritual_id: db.after_commit(
        lambda: scheduler.changed(ritual_id)
    )
    return Bot(
        settings,
        db,
        runtime,
        rituals,
        delivery,
        scheduler,
        journal,
        session,
        routes,
        connections,
        clients,
    )


def model(settings: Settings) -> Model:
    """The language model as the settings describe it; off without a key or base URL."""
    key = settings.openai_api_key
    return Model(
        ModelConfig(
            api_key=key.get_secret_value() if key else None,
            base_url=settings.openai_base_url,
            model=settings.llm_model,
            timeout=settings.llm_timeout_seconds,
            retries=settings.llm_retries,
            budget=settings.llm_budget_tokens,
            redact=settings.llm_redact,
            allowed=not settings.llm_off,
        )
    ).warm()


def lifetimes(
    bot: Bot, *, first: bool = True
) -> list[Callable[[web.Application], AsyncIterator[None]]]:
    """Start-up and shut-down in order: the database, outbound HTTP pools, delivery, the
    journal's worker (which queues replies for delivery), the scheduler, inbound sockets.
    Of several workers only the ``first`` runs the scheduler and holds Socket Mode."""

    async def database(_app: web.Application) -> AsyncIterator[None]:
        yield
        await bot.runtime.llm.close()
        await bot.db.dispose()

    delivery = _worker(
        bot.delivery.run,
        last=bot.delivery.drain,
        late="stopped with messages still queued; they go out at the next start",
    )
    journal = _worker(
        bot.journal.run,
        late="stopped with requests still stored; they are handled at the next start",
    )

    async def scheduler(_app: web.Application) -> AsyncIterator[None]:
        await bot.scheduler.start()
        yield
        await bot.scheduler.shutdown()

    held = [console_role(bot)] if bot.console is not None else []
    if not first:
        return [database, *bot.clients, delivery, journal]
    return [database, *held, *bot.clients, delivery, journal, scheduler, *bot.connections]


def _worker(
    run: Callable[[asyncio.Event], Awaitable[None]],
    *,
    late: str,
    last: Callable[[], Awaitable[object]] | None = None,
) -> Callable[[web.Application], AsyncIterator[None]]:
    """A background loop for the app's lifetime: told to stop at shutdown and given 5 s
    (then ``last``, 2 s more); ``late`` is logged when it does not finish in time."""

    async def lifetime(_app: web.Application) -> AsyncIterator[None]:
        stop = asyncio.Event()
        task = asyncio.create_task(run(stop))
        yield
        stop.set()
        try:
            await asyncio.wait_for(task, timeout=5)
            if last is not None:
                await asyncio.wait_for(last(), timeout=2)
        except TimeoutError:
            log.warning(late)

    return lifetime


def schedule_word(bot: Bot, *, first: bool) -> Callable[[web.Application], AsyncIterator[None]]:
    """With several workers the first runs the scheduler: the others tell it when a command
    they handled changed a ritual's schedule, so it need not wait for its next resync."""
    told: set[asyncio.Task[None]] = set()

    def tell(ritual_id: int) -> None:
        task = asyncio.create_task(notices.tell(bot.db, notices.SCHEDULE, str(ritual_id)))
        told.add(task)
        task.add_done_callback(told.discard)

    def heard(payload: str) -> None:
        if payload.isdigit():
            bot.scheduler.changed(int(payload))

    if not first:
        bot.runtime.schedule_changed = lambda ritual_id: bot.db.after_commit(
            lambda: tell(ritual_id)
        )

    async def lifetime(_app: web.Application) -> AsyncIterator[None]:
        if not first:
            yield
            await asyncio.gather(*told, return_exceptions=True)
            return
        stop = asyncio.Event()
        task = asyncio.create_task(notices.keep_listening(bot.db, notices.SCHEDULE, heard, stop))
        yield
        stop.set()
        await task

    return lifetime


CONSOLE_ROLE = "console"
CONSOLE_STALE = timedelta(seconds=30)


async def claim_console(bot: Bot) -> None:
    """One console per database: a second terminal would print the first one's private
    messages, so it is refused with one line while the first is running."""
    other = await hold(
        bot.db,
        CONSOLE_ROLE,
        leases.worker_id(bot),
        bot.runtime.clock.now(),
        stale_after=CONSOLE_STALE,
        gone=leases.gone_from_this_host,
    )
    if other is not None:
        await bot.db.dispose()
        raise StartupError(
            f"DATABASE_URL: another console is using this database ({other}); quit it "
            "first, or give this one a database of its own"
        )


def console_role(bot: Bot) -> Callable[[web.Application], AsyncIterator[None]]:
    """Keep the console's claim fresh while it runs, and let it go at the end."""

    async def renew(stop: asyncio.Event) -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), CONSOLE_STALE.total_seconds() / 3)
            if not stop.is_set():
                await hold(
                    bot.db,
                    CONSOLE_ROLE,
                    leases.worker_id(bot),
                    bot.runtime.clock.now(),
                    stale_after=CONSOLE_STALE,
                    gone=leases.gone_from_this_host,
                )

    async def lifetime(_app: web.Application) -> AsyncIterator[None]:
        stop = asyncio.Event()
        task = asyncio.create_task(renew(stop))
        yield
        stop.set()
        await task
        await let_go(bot.db, CONSOLE_ROLE, leases.worker_id(bot))

    return lifetime


class StartupError(Exception):
    """Start-up failed for a reason the operator can fix; the message is one line."""


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


async def prepare_database(db: Database) -> None:
    """Migrate and make sure the secret key exists, or say in one line why not."""
    try:
        await db.upgrade()
        await secret_key(db)
    except Exception as exc:
        await db.dispose()
        raise StartupError(f"DATABASE_URL: cannot use the database: {_first_line(exc)}") from exc


def _check_workers(settings: Settings, console_on: bool) -> None:
    if settings.workers == 1:
        return
    if settings.database_url.startswith("sqlite"):
        raise StartupError(
            "RITUALBOT_WORKERS: SQLite takes one writer at a time, so more workers would "
            "only wait for each other; set it to 1, or use PostgreSQL"
        )
    if console_on:
        raise StartupError(
            "RITUALBOT_WORKERS: the console is one terminal in one process; set it to 1, "
            "or run with --no-console"
        )


async def run(
    settings: Settings, *, console: bool | None = None, worker: int = 0, **kwargs: object
) -> int:
    """Serve until a signal arrives or the console session ends; with RITUALBOT_WORKERS above
    1, the first worker (0) starts and watches the others, which skip the scheduler."""
    console_on = (
        worker == 0
        and settings.console_enabled
        and (sys.stdin.isatty() if console is None else console)
    )
    quiet = console_on and "log_level" not in settings.model_fields_set
    configure_logging("WARNING" if quiet else settings.log_level, settings.log_format)
    _check_workers(settings, console_on)
    several = settings.workers > 1
    if several:
        structlog.contextvars.bind_contextvars(worker=worker)
        if worker == 0 and not port_free(settings.host, settings.port):
            raise StartupError(
                f"HOST/PORT: cannot listen on {settings.host}:{settings.port}: "
                "something is already listening there"
            )
    bot = build(settings, console=console_on, **kwargs)  # type: ignore[arg-type]
    await prepare_database(bot.db)
    if bot.console is not None:
        await claim_console(bot)
    steps = lifetimes(bot, first=worker == 0)
    if several:
        steps.append(schedule_word(bot, first=worker == 0))
    app = init_app(
        db=bot.db,
        lifetimes=steps,
        extra_routes=bot.add_routes,
        worker=worker if several else None,
    )
    # Everything loaded so far lives as long as the process: keep the collector from
    # scanning it again, which would otherwise pause the server for tens of milliseconds.
    gc.collect()
    gc.freeze()
    try:
        runner = await serve(app, settings.host, settings.port, shared=several)
    except OSError as exc:
        await bot.db.dispose()
        where = f"{settings.host}:{settings.port}"
        raise StartupError(f"HOST/PORT: cannot listen on {where}: {exc.strerror or exc}") from exc
    others = None
    if worker == 0 and several:
        # The others join the port this one got (PORT=0 asks the system for one).
        port = runner.addresses[0][1]
        others = Workers(settings.model_copy(update={"port": port}), settings.workers)
        others.start()
    if settings.console_enabled and not console_on and worker == 0:
        log.warning(
            "no platform credentials and no terminal: serving HTTP only"
            + (", with the Emulator's /api/messages" if "teams" in bot.platforms else "")
            + " (set SLACK_* or MICROSOFT_* variables, or run in a terminal for the console)"
        )
    log.info(
        "ritualbot running",
        url=settings.public_url,
        platforms=bot.platforms,
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
    if others is not None:
        await asyncio.gather(others.stop(), runner.cleanup())
    else:
        await runner.cleanup()
    return 0
