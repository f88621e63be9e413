"""Pull one stream's events from its byte source: decode, check, retry, close.

`EventPump` (sync) and `AsyncEventPump` are the one place where bytes are read. Everything
else (Observable sources, the MessageStream adapters) iterates a pump. The logic they share
lives in `_Attempt` and `StreamLifecycle`; the twins differ only in how they wait.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Awaitable,
    Callable,
    Generator,
    Iterator,
)
from dataclasses import dataclass, field
from typing import Any, Final

import anyio

from ._decode import _decode_items, decode_event
from ._errors import APIError, APITimeoutError
from ._lifecycle import StreamLifecycle, is_retryable
from ._retry import retry_delay
from ._sse import DEFAULT_MAX_EVENT_SIZE, SSEDecoder
from ._types import MessageStreamEvent

__all__ = ["AsyncEventPump", "AsyncOpened", "EventPump", "Opened"]

_NO_CHUNKS: Final[tuple[bytes, ...]] = ()


def _noop() -> None:
    return None


async def _anoop() -> None:
    return None


@dataclass
class Opened:
    """A byte source that has been opened: its chunks, how to close it, its request id."""

    chunks: Iterator[bytes]
    close: Callable[[], None] = _noop
    request_id: str | None = None
    response: object | None = None
    interrupt: Callable[[], None] = _noop
    """Wake a read blocked in another thread now (shut the socket down)."""


@dataclass
class AsyncOpened:
    """The async twin of `Opened`."""

    chunks: AsyncIterator[bytes]
    aclose: Callable[[], Awaitable[None]] = _anoop
    request_id: str | None = None
    response: object | None = None


@dataclass
class _Attempt:
    """The sans-IO part of one attempt: decode chunks, check events, hold back the events
    that come before any content while a retry is still possible."""

    lifecycle: StreamLifecycle
    hold: bool
    max_event_size: int
    decoder: SSEDecoder = field(init=False)
    held: list[MessageStreamEvent] = field(default_factory=list)
    failed: APIError | None = None
    """The failure found in the last chunk: raise it once the events before it are out."""

    def __post_init__(self) -> None:
        self.decoder = SSEDecoder(max_event_size=self.max_event_size)

    def decode(self, chunk: bytes) -> list[MessageStreamEvent]:
        """The events `chunk` completes, decoded but not yet accepted; those before a bad one
        too, however the bytes were chunked (the failure is then left in `failed`)."""
        try:
            items = self.decoder._feed_runs(chunk)
        except APIError as exc:
            self.failed = exc
            return []
        if not items:
            return []
        decoded, error = _decode_items(items)  # as iter_events does: runs at once, in C
        if error is not None:
            self.failed = error
        return decoded

    def deliver(self, events: list[MessageStreamEvent]) -> Iterator[MessageStreamEvent]:
        """Accept each event as it is handed on, so that the accumulator stands exactly where
        the consumer does; hold back the events before any content while a retry is possible.
        Raises the failure an event stands for (an in-stream error) when its turn comes."""
        accept = self.lifecycle.accept
        for event in events:
            accept(event)
            if self.hold:
                if not self.lifecycle.content_started:
                    self.held.append(event)
                    continue
                self.hold = False
                held, self.held = self.held, []
                yield from held
            yield event

    def deliver_read(
        self, events: list[MessageStreamEvent]
    ) -> Iterator[MessageStreamEvent | list[MessageStreamEvent]]:
        """`deliver` for a consumer of whole reads: all the events at once, accepted first
        (a single one alone), then the failure an event stands for."""
        if self.hold:  # rare: before any content, with retries
            yield from _in_one(self.deliver(events))
            return
        accept = self.lifecycle.accept
        accepted = 0
        try:
            for event in events:
                accept(event)
                accepted += 1
        except APIError:
            if accepted:
                yield _one_read(events[:accepted])
            raise
        yield _one_read(events)

    def finish(self) -> Iterator[MessageStreamEvent]:
        """The input ended: the last events, then `IncompleteStreamError` unless the stream
        was complete, then (a stream without content) the events held back."""
        ends: list[MessageStreamEvent] = []
        try:
            ends = [decode_event(raw) for raw in self.decoder.end()[0]]
        except APIError as exc:
            self.failed = exc
        yield from self.deliver(ends)
        self.raise_failure()
        self.lifecycle.finish()
        held, self.held = self.held, []
        yield from held

    def raise_failure(self) -> None:
        """Raise the failure found, if any, once the events before it were delivered (with
        the partial message as it stands then)."""
        if self.failed is not None:
            raise self.lifecycle.failure(self.failed)


def _in_one(
    events: Iterator[MessageStreamEvent],
) -> Iterator[MessageStreamEvent | list[MessageStreamEvent]]:
    """`events` as one list (a single event alone, nothing if none), then the failure that
    ended them."""
    delivered: list[MessageStreamEvent] = []
    failure: APIError | None = None
    try:
        delivered.extend(events)  # those before a failure stay
    except APIError as exc:
        failure = exc
    if delivered:
        yield _one_read(delivered)
    if failure is not None:
        raise failure


def _one_read(
    events: list[MessageStreamEvent],
) -> MessageStreamEvent | list[MessageStreamEvent]:
    """The events of one read as `reads()` hands them on: a single one alone."""
    return events if len(events) > 1 else events[0]


class _PumpBase:
    __slots__ = ("feed_lock", "idle_timeout", "lifecycle", "max_event_size", "response", "retries")

    def __init__(self, *, retries: int, idle_timeout: float | None, max_event_size: int) -> None:
        self.retries = retries
        self.idle_timeout = idle_timeout
        self.max_event_size = max_event_size
        self.lifecycle = StreamLifecycle()
        self.response: object | None = None
        self.feed_lock: threading.RLock | None = None
        """Held while the accumulator takes an event, when others read it from other threads."""

    def _new_attempt(self, request_id: str | None, response: object | None) -> _Attempt:
        self.lifecycle = StreamLifecycle(request_id, lock=self.feed_lock)
        self.response = response
        return _Attempt(self.lifecycle, self.retries > 0, self.max_event_size)

    def _may_retry(self, attempt: _Attempt | None, number: int, exc: APIError) -> bool:
        before_content = attempt is None or not attempt.lifecycle.content_started
        return before_content and number < self.retries and is_retryable(exc)

    def _idle_error(self) -> APITimeoutError:
        return APITimeoutError(f"no event for {self.idle_timeout} s (idle timeout)")


class EventPump(_PumpBase):
    """Iterate to pull the events of one stream; `close()` ends it and closes the source.

    Raises only `APIError`s: the in-stream error's class, `APIConnectionError` for a broken
    connection, `IncompleteStreamError` for a body without `message_stop`, each with the
    partial message. With `retries`, a stream that fails before any content is opened again.
    """

    __slots__ = ("_close", "_interrupt", "_open", "_opened", "_reader", "sleep")

    def __init__(
        self,
        open_source: Callable[[], Opened],
        *,
        retries: int = 0,
        idle_timeout: float | None = None,
        max_event_size: int = DEFAULT_MAX_EVENT_SIZE,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(retries=retries, idle_timeout=idle_timeout, max_event_size=max_event_size)
        self._open = open_source
        self._close: Callable[[], None] = _noop
        self._interrupt: Callable[[], None] = _noop
        self._opened: Opened | None = None
        self._reader: int | None = None  # the thread iterating, while it does
        self.sleep = sleep

    def open(self) -> Opened:
        """Open the source now, if iteration has not: the request is sent and HTTP errors
        raise here. Returns the opened source."""
        if self._opened is None:
            try:
                self._opened = self._open()
            except APIError:
                raise
            except Exception as exc:
                raise self.lifecycle.failure(exc) from exc
            self._close = self._opened.close
            self._interrupt = self._opened.interrupt
            self.response = self._opened.response
        return self._opened

    def close(self) -> None:
        """Close the source now (safe to call more than once, and from any thread: a read
        blocked in the thread iterating is woken at once, its socket shut down)."""
        reader = self._reader
        if reader is not None and reader != threading.get_ident():
            self._interrupt()
        close, self._close = self._close, _noop
        close()

    def __iter__(self) -> Generator[MessageStreamEvent, None, None]:
        return self._iterate(False)

    def reads(self) -> Generator[MessageStreamEvent | list[MessageStreamEvent], None, None]:
        """Iterate as above, the events that one read of the source completes coming as one
        list when there are several: each is accepted (the partial message includes it)
        before the list is handed on. For a consumer that takes several events at once for
        less work per event."""
        return self._iterate(True)

    def _iterate(self, by_read: bool) -> Generator[Any, None, None]:
        self._reader = threading.get_ident()
        try:
            yield from self._attempts(by_read)
        finally:
            self._reader = None

    def _attempts(self, by_read: bool) -> Generator[Any, None, None]:
        number = 0
        while True:
            attempt: _Attempt | None = None
            try:
                opened = self.open()
                self._opened = None
                attempt = self._new_attempt(opened.request_id, opened.response)
                yield from self._read(attempt, opened.chunks, by_read)
                return
            except APIError as exc:
                self.close()
                if not self._may_retry(attempt, number, exc):
                    raise
                self.sleep(retry_delay(number))
                number += 1
            finally:
                self.close()

    def _read(self, attempt: _Attempt, chunks: Iterator[bytes], by_read: bool) -> Iterator[Any]:
        # A blocked read is bounded by the HTTP read timeout (the client sets it to the idle
        # timeout); bytes that trickle in without completing an event are caught here. Only
        # the time spent waiting on the source counts, never the consumer's between reads.
        idle = self.idle_timeout
        waited = 0.0
        clock = time.monotonic
        while True:
            started = clock()
            try:
                chunk = next(chunks, None)
            except Exception as exc:
                raise attempt.lifecycle.failure(exc) from exc
            if chunk is None:
                break
            seen = attempt.decoder.events_dispatched
            events = attempt.decode(chunk)
            if idle is not None:
                if attempt.decoder.events_dispatched != seen:
                    waited = 0.0
                else:
                    waited += clock() - started
                    if waited > idle:
                        raise attempt.lifecycle.failure(self._idle_error())
            if by_read and len(events) > 1:
                yield from attempt.deliver_read(events)
            else:
                yield from attempt.deliver(events)
            attempt.raise_failure()
        yield from _in_one(attempt.finish()) if by_read else attempt.finish()


class AsyncEventPump(_PumpBase):
    """The async twin of `EventPump` (asyncio and trio, through anyio)."""

    __slots__ = ("_aclose", "_open", "_opened")

    def __init__(
        self,
        open_source: Callable[[], Awaitable[AsyncOpened]],
        *,
        retries: int = 0,
        idle_timeout: float | None = None,
        max_event_size: int = DEFAULT_MAX_EVENT_SIZE,
    ) -> None:
        super().__init__(retries=retries, idle_timeout=idle_timeout, max_event_size=max_event_size)
        self._open = open_source
        self._aclose: Callable[[], Awaitable[None]] = _anoop
        self._opened: AsyncOpened | None = None

    async def open(self) -> AsyncOpened:
        """Open the source now, if iteration has not (see `EventPump.open`)."""
        if self._opened is None:
            try:
                self._opened = await self._open()
            except APIError:
                raise
            except Exception as exc:
                raise self.lifecycle.failure(exc) from exc
            self._aclose = self._opened.aclose
            self.response = self._opened.response
        return self._opened

    async def aclose(self) -> None:
        """Close the source now (safe to call more than once)."""
        aclose, self._aclose = self._aclose, _anoop
        with anyio.CancelScope(shield=True):
            await aclose()

    async def __aiter__(self) -> AsyncGenerator[MessageStreamEvent, None]:
        number = 0
        while True:
            attempt: _Attempt | None = None
            try:
                opened = await self.open()
                self._opened = None
                attempt = self._new_attempt(opened.request_id, opened.response)
                # Closed explicitly: when the consumer stops early, the inner generator is
                # otherwise left to the garbage collector, outside its event loop (trio warns).
                async with contextlib.aclosing(self._read(attempt, opened.chunks)) as events:
                    async for event in events:
                        yield event
                return
            except APIError as exc:
                await self.aclose()
                if not self._may_retry(attempt, number, exc):
                    raise
                await anyio.sleep(retry_delay(number))
                number += 1
            finally:
                await self.aclose()

    async def _read(
        self, attempt: _Attempt, chunks: AsyncIterator[bytes]
    ) -> AsyncGenerator[MessageStreamEvent, None]:
        # The deadline bounds the time spent waiting on the source since the last event,
        # never the consumer's time between reads.
        idle = self.idle_timeout
        waited = 0.0
        clock = anyio.current_time
        while True:
            started = clock()
            deadline = started + idle - waited if idle is not None else math.inf
            try:
                with anyio.CancelScope(deadline=deadline) as scope:
                    chunk = await anext(chunks, None)
            except Exception as exc:
                raise attempt.lifecycle.failure(exc) from exc
            if scope.cancelled_caught:
                raise attempt.lifecycle.failure(self._idle_error())
            if chunk is None:
                break
            seen = attempt.decoder.events_dispatched
            events = attempt.decode(chunk)
            if idle is not None:
                if attempt.decoder.events_dispatched != seen:
                    waited = 0.0
                else:
                    waited += clock() - started
            for event in attempt.deliver(events):
                yield event
            attempt.raise_failure()
        for event in attempt.finish():
            yield event
