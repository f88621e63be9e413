"""The outcome of one stream: typed errors, completeness, the partial message on failure.

Sources and adapters, sync and async, all push their events through a `StreamLifecycle`, so
an in-stream `error` event, a dropped connection or a stream that ends early end the same
way everywhere: an `APIError` of the right class carrying the message accumulated so far.
"""

from __future__ import annotations

import threading
from typing import Final

from ._accumulate import MessageAccumulator
from ._errors import (
    STATUS_FOR_TYPE,
    APIConnectionError,
    APIError,
    APIStatusError,
    IncompleteStreamError,
    error_class_for_type,
)
from ._http import connection_error
from ._types import ErrorEvent, Message, MessageStreamEvent

__all__ = ["StreamLifecycle", "connection_error", "error_from_event", "is_retryable"]

_CONTENT_EVENTS: Final = frozenset({"content_block_start", "content_block_delta"})


def error_from_event(event: ErrorEvent, request_id: str | None) -> APIStatusError:
    """The exception an in-stream `error` event stands for (`overloaded_error` ->
    `OverloadedError`, ...), with the status the same error would have had as a response."""
    kind = event.error.type
    cls = error_class_for_type(kind)
    body = {"type": "error", "error": {"type": kind, "message": event.error.message}}
    return cls(
        f"{kind}: {event.error.message}",
        status_code=STATUS_FOR_TYPE.get(kind, 200),
        error_type=kind,
        body=body,
        request_id=event.request_id or request_id,
    )


def is_retryable(exc: APIError) -> bool:
    """Whether a stream that failed with `exc` before any content may be sent again."""
    if isinstance(exc, APIConnectionError):
        return True
    if isinstance(exc, APIStatusError):
        return exc.status_code in (408, 409, 429) or exc.status_code >= 500
    return False


class StreamLifecycle:
    """Checks each event of one stream and turns every failure into an `APIError`.

    `accept(event)` feeds the accumulator and raises for an `error` event or an event that
    cannot apply; `finish()` raises `IncompleteStreamError` when `message_stop` never came;
    `failure(exc)` maps any exception (a transport error's included) to an `APIError` with the
    partial message and request id attached.
    """

    __slots__ = ("accepted", "accumulator", "content_started", "lock", "request_id")

    def __init__(
        self, request_id: str | None = None, *, lock: threading.RLock | None = None
    ) -> None:
        self.lock = lock
        """Held while the accumulator takes an event (others read it from other threads)."""
        self.accumulator = MessageAccumulator()
        self.request_id = request_id
        self.content_started = False
        self.accepted = 0
        """How many events the accumulator has taken, counted while `lock` is set (whoever
        sets it starts the count where its own stands)."""

    def accept(self, event: MessageStreamEvent) -> None:
        """Apply one event; raise the error it stands for, if it is an `error` event."""
        # `type() is`, not isinstance: a failed isinstance against a msgspec Struct class
        # costs ~200 ns, paid on every event.
        if type(event) is ErrorEvent:
            raise self.failure(error_from_event(event, self.request_id))
        if event.type in _CONTENT_EVENTS:
            self.content_started = True
        lock = self.lock
        try:
            if lock is None:
                self.accumulator.feed(event)  # nobody counts: see `accepted`
            else:
                with lock:
                    self.accumulator.feed(event)
                    self.accepted += 1
        except APIError as exc:
            raise self.failure(exc) from None

    def finish(self) -> None:
        """The body ended: raise `IncompleteStreamError` unless `message_stop` was seen."""
        if not self.accumulator.complete:
            where = "before message_start" if not self.accumulator.started else "early"
            raise self.failure(
                IncompleteStreamError(f"the stream ended {where}, without message_stop")
            )

    def partial_message(self) -> Message | None:
        """The message accumulated so far, or None before `message_start`."""
        return self.accumulator.message() if self.accumulator.started else None

    def failure(self, exc: BaseException) -> APIError:
        """`exc` as an `APIError` carrying the partial message and the request id."""
        if not isinstance(exc, APIError):
            exc = connection_error(exc)
        if exc.partial_message is None:
            exc.partial_message = self.partial_message()
        if exc.request_id is None:
            exc.request_id = self.request_id
        return exc
