"""Cold sources: one byte source opened per subscription, closed at once on dispose, every
failure delivered as an rxstream exception (and never swallowed)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import httpx2
import pytest
import reactivex
from reactivex import operators as ops
from reactivex.scheduler import CurrentThreadScheduler
from streams import Stream, Text, ToolUse, chunked, error_event, sse

import rxstream
from rxstream import (
    APIConnectionError,
    APIStatusError,
    IncompleteStreamError,
    OverloadedError,
    RateLimitError,
    StreamDecodeError,
)
from rxstream import operators as rxo
from rxstream._pump import EventPump, Opened
from rxstream._sources import EventSource
from rxstream.errors import (
    AuthenticationError,
    BadRequestError,
    BillingError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RequestTooLargeError,
)

STREAM = Stream([Text("Bonjour, ça va ? 👋", chunk=3), ToolUse({"q": "Zürich"}, fragment=4)])
DATA = STREAM.sse()
CHUNKS = chunked(DATA, 37)
EVENT_COUNT = len(STREAM.events())


class Recorder:
    """An observer that records what it receives."""

    def __init__(self) -> None:
        self.events: list[Any] = []
        self.errors: list[Exception] = []
        self.completed = 0

    def on_next(self, value: Any) -> None:
        self.events.append(value)

    def on_error(self, error: Exception) -> None:
        self.errors.append(error)

    def on_completed(self) -> None:
        self.completed += 1

    def subscribe_to(self, source: reactivex.Observable[Any]) -> Recorder:
        source.subscribe(self.on_next, self.on_error, self.on_completed)
        return self


class TrackedChunks:
    """A generator of chunks that records how far it was read and whether it was closed."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.read = 0
        self.closed = False

    def __call__(self) -> Iterator[bytes]:
        try:
            for chunk in self.chunks:
                self.read += 1
                yield chunk
        finally:
            self.closed = True


def final_json(source: reactivex.Observable[Any]) -> Any:
    out: list[Any] = []
    source.pipe(rxo.final_message()).subscribe(out.append)
    (message,) = out
    return json.loads(rxstream.encode(message))


# --- sources and re-subscription ----------------------------------------------------------


def test_from_sse_over_a_list_delivers_every_event_then_completes() -> None:
    recorder = Recorder().subscribe_to(rxstream.from_sse(CHUNKS))
    assert [e.type for e in recorder.events] == [e["type"] for e in STREAM.events()]
    assert (recorder.errors, recorder.completed) == ([], 1)


def test_a_list_source_can_be_subscribed_again() -> None:
    source = rxstream.from_sse(CHUNKS)
    assert final_json(source) == final_json(source) == STREAM.message()


def test_a_callable_source_is_called_once_per_subscription() -> None:
    calls: list[int] = []

    def open_chunks() -> Iterator[bytes]:
        calls.append(1)
        yield from CHUNKS

    source = rxstream.from_sse(open_chunks)
    assert calls == []  # cold: nothing happens before a subscription
    assert final_json(source) == final_json(source) == STREAM.message()
    assert len(calls) == 2


def test_a_generator_source_is_read_once_then_found_empty() -> None:
    source = rxstream.from_sse(c for c in CHUNKS)
    assert final_json(source) == STREAM.message()
    again = Recorder().subscribe_to(source)
    assert again.events == []
    assert isinstance(again.errors[0], IncompleteStreamError)
    assert "before message_start" in str(again.errors[0])


@pytest.mark.parametrize("size", [1, 2, 5, 4096])
def test_chunking_does_not_change_the_events(size: int) -> None:
    assert final_json(rxstream.from_sse(chunked(DATA, size))) == STREAM.message()


# --- disposal ------------------------------------------------------------------------------


def test_take_stops_reading_and_closes_the_generator_at_once() -> None:
    chunks = TrackedChunks(chunked(DATA, 1))  # one byte per chunk: reading on would show
    recorder = Recorder().subscribe_to(rxstream.from_sse(chunks).pipe(ops.take(3)))
    assert [e.type for e in recorder.events] == ["message_start", "ping", "content_block_start"]
    assert recorder.completed == 1
    assert chunks.closed
    third_event_end = len(sse(STREAM.events()[:3]))
    assert chunks.read == third_event_end  # not one byte more


