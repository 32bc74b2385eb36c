"""The web app's own endpoints and guards, over real HTTP against a real SQLite database."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from structlog.testing import capture_logs

import bot.web
import rituals.telemetry
from bot.web import DB_KEY, MAX_BODY_BYTES, init_app, serve
from storage.db import Database


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path}/t.db")
    yield database
    await database.dispose()


async def boom(_request: web.Request) -> web.Response:
    raise RuntimeError("secret detail")


async def bad_request(_request: web.Request) -> web.Response:
    raise web.HTTPBadRequest(text="missing field 'model'")


async def echo_size(request: web.Request) -> web.Response:
    return web.json_response({"size": len(await request.read())})


def extra(app: web.Application) -> None:
    app.router.add_get("/boom", boom)
    app.router.add_get("/bad", bad_request)
    app.router.add_post("/hooks/alerts/{token}", echo_size)


def client_for(app: web.Application) -> TestClient[web.Request, web.Application]:
    return TestClient(TestServer(app))


async def test_healthz_ok(db: Database) -> None:
    async with client_for(init_app(db=db)) as client:
        response = await client.get("/healthz")
        assert response.status == 200
        assert await response.json() == {"status": "ok", "database": "ok"}
        assert response.headers["Cache-Control"] == "no-store"


async def test_healthz_unreachable_database() -> None:
    broken = Database("sqlite+aiosqlite:////nonexistent-dir/x.db")
    try:
        async with client_for(init_app(db=broken)) as client:
            response = await client.get("/healthz")
            body = await response.json()
    finally:
        await broken.dispose()
    assert response.status == 503
    assert body["status"] == "unavailable"
    assert body["database"] == "OperationalError"


async def test_healthz_times_out(monkeypatch: pytest.MonkeyPatch) -> None:
    """A database server that accepts connections and never answers, like a hung one."""
    monkeypatch.setattr(bot.web, "HEALTH_TIMEOUT_SECONDS", 0.05)
    silent = await asyncio.start_server(lambda _r, _w: None, "127.0.0.1", 0)
    port = silent.sockets[0].getsockname()[1]
    hung = Database(f"postgresql+asyncpg://postgres@127.0.0.1:{port}/test")
    try:
        async with client_for(init_app(db=hung)) as client:
            response = await client.get("/healthz")
            body = await response.json()
    finally:
        silent.close()
        await hung.dispose()
    assert response.status == 503
    assert body == {"status": "unavailable", "database": "no answer within 0.05s"}


async def test_metrics_prometheus_text(db: Database) -> None:
    rituals.telemetry.COMMANDS.labels("console", "standup", "ok").inc()
    async with client_for(init_app(db=db)) as client:
        response = await client.get("/metrics")
        text = await response.text()
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    assert response.charset == "utf-8"
    assert "# TYPE ritualbot_commands_total counter" in text
    assert 'ritualbot_commands_total{outcome="ok",platform="console",ritual="standup"}' in text
    assert "ritualbot_messages_sent_total" in text


async def test_unhandled_error_is_logged_500_without_detail(db: Database) -> None:
    async with client_for(init_app(db=db, extra_routes=extra)) as client:
        with capture_logs() as logs:
            response = await client.get("/boom")
        body = await response.text()
    assert response.status == 500
    assert response.content_type == "application/json"
    assert body == '{"error": "internal error"}'
    errors = [entry for entry in logs if entry["event"] == "unhandled error"]
    assert len(errors) == 1
    assert errors[0]["log_level"] == "error"
    assert errors[0]["route"] == "/boom"


async def test_http_errors_pass_through(db: Database) -> None:
    async with client_for(init_app(db=db, extra_routes=extra)) as client:
        bad = await client.get("/bad")
        assert (bad.status, await bad.text()) == (400, "missing field 'model'")
        missing = await client.get("/nowhere")
        assert missing.status == 404
        wrong_method = await client.post("/healthz")
        assert wrong_method.status == 405


async def test_request_body_limit(db: Database) -> None:
    async with client_for(init_app(db=db, extra_routes=extra)) as client:
        ok = await client.post("/hooks/alerts/t0k", data=b"x" * MAX_BODY_BYTES)
        assert ok.status == 200
        assert await ok.json() == {"size": MAX_BODY_BYTES}
        too_big = await client.post("/hooks/alerts/t0k", data=b"x" * (MAX_BODY_BYTES + 1))
        assert too_big.status == 413


async def test_lifetimes_run_in_order_and_unwind(db: Database) -> None:
    events: list[str] = []

    def lifetime(name: str) -> Callable[[web.Application], AsyncIterator[None]]:
        async def run(app: web.Application) -> AsyncIterator[None]:
            assert app[DB_KEY] is db
            events.append(f"start {name}")
            yield
            events.append(f"stop {name}")

        return run

    app = init_app(db=db, lifetimes=[lifetime("a"), lifetime("b")])
    async with client_for(app) as client:
        assert (await client.get("/healthz")).status == 200
        assert events == ["start a", "start b"]
    assert events == ["start a", "start b", "stop b", "stop a"]


async def test_serve_listens_and_logs_route_templates(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="bot.web")
    runner = await serve(init_app(db=db, extra_routes=extra), "127.0.0.1", 0)
    try:
        host, port = runner.addresses[0][:2]
        with capture_logs() as logs:
            async with aiohttp.ClientSession() as session:
                async with session.get(f"http://{host}:{port}/healthz") as response:
                    assert response.status == 200
                hook = f"http://{host}:{port}/hooks/alerts/s3cret-token"
                async with session.post(hook, data=b"{}") as response:
                    assert response.status == 200
    finally:
        await runner.cleanup()
    requests = [entry for entry in logs if entry["event"] == "request"]
    assert [(r["route"], r["status"]) for r in requests] == [
        ("/healthz", 200),
        ("/hooks/alerts/{token}", 200),
    ]
    assert requests[0]["log_level"] == "debug"
    assert "s3cret-token" not in repr(logs)


async def test_serve_reports_busy_port(db: Database) -> None:
    first = await serve(init_app(db=db), "127.0.0.1", 0)
    try:
        port = first.addresses[0][1]
        with pytest.raises(OSError):
            await serve(init_app(db=db), "127.0.0.1", port)
    finally:
        await first.cleanup()


async def test_access_lines_cost_nothing_when_the_level_hides_them(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.web")
    runner = await serve(init_app(db=db, extra_routes=extra), "127.0.0.1", 0)
    try:
        host, port = runner.addresses[0][:2]
        with capture_logs() as logs:
            async with (
                aiohttp.ClientSession() as session,
                session.get(f"http://{host}:{port}/healthz") as response,
            ):
                assert response.status == 200
    finally:
        await runner.cleanup()
    assert [entry for entry in logs if entry["event"] == "request"] == []


async def answer_to(host: str, port: int, request: bytes) -> bytes:
    """The server's answer to bytes sent as they are, which no HTTP client would send."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(request)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), 5)
    finally:
        writer.close()
        await writer.wait_closed()


