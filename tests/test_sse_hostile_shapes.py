"""The decoder is linear on any input: 1 MB of each hostile shape, in one chunk, in 4 KiB chunks
and one byte at a time, decodes to the right events well inside the test timeout (the quadratic
fast path took 47 s for 256 KiB of some of these; the time ratios are in
benchmarks/bench_sse_hostile.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from rxstream._sse import RawEvent
from rxstream.sse import SSEDecoder

SIZE = 1 << 20


@dataclass(frozen=True)
class Shape:
    """A hostile input of about `size` bytes, and the events it must decode to."""

    data: bytes
    events: list[tuple[bytes | None, bytes]]
    last_id: str = ""


def _repeat(unit: bytes, size: int) -> bytes:
    return unit * (size // len(unit))


def event_in_data_with_id(size: int) -> Shape:
    data = _repeat(b"event: ", size)
    return Shape(
        b"event: content_block_delta\nid: 7\ndata: " + data + b"\n\n",
        [(b"content_block_delta", data)],
        "7",
    )


def data_in_data(size: int) -> Shape:
    data = _repeat(b"data: ", size)
    return Shape(b"event: x\ndata: " + data + b"\n\n", [(b"x", data)])


def comment_full_of_events(size: int) -> Shape:
    return Shape(b": " + _repeat(b"event: ", size) + b"\nevent: x\ndata: y\n\n", [(b"x", b"y")])


def unknown_field_full_of_events(size: int) -> Shape:
    line = b"foo: " + _repeat(b"event: data: ", size)
    return Shape(line + b"\nevent: x\ndata: y\n\n", [(b"x", b"y")])


def id_and_retry_on_every_event(size: int) -> Shape:
    unit = b"id: 1\nretry: 5\nevent: x\ndata: {}\n\n"
    n = size // len(unit)
    return Shape(unit * n, [(b"x", b"{}")] * n, "1")


def event_lines_without_data(size: int) -> Shape:
    return Shape(_repeat(b"event: x\n", size) + b"data: 1\n\n", [(b"x", b"1")])


def long_line_without_newline(size: int) -> Shape:
    # Never dispatched (no blank line): the decoder holds it and `end()` reports it.
    return Shape(b"data: " + _repeat(b"x", size), [])


def tiny_events(size: int) -> Shape:
    n = size // 9
    return Shape(b"data: x\n\n" * n, [(None, b"x")] * n)


def cr_only_line_ends(size: int) -> Shape:
    unit = b"event: x\rdata: event: y\r\r"
    n = size // len(unit)
    return Shape(unit * n, [(b"x", b"event: y")] * n)


def api_events_among_comments(size: int) -> Shape:
    unit = b"event: x\ndata: event: data: \n\n: event: data: \n\n"
    n = size // len(unit)
    return Shape(unit * n, [(b"x", b"event: data: ")] * n)


SHAPES: list[Callable[[int], Shape]] = [
    event_in_data_with_id,
    data_in_data,
    comment_full_of_events,
    unknown_field_full_of_events,
    id_and_retry_on_every_event,
    event_lines_without_data,
    long_line_without_newline,
    tiny_events,
    cr_only_line_ends,
    api_events_among_comments,
]


def decode(data: bytes, chunk: int | None) -> tuple[list[RawEvent], bool, str]:
    decoder = SSEDecoder()
    out: list[RawEvent] = []
    if chunk is None:
        out += decoder.feed(data)
    else:
        feed = decoder.feed
        for i in range(0, len(data), chunk):
            out += feed(data[i : i + chunk])
    rest, leftover = decoder.end()
    return out + rest, leftover, decoder.last_event_id


@pytest.mark.timeout(40)
@pytest.mark.parametrize("chunk", [None, 4096, 1], ids=["whole", "4KiB", "1B"])
@pytest.mark.parametrize("make", SHAPES, ids=lambda f: f.__name__)
def test_one_megabyte_of_each_hostile_shape_decodes_exactly(
    make: Callable[[int], Shape], chunk: int | None
) -> None:
    shape = make(SIZE)
    assert len(shape.data) > SIZE - 64
    events, leftover, last_id = decode(shape.data, chunk)
    assert [(name, data) for name, data, *_ in events] == shape.events
    assert leftover == (not shape.events)
    assert last_id == shape.last_id
