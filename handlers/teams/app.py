"""The Teams edge: `POST /api/messages` in, neutral ritual calls out.

The HTTP handler only checks the request (JSON, activity shape, the Bot Connector's token),
then stores the activity in the journal and acknowledges it; the journal's worker hands it to
:meth:`TeamsEdge.handle_activity` afterwards. Invokes are handled on the spot: Teams waits
for their answer (a card) in the response.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from typing import Any

import structlog
from aiohttp import web

from handlers.journal import Journal
from handlers.teams import activity as a
from handlers.teams.adapter import TeamsAdapter
from handlers.teams.names import ChannelNames
from handlers.teams.port import TeamsPort
from handlers.teams.references import References
from handlers.teams.render import done_card, form_card
from rituals.identity import Actor, Place
from rituals.messages import Form, FormField
from rituals.port import SendError
from rituals.reply import Reply
from rituals.router import Rituals
from storage.journal import Arrival
from storage.models import JournalEntry

log = structlog.get_logger(__name__)

CARD_RESPONSE = "application/vnd.microsoft.card.adaptive"
MESSAGE_RESPONSE = "application/vnd.microsoft.activity.message"


def card_response(card: dict[str, Any]) -> dict[str, Any]:
    return {"statusCode": 200, "type": CARD_RESPONSE, "value": card}


def message_response(text: str) -> dict[str, Any]:
    return {"statusCode": 200, "type": MESSAGE_RESPONSE, "value": text}


def _refilled(form: Form, values: dict[str, str]) -> Form:
    """The form as the person filled it in, to show it again with its errors."""
    fields = [
        FormField(**{**f.model_dump(), "initial": values.get(f.key, f.initial)})
        for f in form.fields
    ]
    return form.model_copy(update={"fields": fields})


def _arrival(activity: a.Activity, raw: str) -> Arrival:
    """The journal entry for an activity: one person's activities in a tenant keep order."""
    delivery = _delivery(activity) or hashlib.sha256(raw.encode()).hexdigest()[:32]
    sender = activity.get("from")
    user = sender.get("id", "") if isinstance(sender, dict) else ""
    lane = f"{a.PLATFORM}:{a.tenant(activity)}:{user}"
    return Arrival(a.PLATFORM, delivery, lane, "application/json", raw)


def _delivery(activity: a.Activity) -> str | None:
    """An activity's identity: Teams ids are unique only within their conversation (a
    message id is its millisecond), so the tenant and conversation are part of it, hashed so
    a long conversation id cannot push the activity id past what is stored."""
    found = activity.get("id")
    if not found:
        return None
    where = f"{a.tenant(activity)}\n{a.conversation_id(activity)}".encode()
    return f"activity:{str(found)[:100]}:{hashlib.sha256(where).hexdigest()[:32]}"


