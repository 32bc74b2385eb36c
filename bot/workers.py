"""More processes on the one port, for a host with cores one Python process leaves idle.

Each worker binds the port with SO_REUSEPORT, so the kernel hands each new connection to one
of them. Every worker handles what it receives, drains the shared journal and delivers from
the shared outbox, which claim rows across processes; only the first (the process the
operator started) runs the scheduler and Slack's Socket Mode connection. The first also
watches the others: one that dies is started again, after a pause that grows while it keeps
dying, and all of them stop with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import signal
import threading
import time
from dataclasses import dataclass, field
from multiprocessing.process import BaseProcess
from typing import TYPE_CHECKING

import structlog

if TYPE_CHECKING:
    from bot.settings import Settings

log = structlog.get_logger(__name__)

# A worker that stays up this long is healthy again: its next death restarts it at once.
STEADY_SECONDS = 60.0
FIRST_PAUSE_SECONDS = 1.0
LONGEST_PAUSE_SECONDS = 30.0
STOP_SECONDS = 10.0
PARENT_CHECK_SECONDS = 1.0


def _serve(settings: Settings, index: int, first: int) -> None:
    """A worker's whole life, in a process of its own."""
    from bot.app import StartupError, run

    threading.Thread(target=_leave_with, args=(first,), daemon=True).start()
    try:
        raise SystemExit(asyncio.run(run(settings, console=False, worker=index)))
    except StartupError as exc:
        log.error("worker could not start", worker=index, error=str(exc))
        raise SystemExit(2) from None


def _leave_with(first: int) -> None:
    """Stop as a signal would once the first worker is gone: killed outright, it could not
    stop the others, which would go on serving the port with nobody watching them."""
    while os.getppid() == first:
        time.sleep(PARENT_CHECK_SECONDS)
    os.kill(os.getpid(), signal.SIGTERM)


@dataclass
class Workers:
    """The extra workers of one `ritualbot run`, numbered from 1 (the first is the caller)."""

    settings: Settings
    count: int
    _processes: dict[int, BaseProcess] = field(default_factory=dict)
    _watching: list[asyncio.Task[None]] = field(default_factory=list)
    _stopping: bool = False

    def start(self) -> None:
        for index in range(1, self.count):
            self._watching.append(asyncio.create_task(self._keep(index)))

    def _spawn(self, index: int) -> BaseProcess:
        # A fresh interpreter: forking would copy the running loop, its sockets and pools.
        process = multiprocessing.get_context("spawn").Process(
            target=_serve,
            args=(self.settings, index, os.getpid()),
            name=f"ritualbot-worker-{index}",
        )
        process.start()
        self._processes[index] = process
        return process

    async def _keep(self, index: int) -> None:
        pause = FIRST_PAUSE_SECONDS
        while not self._stopping:
            process = self._spawn(index)
            started = time.monotonic()
            await asyncio.to_thread(process.join)
            if self._stopping:
                return
            if time.monotonic() - started >= STEADY_SECONDS:
                pause = FIRST_PAUSE_SECONDS
            log.warning(
                "worker stopped; starting it again",
                worker=index,
                exit_code=process.exitcode,
                in_seconds=pause,
            )
            await asyncio.sleep(pause)
            pause = min(pause * 2, LONGEST_PAUSE_SECONDS)

    async def stop(self) -> None:
        """Ask every worker to stop as a signal would, and wait; kill one that lingers."""
        self._stopping = True
        for process in self._processes.values():
            if process.is_alive():
                process.terminate()
        deadline = time.monotonic() + STOP_SECONDS
        for process in self._processes.values():
            await asyncio.to_thread(process.join, max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                log.warning("worker did not stop in time; killed", pid=process.pid)
                process.kill()
                await asyncio.to_thread(process.join)
        for task in self._watching:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self._processes.values() if p.pid is not None and p.is_alive()]