def test_disposing_from_on_next_stops_delivery_and_closes_the_generator() -> None:
    chunks = TrackedChunks(chunked(DATA, 16))
    recorder = Recorder()
    subscription: list[Any] = []

    def on_next(event: Any) -> None:
        recorder.on_next(event)
        if len(recorder.events) == 4:
            subscription[0].dispose()
            assert chunks.closed  # at once, inside dispose()

    def subscribe(*_: Any) -> None:
        # Inside a trampoline action, subscribe() returns before the first event arrives.
        subscription.append(
            rxstream.from_sse(chunks).subscribe(on_next, recorder.on_error, recorder.on_completed)
        )

    CurrentThreadScheduler.singleton().schedule(subscribe)
    assert len(recorder.events) == 4
    assert (recorder.errors, recorder.completed) == ([], 0)
    assert chunks.read < len(chunks.chunks)


def test_disposing_before_the_trampoline_runs_never_opens_the_source() -> None:
    chunks = TrackedChunks(CHUNKS)

    def subscribe_and_dispose(*_: Any) -> None:
        rxstream.from_sse(chunks).subscribe(lambda e: None).dispose()

    CurrentThreadScheduler.singleton().schedule(subscribe_and_dispose)
    assert chunks.read == 0


def test_the_generator_is_closed_after_completion_and_after_an_error() -> None:
    done = TrackedChunks(CHUNKS)
    Recorder().subscribe_to(rxstream.from_sse(done))
    assert done.closed
    failed = TrackedChunks(chunked(sse([*STREAM.events()[:4], error_event("api_error")]), 9))
    assert Recorder().subscribe_to(rxstream.from_sse(failed)).errors
    assert failed.closed


# --- errors ----------------------------------------------------------------------------------


def test_a_stream_that_ends_early_is_incomplete_with_the_partial_message() -> None:
    cut = STREAM.events()[:5]  # message_start, ping, block start, "Bon", "jou"
    recorder = Recorder().subscribe_to(rxstream.from_sse([sse(cut)]))
    assert len(recorder.events) == 5
    (error,) = recorder.errors
    assert isinstance(error, IncompleteStreamError)
    assert isinstance(error, APIConnectionError)
    assert error.partial_message is not None
    block = error.partial_message.content[0]
    assert isinstance(block, rxstream.TextBlock)
    assert block.text == "Bonjour, ça va ? 👋"[:6]


def test_an_event_without_its_closing_blank_line_at_the_end_is_not_delivered() -> None:
    data = DATA[: -len(b"\n")]  # message_stop loses its blank line
    recorder = Recorder().subscribe_to(rxstream.from_sse([data]))
    assert recorder.events[-1].type == "message_delta"
    assert isinstance(recorder.errors[0], IncompleteStreamError)


ERROR_TYPES = {
    "overloaded_error": (OverloadedError, 529),
    "rate_limit_error": (RateLimitError, 429),
    "api_error": (InternalServerError, 500),
    "timeout_error": (InternalServerError, 504),
    "invalid_request_error": (BadRequestError, 400),
    "authentication_error": (AuthenticationError, 401),
    "billing_error": (BillingError, 402),
    "permission_error": (PermissionDeniedError, 403),
    "not_found_error": (NotFoundError, 404),
    "request_too_large": (RequestTooLargeError, 413),
    "brand_new_error": (APIStatusError, 200),
}


@pytest.mark.parametrize(("error_type", "expected"), ERROR_TYPES.items(), ids=ERROR_TYPES.keys())
def test_an_in_stream_error_event_reaches_on_error_as_its_class(
    error_type: str, expected: tuple[type[APIStatusError], int]
) -> None:
    cls, status = expected
    events = [*STREAM.events()[:5], {**error_event(error_type, "try later"), "request_id": "req_7"}]
    recorder = Recorder().subscribe_to(rxstream.from_sse([sse(events)]))
    assert len(recorder.events) == 5  # the error event itself is not an on_next
    (error,) = recorder.errors
    assert type(error) is cls
    assert (error.status_code, error.error_type, error.request_id) == (status, error_type, "req_7")
    assert error.message == f"{error_type}: try later"
    assert error.partial_message is not None
    block = error.partial_message.content[0]
    assert isinstance(block, rxstream.TextBlock)
    assert block.text == "Bonjou"


@pytest.mark.parametrize("size", [1, 13, 1 << 20])
def test_the_events_before_an_error_are_delivered_however_the_bytes_are_chunked(
    size: int,
) -> None:
    events = [*STREAM.events()[:7], error_event("overloaded_error")]
    recorder = Recorder().subscribe_to(rxstream.from_sse(chunked(sse(events), size)))
    assert [e.type for e in recorder.events] == [e["type"] for e in events[:7]]
    assert isinstance(recorder.errors[0], OverloadedError)


