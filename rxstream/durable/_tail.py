"""One blocking reader per stream per process, feeding every local consumer of the stream.

The reader (a daemon thread on a sync redis-py connection) appends what it reads to one
shared, append-only list; each consumer is a cursor into that list. A slow consumer holds
nothing but its index, never delays the reader or the other consumers, and catches up at its
own pace; so 1,000 local consumers cost one Redis connection and one copy of the stream.
Consumers are woken by a condition (threads) or a thread-safe waker (asyncio, trio).
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable
from typing import Final

from .._accumulate import SnapshotEvent, StreamItem
from .._errors import APIError, StreamDecodeError
from . import _codec
from ._catchup import Batch, LogReader, catch_up
from ._codec import Position
from ._compact import snapshot_from
from ._store import Entry, Mode

__all__ = ["Cursor", "Tail"]

_PAGE: Final = 512


def _position_id(position: Position) -> str:
    return _codec.entry_id(f"{position[0]}-{position[1]}", position[2])


class Tail:
    """The shared reader of one stream in this process."""

    def __init__(self, reader: LogReader, block_ms: int, on_idle: Callable[[Tail], None]) -> None:
        self._reader = reader
        self._block_ms = block_ms
        self._on_idle = on_idle
        self._cond = threading.Condition()
        self._setup = threading.Lock()
        self._positions: list[Position] = []
        self._entries: list[Entry] = []
        # Wake functions, counted: the consumers of one event loop share one (see _consume).
        self._wakers: dict[Callable[[], None], int] = {}
        self.loop_wakers: dict[object, object] = {}
        """Per event loop, the one waker its consumers share (kept by `_consume`)."""
        self._start: Position = _codec.START
        self._base: SnapshotEvent | None = None
        self._base_known = False
        self._thread: threading.Thread | None = None
        self.stream_id = reader.stream_id
        self.users = 0
        self.closed = False
        self.finished = False
        self.error: APIError | None = None

    # -- joining -------------------------------------------------------------------------

    def join(self, after: Position, mode: Mode) -> Cursor:
        """A cursor at `after` (may read Redis: call it from a thread that may block)."""
        with self._setup:
            if self._thread is None:
                return self._open(after, mode)
        if after >= self._start:
            return self._join_in_memory(after, mode)
        return self._join_behind(after, mode)

    def _open(self, after: Position, mode: Mode) -> Cursor:
        snapshot, holder, xid = catch_up(self._reader, after, mode)
        self._start = after
        if mode == "snapshot":
            self._base, self._base_known = snapshot, True
        self._add(holder)
        thread = threading.Thread(
            target=self._run, args=(xid,), name=f"rxstream-durable-{self._reader.stream_id}"
        )
        thread.daemon = True  # a reader blocked in XREAD must not keep the process alive
        self._thread = thread
        thread.start()
        return Cursor(self, _snapshot_entry(after, snapshot), [], 0)

    def _join_in_memory(self, after: Position, mode: Mode) -> Cursor:
        with self._cond:
            ahead = not self.finished and after > (self._positions or [self._start])[-1]
        if ahead:
            return self._join_ahead(after, mode)
        with self._cond:
            index = bisect.bisect_right(self._positions, after)
            before = [e.item for e in self._entries[:index]] if mode == "snapshot" else []
        snapshot = None
        if mode == "snapshot" and after != _codec.START:
            with self._setup:
                if not self._base_known:
                    self._base = self._reader.snapshot_at(self._start)[0]
                    self._base_known = True
            head: list[StreamItem] = [self._base] if self._base is not None else []
            snapshot = snapshot_from([*head, *before])
        return Cursor(self, _snapshot_entry(after, snapshot), [], index)

    def _join_ahead(self, after: Position, mode: Mode) -> Cursor:
        """A consumer that saw more than this reader has read yet (another process's reader
        served it): its snapshot comes from Redis, and the entries up to `after` that this
        reader has still to read are skipped."""
        snapshot = self._reader.snapshot_at(after)[0] if mode == "snapshot" else None
        with self._cond:
            index = bisect.bisect_right(self._positions, after)
        return Cursor(self, _snapshot_entry(after, snapshot), [], index, skip_to=after)

    def _join_behind(self, after: Position, mode: Mode) -> Cursor:
        """A consumer that starts before this reader did reads the gap itself."""
        snapshot, holder, xid = catch_up(self._reader, after, mode)
        start_xid = f"{self._start[0]}-{self._start[1]}"
        gap: list[Entry] = []
        for batch in [*holder, *self._reader.range_between(xid, start_xid)]:
            gap.extend(e for p, e in batch.entries(after) if p <= self._start)
        return Cursor(self, _snapshot_entry(after, snapshot), gap, 0)

    def reserve(self) -> bool:
        """Count one more consumer; False when the reader has stopped for want of any."""
        with self._cond:
            if self.closed:
                return False
            self.users += 1
            return True

    def _idle(self) -> bool:
        """Whether no consumer is left; then the reader stops for good (under the lock, so
        that a consumer is either counted before or sent to a new reader)."""
        with self._cond:
            self.closed = self.users == 0
            return self.closed

    def leave(self) -> None:
        """A consumer is done; the last one out stops the reader."""
        with self._cond:
            self.users -= 1
            idle = self.users == 0
        if idle:
            self._on_idle(self)

    # -- the reader ----------------------------------------------------------------------

    def _run(self, xid: str) -> None:
        reader = self._reader
        try:
            while True:  # catch-up: the range, page by page
                batches = reader.range_after(xid)
                xid = self._add(batches) or xid
                if self.finished or len(batches) < _PAGE:
                    break
            while not self.finished and not self._idle():  # then the live tail
                batches = reader.block(xid, self._block_ms)
                if not batches:
                    batches, error = reader.quiet_error(xid)
                    if error is not None and not batches:
                        self._end(error)
                        return
                xid = self._add(batches) or xid
        except APIError as exc:
            self._end(exc)
        except Exception as exc:  # a bad entry: the consumers must hear of it, not hang
            self._end(StreamDecodeError(f"unreadable entry in stream {reader.stream_id!r}: {exc}"))

    def _add(self, batches: list[Batch]) -> str | None:
        """Append what was read; the last Redis id read (None when nothing was)."""
        if not batches:
            return None
        with self._cond:
            for batch in batches:
                if batch.outcome is not None:
                    self.finished = True
                    self.error = _codec.outcome_error(batch.outcome)
                    break
                for position, entry in batch.entries(self._start):
                    self._positions.append(position)
                    self._entries.append(entry)
            self._cond.notify_all()
            wakers = list(self._wakers)
        for wake in wakers:
            wake()
        return batches[-1].xid

    def _end(self, error: APIError) -> None:
        with self._cond:
            self.finished = True
            self.error = error
            self._cond.notify_all()
            wakers = list(self._wakers)
        for wake in wakers:
            wake()


def _snapshot_entry(after: Position, snapshot: SnapshotEvent | None) -> Entry | None:
    return Entry(_position_id(after), snapshot) if snapshot is not None else None


class Cursor:
    """One consumer's place in a `Tail`: what it has not taken yet."""

    def __init__(
        self,
        tail: Tail,
        snapshot: Entry | None,
        gap: list[Entry],
        index: int,
        skip_to: Position | None = None,
    ) -> None:
        self._tail = tail
        self._skip_to = skip_to
        self._pending = ([snapshot] if snapshot is not None else []) + gap
        self._index = index
        self._closed = False
        self._waker: Callable[[], None] | None = None

    def take(self) -> tuple[list[Entry], bool]:
        """The entries available now, and whether the stream has ended after them."""
        if self._pending:
            pending, self._pending = self._pending, []
            return pending, False
        tail = self._tail
        with tail._cond:
            start = self._index
            if self._skip_to is not None:  # entries up to the consumer's id, read late
                positions, end = tail._positions, len(tail._positions)
                while start < end and positions[start] <= self._skip_to:
                    start += 1
                if start < end:
                    self._skip_to = None
            entries = tail._entries[start:]
            self._index = start + len(entries)
            return entries, tail.finished and not entries

    @property
    def error(self) -> APIError | None:
        """How the stream ended, when not completed."""
        return self._tail.error

    def wait(self, timeout: float | None = None) -> None:
        """Block until there is something to take (or `close()`)."""
        tail = self._tail
        with tail._cond:
            while (
                not self._pending
                and not self._closed
                and self._index >= len(tail._entries)
                and not tail.finished
            ):
                if not tail._cond.wait(timeout):
                    return

    @property
    def tail(self) -> Tail:
        """The shared reader this cursor reads."""
        return self._tail

    def add_waker(self, wake: Callable[[], None]) -> None:
        """Call `wake` (from the reader's thread) whenever entries arrive or the stream ends;
        cursors may share one (it is called once)."""
        with self._tail._cond:
            self._waker = wake
            wakers = self._tail._wakers
            wakers[wake] = wakers.get(wake, 0) + 1

    def close(self) -> None:
        """Leave the tail (idempotent); wakes a `wait()` in another thread."""
        tail = self._tail
        with tail._cond:
            if self._closed:
                return
            self._closed = True
            if self._waker is not None:
                left = tail._wakers.pop(self._waker, 1) - 1
                if left > 0:
                    tail._wakers[self._waker] = left
            tail._cond.notify_all()
        tail.leave()
