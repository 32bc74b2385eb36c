"""The platform-neutral message model every renderer (Block Kit, Adaptive Card, text) reads.

Rituals build these; edges only translate them, so one summary looks alike everywhere.
"""

from __future__ import annotations

import re
from enum import StrEnum

from pydantic import BaseModel, Field

# Emphasis in message text is Slack's ``*bold*``: a pair of asterisks hugging the words they
# enclose, not touching a word outside. A lone or spaced asterisk (``2*3``, a cron's
# ``* * 1-5``) is something a person typed, and renderers show it as it is.
BOLD = re.compile(r"(?<![*\w])\*(?!\s)([^*\n]+?)(?<!\s)\*(?![*\w])")


class ButtonStyle(StrEnum):
    default = "default"
    primary = "primary"
    danger = "danger"


class Button(BaseModel):
    """``form`` buttons open a form where the platform has them; elsewhere they are hidden."""

    label: str
    action_id: str
    value: str = ""
    style: ButtonStyle = ButtonStyle.default
    form: bool = False


class Field_(BaseModel):
    """A label/value pair shown side by side where the platform can."""

    label: str
    value: str


class Section(BaseModel):
    text: str = ""
    fields: list[Field_] = Field(default_factory=list)


class Attachment(BaseModel):
    """A file sent with the message, such as a CSV export."""

    filename: str
    content: str
    mime_type: str = "text/plain"


class Message(BaseModel):
    """What the bot says: a headline, optional sections, buttons and small print."""

    text: str
    sections: list[Section] = Field(default_factory=list)
    buttons: list[Button] = Field(default_factory=list)
    context: str = ""
    attachment: Attachment | None = None
    # Non-empty: the message holds a secret (a webhook URL). It goes to its addressee in
    # private or not at all, never where others read; where a platform has no private route
    # to them, the send fails for good and they are shown this line instead.
    secret: str = ""

    def plain_text(self) -> str:
        """The whole message as text, for terminals and for notification fallbacks."""
        lines = [self.text]
        for section in self.sections:
            if section.text:
                lines.append(section.text)
            lines.extend(f"{f.label}: {f.value}" for f in section.fields)
        shown = [b for b in self.buttons if not b.form]
        if shown:
            lines.append("  ".join(f"[{b.label}]" for b in shown))
        if self.context:
            lines.append(self.context)
        return "\n".join(line for line in lines if line)


class Choice(BaseModel):
    """One option of a picker: ``value`` comes back in the submission, ``label`` is shown."""

    value: str
    label: str


class FormField(BaseModel):
    """One input of a form; ``key`` names it in the submitted values.

    With ``choices`` it is a picker (the chosen value comes back); a ``toggle`` is a
    checkbox that comes back as "true" or "false". Otherwise it is free text.
    """

    key: str
    label: str
    initial: str = ""
    hint: str = ""
    multiline: bool = False
    optional: bool = False
    choices: list[Choice] = Field(default_factory=list)
    toggle: bool = False


class Form(BaseModel):
    """A dialog to fill in at once (a Slack modal, a Teams card): what errbot calls a card.

    ``form_id`` and ``context`` come back with the submission, so the rituals know what
    was filled in and for which occurrence or channel.
    """

    form_id: str
    title: str
    fields: list[FormField]
    submit: str = "Save"
    context: str = ""


def text(body: str, *, context: str = "") -> Message:
    return Message(text=body, context=context)


def plural(count: int, word: str) -> str:
    """``1 day``, ``3 days``: counts in chat read as people write them."""
    return f"{count} {word}{'' if count == 1 else 's'}"
