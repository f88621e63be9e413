"""`MessageStream` over real sockets: the official SDK's streaming surface, and what it adds.

Each test serves exact SSE bytes (built with `streams.py`) from the loopback server and reads
them through `rxstream.Client(...).messages.stream(...)`, as an SDK user's program would.
"""

from __future__ import annotations

import contextlib
import gc
import json
import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol, TypeAlias, overload

import pytest
from loopback import LoopbackServer, Reply, loopback
from streams import (
    CITATIONS,
    MODEL,
    RedactedThinking,
    Stream,
    Text,
    Thinking,
    ToolUse,
    chunked,
    frame,
    server_tool_use,
    web_search_result,
)

import rxstream
from rxstream import operators as ops
from rxstream.adapters import MessageStream, ParsedMessageStopEvent

PARAMS: dict[str, Any] = {
    "model": MODEL,
    "max_tokens": 1024,
    "messages": [{"role": "user", "content": "Hello"}],
}

# Every block and delta kind, with pings between events.
RICH = Stream(
    [
        Thinking("Let me think: 2 + 2 … 四", chunk=6),
        Text("The answer is 4. Grüße 👋", chunk=5, citations=[CITATIONS["char_location"]]),
        ToolUse({"city": "Zürich", "units": ["c", "f"]}, fragment=7),
        server_tool_use("weather in Zürich"),
        web_search_result(titles=("Zürich weather", "MeteoSwiss")),
        RedactedThinking(),
        Text("Done.", chunk=2),
    ],
    stop_reason="tool_use",
    ping_every=3,
)
LONG = Stream([Text("word " * 400, chunk=5)])

# What the SDK yields after each kind of content_block_delta.
DERIVED = {
    "text_delta": "text",
    "input_json_delta": "input_json",
    "thinking_delta": "thinking",
    "signature_delta": "signature",
    "citations_delta": "citation",
}


def sdk_event_types(stream: Stream) -> list[str]:
    """The SDK's iteration for `stream`: every wire event but `ping`, each delta followed by
    its higher-level event."""
    out: list[str] = []
    for event in stream.events():
        if event["type"] != "ping":
            out.append(event["type"])
        if event["type"] == "content_block_delta":
            out.append(DERIVED[event["delta"]["type"]])
    return out


def text_deltas(stream: Stream) -> list[str]:
    return [
        e["delta"]["text"]
        for e in stream.events()
        if e["type"] == "content_block_delta" and e["delta"]["type"] == "text_delta"
    ]


def as_json(value: Any) -> Any:
    return json.loads(rxstream.encode(value))


def reply(stream: Stream, chunk: int | None = None, **kw: Any) -> Reply:
    data = stream.sse()
    return Reply(chunks=chunked(data, chunk) if chunk else [data], **kw)


class CountingChunks(Sequence[bytes]):
    """Chunks one event each, counting how many the server has taken to send."""

    def __init__(self, stream: Stream) -> None:
        self.chunks = [frame(event) for event in stream.events()]
        self.sent = 0

    def __len__(self) -> int:
        return len(self.chunks)

    @overload
    def __getitem__(self, index: int) -> bytes: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[bytes]: ...
    def __getitem__(self, index: int | slice) -> bytes | Sequence[bytes]:
        return self.chunks[index]  # not counted: the server only iterates

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.chunks:
            self.sent += 1
            yield chunk


Replying: TypeAlias = tuple[LoopbackServer, list[Reply]]
Serve: TypeAlias = Callable[[Reply], LoopbackServer]


class Streaming(Protocol):
    def __call__(
        self, stream: Stream, chunk: int | None = None
    ) -> AbstractContextManager[MessageStream]: ...


@pytest.fixture(scope="module")
def replying() -> Iterator[Replying]:
    """One loopback server for the module, answering with the last reply in the list."""
    replies = [Reply()]
    with loopback(lambda seen: replies[-1]) as server:
        yield server, replies


@pytest.fixture
def serve(replying: Replying) -> Serve:
    """`serve(reply)`: the server answers with `reply` from now on; returns the server."""
    server, replies = replying

    def serve(reply: Reply) -> LoopbackServer:
        replies.append(reply)
        server.seen.clear()
        return server

    return serve


@pytest.fixture
def client(replying: Replying) -> Iterator[rxstream.Client]:
    with rxstream.Client(base_url=replying[0].url, api_key="test-key", max_retries=0) as client:
        yield client


