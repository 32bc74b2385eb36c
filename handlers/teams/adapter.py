"""The one module that speaks botbuilder: authentication, the turn, tokens, TeamsInfo.

botbuilder-python is in maintenance and its successor is the Microsoft 365 Agents SDK;
everything else in the Teams edge reads and writes plain Activity JSON, so moving SDKs
means rewriting this module alone.
"""

from __future__ import annotations

import asyncio
import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

import jwt
import structlog
from botbuilder.core import ActivityHandler, InvokeResponse, TurnContext
from botbuilder.core.teams import TeamsInfo
from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
    ConfigurationServiceClientCredentialFactory,
)
from botbuilder.schema import Activity, CallerIdConstants, ConversationReference
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import (
    AuthenticateRequestResult,
    AuthenticationConstants,
    ClaimsIdentity,
    ConnectorFactory,
    UserTokenClient,
)

from handlers.teams import activity as a

log = structlog.get_logger(__name__)

RAW = "ritualbot.activity"
BEARER = re.compile(r"^Bearer [A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")
ISSUERS = frozenset(
    {
        AuthenticationConstants.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER,
        # the Bot Framework Emulator and Azure AD v1/v2 issuers, as botbuilder accepts them
        "https://sts.windows.net/d6d49420-f39b-4df7-a1dc-d59a935871db/",
        "https://login.microsoftonline.com/d6d49420-f39b-4df7-a1dc-d59a935871db/v2.0",
        "https://sts.windows.net/f8cdef31-a31e-4b4a-93e4-5f571e91255a/",
        "https://login.microsoftonline.com/f8cdef31-a31e-4b4a-93e4-5f571e91255a/v2.0",
    }
)
# Header fields and claims botbuilder reads as text, besides the required kid, alg and iss.
HEADER_TEXTS = ("typ", "x5t", "cty")
CLAIM_TEXTS = (
    AuthenticationConstants.SERVICE_URL_CLAIM,
    AuthenticationConstants.VERSION_CLAIM,
    AuthenticationConstants.APP_ID_CLAIM,
    AuthenticationConstants.AUTHORIZED_PARTY,
    "tid",
    "sub",
)
LAST_INSTANT = 253_402_300_799  # 9999-12-31T23:59:59Z
TOKEN_TTL_SECONDS = 30 * 60.0
PAGE_SIZE = 500


@dataclass(frozen=True)
class TeamsAuth:
    """The MICROSOFT_* settings; no ``app_id`` means no authentication (local testing).

    ``openid_metadata_url`` replaces where the Bot Connector's signing keys are fetched
    from; tests point it at their own key set, production leaves it unset.
    """

    app_id: str | None = None
    password: str | None = None
    tenant_id: str | None = None
    app_type: str = "MultiTenant"
    openid_metadata_url: str | None = None
    timeout: float = 5.0


class Handlers(Protocol):
    """What the edge does with each kind of activity, given its JSON."""

    async def on_message(self, activity: dict[str, Any]) -> None: ...
    async def on_message_update(self, activity: dict[str, Any]) -> None: ...
    async def on_conversation_update(self, activity: dict[str, Any]) -> None: ...
    async def on_installation_update(self, activity: dict[str, Any]) -> None: ...
    async def on_card_action(self, activity: dict[str, Any]) -> dict[str, Any]: ...


class _Configuration:
    """The attribute bag ConfigurationBotFrameworkAuthentication reads."""

    def __init__(self, auth: TeamsAuth) -> None:
        self.APP_ID = auth.app_id or ""
        self.APP_PASSWORD = auth.password or ""
        self.APP_TYPE = auth.app_type
        self.APP_TENANTID = auth.tenant_id or ""
        if auth.openid_metadata_url:
            self.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL = auth.openid_metadata_url
            self.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL = auth.openid_metadata_url
            self.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER = (
                AuthenticationConstants.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER
            )
            self.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE = (
                AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE
            )
            self.TO_CHANNEL_FROM_BOT_LOGIN_URL = (
                AuthenticationConstants.TO_CHANNEL_FROM_BOT_LOGIN_URL
            )
            self.OAUTH_URL = AuthenticationConstants.OAUTH_URL
            self.CALLER_ID = CallerIdConstants.public_azure_channel


