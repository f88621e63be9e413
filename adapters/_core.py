"""What `MessageStream` and `AsyncMessageStream` share: the event log, the Observable, the
final message. The twins only differ in how they pull the next event from their pump."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import reactivex
from reactivex.subject import Subject

from rxstream._accumulate import MessageAccumulator
from rxstream._cut import CutBlock
from rxstream._errors import APIError
from rxstream._fanout import SharedStream
from rxstream._http import Response, is_response
from rxstream._pump import _PumpBase
from rxstream._types import Message, MessageStreamEvent, TextBlock

from ._events import LogEntry, StreamEvent, TextSlot, event_at, log_events

if TYPE_CHECKING:
    from rxstream._accumulate import StreamItem

__all__ = ["StreamCore", "StreamView"]


class _Progress:
    """How many accepted events were recorded: the others are still on their way."""

    __slots__ = ("recorded",)

    def __init__(self) -> None:
        self.recorded = 0


class StreamCore:
    """The state of one adapter stream.

    Every event pulled is recorded once in `log`; each iterator (events, `text_stream`) keeps
    its own cursor into it, so each consumer sees every event whatever the others read.

    The pump accepts each event as it hands it on, so its accumulator stands exactly where
    delivery stands: snapshots, the SDK events' marks and a late subscriber's
    `SnapshotEvent` all read it.
    """

    __slots__ = ("_error", "_events", "_progress", "_pump", "_slots", "_subject", "done", "log")

    def __init__(self, pump: _PumpBase) -> None:
        self._pump = pump
        self.log: list[LogEntry] = []
        self._slots: dict[int, TextSlot] = {}
        self._progress = _Progress()
        self.done = False
        self._error: APIError | None = None
        self._subject: Subject[MessageStreamEvent] | None = None
        self._events: SharedStream | None = None

    @property
    def accumulator(self) -> MessageAccumulator:
        """The message as far as the events delivered so far."""
        return self._pump.lifecycle.accumulator

    @property
    def response(self) -> Response:
        """The HTTP response (raises `RuntimeError` for a stream not over HTTP)."""
        response = self._pump.response
        if not is_response(response):
            raise RuntimeError("this stream has no HTTP response")
        return response

    @property
    def request_id(self) -> str | None:
        """The `request-id` response header."""
        response = self._pump.response
        if is_response(response):
            request_id: str | None = response.headers.get("request-id")
            return request_id
        return None

    @property
    def workspace_id(self) -> str | None:
        """The `anthropic-workspace-id` response header: the workspace the request ran in."""
        response = self._pump.response
        if is_response(response):
            workspace_id: str | None = response.headers.get("anthropic-workspace-id")
            return workspace_id
        return None

    @property
    def events(self) -> reactivex.Observable[StreamItem]:
        """An Observable of this stream's wire events (`ping` included), pushed as the
        stream is iterated. A subscriber joining after events were pulled first receives a
        `SnapshotEvent`, so operators attached late still see the whole message."""
        if self._events is None:
            # From now on the pump feeds its accumulator under a lock, which late subscribers
            # (on any thread) take their snapshot under: never half an event. Not before:
            # a stream nobody observes does not pay for it.
            pump, progress = self._pump, self._progress
            pump.lifecycle.accepted = progress.recorded  # all delivered so far
            pump.feed_lock = pump.lifecycle.lock = threading.RLock()
            self._subject = Subject()
            # Not `self` in these: the stream would refer to itself (a reference cycle).
            self._events = SharedStream(
                self._subject,
                accumulator=lambda: pump.lifecycle.accumulator,
                pending=lambda: pump.lifecycle.accepted - progress.recorded,
                lock=pump.feed_lock,
            )
            self._events.connect()
            if self.done:
                self._end_subject()
        return self._events

    def record(self, event: MessageStreamEvent) -> None:
        """Log the SDK events for `event` (already accepted by the pump), push it to the
        Observable."""
        log_events(event, self.accumulator, self.log, self._slots)
        subject = self._subject
        if subject is None:
            self._progress.recorded += 1
            return
        # Counted and delivered under the lock late subscribers join under: one that joins
        # in between would otherwise be told nothing is pending, then get the event twice.
        lock = self._pump.feed_lock
        assert lock is not None
        with lock:
            self._progress.recorded += 1
            subject.on_next(event)

    def event_at(self, i: int) -> StreamEvent:
        """The `i`-th event of the log (see `LogEntry`)."""
        return event_at(self.log, i, self.accumulator)

    def fail(self, error: APIError) -> APIError:
        """End the stream with `error` (kept, so later calls raise it again)."""
        self.done = True
        if self._error is None:
            self._error = error
        self._end_subject()
        return self._error

    def finish(self) -> None:
        """End the stream (completed, or closed early by the user)."""
        self.done = True
        self._end_subject()

    def _end_subject(self) -> None:
        subject = self._subject
        if subject is None or subject.is_disposed or subject.is_stopped:
            return
        if self._error is not None:
            subject.on_error(self._error)
        else:
            subject.on_completed()

    def raise_if_failed(self) -> None:
        """Raise the error the stream ended with, if any."""
        if self._error is not None:
            raise self._error

    def current_snapshot(self) -> Message:
        """The message accumulated so far."""
        accumulator = self.accumulator
        if not accumulator.started:
            raise RuntimeError("no message yet: the stream has not sent message_start")
        return accumulator.message()

    def final_message(self) -> Message:
        """The complete message; raises the stream's error, or `RuntimeError` if it was
        closed before `message_stop` (never a silently partial message)."""
        self.raise_if_failed()
        if not self.accumulator.complete:
            raise RuntimeError(
                "the stream was closed before message_stop: no final message "
                "(current_message_snapshot has the partial one)"
            )
        return self.accumulator.message()

    def final_text(self) -> str:
        """All text blocks of the final message, concatenated."""
        message = self.final_message()
        texts = [b.text for b in message.content if isinstance(b, TextBlock)]
        if not texts:
            kinds = ",".join(b.type for b in message.content)
            raise RuntimeError(
                f".get_final_text() needs a text content block; the message has {kinds}"
            )
        return "".join(texts)


class StreamView:
    """What `MessageStream` and `AsyncMessageStream` read alike from their `StreamCore`."""

    _core: StreamCore

    @property
    def events(self) -> reactivex.Observable[StreamItem]:
        """This stream's wire events as an Observable, for rxstream operators: they receive
        each event as iteration pulls it (a late subscriber first gets a snapshot)."""
        return self._core.events

    @property
    def current_message_snapshot(self) -> Message:
        """The message accumulated so far (O(its size), cached until the next event)."""
        return self._core.current_snapshot()

    @property
    def cut_blocks(self) -> tuple[CutBlock, ...]:
        """The blocks the message ended inside: started, but no `content_block_stop` came
        before `message_stop` (a tool input cut by `max_tokens`). Each says its index, the
        block as `get_final_message()` holds it, and the `stop_reason`. Empty until
        `message_stop`, and for a message whose blocks all ended."""
        return self._core.accumulator.cut_blocks

    @property
    def response(self) -> Response:
        """The HTTP response."""
        return self._core.response

    @property
    def request_id(self) -> str | None:
        """The `request-id` response header."""
        return self._core.request_id

    @property
    def workspace_id(self) -> str | None:
        """The `anthropic-workspace-id` response header."""
        return self._core.workspace_id
