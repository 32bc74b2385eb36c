"""The aiohttp application every platform's routes hang off, plus health and metrics.

Platforms add their routes through `extra_routes`, so this module knows none of them and the
operational endpoints behave the same whichever platforms are enabled.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import structlog
from aiohttp import web
from aiohttp.abc import AbstractAccessLogger, BaseRequest, StreamResponse
from aiohttp.http_exceptions import HttpProcessingError
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from storage.db import Database

__all__ = [
    "DB_KEY",
    "HEALTH_TIMEOUT_SECONDS",
    "MAX_BODY_BYTES",
    "Lifetime",
    "init_app",
    "serve",
]

DB_KEY: web.AppKey[Database] = web.AppKey("db", Database)
WORKER_KEY: web.AppKey[int | None] = web.AppKey("worker")
HEALTH_TIMEOUT_SECONDS = 2.0
MAX_BODY_BYTES = 1024 * 1024
_QUIET_PATHS = frozenset({"/healthz", "/metrics"})
_MALFORMED = "<malformed>"
# The words before anything a parse error quotes of the request, which may hold a token.
_PROBLEM = re.compile(r"[A-Za-z0-9 ]+")

Lifetime = Callable[[web.Application], AsyncIterator[None]]
Handler = Callable[[web.Request], Awaitable[StreamResponse]]

log = structlog.get_logger(__name__)


def _route(request: BaseRequest) -> str:
    """The route template, never the raw path: alert webhook paths carry their secret token.

    A request aiohttp could not parse was never routed, and asking for its match asserts.
    """
    if isinstance(request, web.Request):
        try:
            match = request.match_info
        except AssertionError:
            return _MALFORMED
        resource = match.route.resource if match is not None else None
        if resource is not None:
            return resource.canonical
    return "<unmatched>"


@web.middleware
async def _errors(request: web.Request, handler: Handler) -> StreamResponse:
    """Turn a bug into a logged 500 with no traceback in the body; HTTP errors pass as raised."""
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except Exception:
        log.exception("unhandled error", method=request.method, route=_route(request))
        return web.json_response({"error": "internal error"}, status=500)


async def _healthz(request: web.Request) -> web.Response:
    db = request.app[DB_KEY]
    try:
        async with asyncio.timeout(HEALTH_TIMEOUT_SECONDS):
            await db.ping()
    except TimeoutError:
        problem = f"no answer within {HEALTH_TIMEOUT_SECONDS:g}s"
    except Exception as exc:
        problem = type(exc).__name__
        log.warning("database health check failed", error=str(exc).splitlines()[0][:300])
    else:
        healthy: dict[str, object] = {"status": "ok", "database": "ok"}
        if request.app[WORKER_KEY] is not None:
            healthy["worker"] = request.app[WORKER_KEY]
        return web.json_response(healthy, headers={"Cache-Control": "no-store"})
    return web.json_response(
        {"status": "unavailable", "database": problem},
        status=503,
        headers={"Cache-Control": "no-store"},
    )


async def _metrics(_request: web.Request) -> web.Response:
    return web.Response(body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})


def init_app(
    *,
    db: Database,
    lifetimes: Sequence[Lifetime] = (),
    extra_routes: Callable[[web.Application], None] | None = None,
    worker: int | None = None,
) -> web.Application:
    """Build the application; `lifetimes` run in order at start-up and in reverse at shutdown.

    The app carries its own access and server loggers, so a test server logs as `serve` does.
    With several workers, ``worker`` says in health answers which one answered.
    """
    app = web.Application(
        middlewares=[_errors],
        client_max_size=MAX_BODY_BYTES,
        handler_args={"access_log_class": _AccessLogger, "logger": _ServerLog()},
    )
    app[DB_KEY] = db
    app[WORKER_KEY] = worker
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/metrics", _metrics)
    app.cleanup_ctx.extend(lifetimes)
    if extra_routes is not None:
        extra_routes(app)
    return app


class _ServerLog(logging.LoggerAdapter[logging.Logger]):
    """aiohttp's server logger without the traceback it logs for HTTP it could not parse: that
    is the client's error, answered 400 by aiohttp and told in the request's access line."""

    def __init__(self) -> None:
        super().__init__(logging.getLogger("aiohttp.server"))

    def log(self, level: int, msg: object, *args: Any, **kwargs: Any) -> None:
        if isinstance(kwargs.get("exc_info"), HttpProcessingError):
            return
        super().log(level, msg, *args, **kwargs)


def _problem(response: StreamResponse) -> str:
    """What aiohttp found wrong with a request, from its answer's first words: the rest of the
    answer echoes the request's bytes, which may hold a token or a webhook's secret path."""
    text = response.text if isinstance(response, web.Response) else None
    found = _PROBLEM.match(text or "")
    return found.group().strip()[:80] if found else ""


class _AccessLogger(AbstractAccessLogger):
    """Access lines in the structlog format, with route templates so no token reaches the log."""

    @property
    def enabled(self) -> bool:
        """Skipped outright unless access lines would be shown: each costs the fast path."""
        return logging.getLogger(__name__).isEnabledFor(logging.INFO)

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        route = _route(request)
        fields: dict[str, Any] = {
            "method": request.method,
            "route": route,
            "status": response.status,
            "duration_ms": round(time * 1000, 1),
        }
        if route == _MALFORMED:
            fields["problem"] = _problem(response)
        if request.path in _QUIET_PATHS and response.status < 400:
            log.debug("request", **fields)
        else:
            log.info("request", **fields)


async def serve(
    app: web.Application, host: str, port: int, *, shared: bool = False
) -> web.AppRunner:
    """Start listening and hand back the runner; the caller owns `await runner.cleanup()`.
    A ``shared`` port is bound with SO_REUSEPORT, for several workers to take turns on."""
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port, reuse_port=shared or None).start()
    except BaseException:
        await runner.cleanup()
        raise
    log.info("listening", host=host, port=runner.addresses[0][1])
    return runner
