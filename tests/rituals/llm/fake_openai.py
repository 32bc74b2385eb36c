"""A fake OpenAI-compatible server on 127.0.0.1: records every request body it gets and
answers with what the test tells it to (a completion, a 429, a 500, a hang, a refusal)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from rituals.llm.model import Model, ModelConfig

Responder = Callable[[dict[str, Any]], Awaitable[web.Response]]


def completion(
    content: str | None, *, refusal: str | None = None, usage: tuple[int, int] = (120, 40)
) -> web.Response:
    return web.json_response(
        {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": 0,
            "model": "fake-model",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content, "refusal": refusal},
                    "finish_reason": "stop",
                    "logprobs": None,
                }
            ],
            "usage": {
                "prompt_tokens": usage[0],
                "completion_tokens": usage[1],
                "total_tokens": sum(usage),
            },
        }
    )


def as_json(value: Any) -> Responder:
    async def respond(_body: dict[str, Any]) -> web.Response:
        return completion(json.dumps(value))

    return respond


def material_of(body: dict[str, Any]) -> dict[str, Any]:
    """What the bot showed the model: the user message, which is the material as JSON."""
    return json.loads(body["messages"][-1]["content"])


class FakeOpenAI:
    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.raw: list[str] = []
        self.respond: Responder = as_json({})
        self.release = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._models: list[Model] = []
        self.url = ""

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._handle)
        self._runner = web.AppRunner(app, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/v1"
        return self.url

    async def stop(self) -> None:
        self.release.set()
        for model in self._models:
            await model.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        raw = await request.text()
        self.raw.append(raw)
        body = json.loads(raw)
        self.bodies.append(body)
        return await self.respond(body)

    async def hang(self, _body: dict[str, Any]) -> web.Response:
        """Answers only when the test ends: a server that never replies in time."""
        await self.release.wait()
        return completion("{}")

    def model(self, **config: Any) -> Model:
        settings = {"api_key": "sk-test", "base_url": self.url, "timeout": 1.0, "retries": 1}
        model = Model(ModelConfig(**(settings | config))).warm()
        self._models.append(model)
        return model


def status(code: int, **headers: str) -> Responder:
    async def respond(_body: dict[str, Any]) -> web.Response:
        return web.json_response(
            {"error": {"message": f"fake {code}", "type": "fake"}}, status=code, headers=headers
        )

    return respond
