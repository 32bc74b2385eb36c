"""The retro summary as the model writes it: items clustered into themes, with counts taken
from the board (never from the model), and actions the items call for.

Anonymous items reach the model as they are stored: without an author.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from rituals.llm.written import Material, Written, register, section_text
from rituals.messages import Message, Section, plural
from rituals.retro import formats
from rituals.retro.actions import ActionView
from rituals.retro.board import Card
from rituals.retro.models import Retro


class Theme(BaseModel):
    title: str = Field(max_length=120)
    summary: str = Field(default="", max_length=400)
    items: list[int] = Field(max_length=200)


class Suggestion(BaseModel):
    text: str = Field(max_length=300)
    items: list[int] = Field(max_length=50)


class RetroWritten(BaseModel):
    headline: str = Field(max_length=240)
    themes: list[Theme] = Field(default_factory=list, max_length=8)
    suggested_actions: list[Suggestion] = Field(default_factory=list, max_length=5)


def material(retro: Retro, found: list[Card], agreed: list[ActionView]) -> Material:
    items: list[dict[str, Any]] = []
    for card in sorted(found, key=lambda c: c.id):
        item: dict[str, Any] = {
            "id": card.id,
            "category": formats.label(retro.format, card.category),
            "text": card.text,
            "votes": card.votes,
        }
        if card.author is not None:
            item["author"] = card.author
        items.append(item)
    return {
        "title": retro.title or f"Retro of {retro.opened_at.date().isoformat()}",
        "agreed_actions": [a.line() for a in agreed],
        "items": items,
    }


class RetroSummary(Written[RetroWritten]):
    name = "retro"
    output = RetroWritten
    chunked = "items"

    def check(self, output: RetroWritten, material: Material) -> list[str]:
        known = {item["id"] for item in material.get("items", [])}
        problems = []
        cited = [(t.title, t.items) for t in output.themes]
        cited += [(s.text, s.items) for s in output.suggested_actions]
        for text, ids in cited:
            if not ids:
                problems.append(f"cites no item: {text[:60]!r}")
            problems.extend(f"cites #{i}, which is no item here" for i in ids if i not in known)
        return problems

    def render(self, plain: Message, output: RetroWritten, material: Material) -> Message:
        votes = {item["id"]: item["votes"] for item in material.get("items", [])}
        sections = []
        if output.themes:
            lines = []
            for theme in output.themes:
                ids = sorted(set(theme.items))
                count = f"{plural(len(ids), 'item')}, {plural(sum(votes[i] for i in ids), 'vote')}"
                about = f": {theme.summary}" if theme.summary else ""
                refs = " ".join(f"#{i}" for i in ids)
                lines.append(f"• *{theme.title}* ({count}){about} — {refs}")
            sections.append(Section(text=section_text("*Themes*", lines)))
        if output.suggested_actions:
            lines = [
                f"• {s.text} (from {' '.join(f'#{i}' for i in sorted(set(s.items)))})"
                for s in output.suggested_actions
            ]
            sections.append(Section(text=section_text("*Suggested actions*", lines)))
        return plain.model_copy(
            update={
                "text": f"Retro summary: {material['title']} — {output.headline}",
                "sections": [*sections, *plain.sections],
            }
        )


SUMMARY: Any = register(RetroSummary())