@pytest.fixture
def streaming(serve: Serve, client: rxstream.Client) -> Streaming:
    """`with streaming(stream, chunk) as s:` serves `stream` and opens a `MessageStream`."""

    @contextlib.contextmanager
    def streaming(stream: Stream, chunk: int | None = None) -> Iterator[MessageStream]:
        serve(reply(stream, chunk))
        with client.messages.stream(**PARAMS) as s:
            yield s

    return streaming


# --- the SDK's surface --------------------------------------------------------------------


@pytest.mark.parametrize("chunk", [1, 7, 64, None], ids=lambda c: f"chunk={c}")
@pytest.mark.parametrize("crlf", [False, True], ids=["lf", "crlf"])
def test_iteration_yields_the_sdk_event_sequence_without_ping(
    chunk: int | None, crlf: bool, streaming: Streaming
) -> None:
    stream = Stream(RICH.blocks, stop_reason="tool_use", ping_every=3, crlf=crlf)
    with streaming(stream, chunk) as s:
        types = [event.type for event in s]
    assert types == sdk_event_types(stream)
    assert "ping" not in types


def per_block(events: list[Any]) -> list[list[Any]]:
    """The events between each content_block_start and its stop, block by block."""
    blocks: list[list[Any]] = []
    inside = False
    for event in events:
        if event.type in ("content_block_start", "content_block_stop"):
            inside = event.type == "content_block_start"
            blocks += [[]] if inside else []
        elif inside and event.type != "content_block_delta":
            blocks[-1].append(event)
    return blocks


def test_delta_events_carry_their_payload_and_block_snapshot(streaming: Streaming) -> None:
    with streaming(RICH) as s:
        thinking, text, tool, server_tool, _, _, last_text = per_block(list(s))
    *thoughts, signature = thinking
    assert [e.type for e in thoughts] == ["thinking"] * len(thoughts)
    assert thoughts[0].snapshot == thoughts[0].thinking == "Let me"
    assert thoughts[-1].snapshot == "Let me think: 2 + 2 … 四"
    assert signature.type == "signature"
    assert isinstance(RICH.blocks[0], Thinking)
    assert signature.signature == RICH.blocks[0].signature
    texts = [e for e in text if e.type == "text"]
    assert [e.snapshot for e in texts][:2] == ["The a", "The answer"]
    (citation,) = [e for e in text if e.type == "citation"]
    assert as_json(citation.citation) == CITATIONS["char_location"]
    assert [as_json(c) for c in citation.snapshot] == [CITATIONS["char_location"]]
    assert isinstance(RICH.blocks[2], ToolUse)
    assert "".join(e.partial_json for e in tool) == RICH.blocks[2].text
    assert tool[-1].snapshot == {"city": "Zürich", "units": ["c", "f"]}
    assert server_tool[-1].snapshot == {"query": "weather in Zürich"}
    assert [e.text for e in last_text] == ["Do", "ne", "."]


def test_stop_events_carry_the_completed_block_and_message(streaming: Streaming) -> None:
    with streaming(RICH) as s:
        events = list(s)
    stops = [e for e in events if e.type == "content_block_stop"]
    expected = RICH.message()
    assert [e.index for e in stops] == list(range(len(RICH.blocks)))
    assert [as_json(e.content_block) for e in stops] == expected["content"]
    assert isinstance(events[-1], ParsedMessageStopEvent)
    assert as_json(events[-1].message) == expected


@pytest.mark.parametrize("chunk", [3, None], ids=lambda c: f"chunk={c}")
def test_text_stream_yields_every_text_delta(chunk: int | None, streaming: Streaming) -> None:
    with streaming(RICH, chunk) as s:
        assert list(s.text_stream) == text_deltas(RICH)


def test_get_final_message_is_the_whole_message(streaming: Streaming) -> None:
    with streaming(RICH) as s:
        for _ in s:
            pass
        message = s.get_final_message()
    assert as_json(message) == RICH.message()


def test_get_final_message_reads_the_stream_to_its_end_without_iteration(
    streaming: Streaming,
) -> None:
    with streaming(RICH) as s:
        assert as_json(s.get_final_message()) == RICH.message()
        assert [e.type for e in s] == sdk_event_types(RICH)  # nothing was lost


def test_get_final_text_concatenates_all_text_blocks(streaming: Streaming) -> None:
    with streaming(RICH) as s:
        assert s.get_final_text() == "The answer is 4. Grüße 👋Done."


def test_get_final_text_without_a_text_block_raises_runtime_error(streaming: Streaming) -> None:
    with streaming(Stream([ToolUse({"a": 1})], stop_reason="tool_use")) as s:
        with pytest.raises(RuntimeError, match="text"):
            s.get_final_text()
        assert s.get_final_message().stop_reason == "tool_use"


