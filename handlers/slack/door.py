"""Which verified Slack requests can be acknowledged before they are handled.

Slash commands, events and most button presses are stored and acknowledged at once. What
Slack needs an answer to inside the acknowledgement (a form's field errors, the URL check) or
within three seconds of the click (opening a modal) is handled on the spot.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any
from urllib.parse import parse_qs

from handlers.slack.port import PLATFORM
from handlers.slack.render import action_name
from storage.journal import Arrival


def _lane(team: str, user: str) -> str:
    return f"{PLATFORM}:{team}:{user}"


def _fingerprint(body: str) -> str:
    return hashlib.sha256(body.encode()).hexdigest()[:32]


def malformed(body: str, content_type: str) -> str | None:
    """Why a signed body is not a request Slack sends, or None: bolt would crash on it."""
    try:
        if content_type.startswith("application/json"):
            envelope = json.loads(body)
            if not isinstance(envelope, dict) or not isinstance(envelope.get("type"), str):
                return "expected a JSON object with a type"
            if envelope["type"] == "event_callback" and not isinstance(envelope.get("event"), dict):
                return "expected an event object"
            return None
        form = {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}
        if "payload" not in form:
            return None
        payload = json.loads(form["payload"])
    except ValueError:
        return "the body does not parse"
    if not isinstance(payload, dict) or not isinstance(payload.get("type"), str):
        return "expected a payload object with a type"
    actions = payload.get("actions", [])
    if not isinstance(actions, list) or not all(isinstance(x, dict) for x in actions):
        return "expected a list of actions"
    if "view" in payload and not isinstance(payload["view"], dict):
        return "expected a view object"
    return None


def later(body: str, content_type: str, *, opens_form: frozenset[str]) -> Arrival | None:
    """The request as a journal entry, or ``None`` when it must be handled now.

    ``opens_form`` names the actions and ``/standup`` words that open a modal.
    """
    try:
        if content_type.startswith("application/json"):
            return _event(json.loads(body), body, content_type)
        form = {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}
        if "command" in form:
            return _command(form, body, content_type, opens_form)
        if "payload" in form:
            return _interaction(json.loads(form["payload"]), body, content_type, opens_form)
    except (ValueError, TypeError, AttributeError, KeyError):
        return None
    return None


def _event(envelope: Any, body: str, content_type: str) -> Arrival | None:
    if not isinstance(envelope, dict) or envelope.get("type") != "event_callback":
        return None
    event = envelope.get("event") or {}
    user = event.get("user") or (event.get("message") or {}).get("user") or ""
    delivery = str(envelope.get("event_id") or _fingerprint(body))
    return Arrival(
        PLATFORM, delivery, _lane(str(envelope.get("team_id", "")), str(user)), content_type, body
    )


def _command(
    form: dict[str, str], body: str, content_type: str, opens_form: frozenset[str]
) -> Arrival | None:
    if f"{form['command']} {form.get('text', '').strip().lower()}" in opens_form:
        return None
    delivery = "command:" + (form.get("trigger_id") or _fingerprint(body))
    lane = _lane(form.get("team_id", ""), form.get("user_id", ""))
    return Arrival(PLATFORM, delivery, lane, content_type, body)


def _interaction(
    payload: Any, body: str, content_type: str, opens_form: frozenset[str]
) -> Arrival | None:
    if not isinstance(payload, dict) or payload.get("type") != "block_actions":
        return None
    actions = payload.get("actions") or []
    if any(action_name(str(a.get("action_id", ""))) in opens_form for a in actions):
        return None
    user = str((payload.get("user") or {}).get("id", ""))
    stamp = actions[0].get("action_ts", "") if actions else ""
    delivery = f"action:{stamp}:{user}" if stamp else "action:" + _fingerprint(body)
    lane = _lane(str((payload.get("team") or {}).get("id", "")), user)
    return Arrival(PLATFORM, delivery, lane, content_type, body)
