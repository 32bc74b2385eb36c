"""Neutral messages as Block Kit: sections, fields, buttons and context."""

from __future__ import annotations

from typing import Any

from rituals.messages import ButtonStyle, Form, Message

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
        for index, button in enumerate(message.buttons[:MAX_BUTTONS]):  # form ones too
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


def _plain(text: str, limit: int) -> dict[str, str]:
    return {"type": "plain_text", "text": _clip(text, limit)}


def modal(form: Form) -> dict[str, Any]:
    """A form as a modal view; each field an input block named by its key."""
    inputs = []
    for field in form.fields:
        element: dict[str, Any] = {
            "type": "plain_text_input",
            "action_id": "value",
            "multiline": field.multiline,
        }
        if field.initial:
            element["initial_value"] = _clip(field.initial, 3000)
        block: dict[str, Any] = {
            "type": "input",
            "block_id": field.key,
            "optional": field.optional,
            "label": _plain(field.label, 2000),
            "element": element,
        }
        if field.hint:
            block["hint"] = _plain(field.hint, 2000)
        inputs.append(block)
    return {
        "type": "modal",
        "callback_id": form.form_id,
        "private_metadata": form.context,
        "title": _plain(form.title, 24),
        "submit": _plain(form.submit, 24),
        "close": _plain("Cancel", 24),
        "blocks": inputs,
    }


def submitted(view: dict[str, Any]) -> dict[str, str]:
    """The values of a submitted modal, by field key."""
    values: dict[str, str] = {}
    for key, actions in ((view.get("state") or {}).get("values") or {}).items():
        value = (actions.get("value") or {}).get("value")
        values[key] = value if isinstance(value, str) else ""
    return values
