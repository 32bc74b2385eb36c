"""``POST /hooks/alerts/{token}``: the door alert senders knock on.

Checks run cheapest first and nothing is stored before all pass: the sender's rate (429
with Retry-After), the size (413), JSON and its shape (400 with the reason); then the
domain stores what it understood and answers 200 with it once committed. A token that
opens no channel is 404, whatever is wrong with it. Alertmanager and Grafana retry on 5xx,
so a database that cannot be reached is a 503 they retry, never a lost alert.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

import structlog
from aiohttp import web
from sqlalchemy.exc import OperationalError

from handlers.alerts.bodies import BadBody, decode, parse
from rituals.router import Rituals
from rituals.telemetry import ALERT_HOOKS_REFUSED

log = structlog.get_logger(__name__)

ROUTE = "/hooks/alerts/{token}"
MAX_BODY = 512 * 1024
RATE = 10.0  # requests a second per sender, sustained
BURST = 120  # requests a sender may send at once (an Alertmanager storm, a backfill)
SENDERS = 10_000


@dataclass
class RateLimit:
    """A token bucket per sender (the token it posts to), the least recent forgotten first."""

    rate: float = RATE
    burst: float = BURST
    clock: Callable[[], float] = time.monotonic
    _buckets: OrderedDict[str, tuple[float, float]] = field(default_factory=OrderedDict)

    def wait(self, sender: str) -> float:
        """0 when the sender may go ahead now (and it is counted), else seconds to wait."""
        if self.rate <= 0:
            return 0.0
        now = self.clock()
        tokens, then = self._buckets.pop(sender, (self.burst, now))
        tokens = min(self.burst, tokens + (now - then) * self.rate)
        if tokens < 1:
            self._buckets[sender] = (tokens, now)
            return (1 - tokens) / self.rate
        self._buckets[sender] = (tokens - 1, now)
        while len(self._buckets) > SENDERS:
            self._buckets.popitem(last=False)
        return 0.0


class AlertWebhook:
    def __init__(
        self, rituals: Rituals, *, limit: RateLimit | None = None, max_body: int = MAX_BODY
    ) -> None:
        self.rituals = rituals
        self.limit = limit or RateLimit(rate=RATE, burst=BURST)
        self.max_body = max_body

    def routes(self, app: web.Application) -> None:
        app.router.add_post(ROUTE, self.handle)

    async def handle(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        wait = self.limit.wait(token[:200])
        if wait > 0:
            return _refuse(
                429,
                "too many requests from this sender",
                "rate",
                headers={"Retry-After": str(max(1, math.ceil(wait)))},
            )
        if request.content_length is not None and request.content_length > self.max_body:
            return _refuse(413, f"the body is over {self.max_body} bytes", "size")
        raw = bytearray()
        async for chunk in request.content.iter_chunked(64 * 1024):
            raw += chunk
            if len(raw) > self.max_body:
                return _refuse(413, f"the body is over {self.max_body} bytes", "size")
        try:
            batch = parse(decode(bytes(raw)))
        except BadBody as exc:
            return _refuse(400, str(exc), "body")
        try:
            reply = await self.rituals.hook("alerts", token, batch)
        except (OperationalError, OSError, TimeoutError) as exc:
            log.warning("alert webhook could not store", error=type(exc).__name__)
            return _refuse(
                503,
                "could not store the alerts now; retry",
                "unavailable",
                headers={"Retry-After": "5"},
            )
        if reply.status == 404:
            ALERT_HOOKS_REFUSED.labels("token").inc()
        return web.json_response(dict(reply.body), status=reply.status, headers=reply.headers)


def _refuse(
    status: int, reason: str, counted: str, headers: dict[str, str] | None = None
) -> web.Response:
    ALERT_HOOKS_REFUSED.labels(counted).inc()
    return web.json_response({"error": reason}, status=status, headers=headers)
