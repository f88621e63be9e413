"""SharedStream.iter() / aiter(): pull consumers of one stream, each at its own pace, with
the overflow policies (catch_up, drop_oldest, error, block); sync, asyncio and trio."""

from __future__ import annotations

import asyncio
import gc
import json
import threading
import time
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any

import anyio
import pytest
import reactivex
from streams import Stream, Text, Thinking, ToolUse, chunked, error_event, sse

import rxstream
from rxstream import (
    IncompleteStreamError,
    OverloadedError,
    SharedStream,
    SnapshotEvent,
    StreamItem,
    SubscriberLagError,
)
from rxstream import operators as rxo
from rxstream.accumulate import MessageAccumulator

STREAM = Stream(
    [
        Thinking("Weather first.", chunk=4),
        Text("Let me check the weather for you — ", chunk=3),
        ToolUse({"city": "Zürich", "days": [1, 2, 3]}, fragment=5),
        Text("Done ✅ and that is all", chunk=2),
    ]
)
EVENTS = STREAM.events()
MESSAGE = STREAM.message()


def message_of(items: Iterable[StreamItem]) -> dict[str, Any]:
    accumulator = MessageAccumulator()
    for item in items:
        accumulator.feed(item)
    assert accumulator.complete
    message: dict[str, Any] = json.loads(rxstream.encode(accumulator.message()))
    return message


def types_of(items: Iterable[StreamItem]) -> list[str]:
    return [item.type for item in items]


def sync_shared(data: bytes = STREAM.sse(), pause: float = 0.0) -> SharedStream:
    def chunks() -> Iterator[bytes]:
        for chunk in chunked(data, 64):
            if pause:
                time.sleep(pause)
            yield chunk

    return SharedStream(rxstream.from_sse(chunks))


# --- sync: every event, at its own pace ------------------------------------------------------


def test_consumers_on_other_threads_each_get_every_event() -> None:
    shared = sync_shared(pause=0.001)
    iterators = [shared.iter() for _ in range(4)]
    results: list[list[StreamItem]] = [[] for _ in iterators]
    threads = [
        threading.Thread(target=lambda it=it, out=out: out.extend(it))
        for it, out in zip(iterators, results, strict=True)
    ]
    for thread in threads:
        thread.start()
    shared.connect()
    for thread in threads:
        thread.join(10)
    for items in results:
        assert types_of(items) == [e["type"] for e in EVENTS]
        assert message_of(items) == MESSAGE
    assert shared.subscriber_count == 0


def test_a_late_consumer_starts_from_a_snapshot() -> None:
    shared = sync_shared()
    late: list[Any] = []

    def join_at_tenth(event: StreamItem) -> None:
        seen.append(event)
        if len(seen) == 10:
            late.append(shared.iter())

    seen: list[StreamItem] = []
    shared.subscribe(join_at_tenth)
    shared.connect()
    first, *rest = list(late[0])
    assert isinstance(first, SnapshotEvent)
    before = MessageAccumulator()
    for event in seen[:10]:
        before.feed(event)
    assert rxstream.encode(first.snapshot.to_message()) == rxstream.encode(before.message())
    assert types_of(rest) == types_of(seen[10:])
    assert message_of([first, *rest]) == MESSAGE


def test_a_consumer_created_after_the_end_gets_the_snapshot_and_stops() -> None:
    shared = sync_shared()
    shared.connect()
    (snapshot,) = list(shared.iter())
    assert isinstance(snapshot, SnapshotEvent)
    assert snapshot.snapshot.complete
    assert message_of([snapshot]) == MESSAGE


@pytest.mark.parametrize(
    ("events", "error"),
    [
        ([*EVENTS[:6], error_event("overloaded_error")], OverloadedError),
        (EVENTS[:8], IncompleteStreamError),
    ],
    ids=["overloaded", "incomplete"],
)
def test_the_iterator_raises_the_streams_error(
    events: list[dict[str, Any]], error: type[Exception]
) -> None:
    shared = sync_shared(sse(events))
    iterator = shared.iter()
    shared.connect()
    items: list[StreamItem] = []
    with pytest.raises(error):
        items.extend(iterator)
    assert types_of(items) == [e["type"] for e in events if e["type"] != "error"]


# --- the overflow policies (deterministic: nobody reads until the stream has ended) -----------


