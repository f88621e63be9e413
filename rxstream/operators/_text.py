"""Operators over text: deltas of text and thinking, citations, frame-rate coalescing."""

from __future__ import annotations

from collections.abc import Callable

from reactivex import Observable, abc, compose
from reactivex import operators as ops

from .._accumulate import MessageSnapshot, StreamItem
from .._types import Citation, ContentBlockDeltaEvent, ThinkingBlock
from ._base import EventHandler, Operator, event_operator

__all__ = ["citations", "coalesce_text", "text_deltas", "thinking_deltas"]


def text_deltas() -> Operator[str]:
    """Each `text_delta`'s text, in order. After a `SnapshotEvent` (a late joiner of a shared
    stream, or a consumer that skipped ahead with `decouple()`), the text it had not seen,
    as one string: the strings joined are always the message's text."""

    def handler(observer: abc.ObserverBase[str]) -> EventHandler:
        emit = observer.on_next
        seen = 0  # characters of text passed on (or that a block started with)

        def on_next(event: StreamItem) -> None:
            nonlocal seen
            if event.type == "content_block_delta":
                delta = event.delta
                if delta.type == "text_delta":
                    text = delta.text
                    seen += len(text)
                    emit(text)
            elif event.type == "content_block_start":
                block = event.content_block
                if block.type == "text":
                    seen += len(block.text)
            elif event.type == "snapshot":
                text = event.snapshot.text
                if len(text) > seen:
                    missed = text[seen:]
                    seen = len(text)
                    emit(missed)

        return on_next, None

    return event_operator(handler, can_fail=False)


def _thinking_of(snapshot: MessageSnapshot) -> str:
    return "".join(b.thinking for b in snapshot.content if isinstance(b, ThinkingBlock))


def thinking_deltas() -> Operator[str]:
    """Each `thinking_delta`'s thinking text, in order (after a `SnapshotEvent`, the
    thinking it had not seen, as one string)."""

    def handler(observer: abc.ObserverBase[str]) -> EventHandler:
        seen = 0

        def on_next(event: StreamItem) -> None:
            nonlocal seen
            if event.type == "content_block_delta":
                if event.delta.type == "thinking_delta":
                    thinking = event.delta.thinking
                    seen += len(thinking)
                    observer.on_next(thinking)
            elif event.type == "content_block_start":
                block = event.content_block
                if block.type == "thinking":
                    seen += len(block.thinking)
            elif event.type == "snapshot":
                thinking = _thinking_of(event.snapshot)
                if len(thinking) > seen:
                    missed = thinking[seen:]
                    seen = len(thinking)
                    observer.on_next(missed)

        return on_next, None

    return event_operator(handler, can_fail=False)


def citations() -> Operator[Citation]:
    """Each citation as it arrives in a `citations_delta`."""

    def handler(observer: abc.ObserverBase[Citation]) -> EventHandler:
        def on_next(event: StreamItem) -> None:
            if isinstance(event, ContentBlockDeltaEvent) and event.delta.type == "citations_delta":
                observer.on_next(event.delta.citation)

        return on_next, None

    return event_operator(handler, can_fail=False)


def coalesce_text(interval: float, scheduler: abc.SchedulerBase | None = None) -> Operator[str]:
    """The text deltas joined into at most one string per `interval` seconds (a frame
    rate for UIs), none lost or reordered; intervals without text emit nothing."""
    frames: Operator[list[str]] = compose(
        text_deltas(), ops.buffer_with_time(interval, scheduler=scheduler)
    )
    nonempty: Callable[[Observable[list[str]]], Observable[list[str]]] = ops.filter(bool)
    joined: Callable[[Observable[list[str]]], Observable[str]] = ops.map("".join)
    return compose(frames, nonempty, joined)
