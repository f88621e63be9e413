"""The SSE decoder on hostile input: each shape in one chunk, in 4 KiB chunks and one byte at a
time, at a base size and at twice that. Linear work means the doubled input takes about twice
as long; the ratios (target <= 2.3 each) are printed at the end of the run.

Base sizes: 4 MiB in one chunk and in 4 KiB chunks, 256 KiB one byte at a time (a million feeds
per MiB). Every round starts with `malloc_trim(0)` (glibc): otherwise whether the allocator can
reuse pages for a huge event's copies, or must fault fresh ones in, differs between the two sizes
and alone moves a ratio to 6-10.

Run: `.venv/bin/pytest benchmarks/bench_sse_hostile.py -p no:cacheprovider --benchmark-only
--benchmark-timer time.process_time` (process time: the machine is shared).
Before the fix, `event: ` repeated in an event with an `id:` line took 0.16 / 0.68 / 2.8 / 12.8 s
for 16 / 32 / 64 / 128 KiB.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable

import pytest
from conftest import RATIOS
from pytest_benchmark.fixture import BenchmarkFixture

from rxstream import SSEDecoder

_LIBC = ctypes.CDLL(None)
_malloc_trim: Callable[[int], int] = getattr(_LIBC, "malloc_trim", lambda pad: 0)

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
CHUNKINGS: dict[str, int | None] = {"whole": None, "4KiB": 4096, "1B": 1}


def decode(chunks: list[bytes]) -> int:
    decoder = SSEDecoder()
    feed = decoder.feed
    n = 0
    for chunk in chunks:
        n += len(feed(chunk))
    return n + len(decoder.end()[0])


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
    chunks = _chunked(SHAPES[shape](BASE[chunking] * scale), CHUNKINGS[chunking])
    rounds = 3 if chunking == "1B" else 15

    def setup() -> tuple[tuple[list[bytes]], dict[str, object]]:
        _malloc_trim(0)
        return (chunks,), {}

    events = benchmark.pedantic(decode, setup=setup, rounds=rounds, warmup_rounds=1)
    record(f"hostile_{scale}x:{shape}/{chunking}", max(events, 1))
