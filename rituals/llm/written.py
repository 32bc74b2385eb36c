"""What a kind brings to have its summary written by the model: one `Written` each.

A kind describes its summary once (prompt, output schema, how to split material over
budget, what makes an answer wrong, how to show it); chunking, merging, fallback and
marking are the same for every kind and live here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel

from rituals.llm import prompts
from rituals.llm.model import Answer, Model, estimate_tokens, schema_of
from rituals.messages import Message

T = TypeVar("T", bound=BaseModel)

WRITTEN_BY = "Written by the model ({model}) from what people said"
PENDING = "Plain summary — the model's version replaces it here shortly"
PLAIN = "Plain summary"

Material = dict[str, Any]


def marked(message: Message, note: str) -> Message:
    """``message`` with ``note`` leading its context line: which version a reader sees."""
    context = f"{note} · {message.context}" if message.context else note
    return message.model_copy(update={"context": context})


def who_problems(points: Iterable[tuple[str, list[str]]], speakers: Iterable[str]) -> list[str]:
    """Points that cite nobody, or name someone who said nothing here."""
    known = {_key(name) for name in speakers}
    problems = []
    for text, who in points:
        if not who:
            problems.append(f"cites nobody: {text[:60]!r}")
        problems.extend(
            f"names {name!r}, who said nothing" for name in who if _key(name) not in known
        )
    return problems


def _key(name: str) -> str:
    return " ".join(name.strip().lstrip("@").split()).casefold()


class Written(Generic[T]):
    """One kind's model-written summary. ``chunked`` names the list in the material that
    grows with the team (people, items) and is what gets split when over budget."""

    name: ClassVar[str]
    output: type[T]
    chunked: ClassVar[str]

    def instructions(self, material: Material) -> str:
        return prompts.fill(self.name, schema=json.dumps(schema_of(self.output)))

    def check(self, output: T, material: Material) -> list[str]:
        raise NotImplementedError

    def render(self, plain: Message, output: T, material: Material) -> Message:
        raise NotImplementedError

    def split(self, material: Material, budget: int) -> list[Material]:
        """Material in parts each within ``budget`` tokens; what is not the growing list
        (blockers, alerts) goes with the first part only."""
        if estimate_tokens(material) <= budget:
            return [material]
        rest = {k: v for k, v in material.items() if k != self.chunked}
        entries = list(material.get(self.chunked, []))
        parts: list[Material] = []
        current: list[Any] = []
        head = dict(rest)
        used = estimate_tokens({**head, self.chunked: []})
        for entry in entries:
            size = estimate_tokens(entry) + 1
            if current and used + size > budget:
                parts.append({**head, self.chunked: current})
                head = {k: _empty(v) for k, v in rest.items()}
                current = []
                used = estimate_tokens({**head, self.chunked: []})
            current.append(entry)
            used += size
        parts.append({**head, self.chunked: current})
        return parts

    async def write(self, model: Model, material: Material) -> Answer[T]:
        """The model's summary of ``material``, in chunks merged by the model when it is
        over budget; validated against the whole material either way."""
        parts = self.split(material, model.config.budget)
        if len(parts) == 1:
            return await model.ask(
                self.name,
                self.instructions(material),
                material,
                self.output,
                lambda out: self.check(out, material),
            )
        partials = []
        tokens = [0, 0]
        for part in parts:
            answer = await model.ask(
                f"{self.name}_part",
                self.instructions(part),
                part,
                self.output,
                lambda out, part=part: self.check(out, part),
            )
            tokens[0] += answer.prompt_tokens
            tokens[1] += answer.completion_tokens
            if answer.value is None:
                return Answer(None, answer.reason, *tokens)
            partials.append(answer.value.model_dump(mode="json"))
        merge = {"summary_of": self.name, "partial_summaries": partials}
        if estimate_tokens(merge) > model.config.budget:
            return Answer(None, "too_large", *tokens)
        merged = await model.ask(
            f"{self.name}_merge",
            prompts.fill("merge", schema=json.dumps(schema_of(self.output))),
            merge,
            self.output,
            lambda out: self.check(out, material),
        )
        return Answer(
            merged.value,
            merged.reason,
            tokens[0] + merged.prompt_tokens,
            tokens[1] + merged.completion_tokens,
        )


def _empty(value: Any) -> Any:
    return type(value)() if isinstance(value, list | dict) else value


SPECS: dict[str, Written[Any]] = {}


def register(spec: Written[Any]) -> Written[Any]:
    """Make ``spec`` known to the sweep that writes summaries, by its name."""
    SPECS[spec.name] = spec
    return spec


SECTION_LIMIT = 2900  # under Slack's 3000 characters per section


def section_text(heading: str, lines: list[str]) -> str:
    """A heading and its lines, cut to what one section of any platform shows."""
    text = heading
    for shown, line in enumerate(lines):
        if len(text) + len(line) + 40 > SECTION_LIMIT:
            return f"{text}\n… and {len(lines) - shown} more"
        text += f"\n{line}"
    return text
