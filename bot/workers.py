"""More processes on the one port, for a host with cores one Python process leaves idle.

Each worker binds the port with SO_REUSEPORT, so the kernel hands each new connection to one
of them. Every worker handles what it receives, drains the shared journal and delivers from
the shared outbox, which claim rows across processes; only the first (the process the
operator started) runs the scheduler and Slack's Socket Mode connection, and hears from the
others when a command changed a schedule. The first also watches the others: one that dies
is started again, after a pause that grows while it keeps dying, and all of them stop with
it.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import multiprocessing
import os
import signal
import socket
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


def port_free(host: str, port: int) -> bool:
    """Whether nothing listens on the port, SO_REUSEPORT groups included: the first worker
    must not join another deployment's group and split its requests with it. Only "address
    in use" says no; any other trouble is left for the real bind to report."""
    try:
        addresses = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except OSError:
        return True
    for family, kind, proto, _name, address in addresses:
        with socket.socket(family, kind, proto) as probe:
            # As servers bind: a closed connection still in TIME_WAIT is no listener.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(address)
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    return False
    return True


def _serve(settings: Settings, index: int, first: int) -> None:
    """A worker's whole life, in a process of its own. Ctrl-C reaches every process of the
    terminal; a worker leaves stopping to the first, which tells it with SIGTERM."""
    from bot.app import StartupError, run

    signal.signal(signal.SIGINT, signal.SIG_IGN)
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


async def _ended(process: BaseProcess, within: float | None = None) -> bool:
    """Wait until ``process`` ends (at most ``within`` seconds): its sentinel becomes
    readable, which the loop watches without holding a thread."""
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    loop.add_reader(process.sentinel, lambda: done.done() or done.set_result(None))
    try:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(done), within)
    finally:
        loop.remove_reader(process.sentinel)
    if done.done():
        process.join()
        return True
    return False


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
            started = time.monotonic()
            try:
                process = self._spawn(index)
            except OSError as exc:  # out of processes or files: try again later
                log.error("could not start a worker", of=index, error=str(exc))
            else:
                await _ended(process)
                if self._stopping:
                    return
                log.warning("worker stopped", of=index, exit_code=process.exitcode)
            if time.monotonic() - started >= STEADY_SECONDS:
                pause = FIRST_PAUSE_SECONDS
            log.warning("starting a worker again", of=index, in_seconds=pause)
            await asyncio.sleep(pause)
            pause = min(pause * 2, LONGEST_PAUSE_SECONDS)

    async def stop(self) -> None:
        """Ask every worker to stop as a signal would, and wait; kill one that lingers."""
        self._stopping = True
        for task in self._watching:
            task.cancel()
        for task in self._watching:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for process in self._processes.values():
            if process.exitcode is None:
                process.terminate()
        deadline = time.monotonic() + STOP_SECONDS
        for index, process in self._processes.items():
            if process.exitcode is not None:
                continue
            if not await _ended(process, max(0.0, deadline - time.monotonic())):
                log.warning("worker did not stop in time; killed", of=index, pid=process.pid)
                process.kill()
                await _ended(process)
