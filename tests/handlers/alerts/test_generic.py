"""Webhook routes are the seam's, not one kind's: every kind that declares `hooks` gets
``/hooks/<word>/{token}``, its token checked before its body is read."""

from __future__ import annotations

from typing import ClassVar

from rituals.commands import Verbs
from rituals.kinds import HookReply, Kind, Registry
from rituals.router import Rituals
from storage.db import Database
from tests.handlers.alerts.harness import webhook
from tests.helpers import Team
from tests.rituals.alerts.support import MONDAY

BODIES: list[bytes] = []


class EchoKind(Kind):
    word = "echo"
    title = "echo"
    verbs: ClassVar[Verbs] = {}
    help = ""
    hooks = True

    async def opens(self, token: str) -> bool:
        return token == "open-sesame"

    async def hook(self, token: str, body: bytes) -> HookReply:
        BODIES.append(body)
        return HookReply(200, {"bytes": len(body)})


class QuietKind(Kind):
    word = "quiet"
    title = "quiet"
    verbs: ClassVar[Verbs] = {}
    help = ""


async def test_every_kind_with_hooks_gets_its_route(db: Database) -> None:
    BODIES.clear()
    team = Team(db, MONDAY, Registry([EchoKind, QuietKind]))
    rituals: Rituals = team.bot
    assert rituals.hooked == ["echo"]
    async with webhook(rituals) as http:
        response = await http.post("/hooks/echo/open-sesame", data=b"hello")
        assert (response.status, await response.json()) == (200, {"bytes": 5})
        assert (await http.post("/hooks/echo/wrong", data=b"never read")).status == 404
        assert (await http.post("/hooks/quiet/open-sesame", data=b"x")).status == 404
        assert (await http.post("/hooks/alerts/open-sesame", data=b"x")).status == 404
    assert BODIES == [b"hello"]
