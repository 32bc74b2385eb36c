"""The language model behind an OpenAI-compatible API, asked for JSON it must validate.

Every way a call can go wrong (no key, a timeout, a 429 or 5xx, a refusal, text that is no
JSON, JSON that fails the schema or the caller's own checks) comes back as an `Answer`
without a value and a reason, never as an exception, so a caller's fallback is one branch.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, Generic, TypeVar

import openai
import structlog
from pydantic import BaseModel, ValidationError

from rituals.llm import redact
from rituals.telemetry import LLM_CALLS, LLM_SECONDS, LLM_TOKENS

log = structlog.get_logger(__name__)

T = TypeVar("T", bound=BaseModel)
_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.DOTALL)


@dataclass(frozen=True)
class ModelConfig:
    """How to reach the model. ``timeout`` bounds one call with its retries, end to end;
    ``budget`` is how many tokens of material one call may carry before it is chunked."""

    api_key: str | None = None
    base_url: str | None = None
    model: str = "gpt-4o-mini"
    timeout: float = 20.0
    retries: int = 1
    budget: int = 6000
    redact: bool = True
    allowed: bool = True

    @property
    def on(self) -> bool:
        """A key, or a base URL alone (local servers often need no key), and not switched off."""
        return self.allowed and bool(self.api_key or self.base_url)


@dataclass(frozen=True)
class Answer(Generic[T]):
    value: T | None
    reason: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.value is not None


@cache
def schema_of(output: type[BaseModel]) -> dict[str, Any]:
    """The JSON schema asked for, made once per output type."""
    return output.model_json_schema()


def estimate_tokens(value: Any) -> int:
    """A cheap upper-ish estimate (four characters a token) for budgeting before a call."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return len(text) // 4 + 1


class Model:
    """One `AsyncOpenAI` client per process, made on first use and closed at shutdown."""

    def __init__(self, config: ModelConfig | None = None) -> None:
        self.config = config or ModelConfig(allowed=False)
        self._client: openai.AsyncOpenAI | None = None

    @property
    def on(self) -> bool:
        return self.config.on

    @property
    def name(self) -> str:
        return self.config.model

    def client(self) -> openai.AsyncOpenAI:
        if self._client is None:
            self._client = openai.AsyncOpenAI(
                api_key=self.config.api_key or "not-needed",
                base_url=self.config.base_url,
                timeout=self.config.timeout,
                max_retries=self.config.retries,
            )
        return self._client

    def warm(self) -> Model:
        """Load the SDK's lazily imported parts now (a second or more on a busy machine), so
        the first call's timeout is spent on the call."""
        if self.on:
            _ = self.client().chat.completions
        return self

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    def outgoing(self, material: Mapping[str, Any]) -> str:
        """The material as the model will see it: redacted when the deployment says so."""
        shown = redact.deep(dict(material)) if self.config.redact else dict(material)
        return json.dumps(shown, ensure_ascii=False, separators=(",", ":"))

    async def ask(
        self,
        purpose: str,
        instructions: str,
        material: Mapping[str, Any],
        output: type[T],
        check: Callable[[T], list[str]] = lambda _v: [],
    ) -> Answer[T]:
        """The model's answer to ``instructions`` about ``material``, validated, or why not."""
        if not self.on:
            return Answer(None, "off")
        self.warm()
        started = time.perf_counter()
        try:
            answer = await asyncio.wait_for(
                self._call(purpose, instructions, material, output, check),
                timeout=self.config.timeout,
            )
        except TimeoutError:
            answer = Answer(None, "timeout")
        except openai.APITimeoutError:
            answer = Answer(None, "timeout")
        except openai.RateLimitError:
            answer = Answer(None, "rate_limited")
        except openai.InternalServerError:
            answer = Answer(None, "server_error")
        except openai.APIStatusError as exc:
            answer = Answer(None, f"http_{exc.status_code}")
        except openai.OpenAIError as exc:
            answer = Answer(None, type(exc).__name__)
        # The time on the wire when the call came back, else all the time it was given.
        seconds = answer.seconds or time.perf_counter() - started
        answer = Answer(
            answer.value, answer.reason, answer.prompt_tokens, answer.completion_tokens, seconds
        )
        LLM_CALLS.labels(purpose, answer.reason).inc()
        LLM_SECONDS.labels(purpose).observe(seconds)
        LLM_TOKENS.labels(purpose, "prompt").inc(answer.prompt_tokens)
        LLM_TOKENS.labels(purpose, "completion").inc(answer.completion_tokens)
        log.info(
            "model call",
            purpose=purpose,
            outcome=answer.reason,
            prompt_tokens=answer.prompt_tokens,
            completion_tokens=answer.completion_tokens,
            seconds=round(seconds, 3),
        )
        return answer

    async def _call(
        self,
        purpose: str,
        instructions: str,
        material: Mapping[str, Any],
        output: type[T],
        check: Callable[[T], list[str]],
    ) -> Answer[T]:
        sent = self.outgoing(material)
        started = time.perf_counter()
        response = await self.client().chat.completions.create(
            model=self.config.model,
            temperature=0,
            messages=[
                {"role": "system", "content": instructions},
                {"role": "user", "content": sent},
            ],
            response_format={
                "type": "json_schema",
                "json_schema": {"name": purpose, "schema": schema_of(output)},
            },
        )
        wire = time.perf_counter() - started
        usage = response.usage
        prompt = usage.prompt_tokens if usage else estimate_tokens(instructions + sent)
        completion = usage.completion_tokens if usage else 0
        if not response.choices:
            return Answer(None, "empty", prompt, completion, wire)
        choice = response.choices[0]
        message = choice.message
        if getattr(message, "refusal", None) or choice.finish_reason == "content_filter":
            return Answer(None, "refusal", prompt, completion, wire)
        content = message.content or ""
        if not usage:
            completion = estimate_tokens(content)
        fenced = _FENCE.match(content)
        if fenced:
            content = fenced.group(1)
        try:
            json.loads(content)
        except ValueError:
            return Answer(None, "invalid_json", prompt, completion, wire)
        try:
            value = output.model_validate_json(content)
        except ValidationError as exc:
            log.info("model output off its schema", purpose=purpose, errors=exc.error_count())
            return Answer(None, "invalid", prompt, completion, wire)
        problems = check(value)
        if problems:
            log.info("model output rejected", purpose=purpose, problems=problems[:5])
            return Answer(None, "invalid", prompt, completion, wire)
        return Answer(value, "ok", prompt, completion, wire)