def reads(source: reactivex.Observable[Any]) -> reactivex.Observable[Any]:
    """`source.reads`: `from_sse` and `from_response` return an `EventSource`."""
    assert isinstance(source, EventSource)
    return source.reads


def flat_reads(items: list[Any]) -> list[Any]:
    """The events of `reads` items, in order (a list per read of several, else one event)."""
    out: list[Any] = []
    for item in items:
        if isinstance(item, list):
            assert len(item) > 1  # a single event comes alone
            out += item
        else:
            out.append(item)
    return out


@pytest.mark.parametrize("size", [1, 37, 1 << 20])
def test_reads_gives_the_same_events_with_those_of_one_read_together(size: int) -> None:
    source = rxstream.from_sse(chunked(DATA, size))
    one_by_one = Recorder().subscribe_to(source)
    by_read = Recorder().subscribe_to(reads(source))
    assert (by_read.errors, by_read.completed) == ([], 1)
    assert flat_reads(by_read.events) == one_by_one.events
    lists = [item for item in by_read.events if isinstance(item, list)]
    if size == 1:  # a byte at a time: no read completes two events
        assert lists == []
    if size == 1 << 20:  # one read: every event in one list
        assert len(by_read.events) == 1
        assert len(by_read.events[0]) == EVENT_COUNT


@pytest.mark.parametrize("size", [1, 13, 1 << 20])
def test_reads_delivers_the_events_before_an_in_stream_error_then_the_error(size: int) -> None:
    events = [*STREAM.events()[:7], error_event("overloaded_error")]
    recorder = Recorder().subscribe_to(reads(rxstream.from_sse(chunked(sse(events), size))))
    assert [e.type for e in flat_reads(recorder.events)] == [e["type"] for e in events[:7]]
    (error,) = recorder.errors
    assert isinstance(error, OverloadedError)
    assert error.partial_message is not None  # what the events before it made
    block = error.partial_message.content[0]
    assert isinstance(block, rxstream.TextBlock)
    assert block.text == "Bonjour, ça "


def test_reads_of_an_incomplete_stream_end_with_incomplete_stream_error() -> None:
    events = STREAM.events()[:-1]  # no message_stop
    recorder = Recorder().subscribe_to(reads(rxstream.from_sse([sse(events)])))
    assert len(flat_reads(recorder.events)) == len(events)
    (error,) = recorder.errors
    assert isinstance(error, IncompleteStreamError)


def test_take_on_reads_stops_reading_and_closes_the_generator() -> None:
    chunks = chunked(DATA, 200)
    tracked = TrackedChunks(chunks)
    recorder = Recorder().subscribe_to(reads(rxstream.from_sse(tracked)).pipe(ops.take(1)))
    assert recorder.completed == 1
    first_read = len(sse(STREAM.events()[:1])) // 200 + 1  # the read that completes one
    assert tracked.read == first_read < len(chunks)
    assert tracked.closed


def test_reads_with_a_retry_holds_the_events_back_until_content() -> None:
    """A retried stream: the first attempt fails before any content; by read, the events of
    the first attempt never come out, and the second's come as its reads complete them."""
    failed = sse([STREAM.events()[0], error_event("overloaded_error")])
    attempts = iter([[failed], chunked(DATA, 300)])
    slept: list[float] = []

    def pump() -> EventPump:
        return EventPump(lambda: Opened(iter(next(attempts))), retries=1, sleep=slept.append)

    items = list(pump().reads())
    assert len(slept) == 1
    attempts = iter([[failed], chunked(DATA, 300)])
    assert flat_reads(items) == list(pump())
    assert [e.type for e in flat_reads(items)] == [e["type"] for e in STREAM.events()]


def test_an_error_before_message_start_has_no_partial_message() -> None:
    recorder = Recorder().subscribe_to(rxstream.from_sse([sse([error_event("overloaded_error")])]))
    (error,) = recorder.errors
    assert isinstance(error, OverloadedError)
    assert error.partial_message is None


def test_bytes_that_are_not_an_event_stream_give_stream_decode_error() -> None:
    data = sse(STREAM.events()[:2]) + b"event: content_block_start\ndata: {not json\n\n"
    (error,) = Recorder().subscribe_to(rxstream.from_sse([data])).errors
    assert isinstance(error, StreamDecodeError)
    assert "invalid JSON" in str(error)


def test_a_failing_byte_source_gives_api_connection_error() -> None:
    def broken() -> Iterator[bytes]:
        yield CHUNKS[0]
        raise OSError("connection reset by peer")

    (error,) = Recorder().subscribe_to(rxstream.from_sse(broken)).errors
    assert type(error) is APIConnectionError
    assert "connection reset by peer" in str(error)


