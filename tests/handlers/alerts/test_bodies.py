"""The alert webhook's reader on its own: the three senders' bodies told apart and turned
into the alerts kind's events, anything else refused with a reason the sender's operator
can act on, and nothing a sender posts making it fail another way."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.hooks import BadBody
from handlers.hooks.alerts import read
from rituals.signals import FIRING, RESOLVED, Batch
from tests.handlers.alerts.payloads import alertmanager, am_alert, grafana, plain
from tests.handlers.alerts.shapes import JSON_VALUES, reshaped


def posted(body: Any) -> Batch:
    """What the reader makes of ``body`` as a sender posts it (JSON bytes)."""
    return read(json.dumps(body).encode())


def refusal(raw: bytes) -> str:
    with pytest.raises(BadBody) as refused:
        read(raw)
    return str(refused.value)


def test_a_plain_alert_is_one_event_grouped_by_its_model() -> None:
    batch = posted(plain(value=0.7, threshold=0.8, severity="Critical", message="AUC fell"))
    (event,) = batch.alerts
    assert batch.source == "plain" and batch.metrics == ()
    assert (event.model, event.metric, event.value, event.threshold) == ("churn", "auc", 0.7, 0.8)
    assert (event.status, event.severity, event.summary) == (FIRING, "critical", "AUC fell")
    assert (event.group_key, event.group_title) == ("model:churn", "churn")


def test_a_plain_value_alone_is_a_metric_for_the_channels_rules() -> None:
    batch = posted(plain(value=0.61, labels={"segment": "eu"}))
    (metric,) = batch.metrics
    assert batch.alerts == ()
    assert (metric.model, metric.metric, metric.value) == ("churn", "auc", 0.61)
    assert dict(metric.labels) == {"segment": "eu"}


def test_an_alertmanager_group_keeps_its_fingerprints_and_statuses() -> None:
    firing = am_alert("AucDrop", model="churn", metric="auc")
    resolved = am_alert("DriftHigh", model="churn", status="resolved")
    batch = posted(alertmanager(firing, resolved))
    assert batch.source == "alertmanager"
    assert [e.identity for e in batch.alerts] == [
        f"am:{firing['fingerprint']}",
        f"am:{resolved['fingerprint']}",
    ]
    assert [e.status for e in batch.alerts] == [FIRING, RESOLVED]
    assert {e.group_title for e in batch.alerts} == {"alertname=ModelQuality"}
    assert batch.alerts[0].summary == "AucDrop on churn"


def test_a_grafana_alert_brings_its_first_value_and_dashboard() -> None:
    (event,) = posted(grafana(am_alert("DriftHigh", model="ranker"))).alerts
    assert (event.source, event.value) == ("grafana", 0.42)
    assert event.url == "http://grafana.example/d/abc"
    assert event.identity.startswith("grafana:")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"not json", "not JSON"),
        (b"\xff\xfe", "not UTF-8"),
        (b"[1, 2]", "expected a JSON object"),
        (b'{"value": NaN, "model": "m", "metric": "x"}', "not JSON"),
        (json.dumps({"hello": 1}).encode(), "unrecognised body"),
        (json.dumps(dict(alertmanager(am_alert("A")), version="3")).encode(), "version '3'"),
        (json.dumps(plain(value="high")).encode(), "value"),
        (json.dumps({"model": "m", "metric": "x"}).encode(), "needs a value"),
        (json.dumps(plain(model="a\u0000b", threshold=1)).encode(), "NUL"),
        (b"[" * 5000 + b"]" * 5000, "nested too deeply"),
        (json.dumps(alertmanager({"status": "firing"})).encode(), "alerts.0.labels"),
    ],
)
def test_a_body_it_cannot_read_is_refused_with_the_reason(raw: bytes, reason: str) -> None:
    assert reason in refusal(raw)


@settings(max_examples=300, deadline=None)
@given(body=st.one_of(reshaped(), JSON_VALUES))
def test_any_json_is_a_batch_of_events_or_a_reason(body: Any) -> None:
    try:
        batch = posted(body)
    except BadBody as refused:
        assert str(refused)
        return
    assert batch.source in ("plain", "alertmanager", "grafana")
    assert batch.alerts or batch.metrics or batch.source != "plain"
    for event in batch.alerts:
        assert event.status in (FIRING, RESOLVED) and event.identity


@settings(max_examples=300, deadline=None)
@given(raw=st.binary(max_size=300) | st.text(max_size=200).map(str.encode))
def test_any_bytes_are_a_batch_or_a_reason(raw: bytes) -> None:
    try:
        read(raw)
    except BadBody as refused:
        assert str(refused)
