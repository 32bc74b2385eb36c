"""With an app id set, only requests carrying a valid Bot Connector token get in.

The token check is botbuilder's own, against the fake connector's signing keys: a token
that key signed gets in, anything else is a 401 and stores nothing.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from handlers.teams.adapter import TeamsAuth
from storage.db import Database
from storage.models import InboundEvent, JournalEntry, Member, Ritual, TeamsConversation
from tests.handlers.teams import activities as act
from tests.handlers.teams.fake_connector import new_key
from tests.handlers.teams.harness import APP_ID, TeamsTeam, running


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
