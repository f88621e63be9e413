"""`Client` and `AsyncClient` through `httpx2.MockTransport`: requests, retries, raw streams.

Each test runs against the sync client and the async one, under asyncio and trio: a harness
gives both the same awaitable surface, so every behaviour is specified once.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import anyio
import httpx2
import pytest
from reactivex import operators as ops

import rxstream
from rxstream._async_client import AsyncClient
from rxstream._client import Client
from rxstream._errors import CredentialsError
from rxstream.adapters._raw import AsyncStream, Stream

# httpx's own async generators (Response.aiter_raw, BoundAsyncStream.__aiter__) cannot be
# closed from outside, so trio warns when a stream ends early (encode/httpx#3777). Ours are
# closed explicitly: a warning naming an rxstream generator still fails the test.
pytestmark = [
    pytest.mark.anyio,
]

KEY = "sk-ant-api03-SECRET-key"
PARAMS: dict[str, Any] = {
    "model": "claude-x",
    "max_tokens": 64,
    "messages": [{"role": "user", "content": "Hello"}],
}
MESSAGE: dict[str, Any] = {
    "type": "message",
    "id": "msg_1",
    "role": "assistant",
    "model": "claude-x",
    "content": [{"type": "text", "text": "Hi there"}],
    "stop_reason": "end_turn",
    "stop_sequence": None,
    "usage": {"input_tokens": 5, "output_tokens": 2},
}
START: dict[str, Any] = {
    "type": "message_start",
    "message": {**MESSAGE, "content": [], "stop_reason": None},
}
TEXT_EVENTS: list[dict[str, Any]] = [
    START,
    {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
    {"type": "ping"},
    {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hi"}},
    {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": " there"}},
    {"type": "content_block_stop", "index": 0},
    {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 2}},
    {"type": "message_stop"},
]
OVERLOADED: dict[str, Any] = {
    "type": "error",
    "error": {"type": "overloaded_error", "message": "Overloaded"},
}


def sse(events: list[dict[str, Any]]) -> list[bytes]:
    return [f"event: {e['type']}\ndata: {json.dumps(e)}\n\n".encode() for e in events]


class Body(httpx2.SyncByteStream, httpx2.AsyncByteStream):
    """A response body sent chunk by chunk that may fail part-way, and knows if it was closed."""

    def __init__(self, chunks: list[bytes], fail: Exception | None = None) -> None:
        self.chunks = chunks
        self.fail = fail
        self.sent = 0
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.chunks:
            self.sent += 1
            yield chunk
        if self.fail is not None:
            raise self.fail

    def __aiter__(self) -> Any:
        return _AsyncChunks(iter(self))

    def close(self) -> None:
        self.closed = True

    async def aclose(self) -> None:
        self.closed = True


class _AsyncChunks:
    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.chunks = chunks

    def __aiter__(self) -> _AsyncChunks:
        return self

    async def __anext__(self) -> bytes:
        try:
            return next(self.chunks)
        except StopIteration:
            raise StopAsyncIteration from None


Reply = Callable[[httpx2.Request], httpx2.Response]


def ok_json(body: dict[str, Any] = MESSAGE) -> Reply:
    return lambda request: httpx2.Response(200, json=body, headers={"request-id": "req_ok"})


def ok_stream(events: list[dict[str, Any]] = TEXT_EVENTS, fail: Exception | None = None) -> Reply:
    def reply(request: httpx2.Request) -> httpx2.Response:
        headers = {"content-type": "text/event-stream", "request-id": "req_stream"}
        return httpx2.Response(200, stream=Body(sse(events), fail), headers=headers)

    return reply


def status(code: int, body: dict[str, Any] | None = None, **headers: str) -> Reply:
    headers = {k.replace("_", "-"): v for k, v in headers.items()}
    return lambda request: httpx2.Response(code, json=body or OVERLOADED, headers=headers)


def raises(exc: Exception) -> Reply:
    def reply(request: httpx2.Request) -> httpx2.Response:
        raise exc

    return reply


class Server:
    """Answers each request with the next reply (the last one repeats) and records requests."""

    def __init__(self, *replies: Reply) -> None:
        self.replies = list(replies)
        self.requests: list[httpx2.Request] = []
        self.bodies: list[Body] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        reply = self.replies[min(len(self.requests), len(self.replies)) - 1]
        response = reply(request)
        if isinstance(response.stream, Body):
            self.bodies.append(response.stream)
        return response


class SyncHarness:
    """The sync `Client` behind an awaitable surface."""

    def __init__(self, server: Server, **options: Any) -> None:
        self.http = httpx2.Client(transport=httpx2.MockTransport(server))
        options.setdefault("api_key", KEY)
        self.client = Client(http_client=self.http, **options)
        self.sleeps: list[float] = []
        self.client._sleep = self.sleeps.append

    async def create(self, **params: Any) -> Any:
        return self.client.messages.create(**{**PARAMS, **params})

    async def drain(self, stream: Any, into: list[Any]) -> None:
        with stream:
            into.extend(stream)

    async def final_text(self, **params: Any) -> str:
        with self.client.messages.stream(**{**PARAMS, **params}) as stream:
            return stream.get_final_text()

    async def observe(self, **params: Any) -> list[Any]:
        return self.client.messages.observe(**{**PARAMS, **params}).pipe(ops.to_list()).run()

    async def close(self) -> None:
        self.client.close()


class AsyncHarness:
    """The `AsyncClient`, as is."""

    def __init__(self, server: Server, **options: Any) -> None:
        self.http = httpx2.AsyncClient(transport=httpx2.MockTransport(server))
        options.setdefault("api_key", KEY)
        self.client = AsyncClient(http_client=self.http, **options)
        self.sleeps: list[float] = []

        async def sleep(delay: float) -> None:
            self.sleeps.append(delay)

        self.client._sleep = sleep

    async def create(self, **params: Any) -> Any:
        return await self.client.messages.create(**{**PARAMS, **params})

    async def drain(self, stream: Any, into: list[Any]) -> None:
        async with stream:
            async for event in stream:
                into.append(event)

    async def final_text(self, **params: Any) -> str:
        async with self.client.messages.stream(**{**PARAMS, **params}) as stream:
            return await stream.get_final_text()

    async def observe(self, **params: Any) -> list[Any]:
        done = anyio.Event()
        events: list[Any] = []
        errors: list[Exception] = []

        def on_error(exc: Exception) -> None:
            errors.append(exc)
            done.set()

        self.client.messages.observe(**{**PARAMS, **params}).subscribe(
            events.append, on_error, done.set
        )
        await done.wait()
        if errors:
            raise errors[0]
        return events

    async def close(self) -> None:
        await self.client.aclose()


Harness = SyncHarness | AsyncHarness


@pytest.fixture(params=["sync", "async"])
def connect(request: pytest.FixtureRequest) -> Callable[..., Harness]:
    """Makes a harness over a `Server`: the sync client or the async one."""
    return SyncHarness if request.param == "sync" else AsyncHarness


# --- requests and responses ------------------------------------------------------------


async def test_create_returns_a_message_and_sends_the_api_headers(
    connect: Callable[..., Harness],
) -> None:
    server = Server(ok_json())
    api = connect(server)
    message = await api.create(temperature=0.5, betas=["beta-1"], extra_headers={"x-a": "b"})
    assert message == rxstream.Message(
        id="msg_1",
        role="assistant",
        content=(rxstream.TextBlock(text="Hi there"),),
        model="claude-x",
        stop_reason="end_turn",
        stop_sequence=None,
        usage=rxstream.Usage(input_tokens=5, output_tokens=2),
    )
    (request,) = server.requests
    assert request.method == "POST"
    assert request.url == "https://api.anthropic.com/v1/messages"
    assert request.headers["x-api-key"] == KEY
    assert request.headers["anthropic-version"] == "2023-06-01"
    assert request.headers["anthropic-beta"] == "beta-1"
    assert request.headers["x-a"] == "b"
    assert json.loads(request.content) == {**PARAMS, "temperature": 0.5}


async def test_create_keeps_unknown_content_blocks(connect: Callable[..., Harness]) -> None:
    block = {"type": "hologram", "frames": 3}
    api = connect(Server(ok_json({**MESSAGE, "content": [block]})))
    message = await api.create()
    assert isinstance(message.content[0], rxstream.types.UnknownBlock)
    assert message.content[0].data == block


async def test_a_per_call_timeout_reaches_the_request(connect: Callable[..., Harness]) -> None:
    server = Server(ok_json())
    await connect(server, timeout=30.0).create(timeout=2.5)
    assert server.requests[0].extensions["timeout"] == httpx2.Timeout(2.5).as_dict()


async def test_a_missing_key_raises_credentials_error_on_request_not_on_construction(
    connect: Callable[..., Harness], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_AUTH_TOKEN", raising=False)
    server = Server(ok_json())
    api = connect(server, api_key=None)
    with pytest.raises(CredentialsError, match="ANTHROPIC_API_KEY"):
        await api.create()
    assert server.requests == []


async def test_create_stream_true_yields_the_raw_events_and_closes_the_response(
    connect: Callable[..., Harness],
) -> None:
    server = Server(ok_stream())
    api = connect(server)
    stream = await api.create(stream=True)
    assert isinstance(stream, Stream | AsyncStream)
    assert stream.request_id == "req_stream"
    events: list[Any] = []
    await api.drain(stream, events)
    assert [e.type for e in events] == [e["type"] for e in TEXT_EVENTS]
    assert json.loads(server.requests[0].content)["stream"] is True
    assert server.requests[0].headers["accept"] == "text/event-stream"
    assert server.bodies[0].closed
    assert stream.response.is_closed


async def test_a_consumed_stream_cannot_be_iterated_again(connect: Callable[..., Harness]) -> None:
    api = connect(Server(ok_stream()))
    stream = await api.create(stream=True)
    await api.drain(stream, [])
    with pytest.raises(RuntimeError, match="consumed"):
        await api.drain(stream, [])


async def test_a_stream_closed_before_iteration_cannot_be_iterated(
    connect: Callable[..., Harness],
) -> None:
    server = Server(ok_stream())
    api = connect(server)
    stream = await api.create(stream=True)
    await api.drain(stream, [])  # leaving `with` closes it; iterating inside it consumed it
    fresh = await api.create(stream=True)
    if isinstance(fresh, Stream):
        fresh.close()
    else:
        await fresh.aclose()
    assert server.bodies[1].closed
    with pytest.raises(RuntimeError, match="closed"):
        await api.drain(fresh, [])


async def test_closing_a_stream_early_closes_the_connection_unread(
    connect: Callable[..., Harness],
) -> None:
    server = Server(ok_stream(TEXT_EVENTS * 50))
    api = connect(server)
    stream = await api.create(stream=True)
    if isinstance(stream, Stream):
        with stream:
            next(stream)
    else:
        async with stream:
            await stream.__anext__()
    assert server.bodies[0].closed
    assert server.bodies[0].sent < len(TEXT_EVENTS) * 50


async def test_messages_stream_gives_the_sdk_message_stream(
    connect: Callable[..., Harness],
) -> None:
    assert await connect(Server(ok_stream())).final_text() == "Hi there"


async def test_messages_stream_raises_the_http_error_on_enter(
    connect: Callable[..., Harness],
) -> None:
    body = {"type": "error", "error": {"type": "not_found_error", "message": "no model"}}
    with pytest.raises(rxstream.errors.NotFoundError, match="no model"):
        await connect(Server(status(404, body))).final_text()


async def test_cancelling_a_task_mid_stream_closes_the_connection() -> None:
    server = Server(ok_stream(TEXT_EVENTS * 50))
    http = httpx2.AsyncClient(transport=httpx2.MockTransport(server))
    client = AsyncClient(api_key=KEY, http_client=http)
    stream = await client.messages.create(**PARAMS, stream=True)
    with anyio.CancelScope() as scope:
        async with stream:
            async for _ in stream:
                scope.cancel()
                await anyio.sleep(1)
    assert scope.cancelled_caught
    assert server.bodies[0].closed
    assert stream.response.is_closed
    await http.aclose()


async def test_observe_sends_one_request_per_subscription(connect: Callable[..., Harness]) -> None:
    server = Server(ok_stream())
    api = connect(server)
    first = await api.observe()
    second = await api.observe()
    assert [e.type for e in first] == [e.type for e in second] == [e["type"] for e in TEXT_EVENTS]
    assert len(server.requests) == 2


# --- retries ---------------------------------------------------------------------------


async def test_429_then_200_retries_after_the_retry_after_delay(
    connect: Callable[..., Harness],
) -> None:
    server = Server(status(429, retry_after="2"), ok_json())
    api = connect(server)
    assert (await api.create()).id == "msg_1"
    assert len(server.requests) == 2
    assert api.sleeps == [2.0]


async def test_streaming_requests_are_retried_before_the_first_byte(
    connect: Callable[..., Harness],
) -> None:
    server = Server(status(529, retry_after_ms="10"), ok_stream())
    api = connect(server)
    assert await api.final_text() == "Hi there"
    assert api.sleeps == [0.01]


@pytest.mark.parametrize("max_retries", [0, 1, 2])
async def test_529_exhausting_retries_raises_overloaded_error(
    connect: Callable[..., Harness], max_retries: int
) -> None:
    server = Server(status(529, request_id="req_529"))
    api = connect(server, max_retries=max_retries)
    with pytest.raises(rxstream.OverloadedError) as info:
        await api.create()
    assert len(server.requests) == max_retries + 1
    assert len(api.sleeps) == max_retries
    assert all(0.0 < delay <= 8.0 for delay in api.sleeps)
    error = info.value
    assert error.status_code == 529
    assert error.error_type == "overloaded_error"
    assert error.request_id == "req_529"
    assert error.body == OVERLOADED


async def test_default_retries_are_two_with_growing_backoff(
    connect: Callable[..., Harness],
) -> None:
    server = Server(status(500))
    api = connect(server)
    with pytest.raises(rxstream.errors.InternalServerError):
        await api.create()
    assert len(server.requests) == 3
    assert 0.375 <= api.sleeps[0] <= 0.5
    assert 0.75 <= api.sleeps[1] <= 1.0


async def test_x_should_retry_false_stops_retries(connect: Callable[..., Harness]) -> None:
    server = Server(status(529, x_should_retry="false"), ok_json())
    api = connect(server)
    with pytest.raises(rxstream.OverloadedError):
        await api.create()
    assert len(server.requests) == 1
    assert api.sleeps == []


async def test_a_client_error_is_not_retried(connect: Callable[..., Harness]) -> None:
    body = {"type": "error", "error": {"type": "invalid_request_error", "message": "bad"}}
    server = Server(status(400, body, request_id="req_400"), ok_json())
    with pytest.raises(rxstream.errors.BadRequestError) as info:
        await connect(server).create()
    assert len(server.requests) == 1
    assert info.value.error_type == "invalid_request_error"
    assert info.value.request_id == "req_400"


async def test_connection_failures_are_retried_then_succeed(
    connect: Callable[..., Harness],
) -> None:
    server = Server(raises(httpx2.ConnectError("refused")), ok_json())
    api = connect(server)
    assert (await api.create()).id == "msg_1"
    assert len(api.sleeps) == 1


@pytest.mark.parametrize(
    ("exc", "cls"),
    [
        (httpx2.ConnectError("refused"), rxstream.APIConnectionError),
        (httpx2.ReadTimeout("slow"), rxstream.APITimeoutError),
    ],
)
async def test_connection_failures_exhausting_retries_raise_api_connection_errors(
    connect: Callable[..., Harness], exc: Exception, cls: type[rxstream.APIConnectionError]
) -> None:
    server = Server(raises(exc))
    with pytest.raises(cls) as info:
        await connect(server, max_retries=1).create()
    assert type(info.value) is cls
    assert info.value.__cause__ is exc
    assert len(server.requests) == 2


# --- failures inside a stream ----------------------------------------------------------


async def test_an_in_stream_error_event_raises_overloaded_error_not_a_generic_one(
    connect: Callable[..., Harness],
) -> None:
    events = [*TEXT_EVENTS[:4], OVERLOADED]
    server = Server(ok_stream(events))
    api = connect(server)
    seen: list[Any] = []
    with pytest.raises(rxstream.OverloadedError) as info:
        await api.drain(await api.create(stream=True), seen)
    assert [e.type for e in seen] == [e["type"] for e in events[:-1]]
    assert info.value.status_code == 529
    assert info.value.request_id == "req_stream"
    assert server.bodies[0].closed


async def test_a_connection_dropped_mid_stream_raises_api_connection_error(
    connect: Callable[..., Harness],
) -> None:
    drop = httpx2.RemoteProtocolError("peer closed connection without sending complete body")
    server = Server(ok_stream(TEXT_EVENTS[:4], fail=drop))
    api = connect(server)
    with pytest.raises(rxstream.APIConnectionError, match="mid-response") as info:
        await api.drain(await api.create(stream=True), [])
    assert info.value.__cause__ is drop
    assert info.value.request_id == "req_stream"
    assert server.bodies[0].closed


async def test_a_body_ending_before_message_stop_raises_incomplete_stream_error(
    connect: Callable[..., Harness],
) -> None:
    server = Server(ok_stream(TEXT_EVENTS[:-1]))
    api = connect(server)
    with pytest.raises(rxstream.IncompleteStreamError):
        await api.drain(await api.create(stream=True), [])


# --- the client's own resources --------------------------------------------------------


async def test_closing_the_client_leaves_a_users_http_client_open(
    connect: Callable[..., Harness],
) -> None:
    api = connect(Server(ok_json()))
    await api.close()
    assert not api.http.is_closed
    await api.create()  # still usable


def test_a_client_closes_the_http_client_it_made() -> None:
    with Client(api_key=KEY) as client:
        http = client._http
    assert http.is_closed


async def test_an_async_client_closes_the_http_client_it_made() -> None:
    async with AsyncClient(api_key=KEY) as client:
        http = client._http
    assert http.is_closed


def test_the_client_repr_hides_the_key() -> None:
    client = Client(api_key=KEY)
    assert "SECRET" not in repr(client)
    assert "SECRET" not in repr(client.options)
    client.close()
