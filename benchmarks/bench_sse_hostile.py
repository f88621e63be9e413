"""The SSE decoder on hostile input: each shape in one chunk, in 4 KiB chunks and one byte at a
time, at a base size and at twice that. Linear work means the doubled input takes about twice
as long; the ratios (target <= 2.3 each) are printed at the end of the run.

Base sizes: 4 MiB in one chunk and in 4 KiB chunks, 256 KiB one byte at a time (a million feeds
per MiB). A shape built around one huge line is 16 such events of a 16th of the size each: the
line still doubles with the input (what made the old fast path quadratic), and the allocator
serves every event's copies the same way at both sizes (with a single multi-MiB event, whether
it must fault fresh pages in or can reuse freed ones differed between the sizes and alone moved
a ratio to 2.4-10).

Run: `.venv/bin/pytest benchmarks/bench_sse_hostile.py -p no:cacheprovider --benchmark-only
--benchmark-timer time.process_time` (process time: the machine is shared).
Before the fix, `event: ` repeated in an event with an `id:` line took 0.16 / 0.68 / 2.8 / 12.8 s
for 16 / 32 / 64 / 128 KiB.
"""

from __future__ import annotations

import gc
from collections.abc import Callable

import pytest
from conftest import RATIOS
from pytest_benchmark.fixture import BenchmarkFixture

from rxstream.sse import SSEDecoder

BASE: dict[str, int] = {"whole": 4 << 20, "4KiB": 4 << 20, "1B": 256 << 10}


def _repeat(unit: bytes, size: int) -> bytes:
    return unit * (size // len(unit))


SHAPES: dict[str, Callable[[int], bytes]] = {
    "event_in_data_with_id": lambda n: (
        b"event: content_block_delta\nid: 7\ndata: " + _repeat(b"event: ", n) + b"\n\n"
    ),
    "data_in_data": lambda n: b"event: x\ndata: " + _repeat(b"data: ", n) + b"\n\n",
    "comment_of_events": lambda n: b": " + _repeat(b"event: ", n) + b"\nevent: x\ndata: y\n\n",
    "unknown_field_of_events": lambda n: (
        b"foo: " + _repeat(b"event: data: ", n) + b"\nevent: x\ndata: y\n\n"
    ),
    "id_retry_every_event": lambda n: _repeat(b"id: 1\nretry: 5\nevent: x\ndata: {}\n\n", n),
    "event_lines_no_data": lambda n: _repeat(b"event: x\n", n) + b"data: 1\n\n",
    "long_line_no_newline": lambda n: b"data: " + _repeat(b"x", n),
    "tiny_events": lambda n: _repeat(b"data: x\n\n", n),
    "cr_only": lambda n: _repeat(b"event: x\rdata: event: y\r\r", n),
}
# Shapes around one huge line, built as this many events (see above).
EVENTS_OF_ONE_LINE = 16
ONE_LINE = {
    "event_in_data_with_id",
    "data_in_data",
    "comment_of_events",
    "unknown_field_of_events",
    "event_lines_no_data",
}


def hostile_input(shape: str, size: int) -> bytes:
    if shape in ONE_LINE:
        return SHAPES[shape](size // EVENTS_OF_ONE_LINE) * EVENTS_OF_ONE_LINE
    return SHAPES[shape](size)


CHUNKINGS: dict[str, int | None] = {"whole": None, "4KiB": 4096, "1B": 1}


def decode(chunks: list[bytes]) -> int:
    """Decode, with the cyclic garbage collector off: a full collection lands inside one size's
    rounds and not the other's (hundreds of thousands of event tuples), which is the
    collector's schedule, not the decoder's work."""
    decoder = SSEDecoder()
    feed = decoder.feed
    n = 0
    gc.disable()
    try:
        for chunk in chunks:
            n += len(feed(chunk))
        return n + len(decoder.end()[0])
    finally:
        gc.enable()


def _chunked(data: bytes, size: int | None) -> list[bytes]:
    if size is None:
        return [data]
    return [data[i : i + size] for i in range(0, len(data), size)]


for _shape in SHAPES:
    for _chunking in CHUNKINGS:
        key = f"{_shape}/{_chunking}"
        RATIOS.append(
            (
                f"time SSE decoder, 2x input, {key}",
                f"hostile_2x:{key}",
                f"hostile_1x:{key}",
                False,
                "<= 2.3x",
                lambda r: r <= 2.3,
            )
        )


@pytest.mark.parametrize("scale", [1, 2], ids=["1x", "2x"])
@pytest.mark.parametrize("chunking", list(CHUNKINGS))
@pytest.mark.parametrize("shape", list(SHAPES))
def test_decoder_on_hostile_input(
    benchmark: BenchmarkFixture,
    record: Callable[[str, int], None],
    shape: str,
    chunking: str,
    scale: int,
) -> None:
    chunks = _chunked(hostile_input(shape, BASE[chunking] * scale), CHUNKINGS[chunking])
    rounds = 3 if chunking == "1B" else 15
    events = benchmark.pedantic(decode, args=(chunks,), rounds=rounds, warmup_rounds=1)
    record(f"hostile_{scale}x:{shape}/{chunking}", max(events, 1))