class TeamsEdge:
    def __init__(
        self,
        rituals: Rituals,
        adapter: TeamsAdapter,
        references: References,
        port: TeamsPort,
        journal: Journal | None = None,
    ) -> None:
        """Without a ``journal`` every activity is handled before it is acknowledged."""
        self.rituals = rituals
        self.adapter = adapter
        self.references = references
        self.port = port
        self.names = ChannelNames(port.connector)
        self.journal = journal
        if journal is not None:
            journal.handles(a.PLATFORM, self.from_journal)

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/api/messages", self.handle)

    def _actor(self, activity: a.Activity) -> Actor:
        """The sender, an admin when the operator named them (Teams itself never says)."""
        return a.actor(activity, self.rituals.rt.admins)

    async def handle(self, request: web.Request) -> web.Response:
        """Refuse what is not a JSON activity (400/415) or not from the Bot Connector (401);
        nothing is stored before both checks pass. JSON nested past the parser's recursion
        limit is refused like any other body that is not an activity."""
        if request.content_type != "application/json":
            raise web.HTTPUnsupportedMediaType(text="expected application/json")
        try:
            raw = (await request.read()).decode("utf-8")
            body = a.check(json.loads(raw))
        except (ValueError, RecursionError, a.BadActivity) as exc:
            raise web.HTTPBadRequest(text=f"not an activity: {exc}"[:200]) from None
        unreadable = self.adapter.unreadable(body)
        if unreadable:
            raise web.HTTPBadRequest(text=f"not an activity: {unreadable}")
        if not await self.adapter.verify(body, request.headers.get("Authorization", "")):
            raise web.HTTPUnauthorized(text="a valid Bot Connector token is required")
        refused = self.adapter.refuses(body)
        if refused:
            raise web.HTTPForbidden(text=refused)
        journal = self.journal
        if journal is not None and body.get("type") != "invoke":
            with journal.door():
                await journal.append(_arrival(body, raw))
            return web.Response(status=200)
        result = await self.handle_activity(body)
        if result is None:
            return web.Response(status=200)
        status, payload = result
        if payload is None:
            return web.Response(status=status)
        return web.json_response(payload, status=status)

    async def _place(self, activity: a.Activity) -> Place | None:
        """Where the activity came from, with the channel's name asked of Teams when the
        activity did not carry it."""
        place = a.place(activity)
        team = a.team_id(activity)
        if place is None or place.name or a.kind(activity) != a.CHANNEL or not team:
            return place
        name = await self.names.name(str(activity["serviceUrl"]), team, place.channel)
        return replace(place, name=name[:200])

    async def from_journal(self, entry: JournalEntry) -> None:
        """A stored activity, already checked at the door, handled as if it just arrived."""
        await self.handle_activity(json.loads(entry.body))

    async def handle_activity(self, activity: a.Activity) -> tuple[int, Any] | None:
        """Handle one verified activity; for an invoke, the (status, body) Teams waits for."""
        a.check(activity)
        await self.references.remember(activity)
        return await self.adapter.run(activity, self)

    async def on_message(self, activity: a.Activity) -> None:
        """Typed to the bot: in a personal chat an answer or a command, as in a Slack DM;
        in a channel or group chat (where the bot hears only its @mentions) a command, or,
        in the thread of one of the bot's posts, first whatever that post's ritual takes."""
        if a.from_bot(activity):
            return
        found = a.submission(activity)
        if found is not None:
            await self._submitted(activity, found)
            return
        text = a.typed_text(activity)
        if not text:
            return
        actor, place = self._actor(activity), await self._place(activity)
        if place is None:
            await self.rituals.direct_message(
                actor, text, ref=activity.get("id"), delivery_id=_delivery(activity)
            )
        elif (form := self.rituals.form_for(text)) is not None:
            await self._show_form(activity, actor, place, form, "")
        elif not await self._thread_reply(activity, actor, place, text):
            # An @mention in a channel or group chat is a post everyone there reads.
            seen = replace(place, visible=True)
            await self.rituals.command(actor, seen, text, delivery_id=_delivery(activity))

    async def _thread_reply(
        self, activity: a.Activity, actor: Actor, place: Place, text: str
    ) -> bool:
        root = a.thread_root(activity)
        if root is None:
            return False
        taken = await self.rituals.thread_reply(
            actor, place, root, text, ref=activity.get("id"), delivery_id=_delivery(activity)
        )
        return taken is not None

    async def on_message_update(self, activity: a.Activity) -> None:
        """An edited message: if it was an answer, the answer changes too."""
        if a.from_bot(activity) or a.kind(activity) != a.PERSONAL or not activity.get("id"):
            return
        text = a.typed_text(activity)
        if not text:
            return
        digest = hashlib.sha256(text.encode()).hexdigest()[:16]
        await self.rituals.message_edited(
            self._actor(activity),
            str(activity["id"]),
            text,
            delivery_id=f"edit:{activity['id']}:{digest}",
        )

    async def on_conversation_update(self, activity: a.Activity) -> None:
        """The bot added to a team, a chat or a channel: its reference is already kept; it
        introduces itself there."""
        bot = (activity.get("recipient") or {}).get("id")
        added = [m for m in activity.get("membersAdded") or [] if isinstance(m, dict)]
        if not any(m.get("id") == bot for m in added):
            return
        log.info("Teams bot added", tenant=a.tenant(activity), kind=a.kind(activity))
        place = await self._place(activity)
        if place is not None:
            await self.rituals.introduce(
                a.PLATFORM, a.tenant(activity), place, delivery_id=_delivery(activity)
            )

    async def on_installation_update(self, activity: a.Activity) -> None:
        log.info("Teams app installation", action=activity.get("action"), tenant=a.tenant(activity))

    async def on_card_action(self, activity: a.Activity) -> dict[str, Any]:
        found = a.submission(activity)
        if found is None:
            return message_response("That card action is not known.")
        return await self._submitted(activity, found) or message_response("Done.")

    async def _submitted(
        self, activity: a.Activity, submitted: a.Submission
    ) -> dict[str, Any] | None:
        """A card's button or form; for an ``Action.Execute`` invoke, the card to show next."""
        actor, place = self._actor(activity), await self._place(activity)
        if submitted.form_id:
            return await self._form_sent(activity, actor, submitted)
        if submitted.action_id in self.rituals.form_ids:
            return await self._show_form(
                activity, actor, place, submitted.action_id, submitted.value, submitted.invoke
            )
        reply = await self.rituals.action(
            actor, place, submitted.action_id, submitted.value, delivery_id=_delivery(activity)
        )
        if submitted.invoke and reply is not None:
            return message_response(reply.message.text)
        return None

    async def _form_sent(
        self, activity: a.Activity, actor: Actor, submitted: a.Submission
    ) -> dict[str, Any] | None:
        values = submitted.inputs()
        # The card's data comes back from the client: a channel it names must be the one
        # the card was sent in, or anyone could change (and post to) any channel.
        if not self.rituals.form_belongs(submitted.form_id, submitted.context, a.place(activity)):
            message = "This form belongs to another channel; open it again from this one."
            if submitted.invoke:
                return message_response(message)
            await self.rituals.tell(actor, message)
            return None
        result = await self.rituals.submit_form(
            actor,
            submitted.form_id,
            submitted.context,
            values,
            delivery_id=_delivery(activity),
        )
        if not isinstance(result, dict):
            return card_response(done_card("Saved. Thank you!")) if submitted.invoke else None
        if submitted.invoke:
            form = await self.rituals.reopen_form(actor, submitted.form_id, submitted.context)
            if isinstance(form, Form):
                return card_response(form_card(_refilled(form, values), result))
            return message_response(form.message.text)
        problems = "; ".join(f"{key or 'form'}: {message}" for key, message in result.items())
        await self.rituals.tell(actor, f"The form was not saved — {problems}")
        return None

    async def _show_form(
        self,
        activity: a.Activity,
        actor: Actor,
        place: Place | None,
        form_id: str,
        value: str,
        invoke: bool = False,
    ) -> dict[str, Any] | None:
        """A form as a card: the invoke's answer, or a card sent back into the chat."""
        found = await self.rituals.open_form(actor, place, form_id, value)
        if isinstance(found, Reply):
            return message_response(found.message.text) if invoke else None
        card = form_card(found)
        if invoke:
            return card_response(card)
        reply_to = None if a.kind(activity) == a.PERSONAL else str(activity.get("id") or "")
        try:
            await self.port.reply(a.tenant(activity), a.conversation_id(activity), reply_to, card)
        except SendError as exc:
            log.warning("form not shown", form=form_id, error=exc.reason)
            await self.rituals.tell(
                actor,
                "Teams did not take the form; type the command with its options instead "
                "(`help` shows them).",
            )
        return None
