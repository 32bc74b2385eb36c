"""The fake OpenAI-compatible server every model test talks to."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.rituals.llm.fake_openai import FakeOpenAI


@pytest.fixture
async def fake_openai() -> AsyncIterator[FakeOpenAI]:
    fake = FakeOpenAI()
    await fake.start()
    yield fake
    await fake.stop()
