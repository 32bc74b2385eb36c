"""Neutral messages and forms as Teams activities: Adaptive Cards, or plain text when
a message is only text.

Buttons become ``Action.Submit`` (data ``{action_id, value}``); buttons that open a form, and
forms themselves, use ``Action.Execute`` so Teams waits for a card back and the form (or its
errors) replaces the card in place.
"""

from __future__ import annotations

import html
from typing import Any

from rituals.messages import BOLD, ButtonStyle, Form, FormField, Message

CARD = "application/vnd.microsoft.card.adaptive"
SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.4"
MAX_TEXT = 5000
MAX_ELEMENTS = 40
MAX_ACTIONS = 6
MAX_FILE = 15000
OPEN, SUBMIT = "open", "submit"

STYLES = {ButtonStyle.primary: "positive", ButtonStyle.danger: "destructive"}


def _clip(text: str, limit: int = MAX_TEXT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def markdown(text: str) -> str:
    """The rituals' ``*bold*`` as the ``**bold**`` that Teams markdown understands."""
    return BOLD.sub(r"**\1**", text)


def _text_block(text: str, **extra: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": _clip(markdown(text)), "wrap": True, **extra}


def _card(body: list[dict[str, Any]], actions: list[dict[str, Any]]) -> dict[str, Any]:
    if len(body) > MAX_ELEMENTS:
        hidden = len(body) - (MAX_ELEMENTS - 1)
        note = _text_block(f"{hidden} more parts are not shown.", isSubtle=True, size="Small")
        body = [*body[: MAX_ELEMENTS - 1], note]
    card: dict[str, Any] = {
        "type": "AdaptiveCard",
        "$schema": SCHEMA,
        "version": VERSION,
        "body": body,
        "msteams": {"width": "Full"},
    }
    if actions:
        card["actions"] = actions
    return card


def _button(label: str, action_id: str, value: str, style: ButtonStyle, form: bool) -> dict:
    action: dict[str, Any] = {
        "type": "Action.Execute" if form else "Action.Submit",
        "title": _clip(label, 80),
        "data": {"action_id": action_id, "value": value},
    }
    if form:
        action["verb"] = OPEN
    if style in STYLES:
        action["style"] = STYLES[style]
    return action


def card(message: Message) -> dict[str, Any]:
    """The message as an Adaptive Card: text blocks, fact sets, buttons, small print."""
    body = [_text_block(message.text or " ")]
    for section in message.sections:
        if section.text:
            body.append(_text_block(section.text, separator=True, spacing="Medium"))
        if section.fields:
            facts = [
                {"title": _clip(f.label, 200), "value": _clip(f.value)} for f in section.fields
            ]
            body.append({"type": "FactSet", "facts": facts})
    if message.attachment is not None:
        content = message.attachment.content
        shown = _clip(content, MAX_FILE)
        body.append(_text_block(message.attachment.filename, weight="Bolder", separator=True))
        body.append({"type": "TextBlock", "text": shown, "wrap": True, "fontType": "Monospace"})
        if shown != content:
            body.append(_text_block("The file is longer than a card holds; it is cut here."))
    if message.context:
        body.append(_text_block(message.context, isSubtle=True, size="Small"))
    actions = [
        _button(b.label, b.action_id, b.value, b.style, b.form)
        for b in message.buttons[:MAX_ACTIONS]
    ]
    return _card(body, actions)


def plain(message: Message) -> bool:
    """A message that reads best as an ordinary chat message rather than a card."""
    return not (message.sections or message.buttons or message.context or message.attachment)


def attachment(content: dict[str, Any]) -> dict[str, Any]:
    return {"contentType": CARD, "content": content}


def activity(message: Message) -> dict[str, Any]:
    """The outgoing message activity; ``summary`` is what notifications show for a card."""
    if plain(message):
        text = _clip(markdown(html.escape(message.text, quote=False)), 20000)
        return {"type": "message", "text": text, "textFormat": "markdown"}
    return {
        "type": "message",
        "summary": _clip(message.text, 200),
        "attachments": [attachment(card(message))],
    }


def _input(field: FormField) -> dict[str, Any]:
    """A text box, a picker (``Input.ChoiceSet``) or a checkbox (``Input.Toggle``)."""
    common = {"id": field.key, "label": _clip(field.label, 200)}
    if field.toggle:
        return {
            "type": "Input.Toggle",
            **common,
            "title": _clip(field.hint or field.label, 200),
            "valueOn": "true",
            "valueOff": "false",
        }
    if field.choices:
        return {
            "type": "Input.ChoiceSet",
            **common,
            "style": "compact",
            "isRequired": not field.optional,
            "errorMessage": "Please pick one.",
            "choices": [
                {"title": _clip(c.label, 200), "value": c.value} for c in field.choices[:100]
            ],
        }
    return {
        "type": "Input.Text",
        **common,
        "isMultiline": field.multiline,
        "isRequired": not field.optional,
        "errorMessage": "Please fill this in.",
        "maxLength": MAX_TEXT,
    }


def form_card(form: Form, errors: dict[str, str] | None = None) -> dict[str, Any]:
    """A form as a card of inputs; ``errors`` (by field key) are shown under their field."""
    errors = errors or {}
    body: list[dict[str, Any]] = [_text_block(form.title, weight="Bolder", size="Medium")]
    keys = {f.key for f in form.fields}
    general = [message for key, message in errors.items() if key not in keys]
    for message in general:
        body.append(_text_block(message, color="Attention"))
    for field in form.fields:
        element = _input(field)
        if field.initial:
            element["value"] = _clip(field.initial)
        if field.hint and not field.toggle:
            element["placeholder"] = _clip(field.hint, 200)
        body.append(element)
        if field.key in errors:
            body.append(_text_block(errors[field.key], color="Attention", spacing="None"))
    submit = {
        "type": "Action.Execute",
        "title": _clip(form.submit, 80),
        "verb": SUBMIT,
        "data": {"form_id": form.form_id, "context": form.context},
        "style": "positive",
    }
    return _card(body, [submit])


def done_card(text: str) -> dict[str, Any]:
    """What a submitted form turns into, so it cannot be sent twice by mistake."""
    return _card([_text_block(text)], [])
