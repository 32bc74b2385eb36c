"""Reading Bot Framework Activity JSON: who spoke, where, what they typed or submitted.

Plain functions over the activity's JSON, so the same code serves a live request and one
stored earlier (an inbound journal), and none of it depends on the SDK.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from rituals.identity import Actor, Place
from rituals.schedule import is_timezone

PLATFORM = "teams"
LOCAL_TENANT = "local"  # the Bot Framework Emulator sends no tenant
PERSONAL, CHANNEL, GROUP = "personal", "channel", "groupChat"
CONVERSATIONAL = frozenset({"message", "messageUpdate", "invoke"})
MAX_ID = 300
# A channel or group chat becomes a stored channel; a personal chat's id may run longer.
MAX_PLACE_ID = 128

Activity = dict[str, Any]

THREAD = re.compile(r";messageid=(\d+)$")
AT = re.compile(r"<at>(.*?)</at>", re.S)
TAG = re.compile(r"<[^<>]*>")


class BadActivity(ValueError):
    """The body is JSON but not an activity we can act on; answered with a 400."""


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def check(activity: Any) -> Activity:
    """The activity, if it has what handling it needs; else :class:`BadActivity`."""
    if not isinstance(activity, dict):
        raise BadActivity("expected a JSON object")
    activity_type = activity.get("type")
    if not isinstance(activity_type, str) or not activity_type:
        raise BadActivity("expected an activity type")
    conversation = _text(_dict(activity.get("conversation")).get("id"))
    if not conversation or len(conversation) > MAX_ID:
        raise BadActivity("expected conversation.id")
    url = urlsplit(_text(activity.get("serviceUrl")))
    if url.scheme not in ("http", "https") or not url.netloc:
        raise BadActivity("expected an http(s) serviceUrl")
    if activity_type in CONVERSATIONAL:
        sender = _text(_dict(activity.get("from")).get("id"))
        if not sender or len(sender) > 128:
            raise BadActivity("expected from.id")
    for key in ("text", "name", "id", "replyToId", "localTimezone"):
        if activity.get(key) is not None and not isinstance(activity[key], str):
            raise BadActivity(f"expected {key} to be a string")
    if len(tenant(activity)) > 128:
        raise BadActivity("tenant id too long")
    if kind(activity) != PERSONAL and len(channel_id(activity)) > MAX_PLACE_ID:
        raise BadActivity("channel or chat id too long")
    return activity


def tenant(activity: Activity) -> str:
    """The tenant from the channel data (or the conversation); the Emulator has none."""
    from_data = _dict(_dict(activity.get("channelData")).get("tenant")).get("id")
    from_conversation = _dict(activity.get("conversation")).get("tenantId")
    return _text(from_data) or _text(from_conversation) or LOCAL_TENANT


def kind(activity: Activity) -> str:
    conversation = _dict(activity.get("conversation"))
    declared = _text(conversation.get("conversationType"))
    if declared in (PERSONAL, CHANNEL, GROUP):
        return declared
    if _dict(_dict(activity.get("channelData")).get("channel")).get("id"):
        return CHANNEL
    return GROUP if conversation.get("isGroup") else PERSONAL


def conversation_id(activity: Activity) -> str:
    return _text(_dict(activity.get("conversation")).get("id"))


def channel_id(activity: Activity) -> str:
    """The channel itself, not the thread a message sits in (``…;messageid=…``)."""
    channel = _text(_dict(_dict(activity.get("channelData")).get("channel")).get("id"))
    return channel or THREAD.sub("", conversation_id(activity))


def thread_root(activity: Activity) -> str | None:
    found = THREAD.search(conversation_id(activity))
    return found.group(1) if found else None


def team_id(activity: Activity) -> str | None:
    return _text(_dict(_dict(activity.get("channelData")).get("team")).get("id")) or None


def local_timezone(activity: Activity) -> str | None:
    """The sender's zone as their Teams client reports it, when it is a real IANA zone."""
    candidates = [activity.get("localTimezone")]
    for entity in activity.get("entities") or []:
        if isinstance(entity, dict) and entity.get("type") == "clientInfo":
            candidates.append(entity.get("timezone"))
    for zone in candidates:
        if isinstance(zone, str) and zone and is_timezone(zone):
            return zone
    return None


def actor(activity: Activity) -> Actor:
    sender = _dict(activity.get("from"))
    return Actor(
        PLATFORM,
        tenant(activity),
        _text(sender.get("id")),
        _text(sender.get("name"))[:200],
        local_timezone(activity),
    )


