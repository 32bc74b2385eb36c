"""`ritualbot alerts connect` while `ritualbot run` serves the same database: the URL alone
on stdout, and it takes alerts at once."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import aiohttp

from tests.bot.test_cli import RITUALBOT, clean_env, free_port, run, wait_for_health


async def test_connect_prints_a_working_url_while_the_bot_runs(tmp_path: Path) -> None:
    port = free_port()
    env = clean_env(tmp_path, PORT=str(port), PUBLIC_URL=f"http://127.0.0.1:{port}")
    proc = await asyncio.create_subprocess_exec(
        RITUALBOT,
        "run",
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with aiohttp.ClientSession() as http:
            await wait_for_health(http, f"http://127.0.0.1:{port}/healthz")
            code, out, err = await run(
                "alerts", "connect", "--platform", "console", "--channel", "ml", env=env
            )
            assert code == 0, err
            (url,) = out.splitlines()
            assert url.startswith(f"http://127.0.0.1:{port}/hooks/alerts/")
            alert = {"model": "churn", "metric": "auc", "value": 0.6, "threshold": 0.7}
            async with http.post(url, json=alert) as response:
                assert response.status == 200 and (await response.json())["new"] == 1
            async with http.post(url + "x", json=alert) as response:
                assert response.status == 404
            async with http.get(f"http://127.0.0.1:{port}/metrics") as response:
                metrics = await response.text()
            assert 'ritualbot_alerts_received_total{source="plain"} 1.0' in metrics
            assert "ritualbot_alerts_posted_total 1.0" in metrics
        code, _out, err = await run(
            "alerts", "connect", "--platform", "slack", "--channel", "C404", env=env
        )
        assert code == 2 and "has not seen slack channel 'C404'" in err
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.communicate(), timeout=30)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
