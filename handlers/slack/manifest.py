"""The Slack app manifest: paste it at api.slack.com/apps to create the app in one step."""

from __future__ import annotations

from typing import Any

DESCRIPTIONS = {
    "/standup": ("Async stand-ups: setup, join, now, status, blockers, report", "setup at 09:30"),
    "/retro": ("Retros: start, add, vote, reveal, close, actions, schedule", "start Sprint 12"),
    "/hypothesis": ("Hypotheses and their check-ins", "add We believe …; we'll know when …"),
    "/backlog": ("The team backlog: add, list, done, assign, prio", "add p1 eval clean labels"),
    "/alerts": ("Model alerts: connect, rules, mute", "rule add ranker recall < 0.8"),
    "/digest": ("A weekly digest of this channel for readers outside the team", "weekly fri 16:00"),
    "/ask": ("A private answer from this channel's ritual history", "what blocked the ranker?"),
}
BOT_SCOPES = [
    "chat:write",
    "commands",
    "im:history",
    "im:write",
    "users:read",
    "channels:read",
    "groups:read",
    "channels:history",
    "groups:history",
    "files:write",
]
# Channel messages: the bot acts only on replies in the threads of its own posts (retro items).
BOT_EVENTS = [
    "message.im",
    "message.channels",
    "message.groups",
    "app_home_opened",
    "app_uninstalled",
    "tokens_revoked",
]


def manifest(public_url: str, *, socket_mode: bool = False, oauth: bool = False) -> dict[str, Any]:
    """The manifest for an app reached at ``public_url``, or over Socket Mode."""
    endpoint = f"{public_url.rstrip('/')}/slack/events"
    commands = []
    for command, (description, hint) in DESCRIPTIONS.items():
        entry: dict[str, Any] = {
            "command": command,
            "description": description,
            "usage_hint": hint,
            "should_escape": True,
        }
        if not socket_mode:
            entry["url"] = endpoint
        commands.append(entry)
    oauth_config: dict[str, Any] = {"scopes": {"bot": BOT_SCOPES}}
    if oauth:
        oauth_config["redirect_urls"] = [f"{public_url.rstrip('/')}/slack/oauth_redirect"]
    events: dict[str, Any] = {"bot_events": BOT_EVENTS}
    interactivity: dict[str, Any] = {"is_enabled": True}
    if not socket_mode:
        events["request_url"] = endpoint
        interactivity["request_url"] = endpoint
    return {
        "display_information": {
            "name": "ritualbot",
            "description": "Stand-ups, retros, hypotheses, a backlog, alerts, a weekly digest "
            "and ask for ML teams",
            "background_color": "#1f2933",
        },
        "features": {
            "app_home": {
                "home_tab_enabled": True,
                "messages_tab_enabled": True,
                "messages_tab_read_only_enabled": False,
            },
            "bot_user": {"display_name": "ritualbot", "always_online": True},
            "slash_commands": commands,
        },
        "oauth_config": oauth_config,
        "settings": {
            "event_subscriptions": events,
            "interactivity": interactivity,
            "org_deploy_enabled": False,
            "socket_mode_enabled": socket_mode,
            "token_rotation_enabled": False,
        },
    }
