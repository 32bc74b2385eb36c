"""Asynchronous stand-ups: prompts, answers, summaries and the blocker ledger."""

from rituals.standup.kind import StandupKind

KIND = StandupKind
