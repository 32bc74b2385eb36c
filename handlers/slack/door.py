"""Which verified Slack requests can be acknowledged before they are handled.

Slash commands, events and most button presses are stored and acknowledged at once. What
Slack needs an answer to inside the acknowledgement (a form's field errors, the URL check) or
within three seconds of the click (opening a modal) is handled on the spot.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from handlers.slack.port import PLATFORM
from handlers.slack.render import action_name
from storage.journal import Arrival


def _lane(team: str, user: str) -> str:
    return f"{PLATFORM}:{team}:{user}"


def _fingerprint(body: str) -> str:
    return hashlib.sha256(body.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Verdict:
    """What the door does with a signed body: refuse it (``problem``), store and acknowledge
    it (``arrival``), acknowledge it and do nothing (``ignore``: channel chatter the bot
    hears only because it is in the channel), or, with none, hand it to bolt on the spot."""

    problem: str | None = None
    arrival: Arrival | None = None
    ignore: bool = False


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def examine(body: str, content_type: str, *, opens_form: frozenset[str]) -> Verdict:
    """Parse the body once and decide; ``opens_form`` names the actions and ``/standup``
    words that open a modal, which Slack allows only within 3 s of the click."""
    try:
        if content_type.startswith("application/json"):
            return _event(json.loads(body), body, content_type)
        form = {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}
        if "command" in form:
            return Verdict(arrival=_command(form, body, content_type, opens_form))
        if "payload" not in form:
            return Verdict()
        payload = json.loads(form["payload"])
    except ValueError:
        return Verdict("the body does not parse")
    return _interaction(payload, body, content_type, opens_form)


def _event(envelope: Any, body: str, content_type: str) -> Verdict:
    if not isinstance(envelope, dict) or not isinstance(envelope.get("type"), str):
        return Verdict("expected a JSON object with a type")
    if envelope["type"] != "event_callback":
        return Verdict()
    event = envelope.get("event")
    if not isinstance(event, dict):
        return Verdict("expected an event object")
    if _chatter(event):
        return Verdict(ignore=True)
    user = event.get("user") or _obj(event.get("message")).get("user") or ""
    delivery = str(envelope.get("event_id") or _fingerprint(body))
    lane = _lane(str(envelope.get("team_id", "")), str(user))
    return Verdict(arrival=Arrival(PLATFORM, delivery, lane, content_type, body))


def _chatter(event: dict[str, Any]) -> bool:
    """A channel message that is no reply in a thread: nothing the bot acts on."""
    if event.get("type") != "message" or event.get("channel_type") not in ("channel", "group"):
        return False
    thread = event.get("thread_ts")
    return not thread or thread == event.get("ts")


def _command(
    form: dict[str, str], body: str, content_type: str, opens_form: frozenset[str]
) -> Arrival | None:
    if f"{form['command']} {form.get('text', '').strip().lower()}" in opens_form:
        return None
    delivery = "command:" + (form.get("trigger_id") or _fingerprint(body))
    lane = _lane(form.get("team_id", ""), form.get("user_id", ""))
    return Arrival(PLATFORM, delivery, lane, content_type, body)


def _interaction(payload: Any, body: str, content_type: str, opens_form: frozenset[str]) -> Verdict:
    if not isinstance(payload, dict) or not isinstance(payload.get("type"), str):
        return Verdict("expected a payload object with a type")
    actions = payload.get("actions", [])
    if not isinstance(actions, list) or not all(isinstance(x, dict) for x in actions):
        return Verdict("expected a list of actions")
    if "view" in payload and not isinstance(payload["view"], dict):
        return Verdict("expected a view object")
    if payload["type"] != "block_actions":
        return Verdict()
    if any(action_name(str(a.get("action_id", ""))) in opens_form for a in actions):
        return Verdict()
    user = str(_obj(payload.get("user")).get("id", ""))
    stamp = actions[0].get("action_ts", "") if actions else ""
    delivery = f"action:{stamp}:{user}" if stamp else "action:" + _fingerprint(body)
    lane = _lane(str(_obj(payload.get("team")).get("id", "")), user)
    return Verdict(arrival=Arrival(PLATFORM, delivery, lane, content_type, body))
