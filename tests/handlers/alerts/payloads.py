"""Webhook bodies as the senders write them, after the Alertmanager (webhook_config,
version 4) and Grafana (unified alerting webhook contact point) documentation."""

from __future__ import annotations

import hashlib
from typing import Any

STARTS = "2030-01-07T08:58:30.104Z"
NEVER = "0001-01-01T00:00:00Z"


def fingerprint(labels: dict[str, str]) -> str:
    return hashlib.sha256(repr(sorted(labels.items())).encode()).hexdigest()[:16]


def am_alert(
    name: str,
    *,
    status: str = "firing",
    severity: str = "warning",
    starts: str = STARTS,
    **labels: str,
) -> dict[str, Any]:
    full = {"alertname": name, "severity": severity, **labels}
    return {
        "status": status,
        "labels": full,
        "annotations": {
            "summary": f"{name} on {labels.get('model', 'the service')}",
            "description": "See the runbook.",
        },
        "startsAt": starts,
        "endsAt": NEVER if status == "firing" else "2030-01-07T09:40:00Z",
        "generatorURL": f"http://prometheus.example:9090/graph?g0.expr={name}",
        "fingerprint": fingerprint(full),
    }


def alertmanager(*alerts: dict[str, Any], group: str = "ModelQuality") -> dict[str, Any]:
    status = "firing" if any(a["status"] == "firing" for a in alerts) else "resolved"
    return {
        "version": "4",
        "groupKey": f'{{}}/{{severity=~"warning|critical"}}:{{alertname="{group}"}}',
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "ritualbot",
        "groupLabels": {"alertname": group},
        "commonLabels": {"alertname": group},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.example:9093",
        "alerts": list(alerts),
    }


def grafana(*alerts: dict[str, Any], title: str = "DriftHigh") -> dict[str, Any]:
    status = "firing" if any(a["status"] == "firing" for a in alerts) else "resolved"
    shaped = []
    for alert in alerts:
        alert = dict(alert)
        alert["values"] = {"B": 0.42, "C": 1}
        alert["valueString"] = "[ var='B' labels={} value=0.42 ]"
        alert["dashboardURL"] = "http://grafana.example/d/abc"
        alert["panelURL"] = "http://grafana.example/d/abc?viewPanel=2"
        alert["silenceURL"] = "http://grafana.example/alerting/silence/new"
        shaped.append(alert)
    return {
        "receiver": "ritualbot",
        "status": status,
        "orgId": 1,
        "alerts": shaped,
        "groupLabels": {"alertname": title},
        "commonLabels": {"alertname": title},
        "commonAnnotations": {},
        "externalURL": "http://grafana.example/",
        "version": "1",
        "groupKey": f'{{}}:{{alertname="{title}"}}',
        "truncatedAlerts": 0,
        "title": f"[{status.upper()}:{len(alerts)}] {title}",
        "state": "alerting" if status == "firing" else "ok",
        "message": "**Firing**",
    }


def plain(model: str = "churn", metric: str = "auc", value: float = 0.71, **more: Any) -> dict:
    return {"model": model, "metric": metric, "value": value, **more}
