"""`AsyncMessageStream` and `AsyncMessageStreamManager`: the SDK's async streaming
interface, under asyncio and trio alike (anyio)."""

from __future__ import annotations

import functools
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from types import TracebackType
from typing import Any

import anyio

from rxstream._errors import APIError
from rxstream._finalize import close_when_collected
from rxstream._http import Response
from rxstream._pump import AsyncEventPump, AsyncOpened
from rxstream._sources import opened_async_response
from rxstream._types import Message

from ._core import StreamCore, StreamView
from ._events import LogReader, StreamEvent, TextSlot

__all__ = ["AsyncMessageStream", "AsyncMessageStreamManager"]


class _LogCursor:
    """An async iterator over the stream's log with its own position. A plain class, not an
    async generator, so abandoning it mid-way leaves nothing to finalize. `texts` yields
    the text deltas' strings only."""

    __slots__ = ("_i", "_next", "_reader", "_stream", "_texts")

    def __init__(self, stream: AsyncMessageStream, *, texts: bool = False) -> None:
        self._stream = stream
        self._i = 0
        self._texts = texts
        self._reader = LogReader()
        self._next: StreamEvent | None = None  # the second event of a text delta

    def __aiter__(self) -> _LogCursor:
        return self

    async def __anext__(self) -> Any:
        following = self._next
        if following is not None:
            self._next = None
            return following
        core = self._stream._core
        log = core.log
        while True:
            i = self._i
            while i >= len(log):
                if not await self._stream._pull(i):
                    core.raise_if_failed()
                    raise StopAsyncIteration
            self._i = i + 1
            entry = log[i]
            if type(entry) is TextSlot:
                if self._texts:
                    return self._reader.text(entry)
                wire, self._next = self._reader.events(entry, core.accumulator)
                return wire
            if not self._texts:
                return entry if type(entry) is not int else core.event_at(i)


class AsyncMessageStream(StreamView):
    """The async twin of `MessageStream`: `async for` events, `text_stream`, or both; the
    same `events` Observable; cancelling the task that reads it closes the connection."""

    def __init__(self, pump: AsyncEventPump) -> None:
        self._pump = pump
        self._core = StreamCore(pump)
        self._source = pump.__aiter__()
        self._lock = anyio.Lock()
        self._closed = False
        # Dropped unclosed: close in a task, not in the collector (under trio, an async
        # generator collected unfinished warns). Nothing here refers to the stream.
        core, source = self._core, self._source
        close_when_collected(
            self, functools.partial(_close_abandoned, pump, source), needed=lambda: not core.done
        )

    async def _pull(self, wanted: int) -> bool:
        """Make the log longer than `wanted`; False once the stream has ended."""
        core = self._core
        async with self._lock:
            if len(core.log) > wanted:
                return True  # another reader pulled while this one waited
            try:
                while not core.done and len(core.log) <= wanted:
                    try:
                        event = await self._source.__anext__()
                    except StopAsyncIteration:
                        core.finish()
                    except APIError as exc:
                        if not self._closed:
                            raise core.fail(exc) from None
                        # close() from another task cut the read short: the stream just ends
                    else:
                        core.record(event)
            finally:
                if self._closed:  # close() left the generator to the task inside it
                    with anyio.CancelScope(shield=True):
                        await self._source.aclose()
            return len(core.log) > wanted

    def __aiter__(self) -> AsyncIterator[StreamEvent]:
        return _LogCursor(self)

    @property
    def text_stream(self) -> AsyncIterator[str]:
        """The text deltas only, from the start of the stream, whatever else was read."""
        return _LogCursor(self, texts=True)

    async def __aenter__(self) -> AsyncMessageStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the connection now, without reading the rest. Safe from another task than
        the one reading: that one's iteration then ends as if the stream had."""
        self._closed = True
        self._core.finish()
        with anyio.CancelScope(shield=True):
            await self._pump.aclose()
            if not self._lock.locked():
                await self._source.aclose()  # else the task reading it closes it (see _pull)

    aclose = close

    async def until_done(self) -> None:
        """Read the stream to its end; raises the error it ended with, if any."""
        while await self._pull(len(self._core.log)):
            pass
        self._core.raise_if_failed()

    async def get_final_message(self) -> Message:
        """The complete message (reads the stream to its end first). Raises the stream's
        error, or `RuntimeError` if it was closed before `message_stop`."""
        await self.until_done()
        return self._core.final_message()

    async def get_final_text(self) -> str:
        """All text blocks of the final message, concatenated."""
        await self.until_done()
        return self._core.final_text()


async def _close_abandoned(pump: AsyncEventPump, source: AsyncGenerator[Any, None]) -> None:
    """`AsyncMessageStream.close()` for a stream nobody holds any more."""
    with anyio.CancelScope(shield=True):
        await pump.aclose()
        await source.aclose()


class AsyncMessageStreamManager:
    """What `AsyncClient.messages.stream(...)` returns: `async with` sends the request and
    gives the `AsyncMessageStream`; leaving closes the connection."""

    def __init__(
        self,
        open_response: Callable[[], Awaitable[Response]],
        *,
        idle_timeout: float | None = None,
        stream_retries: int = 0,
    ) -> None:
        self._open_response = open_response
        self._idle_timeout = idle_timeout
        self._stream_retries = stream_retries
        self._stream: AsyncMessageStream | None = None

    async def __aenter__(self) -> AsyncMessageStream:
        # Not referring to the manager (see MessageStreamManager.__enter__: no cycle).
        open_response = self._open_response

        async def open_source() -> AsyncOpened:
            return opened_async_response(await open_response())

        pump = AsyncEventPump(
            open_source, retries=self._stream_retries, idle_timeout=self._idle_timeout
        )
        await pump.open()
        self._stream = AsyncMessageStream(pump)
        return self._stream

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._stream is not None:
            await self._stream.close()
