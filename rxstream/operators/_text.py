"""Operators over text: deltas of text and thinking, citations, frame-rate coalescing."""

from __future__ import annotations

from collections.abc import Callable

from reactivex import Observable, abc, compose
from reactivex import operators as ops

from .._accumulate import StreamItem
from .._types import Citation, ContentBlockDeltaEvent, ThinkingBlock
from ._base import EventHandler, Operator, event_operator

__all__ = ["citations", "coalesce_text", "text_deltas", "thinking_deltas"]


def text_deltas() -> Operator[str]:
    """Each `text_delta`'s text, in order. A late joiner of a shared stream first receives
    the text accumulated before it joined, as one string."""

    def handler(observer: abc.ObserverBase[str]) -> EventHandler:
        emit = observer.on_next

        def on_next(event: StreamItem) -> None:
            if event.type == "content_block_delta":
                delta = event.delta
                if delta.type == "text_delta":
                    emit(delta.text)
            elif event.type == "snapshot":
                text = event.snapshot.text
                if text:
                    emit(text)

        return on_next, None

    return event_operator(handler, can_fail=False)


def thinking_deltas() -> Operator[str]:
    """Each `thinking_delta`'s thinking text, in order (a late joiner first gets the
    thinking accumulated so far)."""

    def handler(observer: abc.ObserverBase[str]) -> EventHandler:
        def on_next(event: StreamItem) -> None:
            if event.type == "content_block_delta":
                if event.delta.type == "thinking_delta":
                    observer.on_next(event.delta.thinking)
            elif event.type == "snapshot":
                thinking = "".join(
                    b.thinking for b in event.snapshot.content if isinstance(b, ThinkingBlock)
                )
                if thinking:
                    observer.on_next(thinking)

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
