"""Stream metrics: time to first token, tokens per second, elapsed time."""

from __future__ import annotations

import time
from collections.abc import Callable

import msgspec
from reactivex import abc

from .._accumulate import StreamItem
from ._base import EventHandler, Operator, event_operator

__all__ = ["StreamMetrics", "metrics"]


class StreamMetrics(msgspec.Struct, frozen=True):
    """Timing of one stream, in seconds since subscription.

    `output_tokens` is the API's count once a `message_delta` reported it, else the number
    of content deltas so far (about one token each); `tokens_per_second` is measured from
    the first token on. `catch_ups` / `skipped`: how many times a subscriber that fell
    behind (`decouple()`, `iter()`, `aiter()`) skipped to a snapshot, and how many events
    it skipped.
    """

    elapsed: float
    time_to_first_token: float | None
    deltas: int
    output_tokens: int
    tokens_per_second: float | None
    catch_ups: int = 0
    skipped: int = 0


def metrics(clock: Callable[[], float] | None = None) -> Operator[StreamMetrics]:
    """A `StreamMetrics` after every content delta and `message_delta`. `clock` (seconds,
    monotonic) defaults to `time.monotonic`; tests pass a virtual one."""
    now = clock or time.monotonic

    def handler(observer: abc.ObserverBase[StreamMetrics]) -> EventHandler:
        start = now()
        first: float | None = None
        deltas = 0
        reported: int | None = None

        catch_ups = skipped = 0

        def on_next(event: StreamItem) -> None:
            nonlocal first, deltas, reported, catch_ups, skipped
            if event.type == "content_block_delta":
                deltas += 1
                if first is None:
                    first = now()
            elif event.type == "message_delta":
                reported = event.usage.output_tokens
            elif event.type == "snapshot" and event.skipped:
                catch_ups += 1
                skipped += event.skipped
            else:
                return
            at = now()
            tokens = reported if reported is not None else deltas
            rate = None
            if first is not None and at > first:
                rate = max(tokens - 1, 0) / (at - first)
            observer.on_next(
                StreamMetrics(
                    elapsed=at - start,
                    time_to_first_token=None if first is None else first - start,
                    deltas=deltas,
                    output_tokens=tokens,
                    tokens_per_second=rate,
                    catch_ups=catch_ups,
                    skipped=skipped,
                )
            )

        return on_next, None

    return event_operator(handler)