class _Authentication(ConfigurationBotFrameworkAuthentication):
    """Keeps the user token client it makes: the adapter asks for one every turn, and
    building it (an msrest client) costs milliseconds the bot never uses it for."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._user_tokens: dict[str | None, UserTokenClient] = {}

    async def create_user_token_client(self, claims_identity: ClaimsIdentity) -> UserTokenClient:
        key = claims_identity.get_claim_value(AuthenticationConstants.AUDIENCE_CLAIM)
        client = self._user_tokens.get(key)
        if client is None:
            client = self._user_tokens[key] = await super().create_user_token_client(
                claims_identity
            )
        return client


class _ReusedConnectors(ConnectorFactory):
    """One connector client per service URL and audience, instead of one per turn."""

    def __init__(self, inner: ConnectorFactory) -> None:
        self._inner = inner
        self._clients: dict[tuple[str, str | None], ConnectorClient] = {}

    async def create(self, service_url: str, audience: str | None = None) -> ConnectorClient:
        key = (service_url, audience)
        client = self._clients.get(key)
        if client is None:
            client = self._clients[key] = await self._inner.create(service_url, audience)
        return client


class _Bot(ActivityHandler):
    """Routes each activity type to the edge with the activity's own JSON."""

    def __init__(self, handlers: Handlers) -> None:
        self.handlers = handlers

    @staticmethod
    def _raw(turn_context: TurnContext) -> dict[str, Any]:
        return turn_context.turn_state[RAW]

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        await self.handlers.on_message(self._raw(turn_context))

    async def on_message_update_activity(self, turn_context: TurnContext) -> None:
        await self.handlers.on_message_update(self._raw(turn_context))

    async def on_conversation_update_activity(self, turn_context: TurnContext) -> None:
        await self.handlers.on_conversation_update(self._raw(turn_context))

    async def on_installation_update(self, turn_context: TurnContext) -> None:
        await self.handlers.on_installation_update(self._raw(turn_context))

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse | None:
        """Card actions are answered here, not in ``on_adaptive_card_invoke``: in 4.17.1 that
        path serializes its response twice and the aiohttp adapter answers Teams with a 500."""
        if turn_context.activity.name == "adaptiveCard/action":
            body = await self.handlers.on_card_action(self._raw(turn_context))
            return InvokeResponse(status=200, body=body)
        return await super().on_invoke_activity(turn_context)


def _typed(head: dict[str, Any], claims: dict[str, Any]) -> bool:
    """Whether the token's header and claims have the types the Bot Framework issues.

    PyJWT decodes any JSON without a signature check, while botbuilder hashes, compares and
    converts claims as if they had these types: a list issuer or a text expiry would raise
    in it instead of being refused.
    """
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    return (
        all(isinstance(head.get(name), str) for name in ("alg", "kid"))
        and all(isinstance(head.get(name), str | None) for name in HEADER_TEXTS)
        and isinstance(claims.get("iss"), str)
        and all(isinstance(claims.get(name), str | None) for name in CLAIM_TEXTS)
        and bool(audiences)
        and all(isinstance(found, str) for found in audiences)
        and _instant(claims.get("exp"))
        and all(claims.get(name) is None or _instant(claims[name]) for name in ("nbf", "iat"))
    )


def _instant(value: Any) -> bool:
    """A JWT NumericDate: seconds since 1970, a number (not true or false) before year 10000."""
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and 0 <= value <= LAST_INSTANT
    )


