"""`AsyncMessageStream` over real sockets, under asyncio and trio: the surface of
`test_adapters.py`, plus cancellation and the reference's concurrent streams."""

from __future__ import annotations

import contextlib
import gc
import json
import uuid
import weakref
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol, TypeAlias, TypeVar, overload

import anyio
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
from rxstream.adapters import AsyncMessageStream, ParsedMessageStopEvent
from rxstream.emulator import Emulator, reply_text_for

pytestmark = pytest.mark.anyio

PARAMS: dict[str, Any] = {
    "model": MODEL,
    "max_tokens": 1024,
    "messages": [{"role": "user", "content": "Hello"}],
}

RICH = Stream(
    [
        Thinking("Let me think: 2 + 2 … 四", chunk=6),
        Text("The answer is 4. Grüße 👋", chunk=5, citations=[CITATIONS["page_location"]]),
        ToolUse({"city": "Zürich", "units": ["c", "f"]}, fragment=7),
        server_tool_use("weather in Zürich"),
        web_search_result(titles=("Zürich weather",)),
        RedactedThinking(),
        Text("Done.", chunk=2),
    ],
    stop_reason="tool_use",
    ping_every=3,
    crlf=True,
)
LONG = Stream([Text("word " * 400, chunk=5)])

DERIVED = {
    "text_delta": "text",
    "input_json_delta": "input_json",
    "thinking_delta": "thinking",
    "signature_delta": "signature",
    "citations_delta": "citation",
}


def sdk_event_types(stream: Stream) -> list[str]:
    """The SDK's iteration: every wire event but `ping`, each delta then its own event."""
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
MakeClient: TypeAlias = Callable[[], rxstream.AsyncClient]


class Streaming(Protocol):
    def __call__(
        self, stream: Stream, chunk: int | None = None
    ) -> AbstractAsyncContextManager[AsyncMessageStream]: ...


T = TypeVar("T")


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
def client(replying: Replying) -> MakeClient:
    """`async with client() as c:` an AsyncClient of the loopback server."""
    return lambda: rxstream.AsyncClient(base_url=replying[0].url, api_key="k", max_retries=0)


@pytest.fixture
def streaming(serve: Serve, client: MakeClient) -> Streaming:
    """`async with streaming(stream, chunk) as s:` serves `stream`, opens the stream."""

    @contextlib.asynccontextmanager
    async def streaming(
        stream: Stream, chunk: int | None = None
    ) -> AsyncIterator[AsyncMessageStream]:
        serve(reply(stream, chunk))
        async with client() as c, c.messages.stream(**PARAMS) as s:
            yield s

    return streaming


async def collect(iterator: AsyncIterable[T]) -> list[T]:
    return [item async for item in iterator]


# --- the SDK's surface --------------------------------------------------------------------


@pytest.mark.parametrize("chunk", [1, 64, None], ids=lambda c: f"chunk={c}")
async def test_iteration_yields_the_sdk_event_sequence_without_ping(
    chunk: int | None, streaming: Streaming
) -> None:
    async with streaming(RICH, chunk) as s:
        types = [event.type async for event in s]
    assert types == sdk_event_types(RICH)


async def test_delta_and_stop_events_carry_what_the_sdk_gives(streaming: Streaming) -> None:
    async with streaming(RICH) as s:
        events = await collect(s)
    texts = [e for e in events if e.type == "text"]
    assert [e.text for e in texts] == text_deltas(RICH)
    assert [e.snapshot for e in texts][:2] == ["The a", "The answer"]
    thinking = [e.snapshot for e in events if e.type == "thinking"]
    assert thinking[0] == "Let me"
    assert thinking[-1] == "Let me think: 2 + 2 … 四"
    (citation,) = [e for e in events if e.type == "citation"]
    assert as_json(citation.citation) == CITATIONS["page_location"]
    inputs = [e.snapshot for e in events if e.type == "input_json"]
    assert {"city": "Zürich", "units": ["c", "f"]} in inputs
    assert inputs[-1] == {"query": "weather in Zürich"}
    stops = [e for e in events if e.type == "content_block_stop"]
    assert [as_json(e.content_block) for e in stops] == RICH.message()["content"]
    assert isinstance(events[-1], ParsedMessageStopEvent)
    assert as_json(events[-1].message) == RICH.message()


async def test_text_stream_yields_every_text_delta(streaming: Streaming) -> None:
    async with streaming(RICH, chunk=3) as s:
        assert await collect(s.text_stream) == text_deltas(RICH)


async def test_get_final_message_and_text_read_the_stream_to_its_end(streaming: Streaming) -> None:
    async with streaming(RICH) as s:
        assert as_json(await s.get_final_message()) == RICH.message()
        assert await s.get_final_text() == "The answer is 4. Grüße 👋Done."
        assert [e.type async for e in s] == sdk_event_types(RICH)  # nothing was lost


