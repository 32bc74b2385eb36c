"""The Slack app: slack-bolt listeners that turn payloads into neutral ritual calls.

Over HTTP, the door checks Slack's signature and stores what can wait in the journal, which
is acknowledged once committed and handed back to bolt afterwards (`from_journal`). What must
be answered on the spot, and everything over Socket Mode, runs the listeners before the
response (`process_before_response`), so what it changes is committed before the ack too.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import hmac
import os
import re
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import aiohttp
import structlog
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from handlers.journal import Journal, permanent
from handlers.slack.at_once import AtOnce
from handlers.slack.door import JSON, Verdict, examine, sender
from handlers.slack.home import HomeTeam
from handlers.slack.people import People
from handlers.slack.port import PLATFORM
from handlers.slack.render import (
    action_name,
    blocks,
    fallback,
    from_slack,
    modal,
    submitted,
)
from rituals.identity import Actor, Place
from rituals.messages import Form
from rituals.router import Rituals, inline
from storage.models import JournalEntry

log = structlog.get_logger(__name__)
ANSWER_SUBTYPES = (None, "file_share")
CHANNEL_TYPES = ("channel", "group")

STORED = "ritualbot_stored"
FAILED = "ritualbot_failed"
# The door's key for a request (Slack's id, or a digest of the signed request), handed to
# the listeners so the rituals record the same key the journal deduplicated by.
DELIVERY = "ritualbot_delivery"
STAMP = re.compile(r"[0-9]{1,12}")
SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")
WINDOW_SECONDS = 5 * 60
# Commands that only read are answered inside the acknowledgement; past this many at once,
# or past this many seconds (Slack waits 3), they are stored and answered through their
# response_url instead.
AT_ONCE_AT_MOST = 64
AT_ONCE_WITHIN = 2.0
AT_ONCE = "ritualbot_at_once"
# users.info calls in flight at once when a batch's senders are looked up ahead.
PROFILES_AT_ONCE = 8
# What bolt answers when it cannot check the workspace's token (auth.test rate limited or
# down, or no installation); a stored request that gets it is retried, not dropped.
AUTHORIZE_FAILED = (
    "ritualbot could not confirm this workspace's installation with Slack just now; "
    "please try again in a minute."
)


@contextlib.contextmanager
def _environment_without(*names: str) -> Iterator[None]:
    """Hide variables from slack-bolt, which would otherwise turn OAuth on by itself when
    SLACK_CLIENT_ID and SLACK_CLIENT_SECRET are set; our settings choose the mode."""
    saved = {name: os.environ.pop(name) for name in names if name in os.environ}
    try:
        yield
    finally:
        os.environ.update(saved)


def _delivery(context: AsyncBoltContext, trigger: str | None) -> str | None:
    """The id that makes a repeated command change nothing twice."""
    delivery = context.get(DELIVERY) or (f"command:{trigger}" if trigger else None)
    if delivery is not None and context.get(AT_ONCE):
        return f"at-once:{delivery}"
    return delivery


def _unhandled(request: AsyncBoltRequest, response: BoltResponse) -> bool:
    """Whether bolt left the request unhandled: the listener failed, or the workspace's
    authorization did (bolt then answers 200 with a "please install" text)."""
    unauthorized = request.context.authorize_result is None and not _needs_no_token(request)
    return (
        FAILED in request.context
        or response.status >= 500
        or response.body == AUTHORIZE_FAILED
        or unauthorized
    )


def _needs_no_token(request: AsyncBoltRequest) -> bool:
    """Events bolt handles without authorizing: the app's own removal."""
    body = request.body if isinstance(request.body, dict) else {}
    event = body.get("event") or {}
    return event.get("type") in ("app_uninstalled", "tokens_revoked")


def opens_form(rituals: Rituals) -> frozenset[str]:
    """Form ids, and slash commands as Slack sends them (``/standup setup``), that open a modal."""
    return rituals.form_ids | {f"/{command}" for command in rituals.form_commands}


