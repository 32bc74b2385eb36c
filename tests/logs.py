"""What was logged while a block ran, for tests that pin how much an operator reads."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from structlog.testing import capture_logs


@dataclass
class Logged:
    """Our structlog events and the libraries' records."""

    events: list[dict[str, Any]] = field(default_factory=list)
    records: list[logging.LogRecord] = field(default_factory=list)

    @property
    def lines(self) -> list[str]:
        """What an operator reads at the info level, one entry a line."""
        ours = [json.dumps(e, default=str) for e in self.events if e["log_level"] != "debug"]
        return ours + [r.getMessage() for r in self.records if r.levelno >= logging.INFO]

    @property
    def tracebacks(self) -> list[str]:
        ours = [str(e["event"]) for e in self.events if "exc_info" in e or "exception" in e]
        return ours + [r.getMessage() for r in self.records if r.exc_info]

    @property
    def requests(self) -> list[tuple[str, int]]:
        """The access lines, as (route, status)."""
        return [(e["route"], e["status"]) for e in self.events if e["event"] == "request"]


@contextmanager
def logged(caplog: pytest.LogCaptureFixture) -> Iterator[Logged]:
    """Everything logged at the info level and above, access lines included."""
    caplog.set_level(logging.INFO)
    found = Logged()
    start = len(caplog.records)
    with capture_logs() as events:
        yield found
    found.events.extend(events)
    found.records.extend(caplog.records[start:])
