"""`ritualbot demo` shows a hypothesis from proposal to the digest."""

from __future__ import annotations

import pytest

from bot.demo import main


async def test_the_demo_adds_checks_in_closes_and_digests_a_hypothesis(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert await main() == 0
    out = capsys.readouterr().out
    scene = out[out.index("hypotheses ===") :]
    assert "Hypothesis #1 proposed by Maya" in scene
    assert scene.count("[DM to @maya] ritualbot: Check-in for hypothesis #1") == 2
    assert "Check-in for #1 recorded: on track · recall 0.86." in scene
    assert "That meets the target (recall >= 0.85)" in scene
    assert "Hypothesis #1 validated (closed by Maya)" in scene
    assert "Hypothesis digest: 1 open" in scene and "#2 proposed" in scene