def test_catch_up_replaces_the_backlog_with_one_snapshot_and_the_message_is_exact() -> None:
    shared = sync_shared()
    behind = shared.iter(max_lag=4)
    keeping_up = shared.iter(max_lag=len(EVENTS))
    shared.connect()
    items = list(behind)
    n = len(EVENTS)
    # Events 1-4 queue; the 5th overflows: [snapshot]; 6-8 queue; the 9th: [snapshot] ...
    assert isinstance(items[0], SnapshotEvent)
    assert len(items) == 1 + (n - 1) % 4
    assert types_of(items[1:]) == [e["type"] for e in EVENTS[n - len(items) + 1 :]]
    assert message_of(items) == MESSAGE
    assert behind.stats.catch_ups == (n - 1) // 4
    assert behind.stats.dropped == n - (len(items) - 1)
    assert behind.stats.max_lag_seen == 4
    assert types_of(keeping_up) == [e["type"] for e in EVENTS]
    assert keeping_up.stats.dropped == keeping_up.stats.catch_ups == 0


@pytest.mark.parametrize("max_lag", [1, 2, 3, 7])
def test_operators_resume_from_a_catch_up_snapshot(max_lag: int) -> None:
    """The text deltas still join to the message's text, `final_message()` is exact."""
    shared = sync_shared()
    iterator = shared.iter(max_lag=max_lag)
    shared.connect()
    items = reactivex.from_iterable(list(iterator))
    texts: list[str] = []
    thinking: list[str] = []
    finals: list[Any] = []
    items.pipe(rxo.text_deltas()).subscribe(texts.append)
    items.pipe(rxo.thinking_deltas()).subscribe(thinking.append)
    items.pipe(rxo.final_message()).subscribe(finals.append)
    assert "".join(texts) == "Let me check the weather for you — Done ✅ and that is all"
    assert "".join(thinking) == "Weather first."
    assert [json.loads(rxstream.encode(m)) for m in finals] == [MESSAGE]


def test_drop_oldest_keeps_the_latest_events() -> None:
    shared = sync_shared()
    iterator = shared.iter(max_lag=5, on_overflow="drop_oldest")
    shared.connect()
    items = list(iterator)
    assert types_of(items) == [e["type"] for e in EVENTS[-5:]]
    assert iterator.stats.dropped == len(EVENTS) - 5


def test_error_ends_only_that_consumer_with_subscriber_lag_error() -> None:
    shared = sync_shared()
    strict = shared.iter(max_lag=3, on_overflow="error")
    other = shared.iter(max_lag=len(EVENTS))
    shared.connect()
    with pytest.raises(SubscriberLagError) as caught:
        next(strict)
    assert (caught.value.lag, caught.value.max_lag) == (4, 3)
    assert "max_lag=3" in str(caught.value)
    assert isinstance(caught.value, rxstream.APIError)
    assert message_of(other) == MESSAGE


def test_block_is_lossless_and_bounded() -> None:
    shared = sync_shared()
    iterator = shared.iter(max_lag=2, on_overflow="block")
    items: list[StreamItem] = []

    def slow_reader() -> None:
        for item in iterator:
            time.sleep(0.0005)
            items.append(item)

    reader = threading.Thread(target=slow_reader)
    reader.start()
    time.sleep(0.01)  # the reader waits for the first event
    shared.connect()
    reader.join(10)
    assert types_of(items) == [e["type"] for e in EVENTS]
    assert iterator.stats.max_lag_seen <= 2
    assert iterator.stats.blocked > 0
    assert iterator.stats.dropped == 0


# --- detaching -------------------------------------------------------------------------------


def test_closing_or_leaving_the_loop_detaches_the_consumer() -> None:
    shared = sync_shared(pause=0.002)
    closed = shared.iter()
    with_block = shared.iter()
    broken = shared.iter()
    staying = shared.iter()
    assert shared.subscriber_count == 4
    closed.close()
    with with_block:
        pass
    assert shared.subscriber_count == 2
    reader = threading.Thread(target=shared.connect)
    reader.start()
    gc.disable()
    try:
        for _ in broken:
            break
        del broken  # reference counting alone detaches it
        assert shared.subscriber_count == 1
    finally:
        gc.enable()
    assert message_of(staying) == MESSAGE
    reader.join(10)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"max_lag": 0}, ValueError, "max_lag must be at least 1, not 0"),
        ({"max_lag": 2.5}, TypeError, "max_lag must be an int, not float"),
        ({"on_overflow": "drop"}, ValueError, "on_overflow must be one of"),
    ],
)
def test_bad_arguments_are_named(
    kwargs: dict[str, Any], error: type[Exception], message: str
) -> None:
    shared = sync_shared()
    with pytest.raises(error, match=message):
        shared.iter(**kwargs)
    with pytest.raises(error, match=message):
        shared.aiter(**kwargs)
    with pytest.raises(error, match=message):
        rxo.decouple(**kwargs)
    assert shared.subscriber_count == 0


# --- async: asyncio and trio -------------------------------------------------------------------


