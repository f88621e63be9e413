"""The adapters against the official SDK: `messages.stream()` iterated to the end, then
`get_final_message()`, on the same bytes through mock transports on both sides.

Run: `.venv/bin/pytest benchmarks/bench_adapters.py -p no:cacheprovider --benchmark-only`
(or all of `benchmarks`); the ratios are printed at the end (see conftest.py).

(a) 20,000 text deltas (~2.5 MB, 4 KiB chunks): rxstream >= 10x faster than the SDK.
(b) A ~200 KB tool input in 8-byte `input_json_delta` fragments: >= 200x faster. The SDK
    re-parses the whole input on every delta, so its one round takes tens of seconds.

Each round starts from a collected heap (`setup=collected(client)`): without it, a round pays for
a full collection of the garbage the benchmark before it left (the SDK's pydantic objects).
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from typing import Any

import anthropic
import httpx2
import pytest
from conftest import MODEL, RATIOS, TOOL_INPUT, TOOL_TEXT, WireStream, make_tool_stream
from pytest_benchmark.fixture import BenchmarkFixture

import rxstream

RATIOS.extend(
    [
        (
            "speed MessageStream vs SDK messages.stream(), 20,000 text deltas",
            "sdk_stream_text",
            "adapter_text",
            False,
            ">= 10x",
            lambda r: r >= 10,
        ),
        (
            "speed MessageStream vs SDK messages.stream(), 200 KB tool input",
            "sdk_stream_tool",
            "adapter_tool",
            False,
            ">= 200x",
            lambda r: r >= 200,
        ),
    ]
)

PARAMS: dict[str, Any] = {
    "model": MODEL,
    "max_tokens": 32_000,
    "messages": [{"role": "user", "content": "Go."}],
}


def rxstream_client(chunks: list[bytes]) -> rxstream.Client:
    def answer(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(
            200, headers={"content-type": "text/event-stream"}, content=iter(chunks)
        )

    http = httpx2.Client(transport=httpx2.MockTransport(answer))
    return rxstream.Client(api_key="test", http_client=http, max_retries=0)


def sdk_client(chunks: list[bytes]) -> anthropic.Anthropic:
    def answer(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(
            200, headers={"content-type": "text/event-stream"}, content=iter(chunks)
        )

    http = httpx2.Client(transport=httpx2.MockTransport(answer))
    return anthropic.Anthropic(api_key="test", http_client=http, max_retries=0)


def iterate_then_final_message(client: rxstream.Client | anthropic.Anthropic) -> tuple[int, Any]:
    """What a program does: every event, then the final message."""
    n = 0
    with client.messages.stream(**PARAMS) as stream:
        for _ in stream:
            n += 1
        return n, stream.get_final_message()


def collected(client: Any) -> Callable[[], tuple[tuple[Any, ...], dict[str, Any]]]:
    """A round's setup: collect the garbage earlier benchmarks left, then pass `client`."""

    def setup() -> tuple[tuple[Any, ...], dict[str, Any]]:
        gc.collect()
        return (client,), {}

    return setup


@pytest.fixture(scope="module")
def clients() -> Iterator[Callable[[str, list[bytes]], Any]]:
    made: list[Any] = []

    def make(kind: str, chunks: list[bytes]) -> Any:
        made.append(rxstream_client(chunks) if kind == "rxstream" else sdk_client(chunks))
        return made[-1]

    yield make
    for client in made:
        client.close()


# --- (a) 20,000 text deltas ------------------------------------------------------------------


def final_text(message: Any) -> str:
    return "".join(block.text for block in message.content)


@pytest.mark.parametrize(
    ("kind", "key", "rounds"),
    [("rxstream", "adapter_text", 5), ("sdk", "sdk_stream_text", 3)],
    ids=["rxstream", "sdk"],
)
def test_text_stream_iterated_then_final_message(
    benchmark: BenchmarkFixture,
    record: Callable[[str, int], None],
    clients: Callable[[str, list[bytes]], Any],
    text_stream: WireStream,
    kind: str,
    key: str,
    rounds: int,
) -> None:
    client = clients(kind, text_stream.chunks)
    events, message = benchmark.pedantic(
        iterate_then_final_message, setup=collected(client), rounds=rounds, warmup_rounds=1
    )
    # The SDK's sequence: no ping, a `text` event after each text delta.
    assert events == text_stream.events - 1 + 20_000
    assert len(final_text(message)) > 100_000
    record(key, text_stream.events)


# --- (b) a ~200 KB tool input in 8-byte fragments -----------------------------------------


@pytest.mark.parametrize(
    ("kind", "key", "rounds"),
    [
        ("rxstream", "adapter_tool", {"rounds": 5, "warmup_rounds": 1}),
        ("sdk", "sdk_stream_tool", {"rounds": 1, "iterations": 1}),  # tens of seconds: once
    ],
    ids=["rxstream", "sdk"],
)
def test_tool_input_iterated_then_final_message(
    benchmark: BenchmarkFixture,
    record: Callable[[str, int], None],
    clients: Callable[[str, list[bytes]], Any],
    tool_stream: WireStream,
    kind: str,
    key: str,
    rounds: dict[str, int],
) -> None:
    assert len(TOOL_TEXT) >= 200_000
    client = clients(kind, tool_stream.chunks)
    events, message = benchmark.pedantic(
        iterate_then_final_message, setup=collected(client), **rounds
    )
    fragments = tool_stream.events - 5
    assert events == tool_stream.events + fragments  # an `input_json` after each delta
    assert message.content[0].input == TOOL_INPUT
    record(key, tool_stream.events)


if __name__ == "__main__":  # profile rxstream's side: python benchmarks/bench_adapters.py
    import cProfile
    import pstats

    client = rxstream_client(make_tool_stream().chunks)
    cProfile.run("iterate_then_final_message(client)", "/tmp/bench_adapters.prof")
    pstats.Stats("/tmp/bench_adapters.prof").sort_stats("tottime").print_stats(15)
