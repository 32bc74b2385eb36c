"""The `ask` words: a question in free text, and the workspace's switch for the model."""

from __future__ import annotations

from dataclasses import dataclass

from rituals.commands import Command, Verb
from rituals.commands import tokens as t

WORD = "ask"
MAX_QUESTION = 500
EXAMPLE = "ask what blocked the ranker work last month?"


@dataclass(frozen=True)
class AskQuestion(Command):
    text: str


@dataclass(frozen=True)
class AskModel(Command):
    """``on`` or ``off`` for the workspace; None asks how things stand."""

    on: bool | None = None


def _question(args: list[str], rest: str) -> Command:
    return AskQuestion(t.free_text(rest, "question", MAX_QUESTION))


def _model(args: list[str], rest: str) -> Command:
    """``ask model off``; anything longer is a question that starts with "model"."""
    said = [a.lower() for a in args]
    if not said or said == ["status"]:
        return AskModel(None)
    if said in (["on"], ["off"]):
        return AskModel(said == ["on"])
    return _question(["model", *args], f"model {rest}")


VERBS = {
    "": Verb(_question, EXAMPLE),
    "model": Verb(_model, "ask model off"),
}
