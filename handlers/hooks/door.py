"""``POST /hooks/{word}/{token}``: the door webhook senders knock on, one route for each
kind that takes hooks (`Kind.hooks`), such as ``/hooks/alerts/{token}``.

Checks run cheapest first and nothing is read before the token is known: its shape, the
sender address's budget of unknown tokens (429), the token itself (an indexed lookup of its
keyed hash; 404, counted against that address), the token's own rate (429 with
Retry-After), the size (413). Then the word's body reader, which the composition root hands
the door, turns the bytes into the kind's neutral input or says why not (400); the kind
stores what it was given and answers once committed. Senders retry on 5xx, so a database
error of any sort is a 503 with Retry-After, never a 500, and nothing is lost.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Mapping

import structlog
from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError

from handlers.hooks.bodies import BadBody, BodyReader
from handlers.hooks.rate import RateLimit
from rituals.router import Rituals
from rituals.telemetry import HOOKS_REFUSED

log = structlog.get_logger(__name__)

MAX_BODY = 512 * 1024
MAX_TOKEN = 200
RATE = 10.0  # requests a second per token, sustained
BURST = 120  # requests a token may send at once (an Alertmanager storm, a backfill)
STRANGER_RATE = 1.0  # unknown tokens a second per sender address
STRANGER_BURST = 20
UNAVAILABLE = {"Retry-After": "5"}


class HookEdge:
    """The webhooks of every kind that takes them, each read by the reader of its word.

    ``readers`` maps a kind's word to the reader of the bodies posted to its hook; a kind
    that takes hooks without one is a wiring mistake, refused here rather than at the first
    request.
    """

    def __init__(
        self,
        rituals: Rituals,
        readers: Mapping[str, BodyReader],
        *,
        limit: RateLimit | None = None,
        strangers: RateLimit | None = None,
        max_body: int = MAX_BODY,
    ) -> None:
        unread = [word for word in rituals.hooked if word not in readers]
        if unread:
            raise ValueError(f"no body reader for the webhooks of {', '.join(unread)}")
        self.rituals = rituals
        self.readers = {word: readers[word] for word in rituals.hooked}
        self.limit = limit or RateLimit(rate=RATE, burst=BURST)
        self.strangers = strangers or RateLimit(rate=STRANGER_RATE, burst=STRANGER_BURST)
        self.max_body = max_body

    def routes(self, app: web.Application) -> None:
        for word in self.readers:
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
        raw = await self._body(request)
        if raw is None:
            return _refuse(word, 413, f"the body is over {self.max_body} bytes", "size")
        try:
            payload = self.readers[word](raw)
        except BadBody as exc:
            return _refuse(word, 400, str(exc), "body")
        try:
            reply = await self.rituals.hook(word, token, payload)
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            return _unavailable(word, exc)
        if reply.status >= 400:
            HOOKS_REFUSED.labels(word, "token" if reply.status == 404 else "body").inc()
        return web.json_response(dict(reply.body), status=reply.status, headers=reply.headers)

    async def _body(self, request: web.Request) -> bytes | None:
        """The body, or None past ``max_body`` (read no further than that)."""
        if request.content_length is not None and request.content_length > self.max_body:
            return None
        raw = bytearray()
        async for chunk in request.content.iter_chunked(64 * 1024):
            raw += chunk
            if len(raw) > self.max_body:
                return None
        return bytes(raw)


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
