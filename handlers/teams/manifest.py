"""The Teams app package: manifest.json and its two icons, zipped for sideloading.

The icons are drawn here (a white check mark on the accent colour, and its outline on
transparent), so the package needs no image files and no imaging library.
"""

from __future__ import annotations

import io
import json
import struct
import uuid
import zipfile
import zlib
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

SCHEMA = "https://developer.microsoft.com/en-us/json-schemas/teams/v1.16/MicrosoftTeams.schema.json"
MANIFEST_VERSION = "1.16"
ACCENT = (0x1F, 0x29, 0x33)
COLOR_SIZE, OUTLINE_SIZE = 192, 32
SCOPES = ["personal", "team", "groupChat"]
# Teams shows at most ten commands per list and two lists: one for channels and group
# chats, one for the personal chat.
CHANNEL_COMMANDS = [
    ("standup now", "Start today's stand-up now"),
    ("standup setup", "Set up the channel's stand-up (opens a card)"),
    ("standup status", "Who has answered today"),
    ("retro start", "Open a retro board: retro start Sprint 14"),
    ("retro add", "Add a retro item (opens a card)"),
    ("backlog add", "File a backlog item (opens a card)"),
    ("backlog list", "The channel's open backlog, privately"),
    ("hypothesis add", "Write a hypothesis down (opens a card)"),
    ("alerts list", "Alerts firing, acknowledged and muted"),
    ("ask", "Ask the channel's history: ask what blocked the ranker?"),
]
PERSONAL_COMMANDS = [
    ("standup status", "Your stand-ups and when they run"),
    ("standup away", "Away until a date: standup away until 2026-12-24"),
    ("standup back", "Back from being away"),
    ("hypothesis list mine", "The hypotheses you own"),
    ("help", "Every command"),
]


def _commands(pairs: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"title": title, "description": text} for title, text in pairs]


def _https(url: str) -> str:
    parts = urlsplit(url)
    return f"https://{parts.netloc}{parts.path}".rstrip("/")


def manifest(app_id: str, public_url: str, *, version: str = "1.0.0") -> dict[str, Any]:
    """The manifest for the bot registered as ``app_id`` and served at ``public_url``."""
    site = _https(public_url)
    domain = urlsplit(public_url).hostname or "localhost"
    lists = [
        {"scopes": ["team", "groupChat"], "commands": _commands(CHANNEL_COMMANDS)},
        {"scopes": ["personal"], "commands": _commands(PERSONAL_COMMANDS)},
    ]
    return {
        "$schema": SCHEMA,
        "manifestVersion": MANIFEST_VERSION,
        "version": version,
        "id": str(uuid.UUID(app_id)) if _is_uuid(app_id) else app_id,
        "packageName": "dev.ritualbot",
        "developer": {
            "name": "ritualbot",
            "websiteUrl": site,
            "privacyUrl": site,
            "termsOfUseUrl": site,
        },
        "name": {"short": "ritualbot", "full": "ritualbot: rituals for ML teams"},
        "description": {
            "short": "Stand-ups, retros, hypotheses, backlog, alerts, digest and ask for ML teams",
            "full": "A self-hosted bot that runs the rituals of a machine-learning team: "
            "asynchronous stand-ups in each person's own time zone, with blockers kept open "
            "until they are resolved; retro boards with votes and action items; hypotheses "
            "checked in with their owners on a cadence and closed with what was learned; a "
            "backlog with sprints and their reviews; model alerts from Alertmanager, Grafana "
            "or a plain webhook, acknowledged in place; a weekly digest of the channel's week "
            "for readers outside the team; and ask, answers from the channel's own ritual "
            "history. Summaries go to the team's channel. Type `help` to the bot for every "
            "command.",
        },
        "icons": {"color": "color.png", "outline": "outline.png"},
        "accentColor": "#{:02X}{:02X}{:02X}".format(*ACCENT),
        "bots": [
            {
                "botId": app_id,
                "scopes": SCOPES,
                "supportsFiles": False,
                "isNotificationOnly": False,
                "commandLists": lists,
            }
        ],
        "permissions": ["identity", "messageTeamMembers"],
        "validDomains": [domain],
    }


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def package(app_id: str, public_url: str) -> bytes:
    """The zip Teams sideloads: manifest.json, color.png and outline.png at its root."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(manifest(app_id, public_url), indent=2))
        archive.writestr("color.png", color_icon())
        archive.writestr("outline.png", outline_icon())
    return out.getvalue()


Pixel = tuple[int, int, int, int]


def png(width: int, height: int, pixel: Callable[[int, int], Pixel]) -> bytes:
    """An RGBA PNG from a function of (x, y)."""
    rows = b"".join(
        b"\x00" + b"".join(struct.pack("4B", *pixel(x, y)) for x in range(width))
        for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


def _on_check(x: float, y: float, size: int, width: float) -> bool:
    """Whether (x, y) lies on a check mark drawn across the middle of a square."""
    s = size
    corner = (0.44 * s, 0.68 * s)
    strokes = (((0.28 * s, 0.52 * s), corner), (corner, (0.74 * s, 0.34 * s)))
    for (x1, y1), (x2, y2) in strokes:
        dx, dy = x2 - x1, y2 - y1
        t = max(0.0, min(1.0, ((x - x1) * dx + (y - y1) * dy) / (dx * dx + dy * dy)))
        if (x - x1 - t * dx) ** 2 + (y - y1 - t * dy) ** 2 <= width * width:
            return True
    return False


def color_icon() -> bytes:
    """192×192: a white check mark on the accent colour."""
    white, fill = (255, 255, 255, 255), (*ACCENT, 255)
    return png(
        COLOR_SIZE,
        COLOR_SIZE,
        lambda x, y: white if _on_check(x + 0.5, y + 0.5, COLOR_SIZE, 10) else fill,
    )


def outline_icon() -> bytes:
    """32×32: the same check mark in white on transparent, as Teams requires."""
    white, clear = (255, 255, 255, 255), (0, 0, 0, 0)
    return png(
        OUTLINE_SIZE,
        OUTLINE_SIZE,
        lambda x, y: white if _on_check(x + 0.5, y + 0.5, OUTLINE_SIZE, 2) else clear,
    )
