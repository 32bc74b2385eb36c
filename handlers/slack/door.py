"""Which verified Slack requests are stored, handled on the spot, ignored or refused.

Slash commands, events and most button presses are stored and acknowledged at once. What
Slack needs an answer to inside the acknowledgement (a form's field errors, the URL check) or
within three seconds of the click (opening a modal) is handled on the spot.

The body is parsed once, here, and every field the listeners (and slack-bolt before them)
read is checked for its type: a request they could not handle is refused with a 400 instead
of being acknowledged and then failing on every try. What passes is handed on as canonical
JSON holding only the checked fields, so bolt and the worker read exactly what was checked.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from handlers.slack.port import PLATFORM
from handlers.slack.render import action_name
from storage.journal import Arrival

JSON = "application/json"
# The event types the app subscribes to (manifest.BOT_EVENTS) and has listeners for.
EVENTS = frozenset({"message", "app_home_opened", "app_uninstalled", "tokens_revoked"})
INTERACTIONS = frozenset({"block_actions", "view_submission"})
COMMAND = re.compile(r"/[a-z0-9_-]{1,32}")
# Workspace, enterprise, user and channel ids: what can be a key in our tables.
SLACK_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
# Delivery ids and timestamps (event_id, trigger_id, action_ts, view ids and hashes).
TOKEN = re.compile(r"[\x21-\x7e]{1,150}")
URL = re.compile(r"https?://[\x21-\x7e]{1,2000}")
# Names and our own ids (callback, action and block ids, button values): text without NUL.
PLAIN = re.compile(r"[^\x00]*")


class Refused(ValueError):
    """A signed body the listeners could not handle; its message says why."""


@dataclass(frozen=True)
class Verdict:
    """What the door does with a signed body.

    ``problem``: refuse it. ``ignore``: acknowledge it and do nothing (channel chatter the
    bot hears only because it is in the channel, kinds of request no listener handles).
    Otherwise ``body`` is the checked request for bolt: stored and acknowledged first when
    ``later``, else handled on the spot. ``team`` is the workspace the listeners will act
    for (``None`` when the request names none: the URL check), ``delivery`` the key that
    makes a repeated request change nothing twice.
    """

    problem: str | None = None
    ignore: bool = False
    body: str = ""
    later: bool = False
    delivery: str | None = None
    lane: str = ""
    team: str | None = None
    enterprise: str = ""

    # A command that only reads: answered inside the acknowledgement, unless the edge is
    # too busy to answer it in time, when it is stored like the rest.
    at_once: bool = False

    @property
    def arrival(self) -> Arrival | None:
        return self.stored() if self.later else None

    def stored(self) -> Arrival | None:
        if self.delivery is None:
            return None
        return Arrival(PLATFORM, self.delivery, self.lane, JSON, self.body)


def examine(
    body: str,
    content_type: str,
    *,
    opens_form: frozenset[str],
    timestamp: str = "",
    reads_only: Callable[[str], bool] = lambda _text: False,
) -> Verdict:
    """Parse the body once and decide; ``opens_form`` names the actions and ``/standup``
    words that open a modal, which Slack allows only within 3 s of the click;
    ``reads_only`` says of a slash command's text (``/standup status``) that answering it
    changes nothing.

    ``timestamp`` is the signed one: with the body it keys a request that carries none of
    Slack's ids, so the same signed request sent twice is handled once.
    """

    def digest() -> str:
        return hashlib.sha256(f"v0:{timestamp}:{body}".encode()).hexdigest()[:40]

    try:
        if content_type.split(";")[0].strip().lower() == JSON:
            verdict = _event(json.loads(body), digest)
        else:
            verdict = _form(body, opens_form, digest, reads_only)
        verdict.body.encode()
    except Refused as refused:
        return Verdict(str(refused))
    except UnicodeEncodeError:
        return Verdict("the body holds a lone surrogate, which is not text")
    except RecursionError:
        return Verdict("the body nests too deeply")
    except ValueError:
        return Verdict("the body does not parse")
    return verdict


def _form(
    body: str,
    opens_form: frozenset[str],
    digest: Callable[[], str],
    reads_only: Callable[[str], bool],
) -> Verdict:
    pairs = parse_qsl(body, keep_blank_values=True, strict_parsing=True)
    form = dict(pairs)
    if len(form) != len(pairs):
        raise Refused("a form field appears twice")
    if "command" in form:
        return _command(form, opens_form, digest, reads_only)
    if "payload" in form:
        return _interaction(json.loads(form["payload"]), opens_form, digest)
    if form.get("ssl_check") == "1":
        return Verdict(ignore=True)
    raise Refused("expected a slash command or an interaction payload")


def _canonical(payload: dict[str, Any]) -> str:
    """JSON that PostgreSQL can store (NUL stays escaped) and that holds no lone surrogate
    (``encode`` raises on one, and the caller refuses the request)."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def lane_of(team: str, user: str) -> str:
    return f"{PLATFORM}:{team}:{user}"


