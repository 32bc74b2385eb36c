"""The command grammar: shared tokens, the typed-command base, and the grammar kinds fill."""

from rituals.commands.grammar import Grammar, Verb, Verbs
from rituals.commands.model import WEEKDAYS, Command, Help, ParseResult, Usage

__all__ = ["WEEKDAYS", "Command", "Grammar", "Help", "ParseResult", "Usage", "Verb", "Verbs"]
