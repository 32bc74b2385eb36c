"""With an app id set, only requests carrying a valid Bot Connector token get in.

The token check is botbuilder's own, against the fake connector's signing keys: a token
that key signed gets in, anything else is a 401 and stores nothing.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import func, select

from handlers.teams.adapter import TeamsAuth
from storage.db import Database
from storage.models import InboundEvent, JournalEntry, Member, Ritual, TeamsConversation
from tests.handlers.teams import activities as act
from tests.handlers.teams.fake_connector import KID, new_key
from tests.handlers.teams.harness import APP_ID, TeamsTeam, running
from tests.logs import logged


@pytest.fixture
async def secured(db: Database) -> AsyncIterator[TeamsTeam]:
    async with running(db, auth=TeamsAuth(app_id=APP_ID, password="secret")) as team:
        yield team


async def stored(db: Database) -> int:
    async with db.session() as session:
        total = 0
        for model in (InboundEvent, JournalEntry, Member, Ritual, TeamsConversation):
            total += (await session.execute(select(func.count()).select_from(model))).scalar_one()
        return total


def setup_activity(team: TeamsTeam) -> dict:
    return act.in_channel(team.service_url, "29:alice", "standup setup at 09:30")


def unsigned(payload: dict) -> str:
    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(payload)}.e30"


async def test_a_token_signed_by_the_connector_gets_in(secured: TeamsTeam) -> None:
    token = secured.connector.token(audience=APP_ID, service_url=secured.service_url)
    status, _ = await secured.post(setup_activity(secured), token=token)
    assert status == 200
    assert await stored(secured.db) > 0


async def test_no_token_is_refused(secured: TeamsTeam) -> None:
    assert (await secured.post(setup_activity(secured)))[0] == 401
    assert await stored(secured.db) == 0


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer not-a-jwt", "Basic dXNlcjpwYXNz", "Bearer a.b.c", "bearer x.y.z"],
)
async def test_a_malformed_authorization_header_is_refused(secured: TeamsTeam, header: str) -> None:
    response = await secured.http.post(
        "/api/messages", json=setup_activity(secured), headers={"Authorization": header}
    )
    assert response.status == 401
    assert await stored(secured.db) == 0


async def test_a_token_signed_by_someone_else_is_refused(secured: TeamsTeam) -> None:
    forged = secured.connector.token(
        audience=APP_ID, service_url=secured.service_url, key=new_key()
    )
    started = time.monotonic()
    assert (await secured.post(setup_activity(secured), token=forged))[0] == 401
    assert time.monotonic() - started < 5
    assert await stored(secured.db) == 0


@pytest.mark.parametrize(
    "claims",
    [
        {"aud": "someone-elses-app"},
        {"serviceurl": "https://attacker.example/"},
        {"exp": int(time.time()) - 600, "nbf": int(time.time()) - 7200},
        {"iss": "https://attacker.example"},
    ],
    ids=["audience", "service-url", "expired", "issuer"],
)
async def test_a_signed_token_with_the_wrong_claims_is_refused(
    secured: TeamsTeam, claims: dict
) -> None:
    token = secured.connector.token(audience=APP_ID, service_url=secured.service_url, **claims)
    assert (await secured.post(setup_activity(secured), token=token))[0] == 401
    assert await stored(secured.db) == 0


async def test_an_unsigned_token_is_refused(secured: TeamsTeam) -> None:
    token = unsigned(
        {"iss": "https://api.botframework.com", "aud": APP_ID, "serviceurl": secured.service_url}
    )
    assert (await secured.post(setup_activity(secured), token=token))[0] == 401
    assert await stored(secured.db) == 0


async def test_unreachable_signing_keys_refuse_quickly(db: Database) -> None:
    auth = TeamsAuth(app_id=APP_ID, openid_metadata_url="http://127.0.0.1:9/openid", timeout=2)
    async with running(db, auth=auth) as team:
        token = team.connector.token(audience=APP_ID, service_url=team.service_url)
        started = time.monotonic()
        assert (await team.post(setup_activity(team), token=token))[0] == 401
        assert time.monotonic() - started < 3
        assert await stored(team.db) == 0


async def test_a_signed_activity_from_another_bot_framework_channel_is_refused(
    secured: TeamsTeam,
) -> None:
    secured.connector.endorsements.append("webchat")
    token = secured.connector.token(audience=APP_ID, service_url=secured.service_url)
    activity = {**setup_activity(secured), "channelId": "webchat"}
    assert (await secured.post(activity, token=token))[0] == 403
    assert await stored(secured.db) == 0


async def test_a_single_tenant_bot_refuses_other_tenants(db: Database) -> None:
    auth = TeamsAuth(app_id=APP_ID, password="secret", app_type="SingleTenant", tenant_id="ours")
    async with running(db, auth=auth) as team:
        token = team.connector.token(audience=APP_ID, service_url=team.service_url)
        assert (await team.post(setup_activity(team), token=token))[0] == 403
        assert await stored(team.db) == 0


@pytest.fixture
async def door(sqlite_db: Database) -> AsyncIterator[TeamsTeam]:
    """A secured door on SQLite alone: what these tests send is refused before anything
    reaches a database, so running them on PostgreSQL too would only repeat them."""
    async with running(sqlite_db, auth=TeamsAuth(app_id=APP_ID, password="secret")) as team:
        yield team


HEADER = {"alg": "RS256", "typ": "JWT", "kid": KID}


def signed_with(team: TeamsTeam, header: dict | None = None, **claims: Any) -> str:
    """A token the connector signed, its header and claims as Teams sends them but for these."""
    defaults = team.connector.claims(audience=APP_ID, service_url=team.service_url)
    return team.connector.sign({**HEADER, **(header or {})}, {**defaults, **claims})


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


async def test_a_token_signed_field_by_field_gets_in(door: TeamsTeam) -> None:
    status, _ = await door.post(setup_activity(door), token=signed_with(door))
    assert status == 200


WRONG_TYPES: dict[str, tuple[dict, dict]] = {
    "issuer-a-list": ({}, {"iss": ["https://api.botframework.com"]}),
    "issuer-an-object": ({}, {"iss": {"url": "https://api.botframework.com"}}),
    "issuer-a-number": ({}, {"iss": 1}),
    "audience-a-number": ({}, {"aud": 42}),
    "audience-an-object": ({}, {"aud": {"id": APP_ID}}),
    "audience-numbers": ({}, {"aud": [APP_ID, 7]}),
    "audience-empty": ({}, {"aud": []}),
    "expiry-text": ({}, {"exp": "tomorrow"}),
    "expiry-true": ({}, {"exp": True}),
    "expiry-infinite": ({}, {"exp": float("inf")}),
    "expiry-past-year-9999": ({}, {"exp": 10**30}),
    "expiry-missing": ({}, {"exp": None}),
    "not-before-a-list": ({}, {"nbf": [0]}),
    "issued-at-text": ({}, {"iat": "now"}),
    "service-url-a-list": ({}, {"serviceurl": ["https://smba.example/"]}),
    "service-url-a-number": ({}, {"serviceurl": 7}),
    "version-an-object": ({}, {"ver": {"v": "1.0"}}),
    "app-id-a-list": ({}, {"appid": [APP_ID]}),
    "key-id-a-list": ({"kid": [KID]}, {}),
    "key-id-a-number": ({"kid": 1}, {}),
    "algorithm-a-list": ({"alg": ["RS256"]}, {}),
    "algorithm-an-object": ({"alg": {"name": "RS256"}}, {}),
    "type-a-list": ({"typ": ["JWT"]}, {}),
}


@pytest.mark.parametrize(("header", "claims"), WRONG_TYPES.values(), ids=WRONG_TYPES.keys())
async def test_a_signed_token_whose_claims_have_the_wrong_types_is_refused_quietly(
    door: TeamsTeam, caplog: pytest.LogCaptureFixture, header: dict, claims: dict
) -> None:
    token = signed_with(door, header, **claims)
    with logged(caplog) as logs:
        status, _ = await door.post(setup_activity(door), token=token)
    assert status == 401
    assert logs.tracebacks == []
    assert logs.requests == [("/api/messages", 401)]
    assert len(logs.lines) == 1
    assert await stored(door.db) == 0


NOT_TOKENS = {
    "header-not-base64": f"Bearer {'@' * 20}.{b64(b'{}')}.sig",
    "header-invalid-base64": f"Bearer a.{b64(b'{}')}.sig",
    "header-not-utf8": f"Bearer {b64(bytes([0xFF, 0xFE]))}.{b64(b'{}')}.sig",
    "header-not-json": f"Bearer {b64(b'alg=RS256')}.{b64(b'{}')}.sig",
    "header-a-json-list": f"Bearer {b64(b'[1]')}.{b64(b'{}')}.sig",
    "header-nested-deep": f"Bearer {b64(b'[' * 3000 + b']' * 3000)}.{b64(b'{}')}.sig",
    "claims-a-json-list": f"Bearer {b64(json.dumps(HEADER).encode())}.{b64(b'[]')}.sig",
    "claims-not-json": f"Bearer {b64(json.dumps(HEADER).encode())}.{b64(b'iss')}.sig",
    "four-parts": "Bearer a.b.c.d",
    "padded": f"Bearer {b64(json.dumps(HEADER).encode())}==.e30.sig",
    "a-token-of-8-kb": f"Bearer {b64(json.dumps(HEADER).encode())}.{'A' * 8000}.sig",
}


@pytest.mark.parametrize("header", NOT_TOKENS.values(), ids=NOT_TOKENS.keys())
async def test_an_authorization_header_that_is_not_a_jwt_is_refused_quietly(
    door: TeamsTeam, caplog: pytest.LogCaptureFixture, header: str
) -> None:
    with logged(caplog) as logs:
        response = await door.http.post(
            "/api/messages", json=setup_activity(door), headers={"Authorization": header}
        )
    assert response.status == 401
    assert logs.tracebacks == []
    assert len(logs.lines) == 1
    assert await stored(door.db) == 0


RAW_HEADERS = {
    "non-ascii-bytes": (b"Authorization: Bearer \xc3\xa9t\xc3\xa9.\xff\xfe.sig", 401),
    "latin-1-scheme": (b"Authorization: B\xe9arer x.y.z", 401),
    "nul-byte": (b"Authorization: Bearer x.y\x00.z", 400),
    "control-character": (b"Authorization: Bearer x.y.z\x1b[0m", 400),
    "a-token-of-50-kb": (b"Authorization: Bearer " + b"A" * 50_000 + b".e30.sig", 400),
    "two-authorizations": (b"Authorization: Bearer a.b.c\r\nAuthorization: Bearer d.e.f", 401),
}


@pytest.mark.parametrize(("header", "status"), RAW_HEADERS.values(), ids=RAW_HEADERS.keys())
async def test_authorization_bytes_no_client_would_send_are_refused_quietly(
    door: TeamsTeam, caplog: pytest.LogCaptureFixture, header: bytes, status: int
) -> None:
    """Over a socket: aiohttp itself answers 400 to what HTTP forbids (a NUL, a control
    character, a header past 8 KB); the rest reaches the door and is a 401."""
    body = json.dumps(setup_activity(door)).encode()
    with logged(caplog) as logs:
        assert await door.post_raw([header], body) == status
    assert logs.tracebacks == []
    assert len(logs.lines) == 1
    assert await stored(door.db) == 0
