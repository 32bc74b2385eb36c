"""The Slack chat port: the Web API behind the outbox, its failures sorted for retrying."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from handlers.slack.pool import Pool
from handlers.slack.render import blocks, fallback
from rituals.messages import Message
from rituals.port import SendError, Sent

PLATFORM = "slack"
# Errors no retry can fix: the place or person is gone, or the bot may not post there.
PERMANENT = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "user_not_found",
        "user_not_in_channel",
        "account_inactive",
        "cannot_dm_bot",
        "messages_tab_disabled",
        "restricted_action",
        "msg_too_long",
        "invalid_blocks",
        "message_not_found",
        "cant_update_message",
        "edit_window_closed",
        "invalid_arguments",
        "invalid_blocks_format",
        "msg_blocks_too_long",
        "no_text",
        "missing_scope",
        "not_allowed_token_type",
        "too_many_attachments",
    }
)
# The app's credentials are wrong: every message would fail alike until someone fixes them.
CREDENTIALS = frozenset({"invalid_auth", "not_authed", "token_revoked", "account_inactive_app"})


class SlackPort:
    platform = PLATFORM

    def __init__(
        self, clients: Callable[[str], Awaitable[AsyncWebClient]], pool: Pool | None = None
    ) -> None:
        self._clients = clients
        self._pool = pool

    async def _call(self, workspace: str, method: str, **kwargs: Any) -> dict[str, Any]:
        client = await self._clients(workspace)
        try:
            response = await client.api_call(method, json=kwargs)
        except SlackApiError as exc:
            raise _send_error(exc) from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise SendError(f"{method}: {type(exc).__name__}: {exc}") from exc
        return dict(response.data) if isinstance(response.data, dict) else {}

    async def _upload(self, workspace: str, channel: str, message: Message) -> Sent:
        """A message with a file (the CSV export): the file, with the text as its comment."""
        attachment = message.attachment
        assert attachment is not None
        client = await self._clients(workspace)
        if channel.startswith(("U", "W")):
            opened = await self._call(workspace, "conversations.open", users=channel)
            channel = (opened.get("channel") or {}).get("id", channel)
        try:
            response = await client.files_upload_v2(
                channel=channel,
                content=attachment.content,
                filename=attachment.filename,
                title=attachment.filename,
                initial_comment=fallback(message),
            )
        except SlackApiError as exc:
            raise _send_error(exc) from exc
        except (SlackRequestError, aiohttp.ClientError, TimeoutError) as exc:
            raise SendError(f"file upload: {type(exc).__name__}: {exc}") from exc
        file_id = str((response.get("file") or {}).get("id", ""))
        return Sent(channel, file_id)

    async def post(
        self, workspace: str, channel: str, message: Message, *, thread: str | None = None
    ) -> Sent:
        if message.attachment is not None and thread is None:
            return await self._upload(workspace, channel, message)
        body = await self._call(
            workspace,
            "chat.postMessage",
            channel=channel,
            text=fallback(message),
            blocks=blocks(message),
            **({"thread_ts": thread} if thread else {}),
        )
        return Sent(body.get("channel", channel), body.get("ts", ""))

    async def direct(self, workspace: str, user: str, message: Message) -> Sent:
        return await self.post(workspace, user, message)

    async def update(self, workspace: str, sent: Sent, message: Message) -> Sent:
        body = await self._call(
            workspace,
            "chat.update",
            channel=sent.channel,
            ts=sent.ref,
            text=fallback(message),
            blocks=blocks(message),
        )
        return Sent(body.get("channel", sent.channel), body.get("ts", sent.ref))

    async def ephemeral(
        self, workspace: str, channel: str, user: str, message: Message, *, via: str | None = None
    ) -> Sent:
        if message.attachment is not None:
            return await self._upload(workspace, user, message)
        if via and await self._respond(via, message):
            return Sent(channel, "")
        body = await self._call(
            workspace,
            "chat.postEphemeral",
            channel=channel,
            user=user,
            text=fallback(message),
            blocks=blocks(message),
        )
        return Sent(channel, body.get("message_ts", ""))

    async def _respond(self, url: str, message: Message) -> bool:
        """Answer a slash command through its response_url; False when the URL no longer
        works (used up or expired after 30 minutes), so the caller falls back."""
        try:
            session = self._pool.session if self._pool else None
            response = await AsyncWebhookClient(url, timeout=10, session=session).send(
                text=fallback(message), blocks=blocks(message), response_type="ephemeral"
            )
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise SendError(f"response_url: {type(exc).__name__}: {exc}") from exc
        if response.status_code == 429:
            retry = response.headers.get("Retry-After") or response.headers.get("retry-after")
            raise SendError("rate limited (response_url)", retry_after=float(retry or 1))
        if response.status_code >= 500:
            raise SendError(f"response_url: HTTP {response.status_code}")
        return response.status_code == 200


def _send_error(exc: SlackApiError) -> SendError:
    response = exc.response
    status = response.status_code
    code = str(response.get("error", "")) if isinstance(response.data, dict) else ""
    if status == 429 or code == "ratelimited":
        header = response.headers.get("Retry-After") or response.headers.get("retry-after") or 1
        return SendError(f"rate limited ({code or 429})", retry_after=float(header))
    if status >= 500:
        return SendError(f"Slack answered HTTP {status}")
    if code in CREDENTIALS:
        return SendError(f"{code}: check the Slack token", retry_after=300)
    return SendError(code or f"HTTP {status}", permanent=code in PERMANENT)
