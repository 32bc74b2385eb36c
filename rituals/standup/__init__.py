"""Asynchronous stand-ups: prompts, answers, summaries and the blocker ledger."""
