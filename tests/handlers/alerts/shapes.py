"""Hypothesis strategies for what a webhook sender might post: any JSON value, and the
realistic bodies of every sender with one field (or list item) replaced by any JSON."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

from tests.handlers.alerts.payloads import alertmanager, am_alert, grafana, plain

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text()
    | st.sampled_from(["\x00", "\ud800", "firing", "resolved", "4", "1", 10**400, -1e308]),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)

TEMPLATES = [
    plain(value=0.7, threshold=0.8, severity="critical", labels={"segment": "eu"}),
    plain(value=0.7),
    alertmanager(am_alert("A", model="m"), am_alert("B", model="m", status="resolved")),
    grafana(am_alert("D", model="r")),
]


def _places(found: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a field or list item of a body."""
    paths: list[tuple[Any, ...]] = []
    items = found.items() if isinstance(found, dict) else enumerate(found)
    for key, value in items:
        paths.append((*prefix, key))
        if isinstance(value, dict | list):
            paths.extend(_places(value, (*prefix, key)))
    return paths


@st.composite
def reshaped(draw: st.DrawFn) -> Any:
    """A realistic body with one field (or item) replaced by any JSON value."""
    body = json.loads(json.dumps(draw(st.sampled_from(TEMPLATES))))
    path = draw(st.sampled_from(_places(body)))
    holder = body
    for key in path[:-1]:
        holder = holder[key]
    holder[path[-1]] = draw(JSON_VALUES)
    return body