class TeamsAdapter:
    def __init__(self, auth: TeamsAuth) -> None:
        self.auth = auth
        configuration = _Configuration(auth)
        self._credentials = ConfigurationServiceClientCredentialFactory(configuration)
        self._bfa = _Authentication(configuration, credentials_factory=self._credentials)
        self.adapter = CloudAdapter(self._bfa)
        identity = self.adapter.create_claims_identity(auth.app_id or "")
        self._trusted = AuthenticateRequestResult()
        self._trusted.claims_identity = identity
        self._trusted.audience = AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE
        self._trusted.caller_id = CallerIdConstants.public_azure_channel
        self._trusted.connector_factory = _ReusedConnectors(
            self._bfa.create_connector_factory(identity)
        )
        self._token: tuple[float, str] | None = None
        self._token_lock = asyncio.Lock()
        # Token checks get threads of their own, few of them: a flood of forged tokens
        # queues here (and times out) instead of taking the threads DNS and tokens use.
        self._checks = ThreadPoolExecutor(max_workers=4, thread_name_prefix="teams-token-check")

    @property
    def authenticating(self) -> bool:
        return bool(self.auth.app_id)

    @staticmethod
    def unreadable(activity: dict[str, Any]) -> str | None:
        """Why botbuilder could not read the activity (a field of the wrong type), or None;
        checked before it is stored, so nothing is acknowledged that can never be handled."""
        try:
            Activity().deserialize(activity)
        except Exception as exc:  # msrest raises its own errors, wrapped several deep
            return f"{type(exc).__name__}: {exc}"[:200]
        return None

    def refuses(self, activity: dict[str, Any]) -> str | None:
        """Why an authenticated activity is not for this bot, or None: the token proves the
        Bot Framework sent it, not that it came from Teams or from the configured tenant."""
        if not self.authenticating:
            return None
        if activity.get("channelId") != "msteams":
            return "only Microsoft Teams activities are accepted"
        tenant = a.tenant(activity)
        if tenant == a.LOCAL_TENANT:
            return "the activity names no tenant"
        configured = (self.auth.tenant_id or "").lower()
        if self.auth.app_type == "SingleTenant" and tenant.lower() != configured:
            return "the activity comes from another tenant than MICROSOFT_APP_TENANT_ID"
        return None

    def _plausible(self, header: str) -> bool:
        """A bearer JWT for this app from a Microsoft issuer, judged without its signature.

        Anything else is refused here, before botbuilder would fetch signing keys for it.
        """
        if not BEARER.match(header):
            return False
        token = header.removeprefix("Bearer ")
        try:
            head = jwt.get_unverified_header(token)
            claims = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            return False
        if not _typed(head, claims):
            return False
        audience = claims["aud"]
        audiences = audience if isinstance(audience, list) else [audience]
        return (
            head["alg"] in AuthenticationConstants.ALLOWED_SIGNING_ALGORITHMS
            and bool(head["kid"])
            and claims["iss"] in ISSUERS
            and self.auth.app_id in audiences
        )

    async def verify(self, activity: dict[str, Any], header: str) -> bool:
        """Whether the request carries a valid Bot Connector token for this activity.

        botbuilder checks the signature, issuer, audience, expiry and service URL claim;
        it fetches signing keys with a blocking HTTP call, so it runs on a thread, within
        ``timeout``. Every failure, including an unreachable key server, is a refusal.
        """
        if not self.authenticating:
            return True
        if not self._plausible(header):
            return False
        parsed = Activity().deserialize(activity)

        def authenticate() -> AuthenticateRequestResult:
            return asyncio.run(self._bfa.authenticate_request(parsed, header))

        try:
            async with asyncio.timeout(self.auth.timeout):
                loop = asyncio.get_running_loop()
                result = await loop.run_in_executor(self._checks, authenticate)
        except Exception as exc:
            log.info("Teams request refused", reason=f"{type(exc).__name__}: {exc}"[:300])
            return False
        identity = result.claims_identity
        return bool(identity and identity.is_authenticated)

    async def run(self, activity: dict[str, Any], handlers: Handlers) -> tuple[int, Any] | None:
        """Run one turn of a verified activity; an invoke's (status, body), else None."""
        parsed = Activity().deserialize(activity)
        bot = _Bot(handlers)

        async def logic(turn_context: TurnContext) -> None:
            turn_context.turn_state[RAW] = activity
            await bot.on_turn(turn_context)

        response = await self.adapter.process_activity(self._trusted, parsed, logic)
        if response is None:
            return None
        return int(response.status), response.body

    async def token(self) -> str | None:
        """A token for the Bot Connector, fetched on a thread and kept for half an hour."""
        if not self.authenticating:
            return None
        cached = self._token
        if cached is not None and time.monotonic() - cached[0] < TOKEN_TTL_SECONDS:
            return cached[1]
        async with self._token_lock:
            if self._token is not None and self._token is not cached:
                return self._token[1]
            credentials = await self._credentials.create_credentials(
                self.auth.app_id or "",
                AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE,
                AuthenticationConstants.TO_CHANNEL_FROM_BOT_LOGIN_URL,
                True,
            )
            value = await asyncio.to_thread(credentials.get_access_token)
            self._token = (time.monotonic(), value)
            return value

    async def members(self, reference: dict[str, Any]) -> list[dict]:
        """Every member of the referenced conversation, page by page: for a channel, the
        channel's members (a private channel's own, a standard channel's team)."""
        found: list[dict[str, Any]] = []

        async def logic(turn_context: TurnContext) -> None:
            # No team in the channel data, so TeamsInfo asks for the conversation's members
            # rather than the whole team's.
            turn_context.activity.channel_data = {}
            continuation = None
            while True:
                page = await TeamsInfo.get_paged_members(turn_context, continuation, PAGE_SIZE)
                found.extend(member.serialize() for member in page.members or [])
                continuation = page.continuation_token
                if not continuation:
                    return

        await self.adapter.continue_conversation(
            ConversationReference().deserialize(reference), logic, self.auth.app_id or ""
        )
        return found
