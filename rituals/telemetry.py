"""Counters scraped at /metrics: what operators watch to see the bot is doing its job."""

from __future__ import annotations

from prometheus_client import Counter

COMMANDS = Counter(
    "ritualbot_commands_total", "Commands handled", ["platform", "ritual", "outcome"]
)
MESSAGES_SENT = Counter("ritualbot_messages_sent_total", "Messages delivered", ["platform"])
MESSAGES_FAILED = Counter(
    "ritualbot_messages_failed_total", "Message sends that failed", ["platform", "final"]
)
OCCURRENCES_STARTED = Counter(
    "ritualbot_occurrences_started_total", "Ritual occurrences started", ["kind"]
)
OCCURRENCES_MISSED = Counter(
    "ritualbot_occurrences_missed_total", "Occurrences skipped past the grace period", ["kind"]
)
