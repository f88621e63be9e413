"""No reference cycles in the stream objects: a dropped stream is freed by reference counting
alone (these tests run with the garbage collector off), and the accumulator keeps text
compactly however small the deltas."""

from __future__ import annotations

import gc
import sys
import weakref
from collections.abc import Iterator
from typing import Any

import anyio
import httpx
import pytest
from streams import Stream, Text, Thinking, ToolUse, chunked

import rxstream
from rxstream import SharedStream
from rxstream import operators as rxo
from rxstream.accumulate import MessageAccumulator

STREAM = Stream(
    [Thinking("Hmm.", chunk=2), Text("Hello there " * 20, chunk=3), ToolUse({"a": [1, 2]})]
)
PARAMS: dict[str, Any] = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 64,
    "messages": [{"role": "user", "content": "Hi"}],
}


@pytest.fixture
def no_gc() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def http(data: bytes, *, sync: bool = True) -> Any:
    def answer(request: httpx.Request) -> httpx.Response:
        chunks = chunked(data, 64)
        if sync:
            return httpx.Response(
                200, headers={"content-type": "text/event-stream"}, content=iter(chunks)
            )
        return httpx.Response(
            200, headers={"content-type": "text/event-stream"}, content=_agen(chunks)
        )

    transport = httpx.MockTransport(answer)
    return httpx.Client(transport=transport) if sync else httpx.AsyncClient(transport=transport)


async def _agen(chunks: list[bytes]) -> Any:
    for chunk in chunks:
        yield chunk


@pytest.mark.parametrize("read", ["all", "part"])
def test_a_dropped_shared_stream_is_freed_without_the_garbage_collector(
    no_gc: None, read: str
) -> None:
    chunks = chunked(STREAM.sse(), 64)
    if read == "part":
        chunks = chunks[: len(chunks) // 2]
    shared = SharedStream(rxstream.from_sse(chunks))
    texts: list[str] = []
    shared.pipe(rxo.text_deltas()).subscribe(texts.append, lambda e: None)
    shared.pipe(rxo.final_message()).subscribe(lambda m: None, lambda e: None)
    shared.pipe(rxo.snapshots()).subscribe(lambda s: None, lambda e: None)
    shared.subscribe(lambda e: None, lambda e: None)
    iterator = shared.iter(max_lag=4)
    shared.connect()
    late = shared.iter()
    alive = weakref.ref(shared)
    del shared, iterator, late
    assert alive() is None
    assert texts


@pytest.mark.parametrize("read", ["all", "part"])
def test_a_dropped_message_stream_with_events_touched_is_freed(no_gc: None, read: str) -> None:
    with rxstream.Client(api_key="k", http_client=http(STREAM.sse()), max_retries=0) as client:
        with client.messages.stream(**PARAMS) as stream:
            stream.events.pipe(rxo.text_deltas()).subscribe(lambda t: None)
            stream.events.subscribe(lambda e: None)
            for n, _ in enumerate(stream):
                if read == "part" and n == 5:
                    break
            events = weakref.ref(stream.events)
            alive = weakref.ref(stream)
        del stream
        assert alive() is None
        assert events() is None


@pytest.mark.anyio
async def test_a_dropped_async_message_stream_is_freed(no_gc: None, anyio_backend: str) -> None:
    client = rxstream.AsyncClient(
        api_key="k", http_client=http(STREAM.sse(), sync=False), max_retries=0
    )
    async with client:
        async with client.messages.stream(**PARAMS) as stream:
            stream.events.pipe(rxo.final_message()).subscribe(lambda m: None)
            async for _ in stream:
                pass
            alive = weakref.ref(stream)
            events = weakref.ref(stream.events)
        del stream
        await anyio.sleep(0)
        assert alive() is None
        assert events() is None


def test_a_dropped_decoupled_subscription_is_freed(no_gc: None) -> None:
    shared = SharedStream(rxstream.from_sse(chunked(STREAM.sse(), 64)))
    decoupled = rxo.decouple(scheduler=rxstream_immediate())
    got: list[Any] = []
    shared.pipe(decoupled).subscribe(got.append)
    shared.connect()
    alive = weakref.ref(shared)
    del shared
    assert alive() is None
    assert got


def rxstream_immediate() -> Any:
    from reactivex.scheduler import ImmediateScheduler

    return ImmediateScheduler()


@pytest.mark.parametrize("size", [8, 1])
def test_the_accumulator_compacts_runs_of_small_deltas(size: int) -> None:
    """100,000 small deltas: the accumulator holds about the text (<= 2x for 8-character
    deltas), not one ~50-byte object per delta; every earlier point reads back exactly."""
    n = 100_000
    text = "".join(chr(ord("a") + k % 26) for k in range(n * size))
    accumulator = MessageAccumulator()
    marks: list[tuple[int, str]] = []
    for k, event in enumerate(rxstream.sse.iter_events([Stream([Text(text, chunk=size)]).sse()])):
        accumulator.feed(event)
        if k % 9_973 == 5:
            state = accumulator.block(0) if accumulator.started and k > 2 else None
            if state is not None:
                marks.append((state.text.count(), accumulator.message().content[0].text))  # type: ignore[attr-defined, union-attr]
    parts = accumulator.block(0).text  # type: ignore[attr-defined]
    held = (
        sum(sys.getsizeof(c) for c in parts._chunks)
        + sum(sys.getsizeof(p) for p in parts._view[3])
        + parts._ends.buffer_info()[1] * parts._ends.itemsize
    )
    assert held <= (2 if size == 8 else 6) * len(text)
    assert accumulator.message().content[0].text == text  # type: ignore[union-attr]
    for count, expected in marks:
        assert parts.text_at(count) == expected