async def async_chunks(data: bytes) -> AsyncIterator[bytes]:
    for chunk in chunked(data, 64):
        await anyio.sleep(0)
        yield chunk


@pytest.mark.anyio
async def test_aiter_consumers_on_the_loop_of_an_async_source(anyio_backend: str) -> None:
    data = STREAM.sse()
    shared = SharedStream(rxstream.from_async_sse(lambda: async_chunks(data)))
    results: dict[str, list[StreamItem]] = {}

    async def consume(name: str, delay: float, max_lag: int) -> None:
        items = results.setdefault(name, [])
        async for item in shared.aiter(max_lag=max_lag):
            items.append(item)
            await anyio.sleep(delay)

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(consume, "fast", 0, 1024)
        tasks.start_soon(consume, "slow", 0.002, 4)
        await anyio.sleep(0.01)
        shared.connect()
    assert types_of(results["fast"]) == [e["type"] for e in EVENTS]
    assert message_of(results["fast"]) == MESSAGE
    assert message_of(results["slow"]) == MESSAGE
    assert any(isinstance(i, SnapshotEvent) for i in results["slow"])
    assert len(results["slow"]) < len(EVENTS)


@pytest.mark.anyio
async def test_aiter_of_a_stream_read_on_another_thread(anyio_backend: str) -> None:
    shared = sync_shared(pause=0.0005)
    iterators = [shared.aiter() for _ in range(3)]
    results: list[list[StreamItem]] = [[] for _ in iterators]

    async def consume(iterator: AsyncIterator[StreamItem], out: list[StreamItem]) -> None:
        async for item in iterator:
            out.append(item)

    async with anyio.create_task_group() as tasks:
        for iterator, out in zip(iterators, results, strict=True):
            tasks.start_soon(consume, iterator, out)
        reader = threading.Thread(target=shared.connect)
        reader.start()
    reader.join(10)
    for items in results:
        assert types_of(items) == [e["type"] for e in EVENTS]


@pytest.mark.anyio
async def test_aiter_raises_the_streams_error(anyio_backend: str) -> None:
    data = sse([*EVENTS[:6], error_event("overloaded_error")])
    shared = SharedStream(rxstream.from_async_sse(lambda: async_chunks(data)))
    iterator = shared.aiter()
    shared.connect()
    items: list[StreamItem] = []

    async def drain() -> None:
        async for item in iterator:
            items.append(item)

    with pytest.raises(OverloadedError):
        await drain()
    assert types_of(items) == [e["type"] for e in EVENTS[:6]]


@pytest.mark.anyio
async def test_leaving_an_async_loop_detaches_the_consumer(anyio_backend: str) -> None:
    data = STREAM.sse()
    shared = SharedStream(rxstream.from_async_sse(lambda: async_chunks(data)))
    staying = shared.aiter()
    async with shared.aiter() as leaving:
        shared.connect()
        async for _ in leaving:
            break
    assert shared.subscriber_count == 1
    gc.disable()
    try:
        async for _ in shared.aiter():
            break  # the iterator, dropped, is detached by reference counting
        assert shared.subscriber_count == 1
    finally:
        gc.enable()
    assert message_of([item async for item in staying]) == MESSAGE
    await staying.aclose()


def test_aiter_with_everything_queued_never_waits() -> None:
    shared = sync_shared()
    iterator = shared.aiter()
    shared.connect()

    async def drain() -> list[StreamItem]:
        return [item async for item in iterator]

    assert message_of(asyncio.run(drain())) == MESSAGE


@pytest.mark.anyio
async def test_block_holds_an_async_source_on_the_same_loop(anyio_backend: str) -> None:
    """The consumer runs on the loop that reads the stream: the reading task itself waits
    for room, so the lane never holds more than max_lag and nothing is lost."""
    data = STREAM.sse()
    pulled: list[int] = []

    async def counted() -> AsyncIterator[bytes]:
        for k, chunk in enumerate(chunked(data, 64)):
            pulled.append(k)
            yield chunk

    shared = SharedStream(rxstream.from_async_sse(counted))
    iterator = shared.aiter(max_lag=2, on_overflow="block")
    items: list[StreamItem] = []
    shared.connect()
    await anyio.sleep(0.05)  # the stream runs first: it must wait, not block the loop
    assert len(pulled) < len(chunked(data, 64))
    async for item in iterator:
        items.append(item)
        await anyio.sleep(0.001)
    assert types_of(items) == [e["type"] for e in EVENTS]
    assert iterator.stats.max_lag_seen <= 2 + 1  # at most the one event being handed over
    assert iterator.stats.blocked > 0
    assert iterator.stats.dropped == 0