def test_without_on_error_the_error_is_raised_out_of_subscribe() -> None:
    with pytest.raises(IncompleteStreamError):
        rxstream.from_sse([sse(STREAM.events()[:4])]).subscribe(lambda e: None)
    with pytest.raises(OverloadedError):
        rxstream.from_sse([sse([error_event("overloaded_error")])]).subscribe()


def test_without_on_error_an_operators_error_is_raised_out_of_subscribe() -> None:
    bad_tool = ToolUse(None, json_text='{"a": 1,,}')
    source = rxstream.from_sse([Stream([bad_tool]).sse()])
    with pytest.raises(StreamDecodeError, match="invalid input JSON"):
        source.pipe(rxo.tool_inputs()).subscribe(lambda e: None)

    def failing_mapper(event: Any) -> Any:
        raise ValueError("mapper failed")

    with pytest.raises(ValueError, match="mapper failed"):
        rxstream.from_sse(CHUNKS).pipe(ops.map(failing_mapper)).subscribe(lambda e: None)


def test_a_raising_on_next_reaches_the_subscribers_on_error_and_closes_the_source() -> None:
    chunks = TrackedChunks(CHUNKS)

    def on_next(event: Any) -> None:
        raise KeyError("subscriber bug")

    recorder = Recorder()
    rxstream.from_sse(chunks).subscribe(on_next, recorder.on_error, recorder.on_completed)
    assert [type(e) for e in recorder.errors] == [KeyError]
    assert chunks.closed
    with pytest.raises(KeyError):
        rxstream.from_sse(CHUNKS).subscribe(on_next)


# --- async sources -----------------------------------------------------------------------------


