"""Consumers of a `Cursor`: a sync iterator, an async one (asyncio or trio), an Observable."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import anyio
import reactivex
from reactivex import abc
from reactivex.disposable import Disposable

from .._accumulate import StreamItem
from .._errors import APIError
from ._store import Entry
from ._tail import Cursor

__all__ = ["aiter_cursor", "iter_cursor", "observe_cursor"]


def fresh(error: APIError) -> APIError:
    """A copy of `error` (same class and attributes), so that each consumer raises its own
    exception with its own traceback."""
    copied: APIError = type(error).__new__(type(error), *error.args)
    copied.__dict__.update(error.__dict__)
    return copied


def _raise_end(cursor: Cursor) -> None:
    error = cursor.error
    if error is not None:
        raise fresh(error)


def iter_cursor(cursor: Cursor) -> Iterator[Entry]:
    """Every entry of `cursor`, blocking while there is none; closes it however it stops."""
    try:
        while True:
            entries, ended = cursor.take()
            yield from entries
            if ended:
                _raise_end(cursor)
                return
            if not entries:
                cursor.wait()
    finally:
        cursor.close()


class _Waiter:
    """An event the reader thread sets, awaited on this task's loop (asyncio or trio)."""

    def __init__(self) -> None:
        self._event = anyio.Event()
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # not asyncio: trio (as rxstream's async sources do)
            import trio

            token = trio.lowlevel.current_trio_token()

            def wake() -> None:
                with contextlib.suppress(trio.RunFinishedError):
                    token.run_sync_soon(self._set)

        else:

            def wake() -> None:
                with contextlib.suppress(RuntimeError):  # the loop has closed: nobody waits
                    loop.call_soon_threadsafe(self._set)

        self.wake: Callable[[], None] = wake

    def _set(self) -> None:
        self._event.set()

    def clear(self) -> None:
        if self._event.is_set():
            self._event = anyio.Event()

    async def wait(self) -> None:
        await self._event.wait()


async def aiter_cursor(join: Callable[[], Cursor]) -> AsyncIterator[Entry]:
    """Every entry of the cursor `join()` opens (in a worker thread: it may read Redis)."""
    cursor = await anyio.to_thread.run_sync(join)
    try:
        waiter = _Waiter()
        cursor.add_waker(waiter.wake)
        while True:
            waiter.clear()
            entries, ended = cursor.take()
            for entry in entries:
                yield entry
            if ended:
                _raise_end(cursor)
                return
            if not entries:
                await waiter.wait()
    finally:
        cursor.close()


def observe_cursor(join: Callable[[], Cursor]) -> reactivex.Observable[StreamItem]:
    """An Observable whose every subscription reads its own cursor on a daemon thread;
    disposing stops it at once."""

    def subscribe(
        observer: abc.ObserverBase[StreamItem], scheduler: abc.SchedulerBase | None = None
    ) -> abc.DisposableBase:
        lock = threading.Lock()
        opened: list[Cursor] = []
        disposed = False

        def run() -> None:
            try:
                cursor = join()
            except Exception as exc:
                observer.on_error(exc)
                return
            with lock:
                opened.append(cursor)
            if disposed:
                cursor.close()
                return
            try:
                _deliver(cursor, observer, lambda: disposed)
            finally:
                cursor.close()

        def dispose() -> None:
            nonlocal disposed
            disposed = True
            with lock:
                cursors = list(opened)
            for cursor in cursors:
                cursor.close()

        threading.Thread(target=run, name="rxstream-durable-observe", daemon=True).start()
        return Disposable(dispose)

    return reactivex.Observable(subscribe)


def _deliver(cursor: Cursor, observer: abc.ObserverBase[Any], disposed: Callable[[], bool]) -> None:
    while not disposed():
        entries, ended = cursor.take()
        for entry in entries:
            if disposed():
                return
            observer.on_next(entry.item)
        if ended:
            error = cursor.error
            if error is not None:
                observer.on_error(fresh(error))
            else:
                observer.on_completed()
            return
        if not entries:
            cursor.wait()
