"""`Stream` and `AsyncStream`: the raw events of `messages.create(..., stream=True)`.

Unlike the official SDK's, every failure is an `rxstream.APIError`: an in-stream `error`
event raises its own class (`OverloadedError`, ...), a dropped connection raises
`APIConnectionError`, and a body that ends before `message_stop` raises
`IncompleteStreamError`. The HTTP response is closed however iteration ends.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Generator, Iterator
from types import TracebackType
from typing import Generic, TypeVar, cast

import anyio
import httpx

from rxstream._client_core import connection_error
from rxstream._decode import aiter_events, iter_events
from rxstream._errors import APIError, IncompleteStreamError
from rxstream._lifecycle import error_from_event
from rxstream._sources import finish_async_chunks
from rxstream._types import ErrorEvent, MessageStopEvent, MessageStreamEvent

__all__ = ["AsyncStream", "Stream"]

T = TypeVar("T")


class _Progress:
    """What the event generator tells its stream; kept apart so neither refers to the other."""

    __slots__ = ("finished", "request_id")

    def __init__(self, response: httpx.Response) -> None:
        self.finished = False
        self.request_id: str | None = response.headers.get("request-id")


def _check(event: MessageStreamEvent, progress: _Progress) -> bool:
    """Raise for an `error` event; True for `message_stop`."""
    if isinstance(event, ErrorEvent):
        raise error_from_event(event, progress.request_id)
    return isinstance(event, MessageStopEvent)


def _failure(exc: httpx.TransportError, progress: _Progress) -> APIError:
    error = connection_error(exc)
    error.request_id = progress.request_id
    return error


def _incomplete(progress: _Progress) -> IncompleteStreamError:
    return IncompleteStreamError(
        "the stream ended before message_stop: the message is incomplete",
        request_id=progress.request_id,
    )


def _consumed_error(closed: bool) -> RuntimeError:
    if closed:
        return RuntimeError("this stream is closed; it cannot be iterated")
    return RuntimeError("this stream has been consumed; a stream can be iterated only once")


def _events(
    response: httpx.Response, progress: _Progress
) -> Generator[MessageStreamEvent, None, None]:
    stopped = False
    try:
        try:
            for event in iter_events(response.iter_bytes()):
                stopped = _check(event, progress) or stopped
                yield event
        except httpx.TransportError as exc:
            raise _failure(exc, progress) from exc
        except APIError as exc:
            exc.request_id = exc.request_id or progress.request_id
            raise
        if not stopped:
            raise _incomplete(progress)
    finally:
        progress.finished = True
        response.close()


class Stream(Generic[T]):
    """The raw events of one streamed response; iterate it once, close it when done.

    `ping` events are yielded too (they show the connection is live). Iterating a consumed
    or closed stream raises `RuntimeError`.
    """

    def __init__(self: Stream[MessageStreamEvent], response: httpx.Response) -> None:
        self._response = response
        self._progress = _Progress(response)
        self._iterator: Generator[T, None, None] | None = None
        self._closed = False

    @property
    def response(self) -> httpx.Response:
        """The HTTP response the events are read from."""
        return self._response

    @property
    def request_id(self) -> str | None:
        """The `request-id` response header."""
        return self._progress.request_id

    def _start(self) -> Generator[T, None, None]:
        if self._iterator is None:
            if self._closed:
                raise _consumed_error(closed=True)
            # T is MessageStreamEvent (see __init__); the cast only restates it.
            events = _events(self._response, self._progress)
            self._iterator = cast("Generator[T, None, None]", events)
        elif self._progress.finished or self._closed:
            raise _consumed_error(closed=not self._progress.finished)
        return self._iterator

    def __iter__(self) -> Iterator[T]:
        self._start()
        return self

    def __next__(self) -> T:
        return next(self._iterator or self._start())

    def close(self) -> None:
        """Close the HTTP response without reading the rest of the body."""
        self._closed = True
        if self._iterator is not None:
            self._iterator.close()
        self._response.close()

    def __enter__(self) -> Stream[T]:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


async def _aclose(iterator: object) -> None:
    aclose = getattr(iterator, "aclose", None)
    if aclose is not None:
        await aclose()


async def _aevents(
    response: httpx.Response, progress: _Progress
) -> AsyncGenerator[MessageStreamEvent, None]:
    stopped = False
    chunks = response.aiter_bytes()
    events = aiter_events(chunks)
    try:
        try:
            async for event in events:
                stopped = _check(event, progress) or stopped
                yield event
        except httpx.TransportError as exc:
            raise _failure(exc, progress) from exc
        except APIError as exc:
            exc.request_id = exc.request_id or progress.request_id
            raise
        if not stopped:
            raise _incomplete(progress)
    finally:
        progress.finished = True
        # Shielded, so that a cancelled task still releases its connection. The response
        # first: then httpx's generators can be made to end here, not in the collector.
        with anyio.CancelScope(shield=True):
            await response.aclose()
            await finish_async_chunks(chunks)
            await _aclose(events)


class AsyncStream(Generic[T]):
    """The async twin of `Stream`: `async for`, `async with`, `aclose()`."""

    def __init__(self: AsyncStream[MessageStreamEvent], response: httpx.Response) -> None:
        self._response = response
        self._progress = _Progress(response)
        self._iterator: AsyncGenerator[T, None] | None = None
        self._closed = False

    @property
    def response(self) -> httpx.Response:
        """The HTTP response the events are read from."""
        return self._response

    @property
    def request_id(self) -> str | None:
        """The `request-id` response header."""
        return self._progress.request_id

    def _start(self) -> AsyncGenerator[T, None]:
        if self._iterator is None:
            if self._closed:
                raise _consumed_error(closed=True)
            events = _aevents(self._response, self._progress)
            self._iterator = cast("AsyncGenerator[T, None]", events)
        elif self._progress.finished or self._closed:
            raise _consumed_error(closed=not self._progress.finished)
        return self._iterator

    def __aiter__(self) -> AsyncIterator[T]:
        self._start()
        return self

    async def __anext__(self) -> T:
        return await (self._iterator or self._start()).__anext__()

    async def aclose(self) -> None:
        """Close the HTTP response without reading the rest of the body."""
        self._closed = True
        with anyio.CancelScope(shield=True):
            if self._iterator is not None:
                await self._iterator.aclose()
            await self._response.aclose()

    async def close(self) -> None:
        """Alias of `aclose()`, as the official SDK's `AsyncStream` has it."""
        await self.aclose()

    async def __aenter__(self) -> AsyncStream[T]:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
