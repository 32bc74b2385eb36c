"""Monitoring signals, the domain's neutral model of what an alert webhook delivers: the
edge turns whatever a sender posted (a plain JSON alert, Alertmanager, Grafana) into these,
as it turns chat payloads into messages, so no edge needs a ritual kind's package.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field

FIRING = "firing"
RESOLVED = "resolved"


def digest(*parts: object) -> str:
    """A fixed-length key of any text, for identities too long or too varied to index."""
    text = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class AlertEvent:
    """One alert's state as a sender reported it.

    ``identity`` says which alert it is (Alertmanager's fingerprint, or a plain alert's
    model, metric and labels); ``started`` is the sender's own start time, so an alert that
    fires again after it resolved is told from a retry of the same notification.
    """

    identity: str
    status: str
    name: str
    source: str
    group_key: str
    group_title: str
    model: str = ""
    metric: str = ""
    severity: str = "warning"
    summary: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)
    url: str = ""
    value: float | None = None
    threshold: float | None = None
    started: str = ""

    @property
    def event_key(self) -> str:
        """What changes when the alert has news; a repeat with the same key is a retry."""
        return digest(self.status, self.started, self.value, self.summary, self.severity)


@dataclass(frozen=True)
class MetricValue:
    """A raw value pushed for the channel's rules to judge: ``{"model", "metric", "value"}``."""

    model: str
    metric: str
    value: float
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Batch:
    """Everything one webhook request brought, and which sender's format it came in."""

    source: str
    alerts: tuple[AlertEvent, ...] = ()
    metrics: tuple[MetricValue, ...] = ()


def plain_identity(model: str, metric: str, labels: Mapping[str, str]) -> str:
    return "plain:" + digest(model, metric, sorted(labels.items()))