class AsyncTrackedChunks:
    """An async generator of chunks, yielding to the loop between chunks."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.read = 0
        self.closed = anyio.Event()

    async def __call__(self) -> AsyncIterator[bytes]:
        try:
            for chunk in self.chunks:
                await anyio.sleep(0)
                self.read += 1
                yield chunk
        finally:
            self.closed.set()


async def collect(source: reactivex.Observable[Any]) -> Recorder:
    """Subscribe and wait for the end."""
    recorder = Recorder()
    ended = anyio.Event()

    def on_error(error: Exception) -> None:
        recorder.on_error(error)
        ended.set()

    def on_completed() -> None:
        recorder.on_completed()
        ended.set()

    source.subscribe(recorder.on_next, on_error, on_completed)
    with anyio.fail_after(5):
        await ended.wait()
    return recorder


@pytest.mark.anyio
async def test_from_async_sse_delivers_the_stream_on_the_running_loop() -> None:
    chunks = AsyncTrackedChunks(chunked(DATA, 23))
    recorder = await collect(rxstream.from_async_sse(chunks).pipe(rxo.final_message()))
    assert [json.loads(rxstream.encode(m)) for m in recorder.events] == [STREAM.message()]
    assert chunks.closed.is_set()


@pytest.mark.anyio
async def test_from_async_sse_delivers_in_stream_errors_as_their_class() -> None:
    events = [*STREAM.events()[:4], error_event("overloaded_error")]
    chunks = AsyncTrackedChunks([sse(events)])
    recorder = await collect(rxstream.from_async_sse(chunks))
    (error,) = recorder.errors
    assert isinstance(error, OverloadedError)
    assert error.status_code == 529


@pytest.mark.anyio
async def test_from_async_sse_reports_an_incomplete_stream() -> None:
    chunks = AsyncTrackedChunks([sse(STREAM.events()[:6])])
    (error,) = (await collect(rxstream.from_async_sse(chunks))).errors
    assert isinstance(error, IncompleteStreamError)
    assert error.partial_message is not None


@pytest.mark.anyio
async def test_disposing_an_async_subscription_cancels_the_task_and_closes_the_generator() -> None:
    chunks = AsyncTrackedChunks(chunked(DATA, 8))
    recorder = Recorder()
    subscription = rxstream.from_async_sse(chunks).subscribe(
        recorder.on_next, recorder.on_error, recorder.on_completed
    )
    with anyio.fail_after(5):
        while not recorder.events:
            await anyio.sleep(0)
    subscription.dispose()
    with anyio.fail_after(5):
        await chunks.closed.wait()
    delivered = len(recorder.events)
    await anyio.sleep(0.01)
    assert len(recorder.events) == delivered < EVENT_COUNT
    assert (recorder.errors, recorder.completed) == ([], 0)
    assert chunks.read < len(chunks.chunks)


@pytest.mark.anyio
async def test_take_on_an_async_source_closes_the_generator() -> None:
    chunks = AsyncTrackedChunks(chunked(DATA, 8))
    recorder = await collect(rxstream.from_async_sse(chunks).pipe(ops.take(2)))
    assert [e.type for e in recorder.events] == ["message_start", "ping"]
    with anyio.fail_after(5):
        await chunks.closed.wait()


# --- HTTP responses ----------------------------------------------------------------------------


class TrackedBody(httpx2.SyncByteStream):
    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.read = 0
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.chunks:
            self.read += 1
            yield chunk

    def close(self) -> None:
        self.closed = True


class AsyncTrackedBody(httpx2.AsyncByteStream):
    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.read = 0
        self.closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            await anyio.sleep(0)
            self.read += 1
            yield chunk

    async def aclose(self) -> None:
        self.closed = True


def sse_response(body: httpx2.SyncByteStream | httpx2.AsyncByteStream) -> httpx2.Response:
    return httpx2.Response(
        200, headers={"content-type": "text/event-stream", "request-id": "req_011"}, stream=body
    )


def http_source(chunks: list[bytes]) -> tuple[reactivex.Observable[Any], list[TrackedBody]]:
    bodies: list[TrackedBody] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        bodies.append(TrackedBody(chunks))
        return sse_response(bodies[-1])

    client = httpx2.Client(transport=httpx2.MockTransport(handler))

    def open_response() -> httpx2.Response:
        request = client.build_request("POST", "http://test/v1/messages", json={"stream": True})
        return client.send(request, stream=True)

    return rxstream.from_response(open_response), bodies


def test_from_response_closes_the_response_after_completion() -> None:
    source, bodies = http_source(chunked(DATA, 64))
    assert final_json(source) == STREAM.message()
    assert final_json(source) == STREAM.message()
    assert [b.closed for b in bodies] == [True, True]  # one request per subscription


def test_from_response_closes_the_response_on_an_error_and_reports_its_request_id() -> None:
    source, bodies = http_source([sse([*STREAM.events()[:3], error_event("rate_limit_error")])])
    (error,) = Recorder().subscribe_to(source).errors
    assert isinstance(error, RateLimitError)
    assert error.request_id == "req_011"
    assert bodies[0].closed


def test_from_response_closes_the_response_on_dispose() -> None:
    source, bodies = http_source(chunked(DATA, 8))
    recorder = Recorder().subscribe_to(source.pipe(ops.take(2)))
    assert len(recorder.events) == 2
    assert bodies[0].closed
    assert bodies[0].read < len(bodies[0].chunks)


def test_from_response_incomplete_stream_carries_the_request_id() -> None:
    source, bodies = http_source([sse(STREAM.events()[:5])])
    (error,) = Recorder().subscribe_to(source).errors
    assert isinstance(error, IncompleteStreamError)
    assert error.request_id == "req_011"
    assert bodies[0].closed


def async_http_source(
    chunks: list[bytes],
) -> tuple[reactivex.Observable[Any], list[AsyncTrackedBody], httpx2.AsyncClient]:
    bodies: list[AsyncTrackedBody] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        bodies.append(AsyncTrackedBody(chunks))
        return sse_response(bodies[-1])

    client = httpx2.AsyncClient(transport=httpx2.MockTransport(handler))

    async def open_response() -> httpx2.Response:
        request = client.build_request("POST", "http://test/v1/messages", json={"stream": True})
        return await client.send(request, stream=True)

    return rxstream.from_async_response(open_response), bodies, client


@pytest.mark.anyio
async def test_from_async_response_closes_the_response_after_completion_error_and_dispose() -> None:
    source, bodies, client = async_http_source(chunked(DATA, 64))
    async with client:
        recorder = await collect(source.pipe(rxo.final_message()))
        assert json.loads(rxstream.encode(recorder.events[0])) == STREAM.message()
        assert bodies[-1].closed

    source, bodies, client = async_http_source(
        [sse([*STREAM.events()[:3], error_event("api_error")])]
    )
    async with client:
        (error,) = (await collect(source)).errors
        assert isinstance(error, InternalServerError)
        assert bodies[-1].closed

    source, bodies, client = async_http_source(chunked(DATA, 8))
    async with client:
        recorder = await collect(source.pipe(ops.take(2)))
        assert len(recorder.events) == 2
        with anyio.fail_after(5):
            while not bodies[-1].closed:
                await anyio.sleep(0)
        assert bodies[-1].read < len(bodies[-1].chunks)
