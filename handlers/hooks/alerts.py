"""The alert webhook's reader: the three bodies senders post to ``/hooks/alerts/{token}``,
told apart by their shape, validated, and turned into the neutral `rituals.signals.Batch`:

- a plain alert or raw value: ``{"model", "metric", "value", "threshold", "severity",
  "message"}`` (``status`` and ``labels`` optional; with only a value, the channel's rules
  judge it);
- a Prometheus Alertmanager webhook, version 4 (grouped alerts with fingerprints);
- a Grafana unified alerting webhook (Alertmanager's shape plus ``orgId``, ``values``…).

Each sender's format is the edge's to know, as Slack's and Teams' payloads are: the kind
takes events, whoever sent them.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from handlers.hooks.bodies import BadBody, json_body
from rituals.signals import (
    FIRING,
    AlertEvent,
    Batch,
    MetricValue,
    digest,
    plain_identity,
)

__all__ = ["parse", "read"]

MAX_ALERTS = 1000
MAX_LABELS = 64

Short = Annotated[str, Field(max_length=300)]
Long = Annotated[str, Field(max_length=8000)]
Labels = Annotated[dict[Short, Long], Field(max_length=MAX_LABELS)]
Number = Annotated[float, Field(allow_inf_nan=False)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=False)


class Plain(_Body):
    model: Annotated[str, Field(min_length=1, max_length=200)]
    metric: Annotated[str, Field(min_length=1, max_length=200)]
    value: Number | None = None
    threshold: Number | None = None
    severity: Annotated[str, Field(min_length=1, max_length=32)] | None = None
    message: Long | None = None
    status: Literal["firing", "resolved"] | None = None
    labels: Labels = Field(default_factory=dict)

    @property
    def raw(self) -> bool:
        """Only a value: the channel's rules decide whether it fires."""
        return (
            self.threshold is None
            and self.severity is None
            and self.message is None
            and (self.status is None)
        )


class AmAlert(_Body):
    status: Literal["firing", "resolved"]
    labels: Labels
    annotations: Labels = Field(default_factory=dict)
    startsAt: Short = ""
    endsAt: Short = ""
    generatorURL: Long = ""
    fingerprint: Short = ""


class Alertmanager(_Body):
    version: Literal["4"]
    groupKey: Long
    status: Literal["firing", "resolved"]
    receiver: Short = ""
    groupLabels: Labels = Field(default_factory=dict)
    commonLabels: Labels = Field(default_factory=dict)
    commonAnnotations: Labels = Field(default_factory=dict)
    externalURL: Long = ""
    truncatedAlerts: int = 0
    alerts: Annotated[list[AmAlert], Field(max_length=MAX_ALERTS)]


class GrafanaAlert(AmAlert):
    values: dict[Short, Number | None] | None = None
    valueString: Long = ""
    dashboardURL: Long = ""
    panelURL: Long = ""
    silenceURL: Long = ""


class Grafana(_Body):
    orgId: int | None = None
    groupKey: Long = ""
    status: Literal["firing", "resolved"]
    title: Long = ""
    message: Long = ""
    state: Short = ""
    groupLabels: Labels = Field(default_factory=dict)
    commonLabels: Labels = Field(default_factory=dict)
    externalURL: Long = ""
    alerts: Annotated[list[GrafanaAlert], Field(max_length=MAX_ALERTS)]


def read(raw: bytes) -> Batch:
    """The alerts a request's raw body brings, or `BadBody` saying what was wrong."""
    return parse(json_body(raw))


def parse(body: Any) -> Batch:
    """The body's events, or `BadBody` saying what was wrong."""
    if not isinstance(body, dict):
        raise BadBody("expected a JSON object: a plain alert, an Alertmanager or a Grafana body")
    try:
        if "alerts" in body and ("orgId" in body or body.get("version") == "1"):
            return _grafana(Grafana.model_validate(body))
        if "alerts" in body:
            if body.get("version") != "4":
                raise BadBody(
                    f"Alertmanager webhook version {str(body.get('version'))[:20]!r} is not "
                    "supported; expected '4'"
                )
            return _alertmanager(Alertmanager.model_validate(body))
        if "model" in body or "metric" in body:
            return _plain(Plain.model_validate(body))
    except ValidationError as exc:
        raise BadBody(_reason(exc)) from None
    raise BadBody(
        "unrecognised body: expected a plain alert (model, metric, value…), an Alertmanager "
        "webhook (version 4) or a Grafana alerting webhook"
    )


def _reason(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors()[:3]:
        where = ".".join(str(p) for p in error["loc"]) or "body"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)


def _plain(body: Plain) -> Batch:
    labels = dict(body.labels)
    if body.raw:
        if body.value is None:
            raise BadBody("value: a raw metric needs a value (or give threshold or severity)")
        return Batch("plain", metrics=(MetricValue(body.model, body.metric, body.value, labels),))
    event = AlertEvent(
        identity=plain_identity(body.model, body.metric, labels),
        status=body.status or FIRING,
        name=f"{body.model} {body.metric}",
        source="plain",
        group_key=f"model:{body.model}",
        group_title=body.model,
        model=body.model,
        metric=body.metric,
        severity=(body.severity or "warning").lower(),
        summary=body.message or "",
        labels=labels,
        value=body.value,
        threshold=body.threshold,
    )
    return Batch("plain", alerts=(event,))


def _title(group_labels: dict[str, str], fallback: str) -> str:
    if not group_labels:
        return fallback
    return ", ".join(f"{k}={v}" for k, v in sorted(group_labels.items()))[:300]


def _event(
    a: AmAlert,
    source: tuple[str, str],
    group_key: str,
    title: str,
    url: str,
    value: float | None = None,
) -> AlertEvent:
    """One labelled alert, as Alertmanager and Grafana (whose alerts extend it) send it;
    ``source`` is the sender's name and the prefix of the identities it gives."""
    name, prefix = source
    return AlertEvent(
        identity=f"{prefix}:" + (a.fingerprint or digest(sorted(a.labels.items()))),
        status=a.status,
        name=a.labels.get("alertname", "alert"),
        source=name,
        group_key=f"{prefix}:{group_key}",
        group_title=title,
        model=a.labels.get("model", ""),
        metric=a.labels.get("metric", ""),
        severity=a.labels.get("severity", "warning").lower()[:32] or "warning",
        summary=a.annotations.get("summary") or a.annotations.get("description", ""),
        labels=a.labels,
        url=url,
        value=value,
        started=a.startsAt,
    )


def _alertmanager(body: Alertmanager) -> Batch:
    title = _title(body.groupLabels, body.commonLabels.get("alertname", "Alertmanager"))
    group = digest(body.receiver, body.groupKey)
    events = tuple(
        _event(a, ("alertmanager", "am"), group, title, a.generatorURL) for a in body.alerts
    )
    return Batch("alertmanager", alerts=events)


def _grafana(body: Grafana) -> Batch:
    title = _title(body.groupLabels, body.commonLabels.get("alertname", body.title or "Grafana"))
    group = digest(body.orgId, body.groupKey)
    events = []
    for a in body.alerts:
        values = [v for v in (a.values or {}).values() if v is not None]
        url = a.dashboardURL or a.panelURL or a.generatorURL
        events.append(
            _event(a, ("grafana", "grafana"), group, title, url, values[0] if values else None)
        )
    return Batch("grafana", alerts=tuple(events))
