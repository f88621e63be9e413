"""Faults over real sockets: every failure ends the stream with a typed error, the partial
message and a released connection, whatever reads it and whatever loop runs it.

Each fault is injected by the emulator (`x-emulator-fault`) and read six ways: the SDK
adapter (`messages.stream`) and `messages.observe()`, each sync, under asyncio and under
trio. The server's own records say whether the connection was closed; the client's pool says
whether a connection was left with a request in flight (a leak).
"""

from __future__ import annotations

import itertools
import ssl
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

import anyio
import anyio.to_thread
import httpx2
import msgspec
import pytest

from rxstream import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    AsyncClient,
    Client,
    IncompleteStreamError,
    Message,
    MessageStreamEvent,
    OverloadedError,
    RateLimitError,
)
from rxstream._client_core import DEFAULT_TIMEOUT
from rxstream._http import DEFAULT_LIMITS
from rxstream.accumulate import MessageAccumulator
from rxstream.adapters import AsyncMessageStream, MessageStream
from rxstream.emulator import Emulator, RequestRecord
from rxstream.errors import (
    AuthenticationError,
    BadRequestError,
    BillingError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RequestTooLargeError,
)

KEY = "sk-ant-reliability-faults"
PARAMS: dict[str, Any] = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 256,
    "messages": [{"role": "user", "content": "Hello there"}],
}
RUN_HEADER = "x-reliability-run"
WAYS = (
    "sync-stream",
    "sync-observe",
    "asyncio-stream",
    "asyncio-observe",
    "trio-stream",
    "trio-observe",
)


# --- the reference reply ---------------------------------------------------------------


@dataclass(frozen=True)
class Reference:
    """The reply to `PARAMS` read without faults: its raw events, final message, request id.

    Its events are: message_start, ping, content_block_start, 4 text deltas,
    content_block_stop, message_delta, message_stop.
    """

    events: list[MessageStreamEvent]
    final: Message
    request_id: str

    @property
    def last(self) -> int:
        """The position of `message_stop`: after `last` events, only it is missing."""
        return len(self.events) - 1

    def partial(self, delivered: int | None) -> Message | None:
        """The message the first `delivered` events describe (None: no message_start yet)."""
        if delivered is None:
            return None
        accumulator = MessageAccumulator()
        for event in self.events[:delivered]:
            accumulator.feed(event)
        return accumulator.message()


@pytest.fixture(scope="module")
def reference(emulator: Emulator) -> Reference:
    with Client(base_url=emulator.base_url, api_key=KEY) as client:
        stream = client.messages.create(stream=True, **PARAMS)
        events = list(stream)
        request_id = stream.response.headers["request-id"]
    accumulator = MessageAccumulator()
    for event in events:
        accumulator.feed(event)
    assert [e.type for e in events][-2:] == ["message_delta", "message_stop"]
    return Reference(events, accumulator.message(), request_id)


# --- reading one stream six ways --------------------------------------------------------


@dataclass
class Outcome:
    """How one stream ended, as its reader saw it, and what the server saw."""

    error: APIError | None = None
    final: Message | None = None
    snapshot: Message | None = None  # the adapter's current_message_snapshot after the end
    has_stream: bool = False  # whether the adapter stream was entered
    records: list[RequestRecord] = field(default_factory=list)
    closed: list[bool] = field(default_factory=list)  # per request: connection closed?
    in_flight: int = 0  # pooled connections still busy with a request after the end
    elapsed: float = 0.0


def unid(message: Message | None) -> Message | None:
    """The message with its id blanked: every response has a new id, as with the API."""
    return None if message is None else msgspec.structs.replace(message, id="msg_")


def accumulated(events: list[MessageStreamEvent]) -> Message:
    accumulator = MessageAccumulator()
    for event in events:
        accumulator.feed(event)
    return accumulator.message()


