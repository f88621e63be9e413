"""`MemoryStore`: the store contract in one process, for a single server or tests.

Each stream is a list of entries in memory, shared by every reader: a reader is an index
into that list, so a reader that stops reading costs nothing more however far it falls
behind (memory is one copy of the response, whatever the number of readers).
"""

from __future__ import annotations

import math
import threading
from collections.abc import AsyncGenerator, AsyncIterable
from typing import Final

import anyio
import anyio.from_thread
import anyio.lowlevel
import reactivex
from reactivex import abc

from .._accumulate import MessageAccumulator, SnapshotEvent, StreamItem
from .._errors import APIError
from .._fanout import SharedStream
from ._store import (
    Entry,
    Mode,
    ProducerConflictError,
    ProducerLostError,
    Source,
    StreamCancelledError,
    StreamNotFound,
)

__all__ = ["MemoryStore"]

_COMPLETED: Final = "completed"


class _Log:
    """One stream: its entries, the accumulated message, and how it ended."""

    __slots__ = ("accumulator", "cancel_scope", "changed", "end", "entries", "finished")

    def __init__(self) -> None:
        self.entries: list[Entry] = []
        self.accumulator = MessageAccumulator()
        # Replaced (after being set) on every change: readers wait on the current one.
        self.changed = anyio.Event()
        self.end: APIError | str | None = None
        self.cancel_scope: anyio.CancelScope | None = None
        self.finished = anyio.Event()

    def append(self, event: StreamItem) -> None:
        if self.end is not None:
            return  # an upstream still talking after the end (a cancel) is not recorded
        self.accumulator.feed(event)
        self.entries.append(Entry(str(len(self.entries) + 1), event))
        self._wake()

    def close(self, end: APIError | str) -> None:
        if self.end is None:
            self.end = end
            self._wake()
        self.finished.set()

    def _wake(self) -> None:
        changed, self.changed = self.changed, anyio.Event()
        changed.set()

    def position(self, stream_id: str, after: str | None) -> int:
        """The index of the first entry after `after`."""
        if after is None:
            return 0
        if not after.isdigit() or not 0 < int(after) <= len(self.entries):
            raise ValueError(
                f"after={after!r} is not an entry id of stream {stream_id!r} "
                f"(its ids are 1 to {len(self.entries)} so far)"
            )
        return int(after)


def _copy(error: APIError) -> APIError:
    """A copy of the stream's error for one reader (each raise writes its traceback): the
    same class with the same attributes, made without calling its `__init__`."""
    clone = type(error).__new__(type(error))
    clone.__dict__.update(error.__dict__)
    clone.args = error.args
    return clone


