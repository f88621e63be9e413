"""The reactive core: sources and operators over the same bytes as the wire benchmarks.

Run: `.venv/bin/pytest benchmarks -p no:cacheprovider --benchmark-only` (all benchmarks, the
ratios printed at the end; see conftest.py), or `.venv/bin/pytest benchmarks/bench_core.py
-p no:cacheprovider --benchmark-only` for these alone.

(a) `from_sse` + `text_deltas()` against `iter_events` alone, 20,000 text deltas (~2.5 MB) in
    4 KiB chunks: within 2x.
(b) `snapshots()` over 10k and 50k text deltas, reading each snapshot's cheap fields: the time
    ratio stays linear (<= 6 for 5x the deltas).
(c) A ~200 KB tool input in 8-byte `input_json_delta` fragments: `tool_inputs()` without and
    with reading `.partial` at every delta, against the SDK's `messages.stream()` on the same
    bytes (which re-parses the whole buffer per delta: one round only, ~30-45 s), measured
    once for all benchmarks by bench_adapters.py, so this ratio needs both files in the run.
(d) Fan-out: a SharedStream with 1 and with 101 subscribers; the cost per extra subscriber per
    event is (t101 - t1) / (100 x events): the "fanout_extra" line gives those deliveries per
    second (its inverse is the cost of one), and the benchmark JSON has it in nanoseconds.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest
from conftest import (
    CHUNK,
    RATIOS,
    TIMINGS,
    TOOL_INPUT,
    TOOL_TEXT,
    Timing,
    WireStream,
    chunked,
    run_tool_inputs,
)
from conftest import text_reply as text_reply_bytes
from pytest_benchmark.fixture import BenchmarkFixture

import rxstream
from rxstream import operators as rxo

RATIOS.extend(
    [
        (
            "time from_sse + text_deltas() vs iter_events",
            "text_deltas",
            "iter_events",
            False,
            "<= 2x",
            lambda r: r <= 2,
        ),
        (
            "time snapshots() 50k vs 10k deltas",
            "snapshots_50k",
            "snapshots_10k",
            False,
            "<= 6x",
            lambda r: r <= 6,
        ),
        (
            "speed tool_inputs() vs SDK, 200 KB input",
            "sdk_stream_tool",
            "tool_inputs",
            False,
            ">= 200x",
            lambda r: r >= 200,
        ),
        (
            "speed tool_inputs() reading .partial per delta vs SDK",
            "sdk_stream_tool",
            "tool_inputs_partial",
            False,
            ">= 50x",
            lambda r: r >= 50,
        ),
        (
            "time fan-out 101 vs 1 subscribers (one request for 101 beats 101 requests)",
            "fanout_101",
            "fanout_1",
            False,
            "< 101x",
            lambda r: r < 101,
        ),
    ]
)


class Counter:
    """The cheapest subscriber: counts what it receives."""

    def __init__(self) -> None:
        self.n = 0

    def on_next(self, _: Any) -> None:
        self.n += 1


# --- (a) from_sse + text_deltas() vs iter_events -------------------------------------------


def iter_events_count(chunks: list[bytes]) -> int:
    n = 0
    for _ in rxstream.sse.iter_events(chunks):
        n += 1
    return n


def text_deltas_count(chunks: list[bytes]) -> int:
    counter = Counter()
    rxstream.from_sse(chunks).pipe(rxo.text_deltas()).subscribe(counter.on_next)
    return counter.n


def test_iter_events_alone(
    benchmark: BenchmarkFixture, text_stream: WireStream, record: Callable[[str, int], None]
) -> None:
    assert benchmark(iter_events_count, text_stream.chunks) == text_stream.events
    record("iter_events", text_stream.events)


def test_from_sse_text_deltas(
    benchmark: BenchmarkFixture, text_stream: WireStream, record: Callable[[str, int], None]
) -> None:
    assert benchmark(text_deltas_count, text_stream.chunks) == text_stream.events - 6
    record("text_deltas", text_stream.events)


# --- (b) snapshots() scales linearly ---------------------------------------------------------


def text_chunks(deltas: int) -> list[bytes]:
    rnd = random.Random(deltas)
    words = ["stream", "token", "naïve", "数据", "reply", "🎉", "value", "café"]
    texts = [" " + " ".join(rnd.choices(words, k=rnd.randint(1, 4))) for _ in range(deltas)]
    return chunked(text_reply_bytes(texts), CHUNK)


def touch_snapshots(chunks: list[bytes]) -> int:
    seen = 0

    def on_next(snapshot: rxstream.MessageSnapshot) -> None:
        nonlocal seen
        _ = (snapshot.id, snapshot.stop_reason, snapshot.usage.output_tokens, snapshot.complete)
        seen += 1

    rxstream.from_sse(chunks).pipe(rxo.snapshots()).subscribe(on_next)
    return seen


@pytest.mark.parametrize("deltas", [10_000, 50_000], ids=["10k", "50k"])
def test_snapshots_over_text_deltas(
    benchmark: BenchmarkFixture, record: Callable[[str, int], None], deltas: int
) -> None:
    chunks = text_chunks(deltas)
    snapshots = benchmark.pedantic(touch_snapshots, args=(chunks,), rounds=5, warmup_rounds=1)
    assert snapshots == deltas + 5  # every event but the ping
    record(f"snapshots_{deltas // 1000}k", deltas + 6)


# --- (c) a 200 KB tool input in 8-byte fragments ---------------------------------------------


@pytest.mark.parametrize(
    ("key", "read_partials"),
    [("tool_inputs", False), ("tool_inputs_partial", True)],
    ids=["without_partials", "partial_every_delta"],
)
def test_tool_inputs_200kb_in_8_byte_fragments(
    benchmark: BenchmarkFixture,
    tool_stream: WireStream,
    record: Callable[[str, int], None],
    key: str,
    read_partials: bool,
) -> None:
    assert len(TOOL_TEXT) >= 200_000
    result = benchmark.pedantic(
        run_tool_inputs, args=(tool_stream.chunks, read_partials), rounds=5, warmup_rounds=1
    )
    assert result == TOOL_INPUT
    record(key, tool_stream.events)


# --- (d) fan-out cost per extra subscriber per event ------------------------------------------


def fan_out(chunks: list[bytes], subscribers: int) -> int:
    shared = rxstream.SharedStream(rxstream.from_sse(chunks))
    counters = [Counter() for _ in range(subscribers)]
    for counter in counters:
        shared.subscribe(counter.on_next)
    shared.connect()
    return sum(c.n for c in counters)


@pytest.mark.parametrize("subscribers", [1, 101])
def test_shared_stream_fan_out(
    benchmark: BenchmarkFixture,
    text_stream: WireStream,
    record: Callable[[str, int], None],
    subscribers: int,
) -> None:
    delivered = benchmark.pedantic(
        fan_out, args=(text_stream.chunks, subscribers), rounds=10, warmup_rounds=1
    )
    assert delivered == subscribers * text_stream.events
    record(f"fanout_{subscribers}", text_stream.events)
    one, many = TIMINGS.get("fanout_1"), TIMINGS.get("fanout_101")
    if one is not None and many is not None:
        # Reported as "fanout_extra": deliveries to extra subscribers per second.
        extra = max(many.seconds - one.seconds, 1e-12)
        TIMINGS["fanout_extra"] = Timing(extra, 100 * text_stream.events)
        benchmark.extra_info["ns_per_extra_subscriber_per_event"] = round(
            extra / (100 * text_stream.events) * 1e9, 1
        )
