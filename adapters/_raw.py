"""`Stream` and `AsyncStream`: the raw events of `messages.create(..., stream=True)`.

They read through the same event pump as everything else, so every failure is an
`rxstream.APIError` with the partial message: an in-stream `error` event raises its own class
(`OverloadedError`, ...), a dropped connection `APIConnectionError`, a body that ends before
`message_stop` `IncompleteStreamError`. The HTTP response is closed however iteration ends.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import AsyncGenerator, AsyncIterator, Generator, Iterator
from types import TracebackType
from typing import Any, Generic, TypeVar, cast

import anyio

from rxstream._finalize import close_when_collected
from rxstream._http import Response
from rxstream._pump import AsyncEventPump, AsyncOpened, EventPump
from rxstream._sources import opened_async_response, opened_response
from rxstream._types import MessageStreamEvent

__all__ = ["AsyncStream", "Stream"]

T = TypeVar("T")


class _Progress:
    """Whether the events ran out; kept apart so the generator does not refer to its stream.
    An async stream's events generator is kept here too, for closing a dropped stream."""

    __slots__ = ("events", "finished")

    def __init__(self) -> None:
        self.finished = False
        self.events: AsyncGenerator[Any, None] | None = None


def _consumed_error(closed: bool) -> RuntimeError:
    if closed:
        return RuntimeError("this stream is closed; it cannot be iterated")
    return RuntimeError("this stream has been consumed; a stream can be iterated only once")


def _events(pump: EventPump, progress: _Progress) -> Generator[MessageStreamEvent, None, None]:
    try:
        yield from pump
    finally:
        progress.finished = True


class Stream(Generic[T]):
    """The raw events of one streamed response; iterate it once, close it when done.

    `ping` events are yielded too (they show the connection is live). Iterating a consumed
    or closed stream raises `RuntimeError`.
    """

    def __init__(self: Stream[MessageStreamEvent], response: Response) -> None:
        self._response = response
        self._pump = EventPump(lambda: opened_response(response))
        self._progress = _Progress()
        self._iterator: Generator[T, None, None] | None = None
        self._closed = False

    @property
    def response(self) -> Response:
        """The HTTP response the events are read from."""
        return self._response

    @property
    def request_id(self) -> str | None:
        """The `request-id` response header."""
        request_id: str | None = self._response.headers.get("request-id")
        return request_id

    @property
    def workspace_id(self) -> str | None:
        """The `anthropic-workspace-id` response header: the workspace the request ran in."""
        workspace_id: str | None = self._response.headers.get("anthropic-workspace-id")
        return workspace_id

    def _start(self) -> Generator[T, None, None]:
        if self._iterator is None:
            if self._closed:
                raise _consumed_error(closed=True)
            # T is MessageStreamEvent (see __init__); the cast only restates it.
            events = _events(self._pump, self._progress)
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


async def _aevents(
    pump: AsyncEventPump, progress: _Progress
) -> AsyncGenerator[MessageStreamEvent, None]:
    try:
        # Closed explicitly, in this task: left to the collector, trio warns.
        async with contextlib.aclosing(pump.__aiter__()) as events:
            async for event in events:
                yield event
    finally:
        progress.finished = True
        with anyio.CancelScope(shield=True):  # a cancelled task still releases its connection
            await pump.aclose()


async def _close_dropped(progress: _Progress, response: Response) -> None:
    """`AsyncStream.aclose()` for a stream nobody holds any more."""
    with anyio.CancelScope(shield=True):
        if progress.events is not None:
            await progress.events.aclose()
        await response.aclose()


class AsyncStream(Generic[T]):
    """The async twin of `Stream`: `async for`, `async with`, `aclose()`."""

    def __init__(self: AsyncStream[MessageStreamEvent], response: Response) -> None:
        self._response = response

        async def open_source() -> AsyncOpened:
            return opened_async_response(response)

        self._pump = AsyncEventPump(open_source)
        self._progress = _Progress()
        self._iterator: AsyncGenerator[T, None] | None = None
        self._closed = False
        # Dropped unclosed: close it in a task, not in the collector (under trio, an async
        # generator collected unfinished warns), and release its connection.
        progress = self._progress
        close_when_collected(
            self,
            functools.partial(_close_dropped, progress, response),
            needed=lambda: not progress.finished,
        )

    @property
    def response(self) -> Response:
        """The HTTP response the events are read from."""
        return self._response

    @property
    def request_id(self) -> str | None:
        """The `request-id` response header."""
        request_id: str | None = self._response.headers.get("request-id")
        return request_id

    @property
    def workspace_id(self) -> str | None:
        """The `anthropic-workspace-id` response header: the workspace the request ran in."""
        workspace_id: str | None = self._response.headers.get("anthropic-workspace-id")
        return workspace_id

    def _start(self) -> AsyncGenerator[T, None]:
        if self._iterator is None:
            if self._closed:
                raise _consumed_error(closed=True)
            events = _aevents(self._pump, self._progress)
            self._progress.events = events
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
