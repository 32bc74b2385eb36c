"""Neutral messages as Block Kit: sections, fields, buttons and context."""

from __future__ import annotations

import re
from typing import Any

from rituals.messages import ButtonStyle, Form, FormField, Message

MAX_SECTION = 3000
MAX_FIELDS = 10
MAX_FIELD = 2000
MAX_BUTTONS = 25


USER_ID = re.compile(r"(?<![\w@])@([UW][A-Z0-9]{2,})\b")
SLACK_MARKUP = re.compile(r"<([^<>]*)>")


def escape(text: str) -> str:
    """Slack's three control characters, so user text cannot ping @channel or forge links.

    Then ``@U123`` user ids, which the rituals keep in plain text, become real mentions.
    """
    safe = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return USER_ID.sub(r"<@\1>", safe)


def _markup(match: re.Match[str]) -> str:
    inner = match.group(1)
    target, _, label = inner.partition("|")
    if target.startswith("@"):
        return target
    if target.startswith("#"):
        return f"#{label or target[1:]}"
    if target.startswith("!subteam^"):
        return label or "@team"
    if target.startswith("!"):
        return f"@{target[1:]}"
    return f"{label} ({target})" if label and label != target else target


def from_slack(text: str) -> str:
    """Slack's message markup as plain text: mentions as ``@U123``, links spelled out."""
    plain = SLACK_MARKUP.sub(_markup, text)
    return plain.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _mrkdwn(text: str, limit: int = MAX_SECTION) -> dict[str, str]:
    return {"type": "mrkdwn", "text": _clip(escape(text), limit)}


MAX_BLOCKS = 50


def _chunks(text: str, limit: int = MAX_SECTION - 200) -> list[str]:
    """Long text cut at line ends into pieces a section can hold (escaping may grow it)."""
    pieces, current = [], ""
    for line in text.splitlines():
        while len(line) > limit:
            pieces.append(line[:limit])
            line = line[limit:]
        if current and len(current) + len(line) + 1 > limit:
            pieces.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    if current:
        pieces.append(current)
    return pieces


def _text_sections(text: str) -> list[dict[str, Any]]:
    return [{"type": "section", "text": _mrkdwn(piece)} for piece in _chunks(text)]


def blocks(message: Message) -> list[dict[str, Any]]:
    """Block Kit for a message, within Slack's limits: long text split, not cut."""
    out: list[dict[str, Any]] = _text_sections(message.text or " ")
    for section in message.sections:
        if section.text:
            out.extend(_text_sections(section.text))
        for start in range(0, len(section.fields), MAX_FIELDS):
            group = section.fields[start : start + MAX_FIELDS]
            out.append(
                {
                    "type": "section",
                    "fields": [_mrkdwn(f"*{f.label}*\n{f.value}", MAX_FIELD) for f in group],
                }
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
    if len(out) > MAX_BLOCKS:
        hidden = len(out) - (MAX_BLOCKS - 1)
        note = f"{hidden} more parts are not shown; see the thread or the export."
        out = [*out[: MAX_BLOCKS - 1], {"type": "context", "elements": [_mrkdwn(note)]}]
    return out


def action_name(action_id: str) -> str:
    """The neutral action id of a pressed button (Slack needs them unique per message)."""
    return action_id.split("#", 1)[0]


def fallback(message: Message) -> str:
    """The notification text Slack shows where blocks are not rendered."""
    return _clip(escape(message.text), 3000)


def _plain(text: str, limit: int) -> dict[str, str]:
    return {"type": "plain_text", "text": _clip(text, limit)}


def _element(field: FormField) -> dict[str, Any]:
    """A text input, a ``static_select`` picker or a single checkbox, by the field's shape."""
    if field.toggle:
        option = {"text": _plain(field.hint or field.label, 75), "value": "true"}
        element: dict[str, Any] = {"type": "checkboxes", "action_id": "value", "options": [option]}
        if field.initial == "true":
            element["initial_options"] = [option]
        return element
    if field.choices:
        options = [
            {"text": _plain(c.label, 75), "value": c.value[:150]} for c in field.choices[:100]
        ]
        element = {"type": "static_select", "action_id": "value", "options": options}
        chosen = [o for o in options if o["value"] == field.initial]
        if chosen:
            element["initial_option"] = chosen[0]
        return element
    element = {"type": "plain_text_input", "action_id": "value", "multiline": field.multiline}
    if field.initial:
        element["initial_value"] = _clip(field.initial, 3000)
    return element


def modal(form: Form) -> dict[str, Any]:
    """A form as a modal view; each field an input block named by its key."""
    inputs = []
    for field in form.fields:
        element = _element(field)
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


def _state_value(state: dict[str, Any]) -> str:
    """One input's submitted value as text: typed, picked, or a checkbox as true/false."""
    if state.get("type") == "checkboxes":
        return "true" if state.get("selected_options") else "false"
    if state.get("type") == "static_select":
        chosen = state.get("selected_option")
        value = chosen.get("value") if isinstance(chosen, dict) else None
    else:
        value = state.get("value")
    return value if isinstance(value, str) else ""


def submitted(view: dict[str, Any]) -> dict[str, str]:
    """The values of a submitted modal, by field key."""
    values: dict[str, str] = {}
    for key, actions in ((view.get("state") or {}).get("values") or {}).items():
        state = actions.get("value") if isinstance(actions, dict) else None
        values[key] = _state_value(state if isinstance(state, dict) else {})
    return values
