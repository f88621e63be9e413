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


class _LoopWaker:
    """The one waker of all the consumers of a stream on one event loop: the reader thread
    schedules one callback on the loop (not one per consumer), which wakes them all."""

    def __init__(self, schedule: Callable[[Callable[[], None]], None]) -> None:
        self._schedule = schedule
        self._waiters: set[_Waiter] = set()
        self._scheduled = False

    def wake(self) -> None:
        """From the reader's thread."""
        if not self._scheduled:
            self._scheduled = True
            self._schedule(self._fire)

    def _fire(self) -> None:
        self._scheduled = False  # before waking: a wake that comes meanwhile schedules again
        for waiter in list(self._waiters):
            waiter.set()

    def add(self, waiter: _Waiter) -> None:
        self._waiters.add(waiter)

    def discard(self, waiter: _Waiter) -> None:
        self._waiters.discard(waiter)


def _loop_waker(cursor: Cursor) -> _LoopWaker:
    """The waker of this event loop (asyncio, else trio) for the cursor's stream."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # not asyncio: trio (as rxstream's async sources do)
        import trio

        token = trio.lowlevel.current_trio_token()
        key: object = token

        def schedule(callback: Callable[[], None]) -> None:
            with contextlib.suppress(trio.RunFinishedError):
                token.run_sync_soon(callback)

    else:
        key = loop

        def schedule(callback: Callable[[], None]) -> None:
            with contextlib.suppress(RuntimeError):  # the loop has closed: nobody waits
                loop.call_soon_threadsafe(callback)

    wakers = cursor.tail.loop_wakers
    waker = wakers.get(key)
    if not isinstance(waker, _LoopWaker):
        waker = wakers.setdefault(key, _LoopWaker(schedule))
    assert isinstance(waker, _LoopWaker)
    return waker


class _Waiter:
    """An event set from the loop (by its `_LoopWaker`), awaited by one consumer."""

    def __init__(self) -> None:
        self._event = anyio.Event()

    def set(self) -> None:
        self._event.set()

    def clear(self) -> None:
        if self._event.is_set():
            self._event = anyio.Event()

    async def wait(self) -> None:
        await self._event.wait()


async def aiter_cursor(join: Callable[[], Cursor]) -> AsyncIterator[Entry]:
    """Every entry of the cursor `join()` opens (in a worker thread: it may read Redis)."""
    cursor = await anyio.to_thread.run_sync(join)
    waiter = _Waiter()
    waker = _loop_waker(cursor)  # on this loop's thread: only it touches the waker's set
    waker.add(waiter)
    try:
        cursor.add_waker(waker.wake)
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
        waker.discard(waiter)
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
