"""The Teams chat port: the outbox's messages posted through the Bot Connector.

Channels and group chats are reached through their stored references; people through a
1:1 chat the bot opens (or reopens) with them. Failures are sorted for the outbox: a 403
(the person blocked or removed the bot) is recorded and not retried, 429 and 5xx are.
"""

from __future__ import annotations

from typing import Any

import structlog

from handlers.teams import render
from handlers.teams.activity import PLATFORM
from handlers.teams.connector import Connector, ConnectorError
from handlers.teams.references import Conversation, References
from rituals.messages import Message
from rituals.port import SendError, Sent

log = structlog.get_logger(__name__)

PERMANENT = frozenset({400, 403, 404, 405, 410, 413})


def _send_error(exc: ConnectorError, what: str) -> SendError:
    if exc.status == 429:
        return SendError(f"{what}: rate limited (429)", retry_after=exc.retry_after or 1.0)
    if exc.status in (401,):
        return SendError(f"{what}: HTTP 401, check MICROSOFT_APP_ID/PASSWORD", retry_after=300)
    if exc.status in PERMANENT:
        return SendError(f"{what}: HTTP {exc.status} {exc.reason[:200]}", permanent=True)
    return SendError(f"{what}: {exc}", retry_after=exc.retry_after)


class Blocked(SendError):
    """The person's own 1:1 chat refused the bot (403): they blocked or removed it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, permanent=True)


class TeamsPort:
    platform = PLATFORM
    # Private replies (`ephemeral`) land in the person's 1:1 chat, the conversation direct
    # messages go to, so delivery paces them as that conversation's messages.
    private_in_person = True

    def __init__(self, connector: Connector, references: References) -> None:
        self.connector = connector
        self.references = references

    async def _where(self, tenant: str, conversation: str) -> Conversation:
        """A conversation this tenant showed the bot; never one it only names, so no
        tenant can make the bot post where it was not added."""
        found = await self.references.conversation(tenant, conversation)
        if found is None:
            raise SendError(
                f"conversation {conversation[:80]} is not known in tenant {tenant}", permanent=True
            )
        return found

    async def _send(
        self,
        where: Conversation,
        conversation: str,
        body: dict[str, Any],
        *,
        reply_to: str | None = None,
    ) -> Sent:
        try:
            answer = await self.connector.send(
                where.service_url, conversation, body, reply_to=reply_to
            )
        except ConnectorError as exc:
            raise _send_error(exc, "send") from exc
        return Sent(conversation, str(answer.get("id") or ""))

    async def post(
        self, workspace: str, channel: str, message: Message, *, thread: str | None = None
    ) -> Sent:
        """A new post in the channel, or a reply in the thread under post ``thread``."""
        where = await self._where(workspace, channel)
        if thread:
            sent = await self._send(
                where, f"{channel};messageid={thread}", render.activity(message), reply_to=thread
            )
            return Sent(channel, sent.ref)
        return await self._send(where, channel, render.activity(message))

    async def direct(self, workspace: str, user: str, message: Message) -> Sent:
        where = await self._personal(workspace, user)
        try:
            answer = await self.connector.send(
                where.service_url, where.conversation_id, render.activity(message)
            )
        except ConnectorError as exc:
            if exc.status == 403:
                await self.references.block(workspace, user, exc.reason)
                log.warning("person blocked the bot", tenant=workspace, user=user)
                raise Blocked(f"direct: HTTP 403 {exc.reason[:200]}") from exc
            raise _send_error(exc, "send") from exc
        return Sent(where.conversation_id, str(answer.get("id") or ""))

    async def _personal(self, tenant: str, user: str) -> Conversation:
        """The person's 1:1 chat: known, or opened now (POST /v3/conversations)."""
        known = await self.references.personal(tenant, user)
        if known is not None:
            return known
        via = await self.references.any_in(tenant)
        if via is None:
            raise SendError(f"no Teams conversation known in tenant {tenant}", permanent=True)
        params = {
            "bot": via.bot or None,
            "members": [{"id": user}],
            "isGroup": False,
            "tenantId": tenant,
            "channelData": {"tenant": {"id": tenant}},
        }
        try:
            created = await self.connector.create_conversation(via.service_url, params)
        except ConnectorError as exc:
            if exc.status == 403:
                await self.references.block(tenant, user, exc.reason)
                log.warning("person cannot be messaged", tenant=tenant, user=user)
            raise _send_error(exc, "open 1:1 chat") from exc
        conversation = str(created.get("id") or "")
        if not conversation:
            raise SendError("open 1:1 chat: the connector returned no conversation id")
        return await self.references.opened(via, user, conversation)

    async def update(self, workspace: str, sent: Sent, message: Message) -> Sent:
        """Replace a card (or text) in place: PUT on the activity the bot posted."""
        where = await self._where(workspace, sent.channel)
        try:
            await self.connector.update(
                where.service_url, sent.channel, sent.ref, render.activity(message)
            )
        except ConnectorError as exc:
            raise _send_error(exc, "update") from exc
        return sent

    async def ephemeral(
        self, workspace: str, channel: str, user: str, message: Message, *, via: str | None = None
    ) -> Sent:
        """Teams has no message only one person sees in a channel; the honest equivalent
        is the person's 1:1 chat with the bot. Where the bot cannot open one (403: the app
        is not installed for them), the reply goes under their command in the channel
        (``via``: ``conversation|activity``), which everyone there can read; never for
        someone who blocked the bot in their own chat. A secret (`Message.secret`) never
        goes there: the person is shown its stand-in line instead, and the send fails."""
        try:
            return await self.direct(workspace, user, message)
        except SendError as exc:
            under = exc.permanent and not isinstance(exc, Blocked) and via and "|" in via
            if message.secret and exc.permanent:
                if under:
                    await self._under(workspace, via or "", Message(text=message.secret))
                raise SendError("a secret has no private route here", permanent=True) from exc
            if not under:
                raise
        return await self._under(workspace, via or "", message)

    async def _under(self, workspace: str, via: str, message: Message) -> Sent:
        """A reply under the person's command in the channel (``via``)."""
        conversation, _, activity_id = via.rpartition("|")
        where = await self._where(workspace, conversation)
        return await self._send(where, conversation, render.activity(message), reply_to=activity_id)

    async def reply(
        self, tenant: str, conversation: str, activity_id: str | None, card: dict[str, Any]
    ) -> Sent:
        """A card straight back into the conversation a person acted in (a form they asked
        for): an immediate answer to them, like a Slack modal, not a queued message."""
        where = await self._where(tenant, conversation)
        body = {"type": "message", "attachments": [render.attachment(card)]}
        return await self._send(where, conversation, body, reply_to=activity_id or None)
