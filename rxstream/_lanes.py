"""A bounded queue between one producer and one consumer, and what happens when it is full.

The producer (the thread or task reading the stream) hands each item over with `push` and
goes on; the consumer takes items at its own pace. When the consumer falls `max_lag` items
behind, its `on_overflow` policy decides: `catch_up` replaces the backlog by one
`SnapshotEvent` (every rxstream operator resumes from it), `drop_oldest` drops the oldest
item, `error` ends this consumer with `SubscriberLagError`, `block` makes the producer wait.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from typing import Final, Literal, TypeAlias, get_args

from ._accumulate import MessageSnapshot, SnapshotEvent, StreamItem
from ._errors import SubscriberLagError

__all__ = [
    "DEFAULT_MAX_LAG",
    "EMPTY",
    "PRESSURE",
    "DeliveryStats",
    "Empty",
    "End",
    "Lane",
    "OverflowPolicy",
    "check_delivery",
    "wait_for_room",
]

OverflowPolicy: TypeAlias = Literal["catch_up", "drop_oldest", "error", "block"]
"""What a consumer that falls `max_lag` items behind gets (see `rxstream.operators.decouple`)."""

DEFAULT_MAX_LAG: Final = 1024
_POLICIES: Final = frozenset(get_args(OverflowPolicy))


def check_delivery(max_lag: int, on_overflow: str) -> None:
    """Raise `TypeError` / `ValueError` naming a bad `max_lag` or `on_overflow`."""
    if isinstance(max_lag, bool) or not isinstance(max_lag, int):
        raise TypeError(f"max_lag must be an int, not {type(max_lag).__name__}")
    if max_lag < 1:
        raise ValueError(f"max_lag must be at least 1, not {max_lag}")
    if on_overflow not in _POLICIES:
        raise ValueError(f"on_overflow must be one of {sorted(_POLICIES)}, not {on_overflow!r}")


class _Pressure(threading.local):
    """Lanes with the `block` policy that an async producer filled beyond `max_lag` because
    their consumer runs on its own event loop thread: the producer waits for them before
    it reads on (`wait_for_room`). Per thread: the producer is the task running there."""

    def __init__(self) -> None:
        self.collecting = 0
        self.full: list[Lane] = []


PRESSURE: Final = _Pressure()
"""An async producer counts `collecting` up around each delivery, then waits for the lanes
left in `full`."""


async def wait_for_room(full: list[Lane]) -> None:
    """Wait (on this event loop) until every lane in `full` has room again."""
    lanes = list(full)
    full.clear()
    for lane in lanes:
        await lane.room()


class DeliveryStats:
    """How far one consumer (or the consumers of one `decouple()`) fell behind.

    `lag`: items waiting now; `max_lag_seen`: the most that ever waited; `dropped`: events
    it never received (dropped, or folded into a catch-up snapshot); `catch_ups`: how many
    `SnapshotEvent`s replaced a backlog; `blocked`: how many times the producer waited.
    """

    __slots__ = ("_queue", "blocked", "catch_ups", "dropped", "max_lag_seen")

    def __init__(self) -> None:
        self._queue: deque[StreamItem] | None = None
        self.max_lag_seen = 0
        self.dropped = 0
        self.catch_ups = 0
        self.blocked = 0

    @property
    def lag(self) -> int:
        """Items waiting now (for the consumers of one `decouple()`, the last one's)."""
        queue = self._queue
        return len(queue) if queue is not None else 0

    def __repr__(self) -> str:
        return (
            f"DeliveryStats(lag={self.lag}, max_lag_seen={self.max_lag_seen}, "
            f"dropped={self.dropped}, catch_ups={self.catch_ups}, blocked={self.blocked})"
        )


class End:
    """The end of a lane: `error` is None when the stream completed."""

    __slots__ = ("error",)

    def __init__(self, error: Exception | None) -> None:
        self.error = error


class Empty:
    """What `Lane.poll` returns when nothing is waiting (the wake callback is then armed)."""

    __slots__ = ()


EMPTY: Final = Empty()


def _setter(event: threading.Event) -> Callable[[], Callable[[], None]]:
    return lambda: event.set


def _no_snapshot() -> MessageSnapshot | None:
    return None


class Lane:
    """The bounded queue of one consumer. Safe to use from any threads: one lock guards
    the queue, and the consumer's wake-up callback is always called outside it."""

    __slots__ = (
        "_closed",
        "_consumer_thread",
        "_end",
        "_items",
        "_lock",
        "_max_lag",
        "_on_detach",
        "_peak",
        "_policy",
        "_room",
        "_room_wake",
        "_snapshot",
        "_wake",
        "stats",
    )

    def __init__(
        self,
        max_lag: int,
        on_overflow: OverflowPolicy,
        *,
        snapshot: Callable[[], MessageSnapshot | None] = _no_snapshot,
        stats: DeliveryStats | None = None,
        consumer_thread: int | None = None,
    ) -> None:
        """`consumer_thread`: the thread the consumer will take on, when known before it
        first does (an event loop's): a `block` producer on it must not wait there."""
        check_delivery(max_lag, on_overflow)
        self._max_lag = max_lag
        self._policy = on_overflow
        self._snapshot = snapshot
        self._items: deque[StreamItem] = deque()
        self._lock = threading.Lock()
        self._room = threading.Condition(self._lock)
        self._end: End | None = None
        self._closed = False
        self._wake: Callable[[], None] | None = None
        self._consumer_thread = consumer_thread
        self._on_detach: Callable[[], None] | None = None
        self._peak = 0
        self._room_wake: Callable[[], None] | None = None
        self.stats = stats or DeliveryStats()
        self.stats._queue = self._items

    def on_detach(self, detach: Callable[[], None]) -> None:
        """`detach` unsubscribes the lane from its producer: called once the lane has no use
        for more items (it overflowed with `error`, or its consumer closed it)."""
        with self._lock:
            if not self._closed:
                self._on_detach = detach
                return
        detach()

    # --- the producer's side ----------------------------------------------------------------

    def push(self, item: StreamItem) -> None:
        """Hand `item` over (never waits, except under the `block` policy)."""
        detach: Callable[[], None] | None = None
        with self._lock:
            if self._closed:
                return
            items = self._items
            n = len(items)
            if n < self._max_lag:
                items.append(item)
                if n >= self._peak:
                    self._peak = n + 1
                    if n >= self.stats.max_lag_seen:
                        self.stats.max_lag_seen = n + 1
            elif not self._overflow(item):
                detach, self._on_detach = self._on_detach, None
            wake = self._wake
            if wake is None and detach is None:
                return
            self._wake = None
        if wake is not None:
            wake()
        if detach is not None:
            detach()

    def _overflow(self, item: StreamItem) -> bool:
        """Make room for `item` (lock held); False if the lane ended instead."""
        items, stats = self._items, self.stats
        policy = self._policy
        if policy == "catch_up":
            snapshot = self._snapshot()
            if snapshot is not None:
                skipped = 1  # `item`, and the events waiting (one may be a snapshot already)
                for waiting in items:
                    skipped += waiting.skipped if type(waiting) is SnapshotEvent else 1
                stats.dropped += skipped - sum(w.skipped for w in items if type(w) is SnapshotEvent)
                stats.catch_ups += 1
                items.clear()
                items.append(SnapshotEvent(snapshot, skipped))
                return True
            policy = "drop_oldest"  # nothing to resume from yet (no message_start)
        if policy == "drop_oldest":
            items.popleft()
            stats.dropped += 1
            items.append(item)
            return True
        if policy == "error":
            lag = len(items) + 1
            items.clear()
            self._end = End(
                SubscriberLagError(
                    f"the subscriber fell {lag} events behind (max_lag={self._max_lag}, "
                    f'on_overflow="error")',
                    lag=lag,
                    max_lag=self._max_lag,
                )
            )
            self._closed = True
            self._room.notify_all()
            return False
        # "block": wait for the consumer. If it runs on this very thread, it could never
        # take anything while we wait: an async producer waits for room once this event
        # is handed over (`wait_for_room`); any other holds the item beyond max_lag.
        if self._consumer_thread == threading.get_ident():
            if PRESSURE.collecting and self not in PRESSURE.full:
                stats.blocked += 1
                PRESSURE.full.append(self)
        else:
            stats.blocked += 1
            while len(items) >= self._max_lag and not self._closed:
                self._room.wait()
            if self._closed:
                return True
        items.append(item)
        return True

    def finish(self, error: Exception | None) -> None:
        """The producer ended: the consumer gets what is queued, then the end."""
        with self._lock:
            if self._closed or self._end is not None:
                return
            self._end = End(error)
            self._on_detach = None  # the producer has ended: nothing to detach from
            wake, self._wake = self._wake, None
        if wake is not None:
            wake()

    # --- the consumer's side ----------------------------------------------------------------

    def poll(self, arm: Callable[[], Callable[[], None]] | None = None) -> StreamItem | End | Empty:
        """The next item, the `End`, or `EMPTY`; on `EMPTY`, `arm()` was called (lock held)
        and the callback it returned will be called once when something arrives."""
        items = self._items
        if items and self._policy != "block":
            # The common case takes no lock: a deque's popleft is atomic. Racing a catch-up
            # it may take an event the snapshot also holds, which every consumer of a
            # snapshot (an accumulator, `text_deltas()`) absorbs: they resume from it.
            try:
                return items.popleft()
            except IndexError:
                pass
        with self._lock:
            self._consumer_thread = threading.get_ident()
            if items:
                item = items.popleft()
                if self._policy == "block":
                    self._room.notify()
                    wake = self._room_wake
                    if wake is not None and len(items) < self._max_lag:
                        self._room_wake = None
                        wake()
                return item
            end = self._end
            if end is not None:
                self._closed = True
                return end
            if arm is not None:
                self._wake = arm()
            return EMPTY

    async def room(self) -> None:
        """Wait, on the event loop of the consumer's thread, until the lane has room."""
        from ._pull import _Waiter  # the loop's own wait primitive

        waiter = _Waiter.for_this_loop()
        while True:
            with self._lock:
                if len(self._items) < self._max_lag or self._closed:
                    return
                self._room_wake = waiter.arm()
            await waiter.wait()

    def take(self) -> StreamItem | End:
        """The next item or the `End`, waiting for it on this thread."""
        while True:
            ready = threading.Event()
            item = self.poll(_setter(ready))
            if not isinstance(item, Empty):
                return item
            ready.wait()

    def close(self) -> None:
        """The consumer is gone: drop what is queued, release a blocked producer, detach."""
        with self._lock:
            self._closed = True
            self._items.clear()
            self._wake = None
            self._room.notify_all()
            room_wake, self._room_wake = self._room_wake, None
            detach, self._on_detach = self._on_detach, None
        if room_wake is not None:
            room_wake()
        if detach is not None:
            detach()
