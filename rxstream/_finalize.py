"""Closing what a user dropped without closing it: an async client's pool, an async stream's
generators. The garbage collector cannot await, so the close runs in a new task of the event
loop (asyncio or trio) running where the collection happens.

Without it, trio warns about every async generator collected unfinished (`ResourceWarning`),
and sockets are left open until the collector finds them (another `ResourceWarning`).
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import weakref
from collections.abc import Awaitable, Callable

__all__ = ["close_when_collected"]

_CLOSING: set[asyncio.Task[None]] = set()  # asyncio keeps only weak references to tasks


def close_when_collected(
    owner: object,
    aclose: Callable[[], Awaitable[None]],
    *,
    needed: Callable[[], bool] | None = None,
) -> None:
    """When `owner` is garbage collected, run `aclose()` in a task of the running event loop,
    unless `needed()` says there is nothing left to close. `aclose` (and what it closes) must
    not refer to `owner`, or `owner` is never collected. Without a running loop there, nothing
    can be awaited and nothing is done (the official SDK does the same)."""
    finalizer = weakref.finalize(owner, _close_soon, aclose, needed)
    finalizer.atexit = False  # at exit no loop runs: there is nothing to schedule on


def _close_soon(aclose: Callable[[], Awaitable[None]], needed: Callable[[], bool] | None) -> None:
    """Called by the garbage collector: it only schedules, and never raises."""
    if needed is not None and not needed():
        return
    with contextlib.suppress(RuntimeError):  # no asyncio loop running in this thread
        loop = asyncio.get_running_loop()
        loop.call_soon(_start_task, loop, aclose)
        return
    trio = sys.modules.get("trio")  # a trio run has imported trio
    if trio is None:
        return
    with contextlib.suppress(RuntimeError):  # not in a trio run, or the run is ending
        token = trio.lowlevel.current_trio_token()
        # run_sync_soon is safe from any context, the collector's included; spawning is not.
        token.run_sync_soon(trio.lowlevel.spawn_system_task, _quietly, aclose)


def _start_task(loop: asyncio.AbstractEventLoop, aclose: Callable[[], Awaitable[None]]) -> None:
    task = loop.create_task(_quietly(aclose))
    _CLOSING.add(task)
    task.add_done_callback(_CLOSING.discard)


async def _quietly(aclose: Callable[[], Awaitable[None]]) -> None:
    with contextlib.suppress(Exception):  # nobody is left to report a failed close to
        await aclose()
