"""The Teams app package: a manifest with what the schema requires, and its two icons."""

from __future__ import annotations

import io
import json
import os
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

from handlers.teams.manifest import manifest, package
from tests.handlers.teams.harness import APP_ID

RITUALBOT = str(Path(sys.executable).with_name("ritualbot"))
REQUIRED = (
    "$schema",
    "manifestVersion",
    "version",
    "id",
    "developer",
    "name",
    "description",
    "icons",
    "accentColor",
)


def png_size(data: bytes) -> tuple[int, int, int]:
    """Width, height and colour type, after checking the PNG's chunks are intact."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    offset = 8
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        body = data[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack(">I", data[offset + 8 + length : offset + 12 + length])
        assert zlib.crc32(kind + body) == crc
        if kind == b"IHDR":
            width, height, _depth, color = struct.unpack(">IIBB", body[:10])
        offset += 12 + length
    return width, height, color


def test_the_package_holds_a_manifest_with_the_required_fields_and_the_bot() -> None:
    archive = zipfile.ZipFile(io.BytesIO(package(APP_ID, "https://bot.example.com")))
    assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
    manifest = json.loads(archive.read("manifest.json"))
    assert all(manifest.get(key) for key in REQUIRED)
    assert manifest["id"] == APP_ID
    assert set(manifest["developer"]) >= {"name", "websiteUrl", "privacyUrl", "termsOfUseUrl"}
    assert all(
        manifest["developer"][k].startswith("https://") for k in ("websiteUrl", "privacyUrl")
    )
    assert len(manifest["name"]["short"]) <= 30 and len(manifest["description"]["short"]) <= 80
    [bot] = manifest["bots"]
    assert bot["botId"] == APP_ID
    assert bot["scopes"] == ["personal", "team", "groupChat"]
    lists = bot["commandLists"]
    assert len(lists) <= 2
    commands = lists[0]["commands"]
    assert {"title": "standup now", "description": "Start today's stand-up now"} in commands
    assert "retro start" in {c["title"] for c in commands}
    for listed in lists:
        assert len(listed["commands"]) <= 10
        assert all(len(c["title"]) <= 32 for c in listed["commands"])
    assert manifest["validDomains"] == ["bot.example.com"]


def test_the_descriptions_name_every_ritual_within_teams_limits() -> None:
    description = manifest(APP_ID, "https://bot.example.com")["description"]
    short, full = description["short"], description["full"]
    assert len(short) <= 80 and len(full) <= 4000
    for word in ("Stand-ups", "retros", "hypotheses", "backlog", "alerts", "digest", "ask"):
        assert word in short, word
    for part in ("stand-ups", "retro", "hypotheses", "backlog", "alerts", "weekly digest", "ask"):
        assert part in full, part


def test_the_icons_have_the_sizes_teams_requires() -> None:
    archive = zipfile.ZipFile(io.BytesIO(package(APP_ID, "http://localhost:3000")))
    assert png_size(archive.read("color.png")) == (192, 192, 6)
    assert png_size(archive.read("outline.png")) == (32, 32, 6)


def test_the_outline_icon_is_white_on_transparent() -> None:
    archive = zipfile.ZipFile(io.BytesIO(package(APP_ID, "http://localhost:3000")))
    data = archive.read("outline.png")
    start = data.index(b"IDAT") + 4
    (length,) = struct.unpack(">I", data[start - 8 : start - 4])
    raw = zlib.decompress(data[start : start + length])
    pixels = {
        raw[1 + row * 129 + 4 * x : 1 + row * 129 + 4 * x + 4]
        for row in range(32)
        for x in range(32)
    }
    assert pixels == {b"\xff\xff\xff\xff", b"\x00\x00\x00\x00"}


def test_the_cli_writes_the_package_for_the_configured_bot(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MICROSOFT_", "PUBLIC_URL"))}
    out = tmp_path / "app.zip"
    done = subprocess.run(
        [RITUALBOT, "manifest", "teams", "--out", str(out)],
        env={**env, "MICROSOFT_APP_ID": APP_ID, "PUBLIC_URL": "https://bot.example.com"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    manifest = json.loads(zipfile.ZipFile(out).read("manifest.json"))
    assert manifest["bots"][0]["botId"] == APP_ID


def test_the_cli_says_which_setting_is_missing(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MICROSOFT_")}
    done = subprocess.run(
        [RITUALBOT, "manifest", "teams", "--out", str(tmp_path / "app.zip")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2 and "MICROSOFT_APP_ID" in done.stderr
    assert not (tmp_path / "app.zip").exists()


def test_the_cli_refuses_an_app_id_teams_would_refuse_and_warns_about_a_local_url(
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MICROSOFT_", "PUBLIC_URL"))}

    def package(app_id: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [RITUALBOT, "manifest", "teams", "--out", str(tmp_path / f"{app_id[:8]}.zip")],
            env={**env, "MICROSOFT_APP_ID": app_id},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    refused = package("not-a-guid")
    assert refused.returncode == 2
    assert refused.stderr.startswith("error: MICROSOFT_APP_ID: expected the Azure app (client) id")
    local = package(APP_ID)
    assert local.returncode == 0
    assert "warning: PUBLIC_URL is http://127.0.0.1:3000" in local.stderr
