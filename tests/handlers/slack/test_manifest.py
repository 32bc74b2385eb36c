"""The manifest printed for Slack: every command, the events we handle, the right URLs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

from handlers.slack.manifest import manifest

RITUALBOT = str(Path(sys.executable).with_name("ritualbot"))


def test_http_manifest_points_everything_at_the_events_endpoint() -> None:
    doc = manifest("https://bot.example.org/")
    url = "https://bot.example.org/slack/events"
    commands = doc["features"]["slash_commands"]
    assert [c["command"] for c in commands] == [
        "/standup",
        "/retro",
        "/hypothesis",
        "/backlog",
        "/alerts",
        "/digest",
        "/ask",
    ]
    assert {c["url"] for c in commands} == {url}
    assert all(len(c["description"]) <= 100 and c["should_escape"] for c in commands)
    settings = doc["settings"]
    assert settings["event_subscriptions"]["request_url"] == url
    assert settings["interactivity"] == {"is_enabled": True, "request_url": url}
    assert set(settings["event_subscriptions"]["bot_events"]) >= {"message.im", "app_home_opened"}
    assert {"chat:write", "commands", "im:history", "im:write", "users:read"} <= set(
        doc["oauth_config"]["scopes"]["bot"]
    )
    assert doc["features"]["app_home"]["home_tab_enabled"] is True
    assert "redirect_urls" not in doc["oauth_config"]


def test_the_apps_description_names_every_ritual() -> None:
    description = manifest("https://bot.example.org")["display_information"]["description"]
    assert len(description) <= 140  # Slack's limit for the short description
    for word in ("Stand-ups", "retros", "hypotheses", "backlog", "alerts", "digest", "ask"):
        assert word in description, word


def test_socket_mode_manifest_has_no_urls_and_oauth_adds_the_redirect() -> None:
    doc = manifest("https://bot.example.org", socket_mode=True, oauth=True)
    assert doc["settings"]["socket_mode_enabled"] is True
    assert "url" not in doc["features"]["slash_commands"][0]
    assert "request_url" not in doc["settings"]["event_subscriptions"]
    assert doc["oauth_config"]["redirect_urls"] == ["https://bot.example.org/slack/oauth_redirect"]


def test_the_cli_prints_valid_yaml_for_the_configured_public_url() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    env["PUBLIC_URL"] = "https://rituals.example.com"
    result = subprocess.run(
        [RITUALBOT, "manifest", "slack"], capture_output=True, text=True, env=env, check=True
    )
    doc = yaml.safe_load(result.stdout)
    assert doc["settings"]["event_subscriptions"]["request_url"] == (
        "https://rituals.example.com/slack/events"
    )


def test_the_cli_prints_a_socket_mode_manifest_on_request() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    result = subprocess.run(
        [RITUALBOT, "manifest", "slack", "--socket-mode"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    assert yaml.safe_load(result.stdout)["settings"]["socket_mode_enabled"] is True
