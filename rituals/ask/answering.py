"""Answering a question from the channel's own history: the database finds the passages,
the model only ever sees those, and every answer names the days and rituals it drew on.

The search runs in the command's unit of work; the model is asked after it committed, and
its answer (or, failing that, the passages themselves) reaches the person privately
through the outbox.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from rituals import outbound
from rituals.identity import Actor, Place
from rituals.kinds import Recalled
from rituals.llm import prompts
from rituals.llm.model import Answer, Model, schema_of
from rituals.llm.written import section_text
from rituals.messages import Message, Section, plural
from rituals.runtime import Runtime
from storage.outbox import Envelope

PASSAGE = 600


class AskAnswer(BaseModel):
    answer: str = Field(max_length=1500)
    sources: list[str] = Field(default_factory=list, max_length=20)
    found: bool = True


def passage_id(n: int) -> str:
    return f"p{n}"


def material(question: str, found: Sequence[Recalled]) -> dict[str, Any]:
    passages = []
    for n, hit in enumerate(found, 1):
        passage: dict[str, Any] = {
            "id": passage_id(n),
            "ritual": hit.ritual,
            "day": hit.day.isoformat(),
            "text": hit.text[:PASSAGE],
        }
        if hit.who is not None:
            passage["who"] = hit.who
        passages.append(passage)
    return {"question": question, "passages": passages}


def check(answer: AskAnswer, count: int) -> list[str]:
    known = {passage_id(n) for n in range(1, count + 1)}
    problems = [f"cites {s!r}, which is no passage here" for s in answer.sources if s not in known]
    if answer.found and not answer.sources:
        problems.append("answers without citing a passage")
    return problems


def source(hit: Recalled) -> str:
    return f"{hit.ritual}, {hit.day:%a %d %b %Y}"


def sources_line(hits: Sequence[Recalled]) -> str:
    seen: list[str] = []
    for hit in hits:
        if source(hit) not in seen:
            seen.append(source(hit))
    return "Sources: " + "; ".join(seen)


def passages_message(channel: str, question: str, found: Sequence[Recalled], note: str) -> Message:
    """The matching passages themselves, each with its ritual and day: the answer without
    a model, and the fallback when the model fails."""
    lines = [
        f"• {source(hit)}" + (f" — {hit.who}" if hit.who else "") + f": {hit.text[:PASSAGE]}"
        for hit in found
    ]
    return Message(
        text=f"From #{channel}'s history, on “{question}”: {plural(len(found), 'passage')}",
        sections=[Section(text=section_text("*What matched*", lines))],
        context=note,
    )


def nothing_found(channel: str, question: str) -> Message:
    return Message(
        text=f"Nothing found in #{channel}'s rituals about “{question}”.",
        context="I answer only from what this channel's rituals stored.",
    )


def answer_message(
    channel: str, question: str, found: Sequence[Recalled], answer: AskAnswer, model: str
) -> Message:
    if not answer.found:
        return Message(
            text=f"#{channel}'s history holds no answer to “{question}”.",
            sections=[Section(text=answer.answer)] if answer.answer else [],
            context=f"Searched {plural(len(found), 'passage')} · written by the model ({model})",
        )
    cited = [found[int(s[1:]) - 1] for s in dict.fromkeys(answer.sources)]
    return Message(
        text=f"On “{question}” in #{channel}:",
        sections=[Section(text=answer.answer)],
        context=f"{sources_line(cited)} · written by the model ({model})",
    )


async def ask_model(model: Model, question: str, found: Sequence[Recalled]) -> Answer[AskAnswer]:
    return await model.ask(
        "ask",
        prompts.fill("ask", schema=json.dumps(schema_of(AskAnswer))),
        material(question, found),
        AskAnswer,
        lambda out: check(out, len(found)),
    )


async def answer_later(
    rt: Runtime,
    actor: Actor,
    place: Place,
    channel: str,
    question: str,
    found: Sequence[Recalled],
    asked_at: datetime,
) -> None:
    """Ask the model (no unit of work open), then queue its answer, or the passages."""
    answer = await ask_model(rt.llm, question, found)
    if answer.value is not None:
        message = answer_message(channel, question, found, answer.value, rt.llm.name)
    else:
        message = passages_message(
            channel, question, found, "The model gave no answer this time; these passages match."
        )
    envelope = Envelope(
        actor.platform,
        actor.workspace,
        "ephemeral",
        channel=place.channel,
        user=actor.user,
        via=place.reply_to,
    )
    async with rt.db.session() as session:
        await outbound.queue(session, envelope, message, rt.clock.now())
    rt.sent_later()