def test_current_message_snapshot_follows_iteration_and_is_never_mutated(
    streaming: Streaming,
) -> None:
    kept: list[tuple[rxstream.Message, bytes]] = []
    read: list[str] = []
    with streaming(RICH) as s:
        for event in s:
            snapshot = s.current_message_snapshot
            kept.append((snapshot, rxstream.encode(snapshot)))
            if event.type == "content_block_start":
                read = []
            if event.type == "text":
                read.append(event.text)
                # exactly the events read so far: not a chunk ahead, not one behind
                assert isinstance(snapshot.content[-1], rxstream.TextBlock)
                assert snapshot.content[-1].text == event.snapshot == "".join(read)
            if event.type == "content_block_stop":
                assert len(snapshot.content) == event.index + 1
        final = s.get_final_message()
    assert all(rxstream.encode(snapshot) == encoded for snapshot, encoded in kept)
    assert kept[-1][0] == final


def test_until_done_reads_to_the_end_and_keeps_the_events(streaming: Streaming) -> None:
    with streaming(RICH) as s:
        until_done: Callable[[], object] = s.until_done  # typed `-> None`: check it at run time
        assert until_done() is None
        assert as_json(s.current_message_snapshot) == RICH.message()
        assert [e.type for e in s] == sdk_event_types(RICH)


def test_response_and_request_id(serve: Serve, client: rxstream.Client) -> None:
    served = reply(RICH)
    served.headers = {**served.headers, "request-id": "req_0123abc"}
    server = serve(served)
    with client.messages.stream(**PARAMS) as s:
        assert s.response.status_code == 200
        assert s.response.headers["request-id"] == "req_0123abc"
        assert s.request_id == "req_0123abc"
        assert s.response.headers["content-type"].startswith("text/event-stream")
        s.until_done()
    assert server.seen[0].path == "/v1/messages"
    assert json.loads(server.seen[0].body)["stream"] is True


def test_the_manager_sends_the_request_on_enter_and_closes_on_exit(
    serve: Serve, client: rxstream.Client
) -> None:
    server = serve(reply(RICH))
    manager = client.messages.stream(**PARAMS)
    assert server.seen == []  # nothing sent yet
    stream = manager.__enter__()
    try:
        first = next(iter(stream))
        assert first.type == "message_start"
        assert len(server.seen) == 1
    finally:
        manager.__exit__(None, None, None)
    assert server.seen[0].closed.wait(2)


def test_close_stops_reading_and_ends_iteration(serve: Serve, client: rxstream.Client) -> None:
    server = serve(reply(LONG, delay=0.01))
    with client.messages.stream(**PARAMS) as s:
        events = iter(s)
        while next(events).type != "text":
            pass
        s.close()
        assert server.seen[0].closed.wait(1)
        rest = list(events)
    assert all(e.type != "message_stop" for e in rest)


def test_close_from_another_thread_ends_the_readers_iteration(
    serve: Serve, client: rxstream.Client
) -> None:
    server = serve(Reply(chunks=CountingChunks(LONG), delay=0.01))
    with client.messages.stream(**PARAMS) as s:
        closer = threading.Timer(0.2, s.close)
        closer.start()
        texts = list(s.text_stream)  # ends when the other thread closes: no error
        closer.join()
        assert server.seen[0].closed.wait(1)
        assert isinstance(LONG.blocks[0], Text)
        assert 0 < len("".join(texts)) < len(LONG.blocks[0].text)
        with pytest.raises(RuntimeError, match="before message_stop"):
            s.get_final_message()


def test_a_finished_stream_is_freed_at_once_not_by_the_cyclic_gc(streaming: Streaming) -> None:
    gc.disable()  # only reference counting may free it
    try:
        with streaming(LONG) as s:
            s.until_done()
        freed = weakref.ref(s)
        del s
        assert freed() is None  # its event log does not wait for a full collection
    finally:
        gc.enable()


# --- beyond the SDK: several consumers of one stream ----------------------------------------


def _interleaved(s: MessageStream) -> tuple[list[str], list[str]]:
    events, texts = iter(s), iter(s.text_stream)
    types: list[str] = []
    text: list[str] = []
    for event in events:
        types.append(event.type)
        if event.type == "text":
            text.append(next(texts))
    text.extend(texts)
    return types, text


def _events_then_text(s: MessageStream) -> tuple[list[str], list[str]]:
    types: list[str] = [e.type for e in s]
    return types, list(s.text_stream)