def busy_connections(http: httpx2.Client | httpx2.AsyncClient) -> int:
    """Connections of the client's pool with a request still in flight (httpx internals: the
    public `connections` of httpcore2's pool, behind httpx2's transport)."""
    transport = http._transport
    assert isinstance(transport, httpx2.HTTPTransport | httpx2.AsyncHTTPTransport)
    pool = transport._pool
    return sum(1 for c in pool.connections if not (c.is_idle() or c.is_closed()))


def settle(emulator: Emulator, run: str, outcome: Outcome, expect_closed: bool) -> None:
    """Fill in what the server saw for this run's requests; wait up to 1 s for closes."""
    outcome.records = [r for r in emulator.records if r.headers.get(RUN_HEADER) == run]
    if expect_closed:
        for record in outcome.records:
            emulator.wait_closed(record, timeout=1.0)
    outcome.closed = [r.connection_closed for r in outcome.records]


def snapshot_or_none(stream: MessageStream | AsyncMessageStream) -> Message | None:
    try:
        return stream.current_message_snapshot
    except RuntimeError:  # no message_start yet
        return None


def sync_stream(client: Client, headers: dict[str, str], outcome: Outcome) -> None:
    stream = None
    try:
        with client.messages.stream(**PARAMS, extra_headers=headers) as stream:
            for _ in stream:
                pass
            outcome.final = stream.get_final_message()
    except APIError as exc:
        outcome.error = exc
    if stream is not None:
        outcome.has_stream = True
        outcome.snapshot = snapshot_or_none(stream)


def sync_observe(client: Client, headers: dict[str, str], outcome: Outcome) -> None:
    events: list[MessageStreamEvent] = []
    completed: list[bool] = []

    def failed(exc: Exception) -> None:
        assert isinstance(exc, APIError), f"not an rxstream error: {exc!r}"
        outcome.error = exc

    client.messages.observe(**PARAMS, extra_headers=headers).subscribe(
        events.append, failed, lambda: completed.append(True)
    )  # a sync source runs to its end inside subscribe()
    assert completed or outcome.error is not None
    if completed:
        outcome.final = accumulated(events)


async def async_stream(client: AsyncClient, headers: dict[str, str], outcome: Outcome) -> None:
    stream = None
    try:
        async with client.messages.stream(**PARAMS, extra_headers=headers) as stream:
            async for _ in stream:
                pass
            outcome.final = await stream.get_final_message()
    except APIError as exc:
        outcome.error = exc
    if stream is not None:
        outcome.has_stream = True
        outcome.snapshot = snapshot_or_none(stream)


async def async_observe(client: AsyncClient, headers: dict[str, str], outcome: Outcome) -> None:
    events: list[MessageStreamEvent] = []
    ended = anyio.Event()
    completed: list[bool] = []

    def failed(exc: Exception) -> None:
        assert isinstance(exc, APIError), f"not an rxstream error: {exc!r}"
        outcome.error = exc
        ended.set()

    def done() -> None:
        completed.append(True)
        ended.set()

    client.messages.observe(**PARAMS, extra_headers=headers).subscribe(events.append, failed, done)
    with anyio.fail_after(10):
        await ended.wait()
    if completed:
        outcome.final = accumulated(events)


# What `Client()` builds for itself, but with one TLS context for every test: creating one
# costs ~60 ms, most of a test's time here (loopback is plain HTTP anyway).
HTTP: dict[str, Any] = {
    "verify": ssl.create_default_context(),
    "timeout": DEFAULT_TIMEOUT,
    "limits": DEFAULT_LIMITS,
    "follow_redirects": True,
}


