"""The digest as the model writes it: a headline and a few points in plain language, each
citing the parts (rituals) it comes from, above the plain digest. A point that cites no part,
or a part the digest does not have, rejects the whole answer: the plain digest stays."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from rituals.llm.written import Material, Written, register, section_text
from rituals.messages import Message, Section


class Point(BaseModel):
    text: str = Field(max_length=400)
    parts: list[str] = Field(max_length=10)


class DigestWritten(BaseModel):
    headline: str = Field(max_length=240)
    points: list[Point] = Field(default_factory=list, max_length=8)


class DigestSummary(Written[DigestWritten]):
    name = "digest"
    output = DigestWritten
    chunked = "parts"

    def check(self, output: DigestWritten, material: Material) -> list[str]:
        known = {part["id"] for part in material.get("parts", [])}
        problems = [] if output.points else ["makes no point"]
        for point in output.points:
            if not point.parts:
                problems.append(f"cites no part: {point.text[:60]!r}")
            problems.extend(
                f"cites {cited!r}, which is no part here"
                for cited in point.parts
                if cited not in known
            )
        return problems

    def render(self, plain: Message, output: DigestWritten, material: Material) -> Message:
        headings = {part["id"]: part["heading"] for part in material.get("parts", [])}
        lines = [
            f"• {point.text} ({', '.join(headings[p] for p in dict.fromkeys(point.parts))})"
            for point in output.points
        ]
        return plain.model_copy(
            update={
                "text": f"{plain.text} — {output.headline}",
                "sections": [Section(text=section_text("*In short*", lines)), *plain.sections],
            }
        )


SUMMARY: Any = register(DigestSummary())