def get_healthz(*headers: bytes, request_line: bytes = b"GET /healthz HTTP/1.1") -> bytes:
    return b"\r\n".join([request_line, b"Host: bot", b"Connection: close", *headers, b"", b""])


def lines_logged(logs: list[dict], caplog: pytest.LogCaptureFixture) -> list[str]:
    """What an operator would read at the info level: our events and the libraries' records."""
    ours = [str(entry["event"]) for entry in logs if entry["log_level"] != "debug"]
    theirs = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    return ours + theirs


def tracebacks(logs: list[dict], caplog: pytest.LogCaptureFixture) -> list[str]:
    ours = [str(entry["event"]) for entry in logs if "exc_info" in entry or "exception" in entry]
    theirs = [r.getMessage() for r in caplog.records if r.exc_info]
    return ours + theirs


MALFORMED_HTTP = {
    "nul-in-a-header-value": get_healthz(b"X-Trace: a\x00b"),
    "bell-in-a-header-value": get_healthz(b"X-Trace: a\x07b"),
    "escape-in-a-header-value": get_healthz(b"X-Trace: \x1b[31mred"),
    "control-in-a-header-name": get_healthz(b"X\x01Trace: 1"),
    "nul-in-the-method": get_healthz(request_line=b"G\x00T /healthz HTTP/1.1"),
    "control-in-the-path": get_healthz(request_line=b"GET /heal\x01thz HTTP/1.1"),
    "non-ascii-in-the-path": get_healthz(request_line=b"GET /heal\xffthz HTTP/1.1"),
    "unknown-http-version": get_healthz(request_line=b"GET /healthz HTTP/9.9"),
    "a-header-too-long": get_healthz(b"X-Trace: " + b"a" * 50_000),
    "a-tls-handshake": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
}


@pytest.mark.parametrize("request_bytes", MALFORMED_HTTP.values(), ids=MALFORMED_HTTP.keys())
async def test_malformed_http_is_aiohttps_400_in_one_line_without_a_traceback(
    db: Database, caplog: pytest.LogCaptureFixture, request_bytes: bytes
) -> None:
    caplog.set_level(logging.INFO)
    runner = await serve(init_app(db=db, extra_routes=extra), "127.0.0.1", 0)
    try:
        host, port = runner.addresses[0][:2]
        caplog.clear()
        with capture_logs() as logs:
            answer = await answer_to(host, port, request_bytes)
    finally:
        await runner.cleanup()
    assert answer.split(b"\r\n")[0] == b"HTTP/1.0 400 Bad Request"
    assert tracebacks(logs, caplog) == []
    assert lines_logged(logs, caplog) == ["request"]
    (line,) = logs
    assert (line["route"], line["status"]) == ("<malformed>", 400)
    assert line["problem"] and "\n" not in line["problem"]


async def test_a_malformed_line_never_echoes_what_it_rejected(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    runner = await serve(init_app(db=db), "127.0.0.1", 0)
    try:
        host, port = runner.addresses[0][:2]
        with capture_logs() as logs:
            await answer_to(host, port, get_healthz(b"Authorization: Bearer s3cret\x00"))
            await answer_to(host, port, get_healthz(b"Authorization: Bearer s3cret" * 1000))
            hook = b"POST /hooks/alerts/s3cret HTTP/9.9"
            await answer_to(host, port, get_healthz(request_line=hook))
    finally:
        await runner.cleanup()
    assert [line["status"] for line in logs if line["event"] == "request"] == [400, 400, 400]
    assert "s3cret" not in repr(logs) + caplog.text


header_bytes = st.binary(max_size=300).filter(lambda b: b"\r" not in b and b"\n" not in b)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(name=header_bytes, value=header_bytes)
async def test_any_header_gets_an_answer_below_500_and_no_traceback(
    db: Database, caplog: pytest.LogCaptureFixture, name: bytes, value: bytes
) -> None:
    caplog.set_level(logging.INFO)
    caplog.clear()
    runner = await serve(init_app(db=db), "127.0.0.1", 0)
    try:
        host, port = runner.addresses[0][:2]
        with capture_logs() as logs:
            answer = await answer_to(host, port, get_healthz(b"X-" + name + b": " + value))
    finally:
        await runner.cleanup()
    status = int(answer.split(b" ", 2)[1])
    assert status in (200, 400)
    assert tracebacks(logs, caplog) == []
    assert [line["status"] for line in logs if line["event"] == "request"] == [status]
