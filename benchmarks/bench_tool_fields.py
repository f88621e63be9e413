"""Field events over a ~200 KB tool input in 8-byte `input_json_delta` fragments (4 KiB chunks),
from the SSE bytes to the last event, against:

- `tool_inputs()` on the same bytes, not reading `.partial` (target: `tool_fields()` <= 1.5x its
  time) and reading `.partial` at every delta (what a consumer needs today to see fields);
- the way people use the peers: the whole buffer re-parsed after every fragment by jiter
  (`partial_mode="trailing-strings"`, target: `tool_fields()` >= 50x faster) and by
  pydantic_core (`from_json(..., allow_partial=True)`), one round each (about 10 s);
- itself on a ~1 MB input (5x the size: target <= 6x the time);
- and, for the record, both on the same bytes read one event at a time (the API's own pace,
  where `tool_fields()` cannot take several events in one call).

Run: `.venv/bin/pytest benchmarks/bench_tool_fields.py -p no:cacheprovider --benchmark-only
--benchmark-timer time.process_time`; the ratios are printed at the end (see conftest.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import jiter
import pydantic_core
import pytest
from conftest import (
    RATIOS,
    TOOL_INPUT,
    TOOL_TEXT,
    WireStream,
    make_tool_stream,
    run_tool_inputs,
    tool_input,
)
from pytest_benchmark.fixture import BenchmarkFixture

import rxstream
from rxstream import operators as rxo

RATIOS.extend(
    [
        (
            "time tool_fields() vs tool_inputs(), 200 KB in 8-byte fragments",
            "tool_fields",
            "tf_tool_inputs",
            False,
            "<= 1.5x",
            lambda r: r <= 1.5,
        ),
        (
            "time tool_fields() vs tool_inputs() reading .partial per delta",
            "tool_fields",
            "tf_tool_inputs_partial",
            False,
            "<= 1.5x",
            lambda r: r <= 1.5,
        ),
        (
            "speed tool_fields() vs jiter trailing-strings re-parse per fragment",
            "jiter_reparse",
            "tool_fields",
            False,
            ">= 50x",
            lambda r: r >= 50,
        ),
        (
            "speed tool_fields() vs pydantic_core allow_partial re-parse per fragment",
            "pydantic_reparse",
            "tool_fields",
            False,
            ">= 50x",
            lambda r: r >= 50,
        ),
        (
            "time tool_fields() vs tool_inputs(), one event per read (live pace)",
            "tool_fields_per_event",
            "tf_tool_inputs_per_event",
            False,
            "measured",
            lambda r: True,
        ),
        (
            "time tool_fields() 1 MB vs 200 KB input (5x)",
            "tool_fields_1mb",
            "tool_fields",
            False,
            "<= 6x",
            lambda r: r <= 6,
        ),
    ]
)

TEXT_1MB = tool_input(1_000_000)


@pytest.fixture(scope="module")
def tool_stream_1mb() -> WireStream:
    return make_tool_stream(TEXT_1MB)


@pytest.fixture(scope="module")
def tool_stream_per_event(tool_stream: WireStream) -> WireStream:
    """The same bytes, each read one event (as the API sends them at its own pace): no read
    hands more than one event on."""
    events = [event + b"\n\n" for event in tool_stream.data.split(b"\n\n") if event]
    assert b"".join(events) == tool_stream.data
    return WireStream(tool_stream.data, events, tool_stream.events)


def run_tool_fields(chunks: list[bytes]) -> tuple[int, Any]:
    done = 0
    final: list[Any] = []

    def on_next(item: rxo.FieldDone | rxo.StringChunk | rxo.ToolInput) -> None:
        nonlocal done
        if isinstance(item, rxo.FieldDone):
            done += 1
        elif isinstance(item, rxo.ToolInput):
            final.append(item.input)

    rxstream.from_sse(chunks).pipe(rxo.tool_fields()).subscribe(on_next)
    return done, final[0]


def count_values(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + sum(map(count_values, value.values()))
    if isinstance(value, list):
        return 1 + sum(map(count_values, value))
    return 1


@pytest.mark.parametrize(
    ("key", "reads"),
    [("tool_fields", "tool_stream"), ("tool_fields_per_event", "tool_stream_per_event")],
    ids=["4k_reads", "one_event_per_read"],
)
def test_tool_fields_200kb(
    benchmark: BenchmarkFixture,
    request: pytest.FixtureRequest,
    record: Callable[[str, int], None],
    key: str,
    reads: str,
) -> None:
    stream: WireStream = request.getfixturevalue(reads)
    done, final = benchmark.pedantic(
        run_tool_fields, args=(stream.chunks,), rounds=7, warmup_rounds=1
    )
    assert final == TOOL_INPUT
    assert done == count_values(TOOL_INPUT)
    record(key, stream.events)


def test_tool_fields_1mb(
    benchmark: BenchmarkFixture, tool_stream_1mb: WireStream, record: Callable[[str, int], None]
) -> None:
    done, final = benchmark.pedantic(
        run_tool_fields, args=(tool_stream_1mb.chunks,), rounds=3, warmup_rounds=1
    )
    assert final == json.loads(TEXT_1MB)
    assert done == count_values(final)
    record("tool_fields_1mb", tool_stream_1mb.events)


@pytest.mark.parametrize(
    ("key", "read_partials", "reads"),
    [
        ("tf_tool_inputs", False, "tool_stream"),
        ("tf_tool_inputs_partial", True, "tool_stream"),
        ("tf_tool_inputs_per_event", False, "tool_stream_per_event"),
    ],
    ids=["without_partials", "partial_every_delta", "one_event_per_read"],
)
def test_tool_inputs_same_bytes(
    benchmark: BenchmarkFixture,
    request: pytest.FixtureRequest,
    record: Callable[[str, int], None],
    key: str,
    read_partials: bool,
    reads: str,
) -> None:
    stream: WireStream = request.getfixturevalue(reads)
    result = benchmark.pedantic(
        run_tool_inputs, args=(stream.chunks, read_partials), rounds=7, warmup_rounds=1
    )
    assert result == TOOL_INPUT
    record(key, stream.events)


def reparse_every_fragment(chunks: list[bytes], parse: Callable[[bytearray], Any]) -> Any:
    """What a consumer of the peers writes: append each fragment, parse the whole buffer."""
    buffer = bytearray()
    value: Any = None
    for event in rxstream.sse.iter_events(chunks):
        if event.type == "content_block_delta" and event.delta.type == "input_json_delta":
            buffer += event.delta.partial_json.encode()
            value = parse(buffer)
    return value


def jiter_partial(buffer: bytearray) -> Any:
    return jiter.from_json(bytes(buffer), partial_mode="trailing-strings")


def pydantic_partial(buffer: bytearray) -> Any:
    return pydantic_core.from_json(buffer, allow_partial=True)


@pytest.mark.parametrize(
    ("key", "parse"),
    [("jiter_reparse", jiter_partial), ("pydantic_reparse", pydantic_partial)],
    ids=["jiter", "pydantic_core"],
)
def test_peers_reparse_the_buffer_per_fragment(
    benchmark: BenchmarkFixture,
    tool_stream: WireStream,
    record: Callable[[str, int], None],
    key: str,
    parse: Callable[[bytearray], Any],
) -> None:
    assert len(TOOL_TEXT) >= 200_000
    result = benchmark.pedantic(
        reparse_every_fragment, args=(tool_stream.chunks, parse), rounds=1, iterations=1
    )
    assert result == TOOL_INPUT
    record(key, tool_stream.events)