def read(
    way: str,
    emulator: Emulator,
    fault: str,
    *,
    expect_closed: bool,
    **options: Any,
) -> Outcome:
    """Read `PARAMS`'s reply with `fault` injected, the `way` named; then look at the sockets
    while the client is still open (closing it would close whatever it had leaked)."""
    run = uuid.uuid4().hex
    if "times=" in fault:  # `times` counts requests with this exact header: keep it ours
        fault += f";message=run {run}"
    headers = {"x-emulator-fault": fault, RUN_HEADER: run}
    settings: dict[str, Any] = {"base_url": emulator.base_url, "api_key": KEY, "max_retries": 0}
    settings.update(options)
    outcome = Outcome()
    started = time.monotonic()
    loop, _, interface = way.partition("-")
    if loop == "sync":
        with httpx2.Client(**HTTP) as http, Client(http_client=http, **settings) as client:
            reader = sync_stream if interface == "stream" else sync_observe
            reader(client, headers, outcome)
            outcome.elapsed = time.monotonic() - started
            settle(emulator, run, outcome, expect_closed)
            outcome.in_flight = busy_connections(http)
        return outcome

    async def main() -> None:
        async with (
            httpx2.AsyncClient(**HTTP) as http,
            AsyncClient(http_client=http, **settings) as client,
        ):
            reader = async_stream if interface == "stream" else async_observe
            await reader(client, headers, outcome)
            outcome.elapsed = time.monotonic() - started
            await anyio.to_thread.run_sync(settle, emulator, run, outcome, expect_closed)
            outcome.in_flight = busy_connections(http)

    anyio.run(main, backend=loop)
    return outcome


# --- connection faults, stalls and trickles ---------------------------------------------


ALL_BUT_STOP = -1


@dataclass(frozen=True)
class Fault:
    """A fault, and what the user must get: `delivered` is how many of the reference's events
    the partial message holds (None: none, not even message_start; ALL_BUT_STOP: all of them
    but message_stop)."""

    header: str  # `{last}` stands for the position of message_stop
    error: type[APIError] | None
    delivered: int | None
    connection: Literal["closed", "kept alive"]
    options: dict[str, Any] = field(default_factory=dict)
    within: float = 2.0  # seconds the reader may take to get its outcome


FAULTS = {
    "dropped before the headers": Fault("drop=headers", APIConnectionError, None, "closed"),
    "dropped after the headers": Fault("drop=0", APIConnectionError, None, "closed"),
    "dropped in the middle of an event": Fault("drop-mid=4", APIConnectionError, 4, "closed"),
    "dropped between events": Fault("drop=5", APIConnectionError, 5, "closed"),
    "dropped after message_delta, before message_stop": Fault(
        "drop={last}", APIConnectionError, ALL_BUT_STOP, "closed"
    ),
    "ended cleanly before message_stop": Fault(
        "end={last}", IncompleteStreamError, ALL_BUT_STOP, "kept alive"
    ),
    "stalled past the idle timeout": Fault(
        "stall=5;after=5", APITimeoutError, 5, "closed", {"idle_timeout": 0.25}, within=1.5
    ),
    "trickled one byte at a time": Fault("trickle", None, ALL_BUT_STOP, "kept alive"),
}


@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize("name", FAULTS)
def test_every_fault_ends_with_its_error_the_partial_message_and_no_leaked_connection(
    name: str, way: str, emulator: Emulator, reference: Reference
) -> None:
    fault = FAULTS[name]
    delivered = reference.last if fault.delivered == ALL_BUT_STOP else fault.delivered
    outcome = read(
        way,
        emulator,
        fault.header.format(last=reference.last),
        expect_closed=fault.connection == "closed",
        **fault.options,
    )

    if fault.error is None:
        assert outcome.error is None
        assert unid(outcome.final) == unid(reference.final)
    else:
        assert type(outcome.error) is fault.error, repr(outcome.error)
        assert unid(outcome.error.partial_message) == unid(reference.partial(delivered))
        assert outcome.final is None
    if way.endswith("stream") and outcome.has_stream and fault.error is not None:
        assert outcome.error is not None
        assert outcome.snapshot == outcome.error.partial_message
    assert outcome.elapsed < fault.within
    assert len(outcome.records) == 1
    assert outcome.in_flight == 0
    assert outcome.closed == [fault.connection == "closed"]


