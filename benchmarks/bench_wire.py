"""The wire layer against the official SDK and against the floor, on the same bytes.

Run: `.venv/bin/pytest benchmarks -p no:cacheprovider --benchmark-only`; the ratios are printed
at the end of the session (see conftest.py). On a busy machine add `--benchmark-timer
time.process_time`: wall-clock minima then favour whichever benchmark has more (shorter) rounds.
The SDK drops `ping`, so it yields one event less.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import anthropic
import httpx2
import msgspec
import pytest
from conftest import MODEL, WireStream, chunked
from pytest_benchmark.fixture import BenchmarkFixture

import rxstream
from rxstream._types import _KnownEvent


def count(events: Iterable[Any]) -> int:
    n = 0
    for _ in events:
        n += 1
    return n


# --- (a) the official SDK --------------------------------------------------------------


@pytest.fixture(scope="module")
def sdk_client(text_stream: WireStream) -> Iterator[anthropic.Anthropic]:
    """An SDK client whose transport answers every request with the stream, in 4 KiB chunks."""

    def answer(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(
            200,
            headers={"content-type": "text/event-stream", "request-id": "req_bench"},
            content=iter(text_stream.chunks),
        )

    http = httpx2.Client(transport=httpx2.MockTransport(answer))
    client = anthropic.Anthropic(api_key="test", http_client=http, max_retries=0)
    yield client
    client.close()


def sdk_events(client: anthropic.Anthropic) -> int:
    stream = client.messages.create(
        model=MODEL,
        max_tokens=32_000,
        messages=[{"role": "user", "content": "Write a long story."}],
        stream=True,
    )
    return count(stream)


def test_sdk_messages_create_stream(
    benchmark: BenchmarkFixture,
    sdk_client: anthropic.Anthropic,
    text_stream: WireStream,
    record: Callable[[str, int], None],
) -> None:
    events = benchmark.pedantic(sdk_events, args=(sdk_client,), rounds=5, warmup_rounds=1)
    assert events == text_stream.events - 1  # no ping
    record("sdk", events)


# --- (b) the floor: split on blank lines, one msgspec decode per event -------------------

_decode = msgspec.json.Decoder(_KnownEvent).decode


def floor_events(chunks: list[bytes]) -> int:
    n = 0
    for block in b"".join(chunks).split(b"\n\n"):
        if block:
            _decode(block[block.index(b"\ndata: ") + 7 :])
            n += 1
    return n


def test_floor_split_and_decode(
    benchmark: BenchmarkFixture, text_stream: WireStream, record: Callable[[str, int], None]
) -> None:
    events = benchmark(floor_events, text_stream.chunks)
    assert events == text_stream.events
    record("floor", events)


# --- (c) rxstream ----------------------------------------------------------------------


def rxstream_events(chunks: list[bytes]) -> int:
    return count(rxstream.sse.iter_events(chunks))


def test_rxstream_iter_events(
    benchmark: BenchmarkFixture, text_stream: WireStream, record: Callable[[str, int], None]
) -> None:
    events = benchmark(rxstream_events, text_stream.chunks)
    assert events == text_stream.events
    record("rxstream", events)


# --- (d) one 16 MiB event, in 1 KiB chunks and in one chunk -----------------------------


@pytest.mark.parametrize(("key", "size"), [("huge_1k", 1024), ("huge_whole", None)])
def test_rxstream_16_mib_event(
    benchmark: BenchmarkFixture,
    huge_event: bytes,
    record: Callable[[str, int], None],
    key: str,
    size: int | None,
) -> None:
    chunks = [huge_event] if size is None else chunked(huge_event, size)
    events = benchmark.pedantic(rxstream_events, args=(chunks,), rounds=5, warmup_rounds=1)
    assert events == 1
    record(key, events)