class MemoryStore:
    """The `StreamStore` contract in this process (a `dict` of logs; see the module doc).

    `publish`, `aentries` and `cancel` are called on one event loop (asyncio or trio); an
    Observable source may call back from another thread. Streams are kept until
    `forget(stream_id)` or, with `max_streams`, until that many newer ones have ended.
    """

    def __init__(self, *, max_streams: int = 1000) -> None:
        """`max_streams`: how many ended streams are kept for late readers (oldest dropped)."""
        if max_streams < 1:
            raise ValueError(f"max_streams must be at least 1, not {max_streams}")
        self._logs: dict[str, _Log] = {}
        self._ended: dict[str, None] = {}  # ended streams, oldest first
        self._max_streams = max_streams

    def __repr__(self) -> str:
        return f"MemoryStore(streams={len(self._logs)})"

    def _log(self, stream_id: str) -> _Log:
        log = self._logs.get(stream_id)
        if log is None:
            raise StreamNotFound(f"no stream {stream_id!r} in this store")
        return log

    def forget(self, stream_id: str) -> None:
        """Drop a stream that has ended (readers then get `StreamNotFound`)."""
        log = self._logs.get(stream_id)
        if log is not None and log.end is not None:
            del self._logs[stream_id]
            self._ended.pop(stream_id, None)

    async def publish(self, stream_id: str, source: Source) -> None:
        """Read `source` to its end, appending every event, then the terminal record.

        The stream exists for readers from the call on (it is registered before `publish`
        first waits). Raises `ProducerConflictError` when `stream_id` was published before.
        Returns when
        the stream has ended, however it ended (the outcome is for the readers); a cancel
        of the caller's own task records `ProducerLostError` and propagates.
        """
        _check_source(source)
        if stream_id in self._logs:
            raise ProducerConflictError(f"stream {stream_id!r} already has a producer")
        log = self._logs[stream_id] = _Log()
        end: APIError | str = ProducerLostError(f"the producer of {stream_id!r} stopped")
        try:
            with anyio.CancelScope() as log.cancel_scope:
                await self._read(log, source)
                end = _COMPLETED
            if log.cancel_scope.cancelled_caught:
                end = StreamCancelledError(f"stream {stream_id!r} was cancelled")
        except APIError as exc:
            end = exc
        finally:
            if isinstance(end, APIError) and end.partial_message is None:
                end.partial_message = log.accumulator.message() if log.accumulator.started else None
            log.close(end)
            self._retire(stream_id)

    def _retire(self, stream_id: str) -> None:
        # A dict keeps the order of ending and forgets in O(1), whatever `forget` removed.
        self._ended[stream_id] = None
        while len(self._ended) > self._max_streams:
            oldest = next(iter(self._ended))
            del self._ended[oldest]
            self._logs.pop(oldest, None)

    async def _read(self, log: _Log, source: Source) -> None:
        if isinstance(source, reactivex.Observable):
            await _read_observable(log, source)
            return
        iterator = aiter(source)
        try:
            async for event in iterator:
                log.append(event)
        finally:
            aclose = getattr(iterator, "aclose", None)
            if aclose is not None:
                with anyio.CancelScope(shield=True):
                    await aclose()  # closes the upstream connection now, cancelled or not

    async def aentries(
        self, stream_id: str, *, after: str | None = None, mode: Mode = "snapshot"
    ) -> AsyncGenerator[Entry, None]:
        """The log after `after` (from the start when None), then the live tail.

        Raises `StreamNotFound` for an unknown stream, `ValueError` when `after` is not one
        of its entry ids; at the end, the stream's outcome (see `StreamStore`).
        """
        log = self._log(stream_id)
        index = log.position(stream_id, after)
        if mode == "snapshot" and index < len(log.entries) and log.accumulator.started:
            # One event for everything so far: the message as it stands at the head.
            index = len(log.entries)
            head = log.entries[-1].id
            yield Entry(head, SnapshotEvent(log.accumulator.snapshot()))
        while True:
            entries = log.entries
            while index < len(entries):
                index += 1
                yield entries[index - 1]
            if log.end is not None:
                if index < len(log.entries):
                    continue
                if isinstance(log.end, APIError):
                    raise _copy(log.end)
                return
            await log.changed.wait()

    async def cancel(self, stream_id: str) -> bool:
        """Stop the producer: its upstream is closed and `cancelled` recorded before this
        returns. False when the stream is unknown or already ended."""
        log = self._logs.get(stream_id)
        if log is None or log.end is not None or log.cancel_scope is None:
            return False
        log.cancel_scope.cancel()
        await log.finished.wait()
        return True


async def _read_observable(log: _Log, source: reactivex.Observable[StreamItem]) -> None:
    """Subscribe to `source` and append what it sends until it ends (or this is cancelled,
    which disposes the subscription: that closes the upstream of an rxstream source)."""
    send, receive = anyio.create_memory_object_stream[tuple[StreamItem | None, Exception | None]](
        math.inf
    )
    token = anyio.lowlevel.current_token()
    loop_thread = threading.get_ident()

    def push(item: tuple[StreamItem | None, Exception | None]) -> None:
        if threading.get_ident() == loop_thread:
            send.send_nowait(item)
        else:
            anyio.from_thread.run_sync(send.send_nowait, item, token=token)

    observer: abc.ObserverBase[StreamItem] = reactivex.Observer(
        lambda item: push((item, None)),
        lambda error: push((None, error)),
        lambda: push((None, None)),
    )
    subscription = source.subscribe(observer)
    connection = source.connect() if isinstance(source, SharedStream) else None
    try:
        async with receive:
            async for item, error in receive:
                if error is not None:
                    raise error
                if item is None:
                    return
                log.append(item)  # a SharedStream joined late starts with a snapshot
    finally:
        subscription.dispose()
        if connection is not None:
            connection.dispose()
        send.close()


def _check_source(source: object) -> None:
    if not isinstance(source, reactivex.Observable | AsyncIterable):
        raise TypeError(f"a stream source is an Observable or an async iterable, not {source!r}")
