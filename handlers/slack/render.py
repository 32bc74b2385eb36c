"""Neutral messages as Block Kit: sections, fields, buttons and context."""

from __future__ import annotations

from typing import Any

from rituals.messages import ButtonStyle, Message

MAX_SECTION = 3000
MAX_FIELDS = 10
MAX_FIELD = 2000
MAX_BUTTONS = 25


def escape(text: str) -> str:
    """Slack's three control characters, so user text cannot ping @channel or forge links."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _mrkdwn(text: str, limit: int = MAX_SECTION) -> dict[str, str]:
    return {"type": "mrkdwn", "text": _clip(escape(text), limit)}


def blocks(message: Message) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [{"type": "section", "text": _mrkdwn(message.text)}]
    for section in message.sections:
        block: dict[str, Any] = {"type": "section"}
        if section.text:
            block["text"] = _mrkdwn(section.text)
        if section.fields:
            block["fields"] = [
                _mrkdwn(f"*{f.label}*\n{f.value}", MAX_FIELD) for f in section.fields[:MAX_FIELDS]
            ]
        if "text" not in block and "fields" not in block:
            continue
        out.append(block)
    if message.attachment is not None:
        body = _clip(message.attachment.content, MAX_SECTION - 40)
        out.append(
            {"type": "section", "text": _mrkdwn(f"{message.attachment.filename}\n```{body}```")}
        )
    if message.buttons:
        elements = []
        for index, button in enumerate(message.buttons[:MAX_BUTTONS]):
            element: dict[str, Any] = {
                "type": "button",
                "text": {"type": "plain_text", "text": _clip(button.label, 75)},
                "action_id": f"{button.action_id}#{index}",
                "value": button.value,
            }
            if button.style is not ButtonStyle.default:
                element["style"] = button.style.value
            elements.append(element)
        out.append({"type": "actions", "elements": elements})
    if message.context:
        out.append({"type": "context", "elements": [_mrkdwn(message.context)]})
    return out


def action_name(action_id: str) -> str:
    """The neutral action id of a pressed button (Slack needs them unique per message)."""
    return action_id.split("#", 1)[0]


def fallback(message: Message) -> str:
    """The notification text Slack shows where blocks are not rendered."""
    return _clip(escape(message.text), 3000)
