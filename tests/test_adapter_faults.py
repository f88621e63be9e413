"""Faults through `messages.stream(...)`, over real sockets, sync and async (asyncio, trio).

The emulator misbehaves on request (its `x-emulator-fault` header): error statuses with
`retry-after`, in-stream errors, dropped connections, streams cut short, stalls. The
loopback server sends exact bytes where timing matters (pings against the idle timeout).
Each test body runs once per flavour through the same `run()`, so the sync and async
clients are held to one specification.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx2
import pytest
from loopback import Reply, Seen, loopback
from streams import Stream, Text, frame

import rxstream
from rxstream.adapters import StreamEvent
from rxstream.emulator import Emulator

PARAMS: dict[str, Any] = {
    "model": "claude-sonnet-4-5-20250929",
    "max_tokens": 1024,
    "messages": [{"role": "user", "content": "Hello"}],
}
FLAVOURS = pytest.mark.parametrize("flavour", ["sync", "asyncio", "trio"])


def fault(directives: str) -> str:
    """`directives` made unique to one test run (the emulator counts `times=` per value)."""
    return f"{directives};message=case {uuid.uuid4().hex[:12]}"


@dataclass
class Outcome:
    """What a program saw when it streamed one message through `messages.stream(...)`."""

    events: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    error: rxstream.APIError | None = None
    request_id: str | None = None  # the stream's, when it opened
    snapshot: rxstream.Message | None = None  # current_message_snapshot afterwards
    final_error: Exception | None = None  # what get_final_message() raised afterwards
    sleeps: list[float] = field(default_factory=list)  # the client's retry delays
    elapsed: float = 0.0

    def read(self, event: StreamEvent) -> None:
        self.events.append(event.type)
        if event.type == "text":
            self.texts.append(event.text)


def _stream_sync(base_url: str, headers: dict[str, str], options: dict[str, Any]) -> Outcome:
    out = Outcome()
    with rxstream.Client(base_url=base_url, api_key="test-key", **options) as client:
        real_sleep = client._sleep

        def sleep(seconds: float) -> None:
            out.sleeps.append(seconds)
            real_sleep(seconds)

        client._sleep = sleep
        stream = None
        started = time.monotonic()
        try:
            with client.messages.stream(**PARAMS, extra_headers=headers) as stream:
                out.request_id = stream.request_id
                for event in stream:
                    out.read(event)
        except rxstream.APIError as exc:
            out.error = exc
        out.elapsed = time.monotonic() - started
        if stream is not None:
            out.snapshot = stream.current_message_snapshot
            try:
                stream.get_final_message()
            except Exception as exc:
                out.final_error = exc
    return out


async def _stream_async(base_url: str, headers: dict[str, str], options: dict[str, Any]) -> Outcome:
    out = Outcome()
    async with rxstream.AsyncClient(base_url=base_url, api_key="test-key", **options) as client:
        real_sleep = client._sleep

        async def sleep(seconds: float) -> None:
            out.sleeps.append(seconds)
            await real_sleep(seconds)

        client._sleep = sleep
        stream = None
        started = time.monotonic()
        try:
            async with client.messages.stream(**PARAMS, extra_headers=headers) as stream:
                out.request_id = stream.request_id
                async for event in stream:
                    out.read(event)
        except rxstream.APIError as exc:
            out.error = exc
        out.elapsed = time.monotonic() - started
        if stream is not None:
            out.snapshot = stream.current_message_snapshot
            try:
                await stream.get_final_message()
            except Exception as exc:
                out.final_error = exc
    return out


def run(
    flavour: str, base_url: str, headers: dict[str, str] | None = None, **options: Any
) -> Outcome:
    """Stream one message with the `flavour` client ("sync", or an anyio backend)."""
    if flavour == "sync":
        return _stream_sync(base_url, headers or {}, options)
    return anyio.run(_stream_async, base_url, headers or {}, options, backend=flavour)


def run_with_fault(flavour: str, emulator: Emulator, directives: str, **options: Any) -> Outcome:
    return run(flavour, emulator.base_url, {"x-emulator-fault": directives}, **options)


@pytest.fixture(scope="module")
def healthy(emulator: Emulator) -> Outcome:
    """The same request without a fault: what a clean stream looks like."""
    return run("sync", emulator.base_url)


# --- before the first byte: HTTP errors and the SDK's retry policy -------------------------


@FLAVOURS
@pytest.mark.parametrize("header", ["retry-after=0.2", "retry-after-ms=200"])
def test_429_then_200_retries_once_after_the_delay_the_server_asks(
    flavour: str, header: str, emulator: Emulator, healthy: Outcome
) -> None:
    directives = fault(f"status=429;{header};times=1")
    outcome = run_with_fault(flavour, emulator, directives)
    assert outcome.error is None
    assert outcome.events == healthy.events
    assert emulator.requests[directives] == 2
    assert outcome.sleeps == [0.2]
    assert outcome.elapsed >= 0.2


@FLAVOURS
@pytest.mark.parametrize("max_retries", [0, 2])
def test_529_every_time_raises_overloaded_error_after_max_retries_plus_one_attempts(
    flavour: str, max_retries: int, emulator: Emulator
) -> None:
    directives = fault("status=529;retry-after-ms=10")
    outcome = run_with_fault(flavour, emulator, directives, max_retries=max_retries)
    error = outcome.error
    assert isinstance(error, rxstream.OverloadedError)
    assert error.status_code == 529
    assert error.error_type == "overloaded_error"
    assert error.request_id is not None
    assert error.request_id.startswith("req_")
    assert emulator.requests[directives] == max_retries + 1
    assert outcome.sleeps == [0.01] * max_retries
    assert outcome.snapshot is None  # raised on entering: there is no stream


# --- mid-stream failures: typed errors, the partial message kept ------------------------


def assert_partial_message_kept(outcome: Outcome) -> None:
    """The text read so far is on the error, in the snapshot, and nothing pretends to be
    final: get_final_message() raises the same error again."""
    error = outcome.error
    assert error is not None
    assert outcome.texts, "the fault should come after some text"
    assert error.partial_message is not None
    assert isinstance(error.partial_message.content[0], rxstream.TextBlock)
    assert error.partial_message.content[0].text == "".join(outcome.texts)
    assert outcome.snapshot == error.partial_message
    assert outcome.final_error is error
    assert error.request_id == outcome.request_id is not None


@FLAVOURS
@pytest.mark.parametrize("drop", ["drop=6", "drop-mid=6"])
def test_a_dropped_connection_raises_api_connection_error_with_the_partial_message(
    flavour: str, drop: str, emulator: Emulator
) -> None:
    outcome = run_with_fault(flavour, emulator, fault(drop))
    assert type(outcome.error) is rxstream.APIConnectionError
    assert not isinstance(outcome.error, httpx2.HTTPError)
    assert "message_stop" not in outcome.events
    assert_partial_message_kept(outcome)


@FLAVOURS
@pytest.mark.parametrize(
    ("error_type", "error_class", "status"),
    [
        ("overloaded_error", rxstream.OverloadedError, 529),
        ("rate_limit_error", rxstream.RateLimitError, 429),
        ("api_error", rxstream.errors.InternalServerError, 500),
    ],
)
def test_an_in_stream_error_event_raises_its_own_class(
    flavour: str,
    error_type: str,
    error_class: type[rxstream.APIStatusError],
    status: int,
    emulator: Emulator,
) -> None:
    outcome = run_with_fault(flavour, emulator, fault(f"error={error_type};after=5"))
    error = outcome.error
    assert type(error) is error_class
    assert error.status_code == status
    assert error.error_type == error_type
    assert_partial_message_kept(outcome)


@FLAVOURS
def test_a_stream_ending_before_message_stop_raises_incomplete_stream_error(
    flavour: str, emulator: Emulator
) -> None:
    outcome = run_with_fault(flavour, emulator, fault("end=6"))
    assert type(outcome.error) is rxstream.IncompleteStreamError
    assert_partial_message_kept(outcome)


# --- opt-ins: stream retries before content, the idle timeout ------------------------------


@FLAVOURS
def test_stream_retries_resend_a_stream_that_failed_before_any_content(
    flavour: str, emulator: Emulator, healthy: Outcome
) -> None:
    directives = fault("error=overloaded_error;after=1;times=1")
    outcome = run_with_fault(flavour, emulator, directives, stream_retries=1)
    assert outcome.error is None
    assert emulator.requests[directives] == 2
    assert outcome.events == healthy.events  # one clean sequence: one message_start
    assert outcome.events.count("message_start") == 1


@FLAVOURS
@pytest.mark.parametrize(
    ("directives", "stream_retries"),
    [("error=overloaded_error;after=1;times=1", 0), ("error=overloaded_error;after=5;times=1", 1)],
    ids=["not_opted_in", "after_content"],
)
def test_a_stream_is_not_resent_without_the_opt_in_or_after_content(
    flavour: str, directives: str, stream_retries: int, emulator: Emulator
) -> None:
    directives = fault(directives)
    outcome = run_with_fault(flavour, emulator, directives, stream_retries=stream_retries)
    assert isinstance(outcome.error, rxstream.OverloadedError)
    assert emulator.requests[directives] == 1


@FLAVOURS
def test_idle_timeout_raises_api_timeout_error_when_the_stream_stalls(
    flavour: str, emulator: Emulator
) -> None:
    outcome = run_with_fault(flavour, emulator, fault("stall=2;after=4"), idle_timeout=0.3)
    error = outcome.error
    assert type(error) is rxstream.APITimeoutError
    assert 0.3 <= outcome.elapsed < 1.5
    assert error.partial_message is not None
    assert outcome.snapshot == error.partial_message
    assert outcome.final_error is error


ONE_TEXT = Stream([Text("Still here.")])


@pytest.fixture(scope="module")
def keepalive_server() -> Iterator[str]:
    """Sends message_start, then 0.4 s of pings (`/ping`) or of silence (`/silence`),
    0.05 s apart, then the rest of the stream."""
    first, *rest = [frame(event) for event in ONE_TEXT.events() if event["type"] != "ping"]

    def reply(seen: Seen) -> Reply:
        filler = frame({"type": "ping"}) if seen.path.startswith("/ping") else b""
        return Reply(chunks=[first, *[filler] * 7, b"".join(rest)], delay=0.05)

    with loopback(reply) as server:
        yield server.url


@FLAVOURS
def test_pings_reset_the_idle_timeout(flavour: str, keepalive_server: str) -> None:
    outcome = run(flavour, f"{keepalive_server}/ping", idle_timeout=0.25, max_retries=0)
    assert outcome.error is None
    assert outcome.elapsed > 0.25  # longer than the idle timeout in all
    assert "".join(outcome.texts) == "Still here."


@FLAVOURS
def test_the_same_wait_without_pings_times_out(flavour: str, keepalive_server: str) -> None:
    outcome = run(flavour, f"{keepalive_server}/silence", idle_timeout=0.25, max_retries=0)
    assert type(outcome.error) is rxstream.APITimeoutError
    assert outcome.events == ["message_start"]
