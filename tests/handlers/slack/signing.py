"""Slack request builders: bodies as Slack sends them, signed as Slack signs them."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlencode

SECRET = "test-signing-secret"


def signature(body: str | bytes, timestamp: int, secret: str = SECRET) -> str:
    raw = body if isinstance(body, bytes) else body.encode()
    base = f"v0:{timestamp}:".encode() + raw
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def headers(
    body: str | bytes, content_type: str, *, timestamp: int | None = None, secret: str = SECRET
) -> dict[str, str]:
    stamp = int(time.time()) if timestamp is None else timestamp
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": str(stamp),
        "X-Slack-Signature": signature(body, stamp, secret),
    }


def slash(
    command: str,
    text: str,
    *,
    user: str,
    channel: str = "C1",
    team: str = "T1",
    response_url: str = "https://hooks.invalid/commands/1",
    trigger_id: str | None = None,
    enterprise: str | None = None,
    ids: bool = True,
) -> str:
    """A slash command; ``ids=False`` leaves out its trigger_id, as only a forger would."""
    fields = {
        "token": "legacy",
        "team_id": team,
        "team_domain": "ml",
        "channel_id": channel,
        "channel_name": "ml-team",
        "user_id": user,
        "user_name": user.lower(),
        "command": command,
        "text": text,
        "response_url": response_url,
        "trigger_id": trigger_id or f"{time.time_ns()}.{user}",
    }
    if enterprise is not None:
        fields["enterprise_id"] = enterprise
    if not ids:
        del fields["trigger_id"]
    return urlencode(fields)


def event(
    payload: dict[str, Any],
    *,
    event_id: str | None,
    team: str = "T1",
    enterprise: str | None = None,
) -> str:
    """An Events API envelope; with no ``event_id`` it carries none."""
    envelope: dict[str, Any] = {
        "token": "legacy",
        "team_id": team,
        "api_app_id": "A1",
        "type": "event_callback",
        "event_id": event_id,
        "event_time": int(time.time()),
        "event": payload,
    }
    if event_id is None:
        del envelope["event_id"]
    if enterprise is not None:
        envelope["enterprise_id"] = enterprise
    return json.dumps(envelope)


def dm(user: str, text: str, *, ts: str) -> dict[str, Any]:
    return {
        "type": "message",
        "channel": "D" + user[1:],
        "channel_type": "im",
        "user": user,
        "text": text,
        "ts": ts,
        "event_ts": ts,
    }


def channel_message(
    user: str, text: str, *, ts: str, thread_ts: str | None = None, channel: str = "C1"
) -> dict[str, Any]:
    """A message in a channel the bot is in; in a thread when ``thread_ts`` is given."""
    payload = {
        "type": "message",
        "channel": channel,
        "channel_type": "channel",
        "user": user,
        "text": text,
        "ts": ts,
        "event_ts": ts,
    }
    if thread_ts is not None:
        payload["thread_ts"] = thread_ts
    return payload


def button(
    action_id: str,
    value: str,
    *,
    user: str,
    channel: str = "C1",
    team: str = "T1",
    ids: bool = True,
) -> str:
    """A button press; ``ids=False`` leaves out its trigger_id and action_ts."""
    payload = {
        "type": "block_actions",
        "team": {"id": team, "domain": "ml"},
        "user": {"id": user, "name": user.lower(), "team_id": team},
        "api_app_id": "A1",
        "token": "legacy",
        "trigger_id": "1.2.3",
        "channel": {"id": channel, "name": "ml-team"},
        "container": {"type": "message", "message_ts": "1700000000.000001", "channel_id": channel},
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": "b1",
                "value": value,
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }
    if not ids:
        del payload["trigger_id"], payload["actions"][0]["action_ts"]
    return urlencode({"payload": json.dumps(payload)})


def submission(
    callback_id: str, metadata: str, values: dict[str, str], *, user: str, team: str = "T1"
) -> str:
    """A view_submission as Slack posts it: each input block's value under its block id."""
    payload = {
        "type": "view_submission",
        "team": {"id": team, "domain": "ml"},
        "user": {"id": user, "name": user.lower(), "team_id": team},
        "api_app_id": "A1",
        "token": "legacy",
        "trigger_id": "1.2.3",
        "view": {
            "id": "V123",
            "hash": f"h{time.time():.6f}",
            "type": "modal",
            "callback_id": callback_id,
            "private_metadata": metadata,
            "state": {
                "values": {
                    key: {"value": {"type": "plain_text_input", "value": value}}
                    for key, value in values.items()
                }
            },
        },
    }
    return urlencode({"payload": json.dumps(payload)})


def reshaped(body: str, change: Callable[[dict[str, Any]], object]) -> str:
    """The same request with ``change`` applied to what it carries: an event's envelope, an
    interaction's payload, or a slash command's form fields."""
    if body.startswith("{"):
        envelope = json.loads(body)
        change(envelope)
        return json.dumps(envelope)
    form = dict(parse_qsl(body, keep_blank_values=True))
    if "payload" not in form:
        change(form)
        return urlencode(form)
    payload = json.loads(form["payload"])
    change(payload)
    return urlencode({"payload": json.dumps(payload)})


def carried(body: str) -> dict[str, Any]:
    """What a request carries, as ``reshaped`` changes it."""
    found: dict[str, Any] = {}
    reshaped(body, found.update)
    return found
