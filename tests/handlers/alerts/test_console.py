"""Alerts at the console: connect, an alert arriving over the webhook, its Acknowledge
button pressed by typing its label, and `alerts list`."""

from __future__ import annotations

import re

from storage.db import Database
from tests.handlers.alerts.harness import webhook
from tests.handlers.alerts.payloads import alertmanager, am_alert
from tests.handlers.test_console import Terminal


async def test_alerts_in_the_terminal(sqlite_db: Database) -> None:
    terminal = Terminal(sqlite_db)
    shown = await terminal.type("alerts connect")
    token = re.search(r"/hooks/alerts/([A-Za-z0-9_\-]+)", shown)
    assert token, shown
    body = alertmanager(am_alert("AucDrop", model="churn", région="ü"))
    async with webhook(terminal.session.rituals) as http:
        response = await http.post(f"/hooks/alerts/{token[1]}", json=body)
        assert response.status == 200
    shown = await terminal.type("")
    assert "[#ml] ritualbot: Alert: alertname=ModelQuality" in shown
    assert "[Acknowledge]" in shown and "région=ü" in shown
    shown = await terminal.type("acknowledge")
    assert "dana acknowledged #1 AucDrop" in shown
    assert "acknowledged by dana" in shown
    listed = await terminal.type("alerts list")
    assert "Acknowledged" in listed and "#1 AucDrop" in listed