def sender(lane: str) -> tuple[str, str] | None:
    """The workspace and person a request's lane names (Slack ids hold no colon)."""
    platform, _, rest = lane.partition(":")
    team, _, user = rest.partition(":")
    return (team, user) if platform == PLATFORM and team and user else None


def _string(value: Any, where: str, pattern: re.Pattern[str] | None = None) -> str:
    if not isinstance(value, str) or (pattern is not None and not pattern.fullmatch(value)):
        raise Refused(f"expected {where} to be {_what(pattern)}")
    return value


def _optional(value: Any, where: str, pattern: re.Pattern[str] | None = None) -> str | None:
    return None if value is None else _string(value, where, pattern)


def _what(pattern: re.Pattern[str] | None) -> str:
    if pattern is SLACK_ID:
        return "a Slack id"
    if pattern is TOKEN:
        return "a Slack timestamp or id"
    if pattern is URL:
        return "a URL"
    if pattern is COMMAND:
        return "a slash command"
    if pattern is PLAIN:
        return "text without NUL"
    return "a string"


def _label(value: Any, where: str) -> str | None:
    """A name or one of our own ids, which may be kept as they are: any text but NUL."""
    return _optional(value, where, PLAIN)


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise Refused(f"expected {where} to be an object")
    return value


def _maybe_object(value: Any, where: str) -> dict[str, Any] | None:
    return None if value is None else _object(value, where)


def _flag(value: Any, where: str) -> bool | None:
    if value is not None and not isinstance(value, bool):
        raise Refused(f"expected {where} to be true or false")
    return value


def _tidy(payload: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in payload.items() if value is not None}


def _command(
    form: dict[str, str],
    opens_form: frozenset[str],
    digest: Callable[[], str],
    reads_only: Callable[[str], bool],
) -> Verdict:
    team = _string(form.get("team_id"), "team_id", SLACK_ID)
    user = _string(form.get("user_id"), "user_id", SLACK_ID)
    command = _string(form.get("command"), "command", COMMAND)
    text = form.get("text", "")
    trigger = _optional(form.get("trigger_id") or None, "trigger_id", TOKEN)
    enterprise = _optional(form.get("enterprise_id") or None, "enterprise_id", SLACK_ID)
    checked = _tidy(
        {
            "command": command,
            "text": text,
            "team_id": team,
            "enterprise_id": enterprise,
            "is_enterprise_install": form.get("is_enterprise_install"),
            "api_app_id": _optional(form.get("api_app_id") or None, "api_app_id", SLACK_ID),
            "team_domain": _label(form.get("team_domain"), "team_domain"),
            "channel_id": _string(form.get("channel_id"), "channel_id", SLACK_ID),
            "channel_name": _label(form.get("channel_name"), "channel_name"),
            "user_id": user,
            "user_name": _label(form.get("user_name"), "user_name"),
            "response_url": _optional(form.get("response_url") or None, "response_url", URL),
            "trigger_id": trigger,
        }
    )
    opens = f"{command} {text.strip().lower()}" in opens_form
    at_once = not opens and reads_only(f"{command} {text}")
    return Verdict(
        body=_canonical(checked),
        later=not (opens or at_once),
        at_once=at_once,
        delivery="command:" + (trigger or digest()),
        lane=lane_of(team, user),
        team=team,
        enterprise=enterprise or "",
    )


def _enterprise(payload: dict[str, Any]) -> str | None:
    """An interaction's enterprise: an object with an id (or, rarely, the id itself)."""
    value = payload.get("enterprise")
    if value is None or isinstance(value, str):
        return _optional(value, "enterprise", SLACK_ID)
    return _optional(_object(value, "enterprise").get("id"), "enterprise.id", SLACK_ID)


