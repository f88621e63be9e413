"""Operators that accumulate: snapshots, the final message and text, usage."""

from __future__ import annotations

from reactivex import abc, compose
from reactivex import operators as ops

from .._accumulate import MessageAccumulator, MessageSnapshot, StreamItem
from .._errors import IncompleteStreamError
from .._types import Message, TextBlock, Usage
from ._base import EventHandler, Operator, event_operator

__all__ = ["final_message", "final_text", "snapshots", "usage"]

_UNCHANGING = frozenset({"ping", "error", "unknown"})


def snapshots() -> Operator[MessageSnapshot]:
    """A `MessageSnapshot` after every event that changes the message.

    Each snapshot is immutable and costs O(number of blocks); reading its `content` (or
    `to_message()`) builds the full `Message` once, in O(its size).
    """

    def handler(observer: abc.ObserverBase[MessageSnapshot]) -> EventHandler:
        accumulator = MessageAccumulator()

        def on_next(event: StreamItem) -> None:
            accumulator.feed(event)
            if event.type not in _UNCHANGING:
                observer.on_next(accumulator.snapshot())

        return on_next, None

    return event_operator(handler)


def final_message() -> Operator[Message]:
    """The complete `Message`, once, when the stream completes. Errors with
    `IncompleteStreamError` if the source completes before `message_stop`."""

    def handler(observer: abc.ObserverBase[Message]) -> EventHandler:
        accumulator = MessageAccumulator()

        def on_completed() -> None:
            if not accumulator.complete:
                raise IncompleteStreamError(
                    "the source completed before message_stop",
                    partial_message=accumulator.message() if accumulator.started else None,
                )
            observer.on_next(accumulator.message())

        return accumulator.feed, on_completed

    return event_operator(handler)


def _text_of(message: Message) -> str:
    return "".join(b.text for b in message.content if isinstance(b, TextBlock))


def final_text() -> Operator[str]:
    """The text of all text blocks of the final message, once, when the stream completes."""

    return compose(final_message(), ops.map(_text_of))


def usage() -> Operator[Usage]:
    """The message's `Usage` after `message_start` and after each `message_delta`
    (cumulative counts, as the API reports them)."""

    def handler(observer: abc.ObserverBase[Usage]) -> EventHandler:
        accumulator = MessageAccumulator()

        def on_next(event: StreamItem) -> None:
            accumulator.feed(event)
            if event.type in ("message_start", "message_delta", "snapshot"):
                observer.on_next(accumulator.snapshot().usage)

        return on_next, None

    return event_operator(handler)
