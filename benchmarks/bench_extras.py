"""What keeping undeclared fields (`extras`) costs the hot path: nothing measurable.

Run: `.venv/bin/pytest benchmarks/bench_extras.py -p no:cacheprovider --benchmark-only`.

(a) `iter_events` over the 20,000-delta text reply whose `message_start` (message and usage)
    and text block carry fields no version declares, against the same reply without them:
    only those two events take the slow path, so the time ratio stays <= 1.1x.
(b) `rxstream.encode` of every event of the reply (what a relay does), against msgspec's
    encoder alone on the same values: <= 2x, one Python call around it (the check for extras
    to put back is skipped for deltas).
"""

from __future__ import annotations

import json
from collections.abc import Callable

import msgspec
import pytest
from conftest import CHUNK, RATIOS, WireStream, chunked
from pytest_benchmark.fixture import BenchmarkFixture

import rxstream

RATIOS.extend(
    [
        (
            "time iter_events with undeclared fields vs without",
            "extras_decode",
            "plain_decode",
            False,
            "<= 1.1x",
            lambda r: r <= 1.1,
        ),
        (
            "time rxstream.encode vs msgspec encode, every event",
            "encode",
            "encode_floor",
            False,
            "<= 2x",
            lambda r: r <= 2,
        ),
    ]
)


def with_extras(data: bytes) -> bytes:
    """`data` with undeclared fields on the message, its usage and the text block."""
    events = data.split(b"\n\n")
    start = json.loads(events[0].split(b"data: ", 1)[1])
    start["message"]["routing"] = {"region": "us-east", "shard": 7}
    start["message"]["usage"]["reasoning_budget_left"] = 3900
    block = json.loads(events[1].split(b"data: ", 1)[1])
    block["content_block"]["annotations"] = []
    events[0] = b"event: message_start\ndata: " + msgspec.json.encode(start)
    events[1] = b"event: content_block_start\ndata: " + msgspec.json.encode(block)
    return b"\n\n".join(events)


def count_events(chunks: list[bytes]) -> int:
    n = 0
    for _ in rxstream.sse.iter_events(chunks):
        n += 1
    return n


@pytest.mark.parametrize("extras", [False, True], ids=["plain", "with_extras"])
def test_iter_events_with_and_without_undeclared_fields(
    benchmark: BenchmarkFixture,
    text_stream: WireStream,
    record: Callable[[str, int], None],
    extras: bool,
) -> None:
    chunks = chunked(with_extras(text_stream.data), CHUNK) if extras else text_stream.chunks
    assert benchmark(count_events, chunks) == text_stream.events
    record("extras_decode" if extras else "plain_decode", text_stream.events)


def encode_all(encode: Callable[[object], bytes], events: list[rxstream.MessageStreamEvent]) -> int:
    n = 0
    for event in events:
        n += len(encode(event))
    return n


@pytest.mark.parametrize("floor", [False, True], ids=["rxstream", "msgspec"])
def test_encode_every_event(
    benchmark: BenchmarkFixture,
    text_stream: WireStream,
    record: Callable[[str, int], None],
    floor: bool,
) -> None:
    events = list(rxstream.sse.iter_events([with_extras(text_stream.data)]))
    encode = msgspec.json.Encoder().encode if floor else rxstream.encode
    assert benchmark(encode_all, encode, events) > 0
    record("encode_floor" if floor else "encode", len(events))