@pytest.mark.parametrize("way", [way for way in WAYS if way.endswith("stream")])
def test_the_adapter_raises_on_enter_for_a_drop_before_the_headers_only(
    way: str, emulator: Emulator
) -> None:
    before = read(way, emulator, "drop=headers", expect_closed=True)
    after = read(way, emulator, "drop=0", expect_closed=True)

    assert not before.has_stream  # `with ... as stream` itself raised
    assert after.has_stream  # the headers came: iteration raised
    assert after.snapshot is None  # and no message_start


# --- in-stream error events -------------------------------------------------------------

# error.type -> (class, the HTTP status the same error would have had as a response)
IN_STREAM_ERRORS: dict[str, tuple[type[APIStatusError], int]] = {
    "invalid_request_error": (BadRequestError, 400),
    "authentication_error": (AuthenticationError, 401),
    "billing_error": (BillingError, 402),
    "permission_error": (PermissionDeniedError, 403),
    "not_found_error": (NotFoundError, 404),
    "request_too_large": (RequestTooLargeError, 413),
    "rate_limit_error": (RateLimitError, 429),
    "timeout_error": (InternalServerError, 504),
    "api_error": (InternalServerError, 500),
    "overloaded_error": (OverloadedError, 529),
}


@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize("error_type", IN_STREAM_ERRORS)
def test_an_in_stream_error_raises_its_own_class_with_status_type_request_id_and_partial(
    error_type: str, way: str, emulator: Emulator, reference: Reference
) -> None:
    cls, status = IN_STREAM_ERRORS[error_type]
    outcome = read(way, emulator, f"error={error_type};after=5", expect_closed=True)

    error = outcome.error
    assert type(error) is cls, repr(error)
    assert error.status_code == status
    assert error.error_type == error_type
    assert error.request_id == outcome.records[-1].request_id
    assert unid(error.partial_message) == unid(reference.partial(5))
    if way.endswith("stream"):
        assert unid(outcome.snapshot) == unid(reference.partial(5))
    # Reading stopped at the error event, before the body's end: the socket is not reusable.
    assert outcome.closed == [True]
    assert outcome.in_flight == 0


# --- 429 and 529 with retry-after -------------------------------------------------------


@dataclass(frozen=True)
class Retried:
    header: str
    attempts: int
    delay: float  # seconds the server asked to wait between attempts
    error: type[APIStatusError] | None


RETRIES = {
    "429 twice then 200 (retry-after seconds)": Retried(
        "status=429;retry-after=0.1;times=2", 3, 0.1, None
    ),
    "429 once then 200 (retry-after-ms)": Retried(
        "status=429;retry-after-ms=200;times=1", 2, 0.2, None
    ),
    "529 on every attempt": Retried("status=529;retry-after=0.1", 3, 0.1, OverloadedError),
}


@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize("name", RETRIES)
def test_429_and_529_are_retried_after_the_delay_the_server_asked_for(
    name: str, way: str, emulator: Emulator, reference: Reference
) -> None:
    case = RETRIES[name]
    outcome = read(way, emulator, case.header, expect_closed=False, max_retries=2)

    arrivals = [r.arrived_at for r in outcome.records]
    gaps = [b - a for a, b in itertools.pairwise(arrivals)]
    assert len(outcome.records) == case.attempts
    assert all(case.delay <= gap < case.delay + 0.5 for gap in gaps), gaps
    if case.error is None:
        assert outcome.error is None
        assert unid(outcome.final) == unid(reference.final)
    else:
        assert type(outcome.error) is case.error
        assert outcome.error.status_code == 529
        assert outcome.error.partial_message is None
        assert not outcome.has_stream
    # Each error body was read to its end, so its connection went back to the pool for reuse.
    assert outcome.in_flight == 0
