"""Folding a producer's events into the fewest events that rebuild the same message: what a
checkpoint holds, so a resume costs about the message's size, not its number of events."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from .._accumulate import MessageAccumulator, SnapshotEvent, StreamItem
from .._errors import StreamDecodeError
from .._types import (
    ContentBlockDeltaEvent,
    ContentBlockStartEvent,
    ContentBlockStopEvent,
    InputJSONDelta,
    MessageStartEvent,
    MessageStreamEvent,
    SignatureDelta,
    TextDelta,
    ThinkingDelta,
)

__all__ = ["Compactor", "snapshot_from"]


class _BlockLog:
    __slots__ = ("citations", "json", "signature", "start", "stopped", "text", "thinking")

    def __init__(self, start: ContentBlockStartEvent) -> None:
        self.start = start
        self.text: list[str] = []
        self.json: list[str] = []
        self.thinking: list[str] = []
        self.citations: list[ContentBlockDeltaEvent] = []
        self.signature: str | None = None
        self.stopped = False

    def events(self) -> Iterable[MessageStreamEvent]:
        index = self.start.index
        yield self.start
        if self.text:
            yield ContentBlockDeltaEvent(index=index, delta=TextDelta(text="".join(self.text)))
        yield from self.citations
        if self.json:
            delta = InputJSONDelta(partial_json="".join(self.json))
            yield ContentBlockDeltaEvent(index=index, delta=delta)
        if self.thinking:
            delta_t = ThinkingDelta(thinking="".join(self.thinking))
            yield ContentBlockDeltaEvent(index=index, delta=delta_t)
        if self.signature is not None:
            delta_s = SignatureDelta(signature=self.signature)
            yield ContentBlockDeltaEvent(index=index, delta=delta_s)
        if self.stopped:
            yield ContentBlockStopEvent(index=index)


class Compactor:
    """The events so far, folded into the fewest events that rebuild the same message.

    A checkpoint is `events()` encoded as a batch: an accumulator fed with it reaches the
    exact state (partial tool JSON included) that the whole stream so far would give, at a
    cost that follows the message's size, not the number of events.
    """

    __slots__ = ("_blocks", "_start", "_tail", "size")

    def __init__(self) -> None:
        self._start: MessageStartEvent | None = None
        self._blocks: list[_BlockLog] = []
        self._tail: list[MessageStreamEvent] = []
        self.size = 0
        """Characters of content folded in so far (a bound on a checkpoint's size)."""

    def fold(self, events: Sequence[StreamItem]) -> tuple[int, StreamDecodeError | None]:
        """Fold events in, in order: how many were taken, and the error of the one that
        could not apply (its events after it are not taken)."""
        blocks, size = self._blocks, 0
        try:
            for taken, event in enumerate(events):  # noqa: B007 (read after the loop)
                if type(event) is ContentBlockDeltaEvent:  # the hot path: a text delta
                    delta, index = event.delta, event.index
                    if type(delta) is TextDelta and 0 <= index < len(blocks):
                        blocks[index].text.append(delta.text)
                        size += len(delta.text)
                        continue
                self.feed(event)
        except StreamDecodeError as exc:
            return taken, exc
        finally:
            self.size += size
        return len(events), None

    def feed(self, event: StreamItem) -> None:
        """Fold one event in; `StreamDecodeError` for one that cannot apply (a block that
        does not exist, an event before `message_start`)."""
        kind = event.type
        if kind == "snapshot":
            raise StreamDecodeError(
                "publish got a SnapshotEvent: publish a SharedStream before connect()"
            )
        if kind == "content_block_delta":
            assert isinstance(event, ContentBlockDeltaEvent)
            if not 0 <= event.index < len(self._blocks):
                raise StreamDecodeError(f"content_block_delta: no content block {event.index}")
            block, delta = self._blocks[event.index], event.delta
            if type(delta) is TextDelta:
                block.text.append(delta.text)
                self.size += len(delta.text)
            elif type(delta) is InputJSONDelta:
                block.json.append(delta.partial_json)
                self.size += len(delta.partial_json)
            elif type(delta) is ThinkingDelta:
                block.thinking.append(delta.thinking)
                self.size += len(delta.thinking)
            elif type(delta) is SignatureDelta:
                block.signature = delta.signature
            elif delta.type == "citations_delta":
                block.citations.append(event)
                self.size += 100
        elif kind == "message_start":
            assert isinstance(event, MessageStartEvent)
            if self._start is not None:
                raise StreamDecodeError("message_start event: a second one in one stream")
            self._start = event
        elif kind in ("ping", "error", "unknown"):
            return
        elif self._start is None:
            raise StreamDecodeError(f"{kind} event: arrived before message_start")
        elif kind == "content_block_start":
            assert isinstance(event, ContentBlockStartEvent)
            if event.index != len(self._blocks):
                raise StreamDecodeError(f"content_block_start: index {event.index} out of order")
            self._blocks.append(_BlockLog(event))
            self.size += 100
        elif kind == "content_block_stop":
            assert isinstance(event, ContentBlockStopEvent)
            if not 0 <= event.index < len(self._blocks):
                raise StreamDecodeError(f"content_block_stop: no content block {event.index}")
            self._blocks[event.index].stopped = True
        elif kind in ("message_delta", "message_stop"):
            assert not isinstance(event, SnapshotEvent)
            self._tail.append(event)

    def events(self) -> list[MessageStreamEvent]:
        """The compacted events (empty before `message_start`)."""
        if self._start is None:
            return []
        out: list[MessageStreamEvent] = [self._start]
        for block in self._blocks:
            out.extend(block.events())
        out.extend(self._tail)
        return out


def snapshot_from(events: Iterable[StreamItem]) -> SnapshotEvent | None:
    """The `SnapshotEvent` of the message these events build; None before `message_start`."""
    accumulator = MessageAccumulator()
    for event in events:
        accumulator.feed(event)
    return SnapshotEvent(accumulator.snapshot()) if accumulator.started else None
