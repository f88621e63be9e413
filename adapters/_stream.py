"""`MessageStream` and `MessageStreamManager`: the official SDK's sync streaming interface."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Generator, Iterator
from types import TracebackType

from rxstream._errors import APIError
from rxstream._http import Response
from rxstream._pump import EventPump
from rxstream._sources import opened_response
from rxstream._types import Message, MessageStreamEvent

from ._core import StreamCore, StreamView
from ._events import LogReader, StreamEvent, TextSlot

__all__ = ["MessageStream", "MessageStreamManager"]


class MessageStream(StreamView):
    """A streamed message: iterate it for events, or read `text_stream`, or both.

    Pull-driven: iterating reads the next chunk from the connection, pushes each of its events
    through the accumulator and the `events` Observable, and yields what comes out. Errors
    are `rxstream.APIError`s carrying the partial message.
    """

    def __init__(self, pump: EventPump) -> None:
        self._pump = pump
        self._core = StreamCore(pump)
        self._source: Generator[MessageStreamEvent, None, None] = iter(pump)
        self._closed = False

    def _pull(self) -> bool:
        """Pull one wire event into the log; False once the stream has ended."""
        core = self._core
        if core.done:
            return False
        try:
            event = next(self._source)
        except StopIteration:
            core.finish()
            return False
        except APIError as exc:
            if not self._closed:
                raise core.fail(exc) from None
            return False  # close() from another thread cut the read short: the stream ends
        finally:
            if self._closed:  # close() left the generator to the thread inside it
                self._source.close()
        core.record(event)
        return True

    def __iter__(self) -> Iterator[StreamEvent]:
        core = self._core
        log = core.log
        reader = LogReader()
        i = 0
        while True:
            while i < len(log):
                entry = log[i]
                i += 1
                if type(entry) is TextSlot:
                    yield from reader.events(entry, core.accumulator)
                elif type(entry) is int:
                    yield core.event_at(i - 1)
                else:
                    yield entry  # type: ignore[misc]  # the other kinds are events
            if not self._pull():
                core.raise_if_failed()
                return

    @property
    def text_stream(self) -> Iterator[str]:
        """The text deltas only, from the start of the stream, whatever else was read."""
        return self._texts()

    def _texts(self) -> Iterator[str]:
        core = self._core
        log = core.log
        counts: dict[TextSlot, int] = {}  # LogReader.text, inlined: the hot loop
        i = 0
        while True:
            while i < len(log):
                entry = log[i]
                i += 1
                if type(entry) is TextSlot:
                    count = counts[entry] = counts.get(entry, entry.base) + 1
                    joined, _, _, recent = entry.text._view
                    yield recent[count - joined - 1] if count > joined else entry.text.piece(count)
            if not self._pull():
                core.raise_if_failed()
                return

    def __enter__(self) -> MessageStream:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection now, without reading the rest. Safe from another thread than
        the one reading: that one's iteration then ends as if the stream had."""
        self._closed = True
        self._core.finish()
        self._pump.close()
        if inspect.getgeneratorstate(self._source) != inspect.GEN_RUNNING:
            self._source.close()  # else the thread reading it closes it (see _pull)

    def until_done(self) -> None:
        """Read the stream to its end; raises the error it ended with, if any."""
        while self._pull():
            pass
        self._core.raise_if_failed()

    def get_final_message(self) -> Message:
        """The complete message (reads the stream to its end first). Raises the stream's
        error, or `RuntimeError` if it was closed before `message_stop`."""
        self.until_done()
        return self._core.final_message()

    def get_final_text(self) -> str:
        """All text blocks of the final message, concatenated."""
        self.until_done()
        return self._core.final_text()


class MessageStreamManager:
    """What `client.messages.stream(...)` returns: entering sends the request (HTTP errors
    raise there) and gives the `MessageStream`; leaving closes the connection."""

    def __init__(
        self,
        open_response: Callable[[], Response],
        *,
        idle_timeout: float | None = None,
        stream_retries: int = 0,
    ) -> None:
        self._open_response = open_response
        self._idle_timeout = idle_timeout
        self._stream_retries = stream_retries
        self._stream: MessageStream | None = None

    def __enter__(self) -> MessageStream:
        # The opener must not refer to the manager: manager -> stream -> pump -> manager
        # would be a cycle, and the stream's whole event log would wait for the cyclic GC.
        open_response = self._open_response
        pump = EventPump(
            lambda: opened_response(open_response()),
            retries=self._stream_retries,
            idle_timeout=self._idle_timeout,
        )
        pump.open()
        self._stream = MessageStream(pump)
        return self._stream

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._stream is not None:
            self._stream.close()