class SlackEdge:
    def __init__(
        self,
        rituals: Rituals,
        *,
        signing_secret: str,
        client: AsyncWebClient,
        clients: Callable[[str], Awaitable[AsyncWebClient]],
        oauth: AsyncOAuthSettings | None = None,
        journal: Journal | None = None,
        home: HomeTeam | None = None,
    ) -> None:
        """One workspace when ``client`` carries its token; with ``oauth``, any that install.

        Without a ``journal`` every request is handled before it is acknowledged. With a
        ``home``, requests naming any other workspace are refused at the door.
        """
        self.rituals = rituals
        # Button action ids and commands that open a modal, which Slack allows only within
        # 3 s of the click: those are handled on arrival, not stored for later.
        self.opens_form = opens_form(rituals)
        self.people = People(clients)
        self._clients = clients
        self._secret = signing_secret.encode() if signing_secret.strip() else None
        self.home = home
        self.journal = journal
        self._at_once: AtOnce | None = None
        if journal is not None:
            journal.handles(PLATFORM, self.from_journal, ahead=self._profiles_ahead)
            self._at_once = AtOnce(
                lambda request: self.app.async_dispatch(request), journal, PLATFORM
            )
        # bolt reads these itself: OAuth would switch on, and a token beside our client
        # draws a warning at every start.
        hidden = (
            ("SLACK_BOT_TOKEN",)
            if oauth
            else ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "SLACK_BOT_TOKEN")
        )
        with _environment_without(*hidden):
            self.app = AsyncApp(
                signing_secret=signing_secret,
                client=client,
                process_before_response=True,
                request_verification_enabled=False,
                user_facing_authorize_error_message=AUTHORIZE_FAILED,
                oauth_settings=oauth,
                installation_store=oauth.installation_store if oauth else None,
            )
        for word in rituals.words:
            self.app.command(f"/{word}")(self._on_command)
        self.app.error(self._on_error)
        self.app.event("message")(self._on_message)
        self.app.action(re.compile(".+"))(self._on_action)
        self.app.view(re.compile(".+"))(self._on_submit)
        self.app.event("app_home_opened")(self._on_home)
        self.app.event("app_uninstalled")(self._on_uninstalled)
        self.app.event("tokens_revoked")(self._on_uninstalled)

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/slack/events", self.handle)
        if self.home is not None:
            app.on_startup.append(self._learn_home)
        flow = self.app.oauth_flow
        if flow is not None:
            app.router.add_get(flow.install_path, self.install)
            app.router.add_get(flow.redirect_uri_path, self.oauth_redirect)

    async def install(self, request: web.Request) -> web.Response:
        """The "Add to Slack" start: redirects to Slack with a fresh state."""
        assert self.app.oauth_flow is not None
        response = await self.app.oauth_flow.handle_installation(await to_bolt_request(request))
        return await to_aiohttp_response(response)

    async def oauth_redirect(self, request: web.Request) -> web.Response:
        """Slack sends the installer back here; the token is exchanged and stored."""
        assert self.app.oauth_flow is not None
        response = await self.app.oauth_flow.handle_callback(await to_bolt_request(request))
        return await to_aiohttp_response(response)

    async def _on_uninstalled(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        """Forget a workspace's bot token when the app is removed or the token revoked."""
        store = self.app.installation_store
        revoked_bot = event.get("type") == "app_uninstalled" or (event.get("tokens") or {}).get(
            "bot"
        )
        if store is not None and revoked_bot:
            await store.async_delete_bot(
                enterprise_id=body.get("enterprise_id"), team_id=body.get("team_id")
            )

    async def _learn_home(self, _app: web.Application) -> None:
        """Ask auth.test before the first request; the door asks again if Slack was down."""
        assert self.home is not None
        await self.home.learn()

    async def handle(self, request: web.Request) -> web.Response:
        """The door: check the signature, then store and acknowledge, or handle now."""
        raw = await request.read()
        headers = request.headers
        stamp = headers.get("X-Slack-Request-Timestamp", "")
        unsigned = self._unsigned(raw, stamp, headers.get("X-Slack-Signature", ""))
        if unsigned:
            return _refuse(401, unsigned, "invalid request")
        try:
            body = raw.decode("utf-8")
        except UnicodeDecodeError:
            return _refuse(400, "the body is not UTF-8")
        verdict = examine(
            body,
            headers.get("Content-Type", ""),
            opens_form=self.opens_form,
            timestamp=stamp,
            reads_only=self._reads_only,
        )
        if verdict.problem:
            return _refuse(400, verdict.problem)
        if verdict.ignore:
            return web.Response(status=200)
        if self.home is not None and verdict.team is not None:
            home = await self.home.home()
            if home is None:
                log.warning("slack request deferred: the bot token's workspace is not known")
                return web.json_response(
                    {"error": "the bot's workspace could not be confirmed; try again"},
                    status=503,
                    headers={"Retry-After": "5"},
                )
            if not home.admits(verdict.team, verdict.enterprise):
                return _refuse(403, "the request names another workspace than the bot's")
        journal = self.journal
        arrival = verdict.arrival
        if arrival is None and verdict.at_once and journal is not None:
            answered = await self._answer_at_once(verdict, journal)
            if answered is not None:
                return answered
            arrival = verdict.stored()
        if journal is not None and arrival is not None:
            with journal.door():
                await journal.append(arrival)
            return web.Response(status=200)
        context = {DELIVERY: verdict.delivery} if verdict.delivery else None
        bolt_request = AsyncBoltRequest(
            body=verdict.body, headers={"content-type": JSON}, context=context
        )
        return await to_aiohttp_response(await self.app.async_dispatch(bolt_request))

    async def _answer_at_once(self, verdict: Verdict, journal: Journal) -> web.Response | None:
        """A command that only reads, answered in its acknowledgement; None when it must be
        stored instead: too many being answered already, an earlier request of the same
        person still waiting in the journal (the answer must see what it changes), the
        workspace not confirmed or the handling failed (the journal retries), or no answer
        within Slack's time. This try records its own delivery id, apart from the stored
        copy's: a replay is not answered twice, and the stored copy is answered once,
        whatever became of this try."""
        if self._at_once is None or self._at_once.waiting >= AT_ONCE_AT_MOST:
            return None
        bolt_request = AsyncBoltRequest(
            body=verdict.body,
            headers={"content-type": JSON},
            context={AT_ONCE: True, DELIVERY: verdict.delivery},
        )
        # Not marked as waiting at the journal's door: the worker keeps handling what is
        # stored meanwhile, so a person's held lane frees and their next read can be
        # answered at once again.
        try:
            async with asyncio.timeout(AT_ONCE_WITHIN):
                response = await self._at_once.answer(
                    verdict.lane, bolt_request, _delivery(bolt_request.context, None)
                )
        except TimeoutError:
            log.warning("a command that only reads took too long; stored instead")
            return None
        if response is None or _unhandled(bolt_request, response):
            return None
        return await to_aiohttp_response(response)

    def _reads_only(self, text: str) -> bool:
        return self.rituals.answers_at_once(from_slack(text))

    def _unsigned(self, body: bytes, stamp: str, signature: str) -> str | None:
        """Why the request is not Slack's, if it is not: its signature over the timestamp and
        the raw bytes, within the 5-minute window. Each header is checked for its form first,
        so no input can raise (no secret: nothing over HTTP is trusted; Socket Mode needs
        none)."""
        if self._secret is None:
            return "no signing secret is configured"
        if not STAMP.fullmatch(stamp):
            return "the timestamp is missing or not a number"
        if abs(time.time() - int(stamp)) > WINDOW_SECONDS:
            return "the timestamp is outside the 5-minute window"
        if not SIGNATURE.fullmatch(signature):
            return "the signature is missing or malformed"
        expected = hmac.new(self._secret, b"v0:" + stamp.encode() + b":" + body, hashlib.sha256)
        if not hmac.compare_digest("v0=" + expected.hexdigest(), signature):
            return "the signature does not match"
        return None

    async def from_journal(self, entry: JournalEntry) -> None:
        """Handle a stored request as bolt would have on arrival; raise to have it retried."""
        request = AsyncBoltRequest(
            body=entry.body,
            headers={"content-type": entry.content_type},
            context={STORED: True, DELIVERY: entry.delivery_id},
        )
        response = await self.app.async_dispatch(request)
        failed = request.context.get(FAILED)
        if isinstance(failed, Exception) and permanent(failed):
            raise failed  # the journal sets the request aside at once, with this reason
        if _unhandled(request, response):
            raise RuntimeError(f"Slack request {entry.delivery_id} failed: {response.body}")

    async def _on_error(self, error: Exception, request: AsyncBoltRequest) -> None:
        """A listener raised: keep the error beside the request, so a stored request that
        can never be handled is set aside at once instead of retried."""
        request.context[FAILED] = error
        log.error("Slack listener failed", error=f"{type(error).__name__}: {error}"[:300])

    async def _profiles_ahead(self, lanes: list[str]) -> None:
        """The profiles of a batch's senders not asked of Slack within the hour, asked
        together before the batch holds the database: asked one by one inside it, each
        would commit the batch so far and wait alone (at 09:30 everyone is such a sender)."""
        senders = {s for lane in lanes if (s := sender(lane)) and self.people.known(*s) is None}
        gate = asyncio.Semaphore(PROFILES_AT_ONCE)

        async def ask(team: str, user: str) -> None:
            async with gate:
                await self.people.profile(team, user)

        await asyncio.gather(*(ask(team, user) for team, user in senders))

    async def _actor(self, team: str, user: str, name: str = "") -> Actor:
        """The person; an admin when Slack says so (workspace admin or owner) or the operator
        named their user id (RITUALBOT_ADMINS)."""
        profile = self.people.known(team, user)
        if profile is None:
            async with self.rituals.rt.db.outside():
                profile = await self.people.profile(team, user, name)
        if not profile.known and name:  # Slack could not be asked: the payload's name
            profile = dataclasses.replace(profile, name=name)
        admin = profile.admin or self.rituals.rt.admins.named(user)
        return Actor(PLATFORM, team, user, profile.name, profile.tz, admin=admin)

    async def _on_command(
        self, ack: Any, command: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        """A slash command: answered inside the ack when handled on arrival (Socket Mode),
        else privately through the command's response_url."""
        stored = bool(context.get(STORED))
        actor = await self._actor(
            command["team_id"], command["user_id"], command.get("user_name", "")
        )
        place = Place(
            command["channel_id"],
            command.get("channel_name", ""),
            reply_to=command.get("response_url") if stored else None,
        )
        words = from_slack(command.get("text", "")).strip()
        form = self.rituals.form_for(f"{command['command']} {words}")
        if form is not None:
            await self._open(actor, place, form, "", command.get("trigger_id"))
            await ack()
            return
        trigger = command.get("trigger_id")
        reply = await self.rituals.command(
            actor,
            place,
            f"{command['command']} {words}",
            delivery_id=_delivery(context, trigger),
            reply_inline=not stored,
        )
        if reply is not None and inline(reply) and not stored:
            await ack(
                text=fallback(reply.message),
                blocks=blocks(reply.message),
                response_type="ephemeral",
            )
        else:
            await ack()

    async def _open(
        self, actor: Actor, place: Place | None, form_id: str, value: str, trigger: str | None
    ) -> None:
        """Open a form as a modal; Slack allows it only within 3 s of the user's action."""
        found = await self.rituals.open_form(actor, place, form_id, value)
        if not isinstance(found, Form) or not trigger:
            return
        try:
            client = await self._clients(actor.workspace)
            await client.views_open(trigger_id=trigger, view=modal(found))
        except (SlackApiError, aiohttp.ClientError, TimeoutError) as exc:
            log.warning("form not opened", form=form_id, error=str(exc))
            await self.rituals.tell(
                actor,
                "Slack did not open the form in time; please try again, or type the "
                "command with its options instead (`help` shows them).",
            )

    async def _on_submit(
        self, ack: Any, body: dict[str, Any], view: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        team = (body.get("team") or {}).get("id", "")
        user = body.get("user") or {}
        actor = await self._actor(team, user.get("id", ""), user.get("name", ""))
        result = await self.rituals.submit_form(
            actor,
            view.get("callback_id", ""),
            view.get("private_metadata", ""),
            submitted(view),
            delivery_id=context.get(DELIVERY)
            or f"view:{view.get('id', '')}:{view.get('hash', '')}",
        )
        if isinstance(result, dict):
            known = set(((view.get("state") or {}).get("values") or {}).keys())
            first = next(iter(sorted(k for k in known if k)), "")
            errors = {
                (key if key in known else first): message[:150] for key, message in result.items()
            }
            await ack(response_action="errors", errors=errors)
        else:
            await ack()

    async def _on_message(
        self, body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        """Direct messages to the bot: answers (text, or text with a file) and their edits;
        in channels, replies in the thread of one of the bot's posts."""
        if event.get("bot_id"):
            return
        delivery = context.get(DELIVERY) or body.get("event_id")
        if event.get("channel_type") in CHANNEL_TYPES:
            await self._thread_reply(body, event, delivery)
            return
        if event.get("channel_type") != "im":
            return
        team = body.get("team_id") or event.get("team", "")
        subtype = event.get("subtype")
        if subtype in ANSWER_SUBTYPES and event.get("user") and not event.get("thread_ts"):
            actor = await self._actor(team, event["user"])
            await self.rituals.direct_message(
                actor, from_slack(event.get("text", "")), ref=event.get("ts"), delivery_id=delivery
            )
        elif subtype == "message_changed" and not event.get("hidden"):
            changed = event.get("message") or {}
            before = (event.get("previous_message") or {}).get("text")
            edited = changed.get("edited") and changed.get("text") != before
            if edited and changed.get("user") and not changed.get("bot_id"):
                actor = await self._actor(team, changed["user"])
                await self.rituals.message_edited(
                    actor,
                    changed.get("ts", ""),
                    from_slack(changed.get("text", "")),
                    delivery_id=delivery,
                )

    async def _thread_reply(
        self, body: dict[str, Any], event: dict[str, Any], delivery: str | None
    ) -> None:
        thread, user = event.get("thread_ts"), event.get("user")
        if not thread or thread == event.get("ts") or not user or event.get("subtype"):
            return
        team = body.get("team_id") or event.get("team", "")
        await self.rituals.thread_reply(
            await self._actor(team, user),
            Place(event.get("channel", "")),
            str(thread),
            from_slack(event.get("text", "")),
            ref=event.get("ts"),
            delivery_id=delivery,
        )

    async def _on_home(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        """Publish the person's App Home when they open it."""
        if event.get("tab", "home") != "home":
            return
        team = body.get("team_id", "")
        actor = await self._actor(team, event.get("user", ""))
        page = await self.rituals.home(actor)
        try:
            client = await self._clients(actor.workspace)
            await client.views_publish(
                user_id=actor.user, view={"type": "home", "blocks": blocks(page)}
            )
        except SlackApiError as exc:
            log.warning("home tab not published", user=actor.user, error=str(exc))

    async def _on_action(
        self, ack: Any, body: dict[str, Any], action: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        team = (body.get("team") or {}).get("id", "")
        user = body.get("user") or {}
        actor = await self._actor(team, user.get("id", ""), user.get("name", ""))
        channel = (body.get("channel") or {}).get("id")
        # A button in the person's own chat with the bot (a D… channel) acts in private.
        in_channel = channel and not str(channel).startswith("D")
        place = Place(channel, (body.get("channel") or {}).get("name", "")) if in_channel else None
        name, value = action_name(action.get("action_id", "")), str(action.get("value", ""))
        if name in self.rituals.form_ids:
            await self._open(actor, place, name, value, body.get("trigger_id"))
        else:
            await self.rituals.action(
                actor,
                place,
                name,
                value,
                delivery_id=context.get(DELIVERY)
                or f"action:{action.get('action_ts', '')}:{user.get('id', '')}",
            )
        await ack()


def _refuse(status: int, reason: str, answer: str | None = None) -> web.Response:
    """A refusal without a traceback; the caller learns the reason unless it is about the
    signature (``answer``), which would only help a forger.

    Unsigned requests are the internet's noise: their access line is their one log line,
    the reason only at debug level. A signed request refused is Slack's (or comes from
    someone holding the secret), so its reason is a warning an operator should see.
    """
    level = log.debug if status == 401 else log.warning
    level("slack request refused", status=status, reason=reason)
    return web.json_response({"error": answer or reason}, status=status)
