"""How often one sender may knock: a token bucket per sender (a webhook token, or the
address of someone guessing tokens), kept for a bounded number of senders."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

SENDERS = 10_000


@dataclass
class RateLimit:
    """A token bucket per sender, the least recent forgotten first."""

    rate: float  # a second, sustained; 0 lets everyone through
    burst: float = 1.0  # at once
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
