"""decouple(): a bounded buffer that lets each subscriber go at its own pace, on its own
scheduler (a thread pool, an Rx scheduler, or its own task on the asyncio / trio loop)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import anyio
import pytest
import reactivex
from reactivex.scheduler import HistoricalScheduler, NewThreadScheduler
from streams import Stream, Text, ToolUse, chunked

import rxstream
from rxstream import SharedStream, StreamItem, SubscriberLagError
from rxstream import operators as rxo

STREAM = Stream([Text("The quick brown fox jumps over the lazy dog. " * 4, chunk=3)])
TOOL_STREAM = Stream([Text("Checking. ", chunk=2), ToolUse({"city": "Zürich", "n": [1, 2]})])
EVENTS = STREAM.events()
TEXT = "The quick brown fox jumps over the lazy dog. " * 4


class Sink:
    """Collects what a subscriber gets, and signals its end."""

    def __init__(self, delay: float = 0.0) -> None:
        self.items: list[Any] = []
        self.errors: list[Exception] = []
        self.completed = 0
        self.threads: set[int] = set()
        self.done = threading.Event()
        self.delay = delay

    def on_next(self, item: Any) -> None:
        self.threads.add(threading.get_ident())
        if self.delay:
            time.sleep(self.delay)
        self.items.append(item)

    def on_error(self, error: Exception) -> None:
        self.errors.append(error)
        self.done.set()

    def on_completed(self) -> None:
        self.completed += 1
        self.done.set()

    def attach(self, source: reactivex.Observable[Any]) -> Sink:
        source.subscribe(self.on_next, self.on_error, self.on_completed)
        return self

    def wait(self) -> Sink:
        assert self.done.wait(10)
        return self


def shared_of(stream: Stream = STREAM, pause: float = 0.0) -> SharedStream:
    def chunks() -> Iterator[bytes]:
        for chunk in chunked(stream.sse(), 32):
            if pause:
                time.sleep(pause)
            yield chunk

    return SharedStream(rxstream.from_sse(chunks))


def test_a_slow_subscriber_behind_decouple_does_not_hold_the_source() -> None:
    shared = shared_of()
    fast = Sink().attach(shared)
    slow = Sink(delay=0.002)
    slow_text = Sink(delay=0.002)
    decoupled = rxo.decouple(max_lag=8)
    slow.attach(shared.pipe(decoupled, rxo.final_message()))
    slow_text.attach(shared.pipe(rxo.decouple(max_lag=8), rxo.text_deltas()))
    started = time.monotonic()
    shared.connect()
    source_time = time.monotonic() - started
    assert fast.completed == 1  # the source finished on this thread...
    assert source_time < 0.002 * len(EVENTS) / 4  # ...long before the slow ones could
    slow.wait()
    slow_text.wait()
    assert [json.loads(rxstream.encode(m)) for m in slow.items] == [STREAM.message()]
    assert "".join(slow_text.items) == TEXT
    assert len(slow_text.items) < len(EVENTS)  # it skipped frames
    assert decoupled.stats.catch_ups > 0
    assert threading.get_ident() not in slow.threads  # it ran on the thread pool


def test_the_subscriber_runs_on_the_scheduler_given() -> None:
    shared = shared_of()
    sink = Sink().attach(shared.pipe(rxo.decouple(scheduler=NewThreadScheduler())))
    shared.connect()
    sink.wait()
    assert [i.type for i in sink.items] == [e["type"] for e in EVENTS]
    assert threading.get_ident() not in sink.threads


def test_decouple_over_a_cold_source_catches_up_from_its_own_accumulator() -> None:
    source = rxstream.from_sse(chunked(TOOL_STREAM.sse(), 16))
    final = Sink(delay=0.001).attach(source.pipe(rxo.decouple(max_lag=2), rxo.final_message()))
    final.wait()
    assert [json.loads(rxstream.encode(m)) for m in final.items] == [TOOL_STREAM.message()]


def test_error_policy_ends_only_the_lagging_subscriber() -> None:
    shared = shared_of()
    lagging = Sink(delay=0.002).attach(shared.pipe(rxo.decouple(max_lag=3, on_overflow="error")))
    other = Sink().attach(shared.pipe(rxo.decouple(max_lag=len(EVENTS) + 1)))
    shared.connect()
    lagging.wait()
    other.wait()
    (error,) = lagging.errors
    assert isinstance(error, SubscriberLagError)
    assert error.max_lag == 3
    assert lagging.completed == 0
    assert [i.type for i in other.items] == [e["type"] for e in EVENTS]


def test_drop_oldest_delivers_the_latest_events() -> None:
    shared = shared_of()
    later = HistoricalScheduler()  # runs the subscriber only when started: deterministic
    d = rxo.decouple(max_lag=4, on_overflow="drop_oldest", scheduler=later)
    sink = Sink().attach(shared.pipe(d))
    shared.connect()
    assert sink.items == []
    later.start()
    assert [i.type for i in sink.items] == [e["type"] for e in EVENTS[-4:]]
    assert sink.completed == 1
    assert d.stats.dropped == len(EVENTS) - 4


def test_catch_up_delivers_one_snapshot_then_the_latest_events() -> None:
    shared = shared_of()
    later = HistoricalScheduler()
    d = rxo.decouple(max_lag=4, scheduler=later)
    sink = Sink().attach(shared.pipe(d))
    shared.connect()
    later.start()
    n = len(EVENTS)
    first, *rest = sink.items
    assert isinstance(first, rxstream.SnapshotEvent)
    assert [i.type for i in rest] == [e["type"] for e in EVENTS[n - len(rest) :]]
    assert (d.stats.catch_ups, d.stats.dropped) == ((n - 1) // 4, n - len(rest))


def test_block_is_lossless_and_holds_the_source() -> None:
    shared = shared_of()
    d = rxo.decouple(max_lag=1, on_overflow="block")
    sink = Sink(delay=0.0005).attach(shared.pipe(d))
    shared.connect()
    sink.wait()
    assert [i.type for i in sink.items] == [e["type"] for e in EVENTS]
    assert d.stats.blocked > 0
    assert d.stats.dropped == 0
    assert d.stats.max_lag_seen <= 1


def test_a_failing_decoupled_subscriber_is_told_and_the_others_go_on() -> None:
    shared = shared_of()
    boom = RuntimeError("subscriber bug")
    failing = Sink()

    def on_next(item: StreamItem) -> None:
        if item.type == "content_block_delta":
            raise boom

    shared.pipe(rxo.decouple()).subscribe(on_next, failing.on_error, failing.on_completed)
    other = Sink().attach(shared.pipe(rxo.decouple()))
    shared.connect()
    failing.wait()
    other.wait()
    assert failing.errors == [boom]
    assert other.completed == 1
    assert shared.subscriber_count == 0


def test_disposing_a_decoupled_subscription_detaches_it() -> None:
    shared = shared_of(pause=0.001)
    sink = Sink()
    subscription = shared.pipe(rxo.decouple()).subscribe(sink.on_next)
    other = Sink().attach(shared)
    assert shared.subscriber_count == 2
    subscription.dispose()
    assert shared.subscriber_count == 1
    shared.connect()
    assert other.completed == 1
    assert sink.items == []


async def slow_source_chunks(data: bytes) -> AsyncIterator[bytes]:
    for chunk in chunked(data, 32):
        await anyio.sleep(0.0005)
        yield chunk


@pytest.mark.anyio
async def test_on_an_event_loop_the_subscriber_is_a_task_of_that_loop(anyio_backend: str) -> None:
    data = STREAM.sse()
    shared = SharedStream(rxstream.from_async_sse(lambda: slow_source_chunks(data)))
    loop_thread = threading.get_ident()
    slow = Sink(delay=0.003)
    fast = Sink()
    texts = Sink()
    slow.attach(shared.pipe(rxo.decouple(max_lag=4), rxo.final_message()))
    texts.attach(shared.pipe(rxo.decouple(max_lag=4), rxo.text_deltas()))
    fast.attach(shared)
    shared.connect()
    with anyio.fail_after(10):
        while not (slow.done.is_set() and fast.done.is_set() and texts.done.is_set()):
            await anyio.sleep(0.005)
    assert slow.threads == {loop_thread}
    assert [json.loads(rxstream.encode(m)) for m in slow.items] == [STREAM.message()]
    assert "".join(texts.items) == TEXT
    assert [i.type for i in fast.items] == [e["type"] for e in EVENTS]


def make_counter() -> tuple[Callable[[Any], None], list[int]]:
    count = [0]

    def on_next(_: Any) -> None:
        count[0] += 1

    return on_next, count


def test_metrics_report_what_a_lagging_subscriber_skipped() -> None:
    shared = shared_of()
    later = HistoricalScheduler()
    d = rxo.decouple(max_lag=4, scheduler=later)
    sink = Sink().attach(shared.pipe(d, rxo.metrics()))
    shared.connect()
    later.start()
    last = sink.items[-1]
    assert (last.catch_ups, last.skipped) == (1, d.stats.dropped)  # one snapshot reached it
    assert d.stats.catch_ups == (len(EVENTS) - 1) // 4
