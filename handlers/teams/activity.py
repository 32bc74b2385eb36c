"""Reading Bot Framework Activity JSON: who spoke, where, what they typed or submitted.

Plain functions over the activity's JSON, so the same code serves a live request and one
stored earlier (an inbound journal), and none of it depends on the SDK.
"""

from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from rituals.identity import Actor, Admins, Place
from rituals.schedule import is_timezone

PLATFORM = "teams"
LOCAL_TENANT = "local"  # the Bot Framework Emulator sends no tenant
PERSONAL, CHANNEL, GROUP = "personal", "channel", "groupChat"
CONVERSATIONAL = frozenset({"message", "messageUpdate", "invoke"})
# The invokes the bot answers; botbuilder would answer others with a 501, or a 500 for the
# sign-in invokes of an OAuth flow the bot does not have.
INVOKES = frozenset({"adaptiveCard/action"})
MAX_ID = 300
# A channel or group chat becomes a stored channel; a personal chat's id may run longer.
MAX_PLACE_ID = 128
MAX_TENANT_ID = MAX_USER_ID = 128
# Teams nests an activity six or seven levels deep; a card's data adds a few.
MAX_DEPTH = 32

Activity = dict[str, Any]
Shape = type | tuple[type, ...] | dict[str, "Shape"] | list["Shape"]

_ACCOUNT: Shape = {"id": str, "name": str, "role": str, "aadObjectId": str}
# Every field the edge reads, with its type; a field of another type is refused, not read
# as missing, so an activity is handled as it was sent or not at all.
SHAPE: Shape = {
    "type": str,
    "id": str,
    "name": str,
    "text": str,
    "replyToId": str,
    "localTimezone": str,
    "locale": str,
    "channelId": str,
    "serviceUrl": str,
    "action": str,
    "from": _ACCOUNT,
    "recipient": _ACCOUNT,
    "conversation": {
        "id": str,
        "name": str,
        "conversationType": str,
        "tenantId": str,
        "isGroup": bool,
    },
    "channelData": {
        "tenant": {"id": str},
        "team": {"id": str, "name": str},
        "channel": {"id": str, "name": str},
        "eventType": str,
    },
    "entities": [{"type": str, "text": str, "timezone": str, "mentioned": _ACCOUNT}],
    "membersAdded": [_ACCOUNT],
}
_NAMES: dict[type | tuple[type, ...], str] = {
    str: "a string",
    bool: "true or false",
    (str, int): "text or a number",
}
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")

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
    """The activity, if it has what handling it needs; else :class:`BadActivity`.

    Every field the edge reads must have its type, and every value must be one the database
    can store and give back: a body refused here is a 400, while one acknowledged and then
    failing in the worker would be lost.
    """
    if not isinstance(activity, dict):
        raise BadActivity("expected a JSON object")
    problem = _unstorable(activity) or _mistyped(activity, SHAPE, "activity")
    if problem is None and activity.get("type") in ("message", "invoke"):
        problem = _mistyped_submission(activity)
    if problem is not None:
        raise BadActivity(problem)
    activity_type = activity.get("type")
    if not isinstance(activity_type, str) or not activity_type:
        raise BadActivity("expected an activity type")
    conversation = conversation_id(activity)
    if not conversation or len(conversation) > MAX_ID:
        raise BadActivity("expected conversation.id")
    service_url = _text(activity.get("serviceUrl"))
    url = urlsplit(service_url)
    if url.scheme not in ("http", "https") or not url.netloc or len(service_url) > MAX_ID:
        raise BadActivity("expected an http(s) serviceUrl")
    if activity_type == "invoke" and activity.get("name") not in INVOKES:
        raise BadActivity("not an invoke this bot answers")
    sender = _text(_dict(activity.get("from")).get("id"))
    if len(sender) > MAX_USER_ID or (activity_type in CONVERSATIONAL and not sender):
        raise BadActivity("expected from.id")
    if len(tenant(activity)) > MAX_TENANT_ID:
        raise BadActivity("tenant id too long")
    if len(team_id(activity) or "") > MAX_ID:
        raise BadActivity("team id too long")
    if kind(activity) != PERSONAL and len(channel_id(activity)) > MAX_PLACE_ID:
        raise BadActivity("channel or chat id too long")
    return activity


def _unstorable(activity: Activity) -> str | None:
    """Why the JSON could not be stored as it is and read back: PostgreSQL refuses NUL and
    lone surrogates in text and infinite numbers in JSON, and deep nesting would exhaust the
    stack of whatever reads it next."""
    pending: list[tuple[Any, int]] = [(activity, 1)]
    while pending:
        found, depth = pending.pop()
        if depth > MAX_DEPTH:
            return "the activity is nested too deeply"
        if isinstance(found, dict):
            for key, item in found.items():
                if UNSTORABLE.search(key):
                    return "a field name holds a character that cannot be stored"
                pending.append((item, depth + 1))
        elif isinstance(found, list):
            pending.extend((item, depth + 1) for item in found)
        elif isinstance(found, str):
            if UNSTORABLE.search(found):
                return "a text holds a character that cannot be stored"
        elif isinstance(found, float) and not math.isfinite(found):
            return "expected every number to be finite"
    return None


def _mistyped(found: Any, shape: Shape, path: str) -> str | None:
    """Where ``found`` departs from ``shape``; an absent (or null) field is always fine."""
    if found is None:
        return None
    if isinstance(shape, dict):
        if not isinstance(found, dict):
            return f"expected {path} to be an object"
        for key, inner in shape.items():
            problem = _mistyped(found.get(key), inner, f"{path}.{key}")
            if problem is not None:
                return problem
        return None
    if isinstance(shape, list):
        if not isinstance(found, list):
            return f"expected {path} to be a list"
        for index, item in enumerate(found):
            problem = _mistyped(item, shape[0], f"{path}[{index}]")
            if problem is not None:
                return problem
        return None
    if not isinstance(found, shape) or (isinstance(found, bool) and shape is not bool):
        return f"expected {path} to be {_NAMES[shape]}"
    return None


def _mistyped_submission(activity: Activity) -> str | None:
    """A card's data as :class:`Submission` reads it: its own keys typed, the inputs text."""
    value = activity.get("value")
    if value is None:
        return None
    if not isinstance(value, dict):
        return "expected activity.value to be an object"
    data, path = value, "activity.value"
    if activity.get("type") == "invoke":
        if activity.get("name") != "adaptiveCard/action":
            return None
        problem = _mistyped(value, {"action": {"type": str, "verb": str, "data": {}}}, path)
        if problem is not None:
            return problem
        data, path = _dict(_dict(value.get("action")).get("data")), f"{path}.action.data"
    for key, item in data.items():
        if item is None or key == "msteams":
            continue
        wanted: type | tuple[type, ...] = (str, int) if key == "value" else str
        problem = _mistyped(item, wanted, f"{path}.{key}")
        if problem is not None:
            return problem
    return None


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


def actor(activity: Activity, admins: Admins | None = None) -> Actor:
    """The sender; an admin when the operator listed their Entra object id (``aadObjectId``,
    the same for every bot in the tenant) or their Bot Framework id (``29:…``, this bot's)."""
    sender = _dict(activity.get("from"))
    user = _text(sender.get("id"))
    return Actor(
        PLATFORM,
        tenant(activity),
        user,
        _text(sender.get("name"))[:200],
        local_timezone(activity),
        admin=admins is not None and admins.named(_text(sender.get("aadObjectId")), user),
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
