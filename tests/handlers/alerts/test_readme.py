"""The README's Alertmanager receiver and Grafana contact point, sent as those tools send:
the URL they name reaches the webhook, and the bodies they post are taken."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from tests.handlers.alerts.harness import serving
from tests.handlers.alerts.payloads import alertmanager, am_alert, grafana
from tests.helpers import Team
from tests.rituals.alerts.support import connect

README = Path(__file__).resolve().parents[3] / "README.md"


def blocks() -> list[dict]:
    return [yaml.safe_load(b) for b in re.findall(r"```yaml\n(.*?)```", README.read_text(), re.S)]


async def test_the_readme_configurations_reach_the_webhook(team: Team) -> None:
    manager = next(b for b in blocks() if "receivers" in b and "route" in b)
    (config,) = manager["receivers"][0]["webhook_configs"]
    assert config["send_resolved"] is True
    points = next(b for b in blocks() if "contactPoints" in b)
    (receiver,) = points["contactPoints"][0]["receivers"]
    assert receiver["type"] == "webhook" and receiver["settings"]["httpMethod"] == "POST"
    token = await connect(team)
    async with serving(team) as http:
        for url, body in (
            (config["url"], alertmanager(am_alert("AucDrop", model="churn"))),
            (receiver["settings"]["url"], grafana(am_alert("DriftHigh", model="ranker"))),
        ):
            path = url.removeprefix("https://bot.example.org").replace("TOKEN", token)
            response = await http.post(path, json=body)
            assert response.status == 200 and (await response.json())["new"] == 1
