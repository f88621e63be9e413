"""`decouple()`: a bounded buffer that gives a subscriber a pace of its own."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Final

import anyio
import reactivex
from reactivex import abc
from reactivex.disposable import Disposable
from reactivex.scheduler import ThreadPoolScheduler

from .._accumulate import MessageAccumulator, MessageSnapshot, StreamItem
from .._fanout import SharedStream
from .._lanes import (
    DEFAULT_MAX_LAG,
    DeliveryStats,
    Empty,
    End,
    Lane,
    OverflowPolicy,
    check_delivery,
)
from .._pull import SharedAsyncIterator, defer_on_this_loop
from .._sources import _spawn

__all__ = ["Decouple", "decouple"]

_log = logging.getLogger("rxstream")

# How long one drain may run before it yields its thread or event loop to others, so that a
# slow subscriber never holds an event loop for more than about one of its events.
_SLICE: Final = 0.005

_pool: ThreadPoolScheduler | None = None
_pool_lock = threading.Lock()


def _thread_pool() -> ThreadPoolScheduler:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolScheduler(max_workers=32)
        return _pool


class Decouple:
    """The operator `decouple()` returns: apply it with `.pipe(...)`; `stats` counts how far
    its subscriptions fell behind (summed over them; `lag` is the last one's)."""

    __slots__ = ("_max_lag", "_policy", "_scheduler", "stats")

    def __init__(
        self, max_lag: int, on_overflow: OverflowPolicy, scheduler: abc.SchedulerBase | None
    ) -> None:
        check_delivery(max_lag, on_overflow)
        self._max_lag = max_lag
        self._policy: OverflowPolicy = on_overflow
        self._scheduler = scheduler
        self.stats = DeliveryStats()

    def __call__(
        self, source: reactivex.Observable[StreamItem]
    ) -> reactivex.Observable[StreamItem]:
        def subscribe(
            observer: abc.ObserverBase[StreamItem], scheduler: abc.SchedulerBase | None = None
        ) -> abc.DisposableBase:
            snapshot, push = _catch_up_source(source)
            on_loop = self._scheduler is None and defer_on_this_loop() is not None
            lane = Lane(
                self._max_lag,
                self._policy,
                snapshot=snapshot,
                stats=self.stats,
                consumer_thread=threading.get_ident() if on_loop else None,
            )
            drain: _Drain | None = None
            stop_task: Callable[[], None] = _nothing
            if on_loop:
                # Its own task on the loop it subscribed from (asyncio or trio).
                consumer = SharedAsyncIterator(lane)
                stop_task = _spawn(lambda: _drain_task(consumer, observer))
            else:
                drain = _Drain(lane, observer, self._schedule_on())
            upstream = source.subscribe(
                lambda item: push(lane, item),
                lane.finish,
                lambda: lane.finish(None),
                scheduler=scheduler,
            )
            lane.on_detach(upstream.dispose)
            if drain is not None:
                drain.wake()

            def dispose() -> None:
                lane.close()
                stop_task()

            return Disposable(dispose)

        return reactivex.Observable(subscribe)

    def _schedule_on(self) -> Callable[[Callable[[], None]], None]:
        chosen = self._scheduler or _thread_pool()

        def schedule(job: Callable[[], None]) -> None:
            def action(_: abc.SchedulerBase, __: object = None) -> None:
                job()

            chosen.schedule(action)

        return schedule


def decouple(
    *,
    max_lag: int = DEFAULT_MAX_LAG,
    on_overflow: OverflowPolicy = "catch_up",
    scheduler: abc.SchedulerBase | None = None,
) -> Decouple:
    """A bounded buffer between the source and everything after it, so the subscriber goes
    at its own pace: the source hands each event over and goes on.

    The subscriber is called on `scheduler`; by default on the event loop it subscribed
    from (asyncio or trio: a slice of at most ~5 ms at a time), else on a thread pool. When
    it falls more than `max_lag` events behind, `on_overflow` applies:

    - `"catch_up"` (default): the backlog is replaced by one `SnapshotEvent` of the message
      so far, from which every rxstream operator resumes (a slow UI skips frames, its
      `final_message()` is exact);
    - `"drop_oldest"`: the oldest event is dropped (lossy: for consumers that keep no state);
    - `"error"`: this subscriber ends with `SubscriberLagError`, the source goes on;
    - `"block"`: the source waits until there is room (lossless backpressure: it slows the
      stream, and every other subscriber with it).

    Lag and drops are counted in the operator's `stats` and reported by `metrics()`.
    Raises `ValueError` / `TypeError` for a bad `max_lag` or `on_overflow`.
    """
    return Decouple(max_lag, on_overflow, scheduler)


def _push(lane: Lane, item: StreamItem) -> None:
    lane.push(item)


def _catch_up_source(
    source: reactivex.Observable[StreamItem],
) -> tuple[Callable[[], MessageSnapshot | None], Callable[[Lane, StreamItem], None]]:
    """Where catch-up snapshots come from: a `SharedStream`'s own accumulator, else one kept
    for this subscription (fed as events are handed over)."""
    if isinstance(source, SharedStream):
        return source._snapshot_now, _push
    accumulator = MessageAccumulator()
    broken = False

    def snapshot() -> MessageSnapshot | None:
        return accumulator.snapshot() if accumulator.started and not broken else None

    def push(lane: Lane, item: StreamItem) -> None:
        nonlocal broken
        if not broken:
            try:
                accumulator.feed(item)
            except Exception:  # the subscriber's operators will see the same event fail
                broken = True
        lane.push(item)

    return snapshot, push


class _Drain:
    """The job that hands the lane's items to the subscriber, run on its scheduler: until
    the lane is empty (then it re-arms) or its time slice is used up (then it re-queues).
    A class, not closures that refer to each other: those would be a reference cycle."""

    __slots__ = ("_lane", "_observer", "_schedule")

    def __init__(
        self,
        lane: Lane,
        observer: abc.ObserverBase[StreamItem],
        schedule: Callable[[Callable[[], None]], None],
    ) -> None:
        self._lane = lane
        self._observer = observer
        self._schedule = schedule

    def _arm(self) -> Callable[[], None]:
        return self.wake

    def wake(self) -> None:
        """Queue a drain on the subscriber's scheduler."""
        self._schedule(self.run)

    def run(self) -> None:
        """Hand over what is queued, for one time slice."""
        lane, observer = self._lane, self._observer
        deadline = time.monotonic() + _SLICE
        while True:
            item = lane.poll(self._arm)
            if isinstance(item, Empty):
                return
            if type(item) is End:
                _end(observer, item.error)
                return
            try:
                observer.on_next(item)  # type: ignore[arg-type]  # End, Empty handled above
            except Exception as exc:
                lane.close()
                _report(observer, exc)
                return
            if time.monotonic() > deadline:
                self.wake()
                return


def _nothing() -> None:
    return None


async def _drain_task(
    consumer: SharedAsyncIterator, observer: abc.ObserverBase[StreamItem]
) -> None:
    """Hand the lane's items to the subscriber as a task of its event loop. After a slice of
    `_SLICE` s it yields; after a longer one (a slow subscriber) it leaves the loop to the
    others for as long as it took, so that it never holds the loop more than half the time."""
    clock = time.monotonic
    started = clock()
    while True:
        try:
            item = await consumer.__anext__()
        except StopAsyncIteration:
            _end(observer, None)
            return
        except Exception as error:
            _end(observer, error)
            return
        try:
            observer.on_next(item)
        except Exception as exc:
            await consumer.aclose()
            _report(observer, exc)
            return
        spent = clock() - started
        if spent > _SLICE:
            await anyio.sleep(spent if spent > 2 * _SLICE else 0)
            started = clock()


def _end(observer: abc.ObserverBase[StreamItem], error: Exception | None) -> None:
    try:
        if error is None:
            observer.on_completed()
        else:
            observer.on_error(error)
    except Exception as exc:
        _log.error("a decoupled subscriber failed", exc_info=exc)


def _report(observer: abc.ObserverBase[StreamItem], exc: Exception) -> None:
    """The subscriber's own `on_next` raised: it is detached and told, or, when it cannot
    be told (no `on_error`, or that raised too), the error is logged."""
    if getattr(observer, "is_stopped", False):
        _log.error("a decoupled subscriber failed", exc_info=exc)
        return
    try:
        observer.on_error(exc)
    except Exception as again:
        _log.error("a decoupled subscriber failed", exc_info=again)
