"""Pull consumers of a lane: the iterators `SharedStream.iter()` and `aiter()` return.

Each owns one `Lane`: the stream pushes into it and goes on, the iterator takes at its own
pace. Closing the iterator (or breaking out of the loop and dropping it) detaches it.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from types import TracebackType
from typing import Any

from ._accumulate import StreamItem
from ._lanes import DeliveryStats, Empty, End, Lane

__all__ = [
    "SharedAsyncIterator",
    "SharedIterator",
    "call_soon_on_this_loop",
    "defer_on_this_loop",
    "event_type",
]


class _LaneConsumer:
    __slots__ = ("__weakref__", "_lane")

    _lane: Lane

    @property
    def stats(self) -> DeliveryStats:
        """How far this consumer fell behind (see `DeliveryStats`)."""
        return self._lane.stats

    def __del__(self) -> None:
        # Breaking out of a `for` loop drops the iterator: detach it then, not at shutdown.
        lane = getattr(self, "_lane", None)
        if lane is not None:
            lane.close()


class SharedIterator(_LaneConsumer, Iterator[StreamItem]):
    """One pull consumer of a `SharedStream` (see `SharedStream.iter`)."""

    __slots__ = ()

    def __init__(self, lane: Lane) -> None:
        self._lane = lane

    def __iter__(self) -> SharedIterator:
        return self

    def __next__(self) -> StreamItem:
        item = self._lane.take()
        if type(item) is End:
            if item.error is not None:
                raise item.error
            raise StopIteration
        return item  # type: ignore[return-value]  # End is the only other kind

    def close(self) -> None:
        """Detach from the stream now (the stream and the other consumers go on)."""
        self._lane.close()

    def __enter__(self) -> SharedIterator:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class SharedAsyncIterator(_LaneConsumer, AsyncIterator[StreamItem]):
    """One async pull consumer of a `SharedStream` (see `SharedStream.aiter`), for asyncio
    and trio. The stream may be read on this event loop or on any other thread."""

    __slots__ = ("_waiter",)

    def __init__(self, lane: Lane) -> None:
        self._lane = lane
        self._waiter: _Waiter | None = None

    def __aiter__(self) -> SharedAsyncIterator:
        return self

    async def __anext__(self) -> StreamItem:
        lane = self._lane
        while True:
            item = lane.poll(self._arm)
            if isinstance(item, Empty):
                assert self._waiter is not None  # armed by poll
                await self._waiter.wait()
                continue
            if type(item) is End:
                if item.error is not None:
                    raise item.error
                raise StopAsyncIteration
            return item  # type: ignore[return-value]  # End and Empty are the other kinds

    def _arm(self) -> Callable[[], None]:
        """Something to wait on, and its thread-safe wake-up (called with the lane locked:
        nothing here may block)."""
        waiter = self._waiter
        if waiter is None:  # the first wait: find the running loop
            waiter = self._waiter = _Waiter.for_this_loop()
        return waiter.arm()

    async def aclose(self) -> None:
        """Detach from the stream now (the stream and the other consumers go on)."""
        self._lane.close()

    async def __aenter__(self) -> SharedAsyncIterator:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._lane.close()


class _Waiter:
    """What an async consumer waits on: one future (asyncio) or event (trio) per wait."""

    __slots__ = ("_call_soon", "_loop", "_pending")

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop | None,
        call_soon: Callable[[Callable[[], object]], None],
    ) -> None:
        self._loop = loop
        self._call_soon = call_soon
        self._pending: Any = None

    @classmethod
    def for_this_loop(cls) -> _Waiter:
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        return cls(loop, call_soon_on_this_loop())

    def arm(self) -> Callable[[], None]:
        """A fresh wait, and the function (for any thread) that ends it."""
        call_soon = self._call_soon
        if self._loop is not None:
            future = self._pending = self._loop.create_future()
            return lambda: call_soon(lambda: _resolve(future))
        import trio

        event = self._pending = trio.Event()
        return lambda: call_soon(event.set)

    async def wait(self) -> None:
        """Until the wake-up of the last `arm()`."""
        if self._loop is not None:
            await self._pending
        else:
            await self._pending.wait()


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():  # the waiting task may have been cancelled
        future.set_result(None)


def event_type() -> Callable[[], Any]:
    """The event class of the running loop: asyncio's or trio's."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        import trio

        return trio.Event
    return asyncio.Event


def call_soon_on_this_loop() -> Callable[[Callable[[], object]], None]:
    """A function that runs a callback on the running event loop (asyncio or trio): at once
    when called from the loop's own thread, else queued to the loop (thread-safe). Once the
    loop has stopped, the callback is dropped."""
    thread = threading.get_ident()
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return _trio_call_soon(thread)

    def call_soon(callback: Callable[[], object]) -> None:
        if threading.get_ident() == thread:
            callback()
        else:
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits
                loop.call_soon_threadsafe(callback)

    return call_soon


def _trio_call_soon(thread: int) -> Callable[[Callable[[], object]], None]:
    try:
        import trio
    except ImportError:  # pragma: no cover - trio is optional
        raise RuntimeError("aiter() needs a running asyncio or trio event loop") from None
    try:
        token = trio.lowlevel.current_trio_token()
    except RuntimeError:
        raise RuntimeError("aiter() needs a running asyncio or trio event loop") from None

    def call_soon(callback: Callable[[], object]) -> None:
        if threading.get_ident() == thread:
            callback()
        else:
            with contextlib.suppress(trio.RunFinishedError):
                token.run_sync_soon(callback)

    return call_soon


def defer_on_this_loop() -> Callable[[Callable[[], object]], None] | None:
    """A thread-safe function that queues a callback to the running event loop (asyncio or
    trio), never running it in the caller's frame; None outside an event loop."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:

        def defer(callback: Callable[[], object]) -> None:
            with contextlib.suppress(RuntimeError):  # the loop is closed
                loop.call_soon_threadsafe(callback)

        return defer
    try:
        import trio

        token = trio.lowlevel.current_trio_token()
    except (ImportError, RuntimeError):
        return None

    def defer_trio(callback: Callable[[], object]) -> None:
        with contextlib.suppress(trio.RunFinishedError):
            token.run_sync_soon(callback)

    return defer_trio