async def test_get_final_text_without_a_text_block_raises_runtime_error(
    streaming: Streaming,
) -> None:
    async with streaming(Stream([ToolUse({"a": 1})], stop_reason="tool_use")) as s:
        with pytest.raises(RuntimeError, match="text"):
            await s.get_final_text()


async def test_current_message_snapshot_stands_where_iteration_stands(streaming: Streaming) -> None:
    read: list[str] = []
    async with streaming(RICH) as s:
        async for event in s:
            snapshot = s.current_message_snapshot
            if event.type == "content_block_start":
                read = []
            if event.type == "text":
                read.append(event.text)
                assert isinstance(snapshot.content[-1], rxstream.TextBlock)
                assert snapshot.content[-1].text == event.snapshot == "".join(read)
        assert s.current_message_snapshot == await s.get_final_message()


async def test_until_done_reads_to_the_end_and_keeps_the_events(streaming: Streaming) -> None:
    async with streaming(RICH) as s:
        until_done: Callable[[], Awaitable[object]] = s.until_done  # typed: check at run time
        assert await until_done() is None
        assert as_json(s.current_message_snapshot) == RICH.message()
        assert [e.type async for e in s] == sdk_event_types(RICH)


async def test_response_and_request_id(serve: Serve, client: MakeClient) -> None:
    served = reply(RICH)
    served.headers = {**served.headers, "request-id": "req_async42"}
    server = serve(served)
    async with client() as c, c.messages.stream(**PARAMS) as s:
        assert s.response.status_code == 200
        assert s.request_id == s.response.headers["request-id"] == "req_async42"
        await s.until_done()
    assert json.loads(server.seen[0].body)["stream"] is True


async def test_the_manager_sends_the_request_on_enter_and_closes_on_exit(
    serve: Serve, client: MakeClient
) -> None:
    server = serve(reply(RICH))
    async with client() as c:
        manager = c.messages.stream(**PARAMS)
        assert server.seen == []
        stream = await manager.__aenter__()
        try:
            first = await stream.__aiter__().__anext__()
            assert first.type == "message_start"
        finally:
            await manager.__aexit__(None, None, None)
    assert server.seen[0].closed.wait(2)


@pytest.mark.parametrize("method", ["close", "aclose"])
async def test_close_stops_reading_and_ends_iteration(
    method: str, serve: Serve, client: MakeClient
) -> None:
    server = serve(reply(LONG, delay=0.01))
    async with client() as c, c.messages.stream(**PARAMS) as s:
        events = s.__aiter__()
        while (await events.__anext__()).type != "text":
            pass
        await getattr(s, method)()
        assert server.seen[0].closed.wait(1)
        rest = await collect(events)
    assert all(e.type != "message_stop" for e in rest)


async def test_close_from_another_task_ends_the_readers_iteration(
    serve: Serve, client: MakeClient
) -> None:
    server = serve(Reply(chunks=CountingChunks(LONG), delay=0.01))
    texts: list[str] = []
    async with client() as c, c.messages.stream(**PARAMS) as s:

        async def read() -> None:
            async for text in s.text_stream:  # ends when the other task closes: no error
                texts.append(text)

        async with anyio.create_task_group() as tg:
            tg.start_soon(read)
            await anyio.sleep(0.2)
            await s.close()
        assert server.seen[0].closed.wait(1)
        assert isinstance(LONG.blocks[0], Text)
        assert 0 < len("".join(texts)) < len(LONG.blocks[0].text)
        with pytest.raises(RuntimeError, match="before message_stop"):
            await s.get_final_message()


async def test_a_finished_stream_is_freed_at_once_not_by_the_cyclic_gc(
    streaming: Streaming,
) -> None:
    gc.disable()  # only reference counting may free it
    try:
        async with streaming(LONG) as s:
            await s.until_done()
        freed = weakref.ref(s)
        del s
        assert freed() is None  # its event log does not wait for a full collection
    finally:
        gc.enable()


# --- beyond the SDK -------------------------------------------------------------------------


async def test_text_stream_and_event_iteration_interleaved_each_see_everything(
    streaming: Streaming,
) -> None:
    async with streaming(RICH, chunk=11) as s:
        events, texts = s.__aiter__(), s.text_stream
        types: list[str] = []
        text: list[str] = []
        async for event in events:
            types.append(event.type)
            if event.type == "text":
                text.append(await texts.__anext__())
        text.extend(await collect(texts))
    assert types == sdk_event_types(RICH)
    assert text == text_deltas(RICH)


async def test_text_stream_and_events_consumed_concurrently_each_see_everything(
    streaming: Streaming,
) -> None:
    got: dict[str, list[Any]] = {}
    async with streaming(RICH, chunk=5) as s:

        async def read(name: str, iterator: Any) -> None:
            got[name] = [getattr(x, "type", x) async for x in iterator]

        async with anyio.create_task_group() as tg:
            tg.start_soon(read, "events", s)
            tg.start_soon(read, "text", s.text_stream)
    assert got == {"events": sdk_event_types(RICH), "text": text_deltas(RICH)}