def _text_then_events(s: MessageStream) -> tuple[list[str], list[str]]:
    text = list(s.text_stream)
    return [e.type for e in s], text


@pytest.mark.parametrize("consume", [_interleaved, _events_then_text, _text_then_events])
def test_text_stream_and_event_iteration_each_see_everything(
    consume: Callable[[MessageStream], tuple[list[str], list[str]]], streaming: Streaming
) -> None:
    with streaming(RICH, chunk=11) as s:
        types, text = consume(s)
    assert types == sdk_event_types(RICH)
    assert text == text_deltas(RICH)


def test_operators_on_the_events_observable_see_each_event_as_iteration_pulls_it(
    streaming: Streaming,
) -> None:
    with streaming(RICH) as s:
        texts: list[str] = []
        tools: list[Any] = []
        s.events.pipe(ops.text_deltas()).subscribe(texts.append)
        s.events.pipe(ops.tool_inputs()).subscribe(tools.append)
        seen_texts = 0
        for event in s:
            if event.type == "text":
                seen_texts += 1
                # pushed synchronously: the operator has already seen this very delta
                assert len(texts) == seen_texts
                assert texts[-1] == event.text
    assert texts == text_deltas(RICH)
    finished = [t for t in tools if isinstance(t, ops.ToolInput)]
    assert [(t.index, t.name, t.input) for t in finished] == [
        (2, "get_weather", {"city": "Zürich", "units": ["c", "f"]}),
        (3, "web_search", {"query": "weather in Zürich"}),
    ]
    fragments = [t.partial_json for t in tools if isinstance(t, ops.ToolInputDelta)]
    assert isinstance(RICH.blocks[2], ToolUse)
    assert isinstance(RICH.blocks[3], ToolUse)
    assert "".join(fragments) == RICH.blocks[2].text + RICH.blocks[3].text


def test_a_late_subscriber_gets_a_snapshot_first_and_a_complete_final_message(
    streaming: Streaming,
) -> None:
    with streaming(RICH) as s:
        events = iter(s)
        while next(events).type != "input_json":
            pass
        items: list[Any] = []
        finals: list[rxstream.Message] = []
        s.events.subscribe(items.append)
        s.events.pipe(ops.final_message()).subscribe(finals.append)
        for _ in events:
            pass
        assert items[0].type == "snapshot"
        assert [b.type for b in items[0].snapshot.content] == ["thinking", "text", "tool_use"]
        assert finals == [s.get_final_message()]
        assert as_json(finals[0]) == RICH.message()


def test_subscribing_after_the_end_gets_the_snapshot_and_completion(streaming: Streaming) -> None:
    with streaming(RICH) as s:
        s.until_done()
        texts: list[str] = []
        completed: list[bool] = []
        s.events.pipe(ops.final_text()).subscribe(
            texts.append, on_completed=lambda: completed.append(True)
        )
    assert texts == ["The answer is 4. Grüße 👋Done."]
    assert completed == [True]


# --- leaving early --------------------------------------------------------------------------


@pytest.mark.parametrize("leave", ["break", "exception"])
def test_leaving_the_context_early_closes_the_connection_without_reading_the_rest(
    leave: str, serve: Serve, client: rxstream.Client
) -> None:
    chunks = CountingChunks(LONG)
    server = serve(Reply(chunks=chunks, delay=0.01))
    raised = pytest.raises(KeyError) if leave == "exception" else contextlib.nullcontext()
    with raised, client.messages.stream(**PARAMS) as s:
        for event in s:
            if event.type == "text":
                if leave == "exception":
                    raise KeyError("the caller's own error")
                break
    assert server.seen[0].closed.wait(1)
    assert chunks.sent < len(chunks) // 4  # the rest was never sent


def test_get_final_message_after_an_early_close_raises_but_the_snapshot_stays(
    serve: Serve, client: rxstream.Client
) -> None:
    serve(reply(LONG, chunk=64))
    with client.messages.stream(**PARAMS) as s:
        texts = []
        for text in s.text_stream:
            texts.append(text)
            if len(texts) == 3:
                break
    with pytest.raises(RuntimeError, match="before message_stop"):
        s.get_final_message()
    with pytest.raises(RuntimeError, match="before message_stop"):
        s.get_final_text()
    partial = s.current_message_snapshot
    assert partial.stop_reason is None
    assert isinstance(partial.content[0], rxstream.TextBlock)
    assert partial.content[0].text == "".join(texts)  # exactly what was read
