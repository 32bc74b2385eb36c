"""Digest tests talk to the same fake OpenAI-compatible server as the summary tests."""

from tests.rituals.llm.conftest import fake_openai

__all__ = ["fake_openai"]