def _interaction(payload: Any, opens_form: frozenset[str], digest: Callable[[], str]) -> Verdict:
    payload = _object(payload, "the payload")
    kind = _string(payload.get("type"), "the payload's type")
    if kind not in INTERACTIONS:
        return Verdict(ignore=True)
    team = _string(_object(payload.get("team"), "team").get("id"), "team.id", SLACK_ID)
    person = _object(payload.get("user"), "user")
    user = _string(person.get("id"), "user.id", SLACK_ID)
    enterprise = _enterprise(payload)
    common = _tidy(
        {
            "type": kind,
            "team": {"id": team},
            "user": _tidy({"id": user, "name": _label(person.get("name"), "user.name")}),
            "enterprise": {"id": enterprise} if enterprise else None,
            "is_enterprise_install": _flag(
                payload.get("is_enterprise_install"), "is_enterprise_install"
            ),
            "api_app_id": _optional(payload.get("api_app_id"), "api_app_id", SLACK_ID),
            "trigger_id": _optional(payload.get("trigger_id"), "trigger_id", TOKEN),
        }
    )
    if kind == "view_submission":
        view, delivery = _view(_object(payload.get("view"), "view"))
        return Verdict(
            body=_canonical({**common, "view": view}),
            delivery=delivery or "view:" + digest(),
            lane=lane_of(team, user),
            team=team,
            enterprise=enterprise or "",
        )
    channel = _maybe_object(payload.get("channel"), "channel")
    if channel is not None:
        channel = _tidy(
            {
                "id": _string(channel.get("id"), "channel.id", SLACK_ID),
                "name": _label(channel.get("name"), "channel.name"),
            }
        )
    actions = payload.get("actions")
    if not isinstance(actions, list) or not actions:
        raise Refused("expected a non-empty list of actions")
    checked = [_action(action) for action in actions]
    stamp = checked[0].get("action_ts")
    opens = any(action_name(a["action_id"]) in opens_form for a in checked)
    return Verdict(
        body=_canonical(_tidy({**common, "channel": channel, "actions": checked})),
        later=not opens,
        delivery=f"action:{stamp}:{user}" if stamp else "action:" + digest(),
        lane=lane_of(team, user),
        team=team,
        enterprise=enterprise or "",
    )


def _action(action: Any) -> dict[str, Any]:
    action = _object(action, "each action")
    return _tidy(
        {
            "type": _label(action.get("type"), "action.type"),
            "action_id": _string(action.get("action_id"), "action.action_id", PLAIN),
            "block_id": _label(action.get("block_id"), "action.block_id"),
            "value": _label(action.get("value"), "action.value"),
            "action_ts": _optional(action.get("action_ts"), "action.action_ts", TOKEN),
        }
    )


