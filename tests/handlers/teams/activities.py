"""Activity JSON as Teams sends it, built field by field for each case a test needs."""

from __future__ import annotations

import itertools
import json
from typing import Any

from tests.handlers.teams.fake_connector import BOT_ID

TENANT = "tenant-1"
TEAM = "19:team-general@thread.tacv2"
CHANNEL = "19:team-general@thread.tacv2"
BOT_NAME = "ritualbot"
NAMES = {"29:alice": "Alice", "29:bob": "Bob", "29:carol": "Carol"}

_ids = itertools.count(1_700_000_000_000)


def next_id() -> str:
    return str(next(_ids))


def _base(kind: str, service_url: str, conversation: dict[str, Any], **extra: Any) -> dict:
    return {
        "type": kind,
        "id": next_id(),
        "timestamp": "2026-11-23T08:00:00.000Z",
        "serviceUrl": service_url,
        "channelId": "msteams",
        "recipient": {"id": BOT_ID, "name": BOT_NAME},
        "conversation": {"tenantId": TENANT, **conversation},
        "channelData": {"tenant": {"id": TENANT}},
        "locale": "en-US",
        **extra,
    }


def person(user: str) -> dict[str, str]:
    return {"id": user, "name": NAMES.get(user, user), "aadObjectId": f"aad-{user}"}


def personal(
    service_url: str, user: str, text: str, *, tz: str | None = None, **extra: Any
) -> dict:
    """A message in the person's 1:1 chat with the bot."""
    activity = _base(
        "message",
        service_url,
        {"id": f"a:1on1-{user}", "conversationType": "personal"},
        **{"from": person(user), "text": text, "textFormat": "plain"},
    )
    if tz:
        activity["localTimezone"] = tz
        activity["entities"] = [{"type": "clientInfo", "locale": "en-US", "timezone": tz}]
    activity.update(extra)
    return activity


def mention(user_id: str = BOT_ID, name: str = BOT_NAME) -> dict[str, Any]:
    return {
        "type": "mention",
        "mentioned": {"id": user_id, "name": name},
        "text": f"<at>{name}</at>",
    }


def in_channel(
    service_url: str,
    user: str,
    text: str,
    *,
    thread: str | None = None,
    channel: str = CHANNEL,
    channel_name: str = "General",
) -> dict:
    """``@ritualbot text`` typed in a channel of the team (a new post, or a reply in a
    thread); the General channel unless ``channel`` says another."""
    activity_id = next_id()
    conversation = f"{channel};messageid={thread or activity_id}"
    activity = _base(
        "message",
        service_url,
        {"id": conversation, "conversationType": "channel", "isGroup": True},
        **{
            "from": person(user),
            "text": f"<at>{BOT_NAME}</at> {text}",
            "textFormat": "plain",
            "entities": [mention()],
        },
    )
    activity["id"] = activity_id
    activity["channelData"] = {
        "tenant": {"id": TENANT},
        "team": {"id": TEAM, "name": "ML team"},
        "channel": {"id": channel, "name": channel_name},
        "teamsChannelId": channel,
        "teamsTeamId": TEAM,
    }
    return activity


def bot_added_to_team(service_url: str) -> dict:
    activity = _base(
        "conversationUpdate",
        service_url,
        {"id": CHANNEL, "conversationType": "channel", "isGroup": True},
        **{
            "from": person("29:alice"),
            "membersAdded": [{"id": BOT_ID}],
        },
    )
    activity["channelData"] = {
        "tenant": {"id": TENANT},
        "team": {"id": TEAM, "name": "ML team"},
        "eventType": "teamMemberAdded",
        "settings": {"selectedChannel": {"id": CHANNEL}},
    }
    return activity


def installed_personally(service_url: str, user: str) -> dict:
    return _base(
        "installationUpdate",
        service_url,
        {"id": f"a:1on1-{user}", "conversationType": "personal"},
        **{"from": person(user), "action": "add"},
    )


def submitted(service_url: str, user: str, data: dict[str, Any]) -> dict:
    """``Action.Submit`` on a card in the person's chat: a message with a ``value``."""
    activity = personal(service_url, user, "")
    del activity["text"]
    activity["value"] = data
    activity["replyToId"] = "1001"
    return activity


def executed(service_url: str, user: str, verb: str, data: dict[str, Any]) -> dict:
    """``Action.Execute`` on a card in the person's chat: an ``adaptiveCard/action`` invoke."""
    activity = _base(
        "invoke",
        service_url,
        {"id": f"a:1on1-{user}", "conversationType": "personal"},
        **{
            "from": person(user),
            "name": "adaptiveCard/action",
            "value": {
                "action": {"type": "Action.Execute", "verb": verb, "data": data},
                "trigger": "manual",
            },
            "replyToId": "1001",
        },
    )
    return activity


def changed(activity: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """The activity with the field at a dotted ``path`` (``channelData.tenant.id``) set to
    ``value``, the objects on the way made if missing; the original is left as it was."""
    copy = copy_of(activity)
    *parents, last = path.split(".")
    target = copy
    for key in parents:
        if not isinstance(target.get(key), dict):
            target[key] = {}
        target = target[key]
    target[last] = value
    return copy


def copy_of(activity: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(activity))


def nested(depth: int) -> Any:
    """A value ``depth`` lists deep, as no Teams client sends."""
    value: Any = "bottom"
    for _ in range(depth):
        value = [value]
    return value


def spliced(activity: dict[str, Any], key: str, raw: str) -> bytes:
    """The activity's JSON with ``key`` set to ``raw`` as it is: JSON ``json.dumps`` will not
    write (a number past a float's range, nesting past Python's recursion limit)."""
    return f'{json.dumps(activity)[:-1]}, "{key}": {raw}}}'.encode()
