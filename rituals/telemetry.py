"""Counters scraped at /metrics: what operators watch to see the bot is doing its job."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

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
JOURNAL_HANDLED = Counter(
    "ritualbot_journal_handled_total",
    "Requests handled after their acknowledgement",
    ["platform", "outcome"],
)
JOURNAL_LAG = Histogram(
    "ritualbot_journal_lag_seconds",
    "Time from a request's acknowledgement to its handling",
    ["platform"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
ALERTS_RECEIVED = Counter(
    "ritualbot_alerts_received_total", "Alerts received by webhooks", ["source"]
)
ALERTS_DEDUPLICATED = Counter(
    "ritualbot_alerts_deduplicated_total", "Alerts received again unchanged (a sender's retry)"
)
ALERTS_POSTED = Counter("ritualbot_alerts_posted_total", "Alert group messages posted")
ALERTS_ESCALATED = Counter(
    "ritualbot_alerts_escalated_total", "Alerts escalated, unacknowledged past their time"
)
HOOKS_REFUSED = Counter(
    "ritualbot_hooks_refused_total", "Webhook requests refused", ["kind", "reason"]
)
LLM_CALLS = Counter(
    "ritualbot_llm_calls_total", "Calls to the language model", ["purpose", "outcome"]
)
LLM_TOKENS = Counter(
    "ritualbot_llm_tokens_total", "Tokens sent to and received from the model", ["purpose", "type"]
)
LLM_SECONDS = Histogram(
    "ritualbot_llm_seconds",
    "Time one model call took on the wire, retries included",
    ["purpose"],
    buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60),
)