def reply_address(activity: Activity) -> str:
    """Where a reply in the command's own thread goes: ``conversation|activity id``."""
    return f"{conversation_id(activity)}|{_text(activity.get('id'))}"


def place(activity: Activity) -> Place | None:
    """The channel or group chat a command came from; ``None`` in a personal chat."""
    found = kind(activity)
    if found == PERSONAL:
        return None
    if found == CHANNEL:
        channel = _dict(_dict(activity.get("channelData")).get("channel"))
        # Teams names a channel only in some activities; the team's first channel, whose id
        # is the team's, is always "General".
        general = channel_id(activity) == team_id(activity)
        name = _text(channel.get("name")) or ("General" if general else "")
        return Place(channel_id(activity), name[:200], reply_to=reply_address(activity))
    conversation = _dict(activity.get("conversation"))
    return Place(
        conversation_id(activity),
        _text(conversation.get("name"))[:200],
        reply_to=reply_address(activity),
    )


def from_bot(activity: Activity) -> bool:
    sender = _dict(activity.get("from"))
    recipient = _dict(activity.get("recipient"))
    return sender.get("role") == "bot" or (
        bool(sender.get("id")) and sender.get("id") == recipient.get("id")
    )


def _bot_mentions(activity: Activity) -> list[str]:
    bot = _text(_dict(activity.get("recipient")).get("id"))
    found = []
    for entity in activity.get("entities") or []:
        if not isinstance(entity, dict) or entity.get("type") != "mention":
            continue
        mentioned = _text(_dict(entity.get("mentioned")).get("id"))
        text = _text(entity.get("text"))
        if text and mentioned and mentioned == bot:
            found.append(text)
    return found


def typed_text(activity: Activity) -> str:
    """What the person typed, as plain text: the bot's own mention removed (as
    ``TurnContext.remove_recipient_mention`` does), other mentions kept as ``@Name``."""
    text = _text(activity.get("text"))
    for mention in _bot_mentions(activity):
        text = text.replace(mention, " ")
    text = AT.sub(lambda m: "@" + TAG.sub("", m.group(1)).strip(), text)
    text = TAG.sub(" ", text.replace("<br>", "\n").replace("<br/>", "\n"))
    text = html.unescape(text).replace("\xa0", " ")
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return "\n".join(line for line in lines if line).strip()


@dataclass(frozen=True)
class Submission:
    """A card's button or form, pressed: ``action_id``/``value`` for buttons, ``form_id``,
    ``context`` and the inputs for forms; ``invoke`` when Teams waits for a card back."""

    data: dict[str, Any]
    invoke: bool

    @property
    def action_id(self) -> str:
        return _text(self.data.get("action_id"))

    @property
    def value(self) -> str:
        value = self.data.get("value")
        return str(value) if isinstance(value, str | int) else ""

    @property
    def form_id(self) -> str:
        return _text(self.data.get("form_id"))

    @property
    def context(self) -> str:
        return _text(self.data.get("context"))

    def inputs(self) -> dict[str, str]:
        reserved = {"action_id", "value", "form_id", "context", "msteams"}
        return {
            str(k): v if isinstance(v, str) else ""
            for k, v in self.data.items()
            if k not in reserved
        }


def submission(activity: Activity) -> Submission | None:
    """A card submit: ``Action.Submit`` arrives as a message with a ``value``,
    ``Action.Execute`` as an ``adaptiveCard/action`` invoke."""
    value = activity.get("value")
    if activity.get("type") == "invoke":
        if activity.get("name") != "adaptiveCard/action":
            return None
        action = _dict(_dict(value).get("action"))
        return Submission(_dict(action.get("data")), invoke=True)
    if activity.get("type") == "message" and isinstance(value, dict) and value:
        return Submission(value, invoke=False)
    return None


def reference(activity: Activity) -> dict[str, Any]:
    """The conversation reference, serialized as the SDK serializes one; a channel's
    addresses the channel rather than the thread the activity sat in."""
    conversation = dict(_dict(activity.get("conversation")))
    conversation.setdefault("tenantId", tenant(activity))
    if kind(activity) == CHANNEL:
        conversation["id"] = channel_id(activity)
    return {
        "activityId": activity.get("id"),
        "user": _dict(activity.get("from")) or None,
        "bot": _dict(activity.get("recipient")) or None,
        "conversation": conversation,
        "channelId": activity.get("channelId") or "msteams",
        "locale": activity.get("locale"),
        "serviceUrl": activity.get("serviceUrl"),
    }
