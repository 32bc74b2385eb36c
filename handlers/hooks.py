"""``POST /hooks/{word}/{token}``: the door webhook senders knock on, one route for each
kind that takes hooks (`Kind.hooks`), such as ``/hooks/alerts/{token}``.

Checks run cheapest first and nothing is read before the token is known: its shape, the
sender address's budget of unknown tokens (429), the token itself (an indexed lookup of its
keyed hash; 404, counted against that address), the token's own rate (429 with
Retry-After), the size (413); then the kind parses and stores what it understood and
answers once committed. Senders retry on 5xx, so a database error of any sort is a 503
with Retry-After, never a 500 and never a lost alert.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import structlog
from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError

from rituals.router import Rituals
from rituals.telemetry import HOOKS_REFUSED

log = structlog.get_logger(__name__)

MAX_BODY = 512 * 1024
MAX_TOKEN = 200
RATE = 10.0  # requests a second per token, sustained
BURST = 120  # requests a token may send at once (an Alertmanager storm, a backfill)
STRANGER_RATE = 1.0  # unknown tokens a second per sender address
STRANGER_BURST = 20
SENDERS = 10_000
UNAVAILABLE = {"Retry-After": "5"}


@dataclass
class RateLimit:
    """A token bucket per sender, the least recent forgotten first."""

    rate: float = RATE
    burst: float = BURST
    clock: Callable[[], float] = time.monotonic
    _buckets: OrderedDict[str, tuple[float, float]] = field(default_factory=OrderedDict)

    def wait(self, sender: str, *, take: bool = True) -> float:
        """0 when the sender may go ahead now (and, with ``take``, it is counted), else
        seconds to wait."""
        if self.rate <= 0:
            return 0.0
        now = self.clock()
        tokens, then = self._buckets.pop(sender, (self.burst, now))
        tokens = min(self.burst, tokens + (now - then) * self.rate)
        if tokens < 1:
            self._buckets[sender] = (tokens, now)
            return (1 - tokens) / self.rate
        self._buckets[sender] = (tokens - 1 if take else tokens, now)
        while len(self._buckets) > SENDERS:
            self._buckets.popitem(last=False)
        return 0.0


class HookEdge:
    def __init__(
        self,
        rituals: Rituals,
        *,
        limit: RateLimit | None = None,
        strangers: RateLimit | None = None,
        max_body: int = MAX_BODY,
    ) -> None:
        self.rituals = rituals
        self.limit = limit or RateLimit(rate=RATE, burst=BURST)
        self.strangers = strangers or RateLimit(rate=STRANGER_RATE, burst=STRANGER_BURST)
        self.max_body = max_body

    def routes(self, app: web.Application) -> None:
        for word in self.rituals.hooked:
            app.router.add_post(f"/hooks/{word}/{{token}}", self._door(word))

    def _door(self, word: str) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def handle(request: web.Request) -> web.Response:
            return await self.handle(word, request)

        return handle

    async def handle(self, word: str, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        address = request.remote or ""
        if wait := self.strangers.wait(address, take=False):
            return _refuse(
                word, 429, "too many unknown tokens from this address", "strangers", _retry(wait)
            )
        try:
            known = len(token) <= MAX_TOKEN and await self.rituals.opens(word, token)
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            return _unavailable(word, exc)
        if not known:
            self.strangers.wait(address)
            return _refuse(word, 404, "not found", "token")
        if wait := self.limit.wait(token):
            return _refuse(word, 429, "too many requests from this sender", "rate", _retry(wait))
        if request.content_length is not None and request.content_length > self.max_body:
            return _refuse(word, 413, f"the body is over {self.max_body} bytes", "size")
        raw = bytearray()
        async for chunk in request.content.iter_chunked(64 * 1024):
            raw += chunk
            if len(raw) > self.max_body:
                return _refuse(word, 413, f"the body is over {self.max_body} bytes", "size")
        try:
            reply = await self.rituals.hook(word, token, bytes(raw))
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            return _unavailable(word, exc)
        if reply.status >= 400:
            HOOKS_REFUSED.labels(word, "token" if reply.status == 404 else "body").inc()
        return web.json_response(dict(reply.body), status=reply.status, headers=reply.headers)


def _retry(wait: float) -> dict[str, str]:
    return {"Retry-After": str(max(1, math.ceil(wait)))}


def _unavailable(word: str, exc: BaseException) -> web.Response:
    log.warning("webhook could not store", kind=word, error=type(exc).__name__)
    return _refuse(word, 503, "could not store this now; retry", "unavailable", UNAVAILABLE)


def _refuse(
    word: str, status: int, reason: str, counted: str, headers: dict[str, str] | None = None
) -> web.Response:
    HOOKS_REFUSED.labels(word, counted).inc()
    return web.json_response({"error": reason}, status=status, headers=headers)
