"""Fan-out: many subscribers on one request, late joiners included."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import cast

import reactivex
from reactivex import abc
from reactivex.disposable import Disposable, SingleAssignmentDisposable

from ._accumulate import MessageAccumulator, MessageSnapshot, SnapshotEvent, StreamItem
from ._lanes import DEFAULT_MAX_LAG, Lane, OverflowPolicy, check_delivery
from ._pull import SharedAsyncIterator, SharedIterator
from ._types import MessageStreamEvent

__all__ = ["SharedStream"]

_log = logging.getLogger("rxstream")


def _log_subscriber_error(error: BaseException) -> None:
    _log.error("a SharedStream subscriber failed", exc_info=error)


def _snapshot_of(
    current: Callable[[], MessageAccumulator],
) -> Callable[[], MessageSnapshot | None]:
    def snapshot() -> MessageSnapshot | None:
        accumulator = current()
        return accumulator.snapshot() if accumulator.started else None

    return snapshot


class _LaneObserver:
    """Feeds a lane (an observer by its methods): the stream's delivery is one `push`."""

    __slots__ = ("_lane", "on_next")

    def __init__(self, lane: Lane) -> None:
        self._lane = lane
        self.on_next: Callable[[StreamItem], None] = lane.push

    def on_error(self, error: Exception) -> None:
        self._lane.finish(error)

    def on_completed(self) -> None:
        self._lane.finish(None)


class SharedStream(reactivex.Observable[StreamItem]):
    """One subscription to `source`, shared by any number of subscribers.

    Subscribe as many observers as you like, then call `connect()` to open the one request.
    A subscriber that joins after the stream started first receives a `SnapshotEvent` with
    the message so far (every rxstream operator resumes from it), then every later event;
    one that joins after the end receives the snapshot and the end. A subscriber whose
    `on_next` raises is removed and gets the exception on its `on_error`; if that raises
    too, `on_subscriber_error` gets it (by default it is logged on the "rxstream" logger),
    and the other subscribers go on.
    """

    def __init__(
        self,
        source: reactivex.Observable[MessageStreamEvent],
        *,
        on_subscriber_error: Callable[[BaseException], None] = _log_subscriber_error,
        accumulator: Callable[[], MessageAccumulator] | None = None,
    ) -> None:
        """`accumulator`, when given, returns the accumulator that the owner of `source`
        already feeds (late joiners' snapshots come from it); else the stream keeps its own."""
        super().__init__(self._subscribe_observer)
        self._source = source
        self._on_subscriber_error = on_subscriber_error
        self._observers: tuple[abc.ObserverBase[StreamItem], ...] = ()
        self._lock = threading.RLock()
        own = MessageAccumulator()
        self._feed: Callable[[StreamItem], None] | None = None if accumulator else own.feed
        self._current = accumulator or (lambda: own)
        self._connection: abc.DisposableBase | None = None
        self._done: tuple[bool, Exception | None] | None = None

    @property
    def subscriber_count(self) -> int:
        """How many subscribers are attached now."""
        return len(self._observers)

    def connect(self) -> abc.DisposableBase:
        """Subscribe to the source (once); disposing the result ends the shared stream."""
        with self._lock:
            if self._connection is not None:
                return self._connection
            connection = self._connection = SingleAssignmentDisposable()
        # Not under the lock: a sync source runs the whole stream inside `subscribe`, and
        # other threads must be able to subscribe, iterate and dispose meanwhile.
        connection.disposable = self._source.subscribe(
            self._on_next, self._on_error, self._on_completed
        )
        return connection

    def iter(
        self, *, max_lag: int = DEFAULT_MAX_LAG, on_overflow: OverflowPolicy = "catch_up"
    ) -> SharedIterator:
        """A pull consumer of the stream, at its own pace: iterate it on any thread.

        It gets every item from now on (a `SnapshotEvent` first if the stream has started),
        ends when the stream completes and raises the stream's error if it fails. The stream
        never waits for it: when it falls more than `max_lag` events behind, `on_overflow`
        applies (see `rxstream.operators.decouple`). `close()` it, or leave the loop and
        drop it, to detach. It does not connect the stream: something else must.
        """
        return SharedIterator(self._attach_lane(max_lag, on_overflow))

    def aiter(
        self, *, max_lag: int = DEFAULT_MAX_LAG, on_overflow: OverflowPolicy = "catch_up"
    ) -> SharedAsyncIterator:
        """The async twin of `iter()`, for asyncio and trio: `async for item in shared.aiter()`.
        The stream may be read on this event loop or on another thread."""
        return SharedAsyncIterator(self._attach_lane(max_lag, on_overflow))

    def _snapshot_now(self) -> MessageSnapshot | None:
        """The message as delivered so far, or None before `message_start`."""
        accumulator = self._current()
        return accumulator.snapshot() if accumulator.started else None

    def _attach_lane(self, max_lag: int, on_overflow: OverflowPolicy) -> Lane:
        check_delivery(max_lag, on_overflow)
        lane = Lane(max_lag, on_overflow, snapshot=_snapshot_of(self._current))
        observer = cast(abc.ObserverBase[StreamItem], _LaneObserver(lane))
        lane.on_detach(self._subscribe_observer(observer).dispose)
        return lane

    def _subscribe_observer(
        self, observer: abc.ObserverBase[StreamItem], scheduler: abc.SchedulerBase | None = None
    ) -> abc.DisposableBase:
        with self._lock:
            accumulator = self._current()
            if accumulator.started:
                self._deliver(observer, SnapshotEvent(accumulator.snapshot()))
            if self._done is not None:
                completed, error = self._done
                if completed:
                    observer.on_completed()
                elif error is not None:
                    observer.on_error(error)
                return Disposable()
            self._observers = (*self._observers, observer)
        return Disposable(lambda: self._remove(observer))

    def _remove(self, observer: abc.ObserverBase[StreamItem]) -> None:
        with self._lock:
            self._observers = tuple(o for o in self._observers if o is not observer)

    def _deliver(self, observer: abc.ObserverBase[StreamItem], item: StreamItem) -> bool:
        try:
            observer.on_next(item)
        except Exception as exc:
            self._drop(observer, exc)
            return False
        return True

    def _drop(self, observer: abc.ObserverBase[StreamItem], exc: Exception) -> None:
        """Remove `observer`, whose `on_next` raised `exc`, and report it."""
        self._remove(observer)
        if getattr(observer, "is_stopped", False):
            # It had already ended: an operator in its chain (`map`, ...) passed its
            # own error on to an observer without `on_error`, which raised it.
            self._on_subscriber_error(exc)
            return
        try:
            observer.on_error(exc)
        except Exception as again:
            self._on_subscriber_error(again)

    def _on_next(self, event: MessageStreamEvent) -> None:
        with self._lock:
            if self._feed is not None:
                self._feed(event)
            for observer in self._observers:  # the hot loop: no call but on_next
                try:
                    observer.on_next(event)
                except Exception as exc:
                    self._drop(observer, exc)

    def _finish(self, error: Exception | None) -> None:
        with self._lock:
            self._done = (error is None, error)
            observers, self._observers = self._observers, ()
        for observer in observers:
            try:
                if error is None:
                    observer.on_completed()
                else:
                    observer.on_error(error)
            except Exception as exc:
                self._on_subscriber_error(exc)

    def _on_error(self, error: Exception) -> None:
        self._finish(error)

    def _on_completed(self) -> None:
        self._finish(None)