def _view(view: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """A submitted modal's fields, and its delivery id when Slack named the view."""
    view_id = _optional(view.get("id"), "view.id", TOKEN)
    digest = _optional(view.get("hash"), "view.hash", TOKEN)
    checked = _tidy(
        {
            "id": view_id,
            "hash": digest,
            "type": _string(view.get("type"), "view.type", PLAIN),
            "callback_id": _string(view.get("callback_id"), "view.callback_id", PLAIN),
            "private_metadata": _label(view.get("private_metadata"), "view.private_metadata"),
            "state": _state(_maybe_object(view.get("state"), "view.state")),
        }
    )
    return checked, (f"view:{view_id}:{digest}" if view_id and digest else None)


def _state(state: dict[str, Any] | None) -> dict[str, Any] | None:
    """Input values by block and action, each typed, picked or ticked."""
    if state is None:
        return None
    values = _maybe_object(state.get("values"), "view.state.values") or {}
    checked: dict[str, dict[str, Any]] = {}
    for block_id, block in values.items():
        inputs = _object(block, "each block of view.state.values")
        checked[block_id] = {key: _input(value) for key, value in inputs.items()}
    return {"values": checked}


def _input(value: Any) -> dict[str, Any]:
    value = _object(value, "each input of view.state.values")
    picked = _maybe_object(value.get("selected_option"), "selected_option")
    ticked = value.get("selected_options")
    if ticked is not None and not isinstance(ticked, list):
        raise Refused("expected selected_options to be a list")
    return _tidy(
        {
            "type": _label(value.get("type"), "input type"),
            "value": _optional(value.get("value"), "input value"),
            "selected_option": None
            if picked is None
            else _tidy({"value": _optional(picked.get("value"), "selected_option.value")}),
            "selected_options": None
            if ticked is None
            else [
                _tidy({"value": _optional(_object(o, "option").get("value"), "option value")})
                for o in ticked
            ],
        }
    )


def _event(envelope: Any, digest: Callable[[], str]) -> Verdict:
    envelope = _object(envelope, "the body")
    kind = _string(envelope.get("type"), "the body's type")
    if kind == "url_verification":
        challenge = _string(envelope.get("challenge"), "challenge")
        return Verdict(body=_canonical({"type": kind, "challenge": challenge}))
    if kind != "event_callback":
        return Verdict(ignore=True)
    event = _object(envelope.get("event"), "event")
    event_type = _string(event.get("type"), "event.type")
    if event_type not in EVENTS:
        return Verdict(ignore=True)
    team = _string(envelope.get("team_id"), "team_id", SLACK_ID)
    enterprise = _optional(envelope.get("enterprise_id"), "enterprise_id", SLACK_ID)
    event_id = _optional(envelope.get("event_id"), "event_id", TOKEN)
    checked = _event_fields(event_type, event)
    if _chatter(checked):
        return Verdict(ignore=True)
    user = checked.get("user") or (checked.get("message") or {}).get("user") or ""
    body = {
        "type": kind,
        "team_id": team,
        # Present even when null, so bolt looks for the enterprise nowhere else.
        "enterprise_id": enterprise,
        "api_app_id": _optional(envelope.get("api_app_id"), "api_app_id", SLACK_ID),
        "event_id": event_id,
        "event": checked,
    }
    return Verdict(
        body=_canonical({k: v for k, v in body.items() if v is not None or k == "enterprise_id"}),
        later=True,
        delivery=event_id or "event:" + digest(),
        lane=lane_of(team, user),
        team=team,
        enterprise=enterprise or "",
    )


def _message(message: dict[str, Any], where: str) -> dict[str, Any]:
    return _tidy(
        {
            "type": _label(message.get("type"), f"{where}.type"),
            "user": _optional(message.get("user"), f"{where}.user", SLACK_ID),
            "text": _optional(message.get("text"), f"{where}.text"),
            "ts": _optional(message.get("ts"), f"{where}.ts", TOKEN),
            "thread_ts": _optional(message.get("thread_ts"), f"{where}.thread_ts", TOKEN),
            "bot_id": _label(message.get("bot_id"), f"{where}.bot_id"),
            "subtype": _label(message.get("subtype"), f"{where}.subtype"),
            "edited": _maybe_object(message.get("edited"), f"{where}.edited"),
        }
    )


def _event_fields(event_type: str, event: dict[str, Any]) -> dict[str, Any]:
    """The fields of the subscribed events that the listeners (and bolt) read, checked."""
    if event_type == "app_uninstalled":
        return {"type": event_type}
    if event_type == "tokens_revoked":
        tokens = _maybe_object(event.get("tokens"), "event.tokens") or {}
        revoked = {}
        for kind in ("bot", "oauth"):
            ids = tokens.get(kind)
            if ids is not None and not (
                isinstance(ids, list) and all(isinstance(i, str) for i in ids)
            ):
                raise Refused(f"expected event.tokens.{kind} to be a list of ids")
            revoked[kind] = ids
        return {"type": event_type, "tokens": _tidy(revoked)}
    if event_type == "app_home_opened":
        return _tidy(
            {
                "type": event_type,
                "user": _string(event.get("user"), "event.user", SLACK_ID),
                "channel": _optional(event.get("channel"), "event.channel", SLACK_ID),
                "tab": _label(event.get("tab"), "event.tab"),
            }
        )
    message = _message(event, "event")
    changed = _maybe_object(event.get("message"), "event.message")
    before = _maybe_object(event.get("previous_message"), "event.previous_message")
    return _tidy(
        {
            **message,
            "type": event_type,
            "channel": _optional(event.get("channel"), "event.channel", SLACK_ID),
            "channel_type": _label(event.get("channel_type"), "event.channel_type"),
            "team": _optional(event.get("team"), "event.team", SLACK_ID),
            "event_ts": _optional(event.get("event_ts"), "event.event_ts", TOKEN),
            "hidden": _flag(event.get("hidden"), "event.hidden"),
            "message": None if changed is None else _message(changed, "event.message"),
            "previous_message": None
            if before is None
            else _message(before, "event.previous_message"),
        }
    )


def _chatter(event: dict[str, Any]) -> bool:
    """A channel message that is no reply in a thread: nothing the bot acts on."""
    if event.get("type") != "message" or event.get("channel_type") not in ("channel", "group"):
        return False
    thread = event.get("thread_ts")
    return not thread or thread == event.get("ts")