async def test_operators_on_the_events_observable_see_the_iterated_stream(
    streaming: Streaming,
) -> None:
    async with streaming(RICH) as s:
        texts: list[str] = []
        tools: list[Any] = []
        s.events.pipe(ops.text_deltas()).subscribe(texts.append)
        s.events.pipe(ops.tool_inputs()).subscribe(tools.append)
        async for event in s:
            if event.type == "text":
                assert texts[-1] == event.text
    assert texts == text_deltas(RICH)
    finished = [(t.index, t.input) for t in tools if isinstance(t, ops.ToolInput)]
    assert finished == [
        (2, {"city": "Zürich", "units": ["c", "f"]}),
        (3, {"query": "weather in Zürich"}),
    ]


async def test_a_late_subscriber_gets_a_snapshot_first_and_a_complete_final_message(
    streaming: Streaming,
) -> None:
    async with streaming(RICH) as s:
        events = s.__aiter__()
        while (await events.__anext__()).type != "input_json":
            pass
        items: list[Any] = []
        finals: list[rxstream.Message] = []
        s.events.subscribe(items.append)
        s.events.pipe(ops.final_message()).subscribe(finals.append)
        await collect(events)
        assert items[0].type == "snapshot"
        assert finals == [await s.get_final_message()]


# --- leaving early and cancellation ---------------------------------------------------------


async def test_leaving_the_context_early_closes_the_connection_without_reading_the_rest(
    serve: Serve, client: MakeClient
) -> None:
    chunks = CountingChunks(LONG)
    server = serve(Reply(chunks=chunks, delay=0.01))
    async with client() as c:
        async with c.messages.stream(**PARAMS) as s:
            async for event in s:
                if event.type == "text":
                    break
        assert server.seen[0].closed.wait(1)
        with pytest.raises(RuntimeError, match="before message_stop"):
            await s.get_final_message()
        first = s.current_message_snapshot.content[0]
        assert isinstance(first, rxstream.TextBlock)
        assert first.text == "word "
    assert chunks.sent < len(chunks) // 4  # the rest was never sent


async def test_cancelling_the_reading_task_closes_the_connection(
    serve: Serve, client: MakeClient
) -> None:
    chunks = CountingChunks(LONG)
    server = serve(Reply(chunks=chunks, delay=0.01))
    read: list[str] = []
    async with client() as c:
        with anyio.move_on_after(0.15):
            async with c.messages.stream(**PARAMS) as s:
                async for text in s.text_stream:
                    read.append(text)
        assert server.seen[0].closed.wait(1)
        assert read
        first = s.current_message_snapshot.content[0]
        assert isinstance(first, rxstream.TextBlock)
        assert first.text == "".join(read)
    assert chunks.sent < len(chunks) // 4  # the rest was never sent


async def test_cancelling_a_task_group_mid_stream_closes_every_connection(
    serve: Serve, client: MakeClient
) -> None:
    server = serve(Reply(chunks=CountingChunks(LONG), delay=0.01))
    async with client() as c:
        reading = [anyio.Event(), anyio.Event()]

        async def read_forever(started: anyio.Event) -> None:
            async with c.messages.stream(**PARAMS) as s:
                async for _ in s:
                    started.set()

        async with anyio.create_task_group() as tg:
            for started in reading:
                tg.start_soon(read_forever, started)
            for started in reading:
                await started.wait()
            tg.cancel_scope.cancel()
        assert len(server.seen) == 2
        assert all(seen.closed.wait(1) for seen in server.seen)


PROMPTS = ["What is 2+2?", "What is the capital of France?", "What is Python?"]


async def test_concurrent_streams_as_in_the_reference(emulator: Emulator) -> None:
    case = uuid.uuid4().hex
    headers = {"x-emulator-ttft": "0.2", "x-test-case": case}

    async def stream_one(client: rxstream.AsyncClient, prompt: str, into: dict[str, str]) -> None:
        async with client.messages.stream(
            model=MODEL,
            max_tokens=1024,
            messages=[{"role": "user", "content": prompt}],
            extra_headers=headers,
        ) as stream:
            into[prompt] = await stream.get_final_text()

    results: dict[str, str] = {}
    async with (
        rxstream.AsyncClient(base_url=emulator.base_url, api_key="k") as client,
        anyio.create_task_group() as tg,
    ):
        for prompt in PROMPTS:
            tg.start_soon(stream_one, client, prompt, results)
    for prompt in PROMPTS:
        body = {
            "model": MODEL,
            "max_tokens": 1024,
            "messages": [{"role": "user", "content": prompt}],
        }
        assert results[prompt] == reply_text_for(body)
    records = [r for r in emulator.records if r.headers.get("x-test-case") == case]
    assert len(records) == 3
    assert emulator.wait_for(lambda _: all(r.connection_closed for r in records))
    # all three were open at once
    closed_at: list[float] = []
    for r in records:
        assert r.closed_at is not None
        closed_at.append(r.closed_at)
    assert max(r.arrived_at for r in records) < min(closed_at)
