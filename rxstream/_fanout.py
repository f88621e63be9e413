"""Fan-out: many subscribers on one request, late joiners included, from any thread."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, TypeAlias, cast

import reactivex
from reactivex import abc
from reactivex.disposable import Disposable
from reactivex.observer.autodetachobserver import AutoDetachObserver
from reactivex.scheduler import CurrentThreadScheduler

from ._accumulate import MessageAccumulator, MessageSnapshot, SnapshotEvent, StreamItem
from ._lanes import DEFAULT_MAX_LAG, Lane, OverflowPolicy, check_delivery
from ._pull import (
    SharedAsyncIterator,
    SharedIterator,
    call_soon_on_this_loop,
    defer_on_this_loop,
    event_type,
)
from ._types import MessageStreamEvent

__all__ = ["SharedStream"]

_log = logging.getLogger("rxstream")

_Observer: TypeAlias = abc.ObserverBase[StreamItem]
_Entry: TypeAlias = tuple[_Observer, Callable[[StreamItem], None]]


def _entry(observer: _Observer) -> _Entry:
    """The observer and the call that delivers to it. reactivex wraps every subscriber in an
    `AutoDetachObserver`, whose `on_next` only checks that it was not disposed: disposing
    it removes it from the stream as well, so its inner `on_next` is called directly."""
    if type(observer) is AutoDetachObserver:
        return observer, observer._on_next
    return observer, observer.on_next


class _Connection(abc.DisposableBase):
    """What `connect()` returns: disposing it ends the shared stream, from any thread (also
    before the source's subscription is known: it is then disposed as soon as it is)."""

    __slots__ = ("_disposed", "_inner", "_lock")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._inner: abc.DisposableBase | None = None
        self._disposed = False

    def set(self, inner: abc.DisposableBase) -> None:
        with self._lock:
            if not self._disposed:
                self._inner = inner
                return
        inner.dispose()

    def release(self) -> None:
        """The stream has ended: forget the subscription (it refers back to the stream)."""
        with self._lock:
            self._inner = None

    def dispose(self) -> None:
        """End the shared stream now (its subscribers get nothing more)."""
        with self._lock:
            self._disposed = True
            inner, self._inner = self._inner, None
        if inner is not None:
            inner.dispose()


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

    Subscribe as many observers as you like (`subscribe`, or the pull consumers `iter()` /
    `aiter()`), then call `connect()` to open the one request. A subscriber that joins after
    the stream started first receives a `SnapshotEvent` with the message so far (every
    rxstream operator resumes from it), then every later event exactly once; one that joins
    after the end receives the snapshot and the end. Every method may be called from any
    thread while the stream runs.

    Errors are never silent. A subscriber whose `on_next` raises is removed and gets the
    exception on its `on_error`; the others go on. An error no subscriber handled (one
    without `on_error`, or whose `on_error` raised) goes to `on_subscriber_error` if given,
    else to the code that started the stream: `connect()` over a sync source raises it once
    the stream has ended, `await aconnect()` raises it in the awaiting task.
    """

    def __init__(
        self,
        source: reactivex.Observable[MessageStreamEvent],
        *,
        on_subscriber_error: Callable[[BaseException], None] | None = None,
        accumulator: Callable[[], MessageAccumulator] | None = None,
        pending: Callable[[], int] | None = None,
        lock: threading.RLock | None = None,
    ) -> None:
        """`accumulator`, when given, returns the accumulator that the owner of `source`
        already feeds (late joiners' snapshots come from it), `pending()` how many events it
        was fed that `source` has not delivered yet, and `lock` the lock it is fed under;
        else the stream keeps its own."""
        # No bound method handed to Observable.__init__: that would be a reference cycle,
        # and a dropped stream would wait for the cyclic garbage collector.
        super().__init__()
        self._source = source
        self._on_subscriber_error = on_subscriber_error
        self._observers: tuple[_Entry, ...] = ()
        self._joining: list[tuple[int, _Entry]] = []
        self._lock = lock or threading.RLock()
        own = MessageAccumulator()
        self._feed: Callable[[StreamItem], None] | None = None if accumulator else own.feed
        self._current = accumulator or (lambda: own)
        self._pending = pending
        self._delivered = 0
        self._connection: _Connection | None = None
        self._done: tuple[Exception | None] | None = None
        self._collecting = 0  # connect() / aconnect() calls that will raise unhandled errors
        self._unhandled: list[BaseException] = []
        self._end_waiters: list[Callable[[], None]] = []

    @property
    def subscriber_count(self) -> int:
        """How many subscribers are attached now."""
        return len(self._observers) + len(self._joining)

    # --- connecting ------------------------------------------------------------------------

    def connect(self) -> abc.DisposableBase:
        """Subscribe to the source (once); disposing the result ends the shared stream, from
        any thread. Over a sync source this runs the stream and returns at its end, raising
        the error no subscriber handled (see the class docstring)."""
        with self._lock:
            if self._connection is not None:
                return self._connection
            connection = self._connection = _Connection()
            self._collecting += 1

        def subscribe(_: abc.SchedulerBase, __: Any = None) -> None:
            # Inside the trampoline: `subscribe` returns before a sync source runs, so the
            # connection can be disposed from another thread while it does.
            connection.set(
                self._source.subscribe(self._on_next, self._on_error, self._on_completed)
            )
            if self._done is not None:  # it ended inside `subscribe`
                connection.release()

        try:
            CurrentThreadScheduler.singleton().schedule(subscribe)
        finally:
            with self._lock:
                self._collecting -= 1
                ended = self._done is not None
        if ended:
            self._raise_unhandled()
        return connection

    async def aconnect(self) -> None:
        """Connect (if not yet) and wait for the end of the stream, on asyncio or trio;
        raises the error no subscriber handled (see the class docstring)."""
        call_soon = call_soon_on_this_loop()
        ended = event_type()()
        with self._lock:
            self._collecting += 1
            if self._done is None:
                self._end_waiters.append(lambda: call_soon(ended.set))
            else:
                ended.set()
        try:
            self.connect()
            await ended.wait()
        finally:
            with self._lock:
                self._collecting -= 1
        self._raise_unhandled()

    def _raise_unhandled(self) -> None:
        with self._lock:
            errors, self._unhandled = self._unhandled, []
        distinct = list({id(e): e for e in errors}.values())
        if len(distinct) == 1:
            # Raised here, for the caller: the frames of its trip through the subscribers'
            # operators would bury it (its cause, if any, still shows where it began).
            raise distinct[0].with_traceback(None)
        if distinct:
            raise BaseExceptionGroup(
                f"{len(distinct)} errors that no SharedStream subscriber handled", distinct
            )

    def _report(self, error: BaseException) -> None:
        """An error no subscriber handled: to `on_subscriber_error`, else to the code that
        started the stream, else (nobody is waiting for the stream) to the log."""
        if self._on_subscriber_error is not None:
            self._on_subscriber_error(error)
            return
        with self._lock:
            if self._collecting:
                self._unhandled.append(error)
                return
        _log.error("a SharedStream subscriber failed", exc_info=error)

    # --- pull consumers ----------------------------------------------------------------------

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
        loop_thread = threading.get_ident() if defer_on_this_loop() is not None else None
        return SharedAsyncIterator(self._attach_lane(max_lag, on_overflow, loop_thread))

    def _snapshot_now(self) -> MessageSnapshot | None:
        """The message as delivered so far, or None before `message_start`."""
        accumulator = self._current()
        return accumulator.snapshot() if accumulator.started else None

    def _attach_lane(
        self, max_lag: int, on_overflow: OverflowPolicy, consumer_thread: int | None = None
    ) -> Lane:
        check_delivery(max_lag, on_overflow)
        current = self._current

        def snapshot() -> MessageSnapshot | None:  # refers to the accumulator, not to self
            accumulator = current()
            return accumulator.snapshot() if accumulator.started else None

        lane = Lane(max_lag, on_overflow, snapshot=snapshot, consumer_thread=consumer_thread)
        observer = cast(_Observer, _LaneObserver(lane))
        lane.on_detach(self._subscribe_core(observer).dispose)
        return lane

    # --- subscribers ---------------------------------------------------------------------------

    def _subscribe_core(
        self, observer: _Observer, scheduler: abc.SchedulerBase | None = None
    ) -> abc.DisposableBase:
        entry = _entry(observer)
        with self._lock:
            accumulator = self._current()
            if accumulator.started and not self._deliver(entry, accumulator):
                return Disposable()
            if self._done is not None:
                (error,) = self._done
                try:
                    observer.on_completed() if error is None else observer.on_error(error)
                except Exception as exc:
                    self._report(exc)
                return Disposable()
            ahead = self._pending() if self._pending is not None else 0
            if ahead > 0:
                # The snapshot has events not delivered yet: join once they have been.
                self._joining.append((self._delivered + ahead, entry))
            else:
                self._observers = (*self._observers, entry)
        return Disposable(lambda: self._remove(observer))

    def _deliver(self, entry: _Entry, accumulator: MessageAccumulator) -> bool:
        try:
            entry[1](SnapshotEvent(accumulator.snapshot()))
        except Exception as exc:
            self._drop(entry[0], exc)
            return False
        return True

    def _remove(self, observer: _Observer) -> None:
        with self._lock:
            self._observers = tuple(e for e in self._observers if e[0] is not observer)
            self._joining = [j for j in self._joining if j[1][0] is not observer]

    def _drop(self, observer: _Observer, exc: Exception) -> None:
        """Remove `observer`, whose `on_next` raised `exc`, and report it."""
        self._remove(observer)
        if getattr(observer, "is_stopped", False):
            # It had already ended: an operator in its chain (`map`, ...) passed its
            # own error on to an observer without `on_error`, which raised it.
            self._report(exc)
            return
        try:
            observer.on_error(exc)
        except Exception as again:
            self._report(again)

    # --- the source's side ---------------------------------------------------------------------

    def _on_next(self, event: MessageStreamEvent) -> None:
        with self._lock:
            feed = self._feed
            if feed is not None:
                feed(event)
            self._delivered += 1
            for observer, deliver in self._observers:  # the hot loop: one call per subscriber
                try:
                    deliver(event)
                except Exception as exc:
                    self._drop(observer, exc)
            if self._joining:
                self._admit()

    def _admit(self) -> None:
        """Subscribers that joined while an event was pending start after it (lock held)."""
        delivered = self._delivered
        ready = [entry for fed, entry in self._joining if fed <= delivered]
        self._joining = [(fed, entry) for fed, entry in self._joining if fed > delivered]
        self._observers = (*self._observers, *ready)

    def _finish(self, error: Exception | None) -> None:
        with self._lock:
            if self._done is not None:
                return
            self._done = (error,)
            if self._connection is not None:
                self._connection.release()
            entries = (*self._observers, *(entry for _, entry in self._joining))
            self._observers, self._joining = (), []
            waiters, self._end_waiters = self._end_waiters, []
        for observer, _ in entries:
            try:
                if error is None:
                    observer.on_completed()
                else:
                    observer.on_error(error)
            except Exception as exc:
                self._report(exc)
        for wake in waiters:
            wake()

    def _on_error(self, error: Exception) -> None:
        self._finish(error)

    def _on_completed(self) -> None:
        self._finish(None)
