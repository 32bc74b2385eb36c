"""Webhook routes are the seam's, not one kind's: every kind that declares `hooks` gets
``/hooks/<word>/{token}``, its token checked before its body is read, and the body read by
the reader the composition root gives the door for that word; the kind gets what the reader
made, never a body it could not read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import pytest

from bot.kinds import hook_readers
from handlers.hooks import BadBody, HookEdge
from rituals.commands import Verbs
from rituals.kinds import HookReply, Kind, Registry
from rituals.router import Rituals
from storage.db import Database
from tests.handlers.alerts.harness import webhook
from tests.helpers import Team
from tests.rituals.alerts.support import MONDAY


@dataclass(frozen=True)
class Greeting:
    """The echo kind's neutral input: who said hello."""

    name: str


READ: list[bytes] = []
TAKEN: list[Greeting] = []


def read_greeting(raw: bytes) -> Greeting:
    """``hello NAME`` as a `Greeting`; anything else refused with the reason."""
    READ.append(raw)
    text = raw.decode("utf-8", "replace")
    if not text.startswith("hello "):
        raise BadBody("expected 'hello NAME'")
    return Greeting(text.removeprefix("hello "))


class EchoKind(Kind):
    word = "echo"
    title = "echo"
    verbs: ClassVar[Verbs] = {}
    help = ""
    hooks = True

    async def opens(self, token: str) -> bool:
        return token == "open-sesame"

    async def hook(self, token: str, payload: Greeting) -> HookReply:
        TAKEN.append(payload)
        return HookReply(200, {"hello": payload.name})


class QuietKind(Kind):
    word = "quiet"
    title = "quiet"
    verbs: ClassVar[Verbs] = {}
    help = ""


def echo_team(db: Database) -> Rituals:
    READ.clear()
    TAKEN.clear()
    team = Team(db, MONDAY, Registry([EchoKind, QuietKind]))
    return team.bot


async def test_every_kind_with_hooks_gets_its_route_and_its_readers_input(db: Database) -> None:
    rituals = echo_team(db)
    assert rituals.hooked == ["echo"]
    async with webhook(rituals, readers={"echo": read_greeting}) as http:
        response = await http.post("/hooks/echo/open-sesame", data=b"hello Ana")
        assert (response.status, await response.json()) == (200, {"hello": "Ana"})
        assert (await http.post("/hooks/echo/wrong", data=b"never read")).status == 404
        assert (await http.post("/hooks/quiet/open-sesame", data=b"x")).status == 404
        assert (await http.post("/hooks/alerts/open-sesame", data=b"x")).status == 404
    assert READ == [b"hello Ana"]
    assert [Greeting("Ana")] == TAKEN
    await db.dispose()


async def test_a_body_its_reader_refuses_is_400_with_the_reason_and_never_reaches_the_kind(
    db: Database,
) -> None:
    rituals = echo_team(db)
    async with webhook(rituals, readers={"echo": read_greeting}) as http:
        response = await http.post("/hooks/echo/open-sesame", data=b"goodbye")
        assert (response.status, await response.json()) == (
            400,
            {"error": "expected 'hello NAME'"},
        )
    assert READ == [b"goodbye"] and TAKEN == []
    await db.dispose()


async def test_a_kind_with_hooks_and_no_reader_is_a_wiring_mistake_found_at_start(
    db: Database,
) -> None:
    rituals = echo_team(db)
    with pytest.raises(ValueError, match="no body reader for the webhooks of echo"):
        HookEdge(rituals, hook_readers())
    await db.dispose()


async def test_the_bot_reads_each_hooked_kinds_bodies(db: Database) -> None:
    """Every kind the bot runs that takes hooks has its reader in the composition root."""
    team = Team(db, MONDAY)
    assert set(team.bot.hooked) <= set(hook_readers())
