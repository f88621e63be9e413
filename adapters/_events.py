"""The official SDK's higher-level stream events (`text`, `input_json`, ...), built lazily.

Their `snapshot` fields are computed on first access from the accumulator's append-only
state, so building them costs O(1) per event however long the message grows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeAlias

from rxstream._accumulate import MessageAccumulator
from rxstream._blocks import Parts, TextState, ThinkingState, ToolState, WholeState
from rxstream._types import (
    Citation,
    ContentBlock,
    ContentBlockDeltaEvent,
    ContentBlockStartEvent,
    ErrorEvent,
    Message,
    MessageDeltaEvent,
    MessageStartEvent,
    MessageStreamEvent,
    PingEvent,
    TextDelta,
    documented_alias,
)
from rxstream._unknown import UnknownEvent

__all__ = [
    "CitationEvent",
    "CompactionEvent",
    "InputJsonEvent",
    "LogReader",
    "ParsedContentBlockStopEvent",
    "ParsedMessageStopEvent",
    "SignatureEvent",
    "StreamEvent",
    "TextEvent",
    "TextSlot",
    "ThinkingEvent",
    "event_at",
    "log_events",
]

_UNSET: Any = object()


class _Event:
    __slots__ = ()

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._shown)
        return f"{type(self).__name__}({fields})"

    _shown: ClassVar[tuple[str, ...]] = ()


class TextEvent(_Event):
    """A text delta, with the block's whole text so far as `snapshot`."""

    __slots__ = ("_mark", "_state", "text")
    type: ClassVar[Literal["text"]] = "text"
    _shown = ("text",)

    def __init__(self, text: str, state: TextState, mark: int) -> None:
        self.text = text
        self._state = state
        self._mark = mark

    @property
    def snapshot(self) -> str:
        """The block's text up to and including this delta."""
        return self._state.text.text_at(self._mark)


class ThinkingEvent(_Event):
    """A thinking delta, with the block's whole thinking so far as `snapshot`."""

    __slots__ = ("_mark", "_state", "thinking")
    type: ClassVar[Literal["thinking"]] = "thinking"
    _shown = ("thinking",)

    def __init__(self, thinking: str, state: ThinkingState, mark: int) -> None:
        self.thinking = thinking
        self._state = state
        self._mark = mark

    @property
    def snapshot(self) -> str:
        """The block's thinking up to and including this delta."""
        return self._state.thinking.text_at(self._mark)


class SignatureEvent(_Event):
    """The signature of a thinking block."""

    __slots__ = ("signature",)
    type: ClassVar[Literal["signature"]] = "signature"
    _shown = ("signature",)

    def __init__(self, signature: str) -> None:
        self.signature = signature


class CitationEvent(_Event):
    """A citation, with the block's citations so far as `snapshot`."""

    __slots__ = ("_count", "_state", "citation")
    type: ClassVar[Literal["citation"]] = "citation"
    _shown = ("citation",)

    def __init__(self, citation: Citation, state: TextState, count: int) -> None:
        self.citation = citation
        self._state = state
        self._count = count

    @property
    def snapshot(self) -> list[Citation]:
        """The block's citations up to and including this one."""
        return self._state.citations[: self._count]


class InputJsonEvent(_Event):
    """A fragment of a tool's input JSON, with the input parsed so far as `snapshot`."""

    __slots__ = ("_mark", "_snapshot", "_state", "partial_json")
    type: ClassVar[Literal["input_json"]] = "input_json"
    _shown = ("partial_json",)

    def __init__(self, partial_json: str, state: ToolState, mark: int) -> None:
        self.partial_json = partial_json
        self._state = state
        self._mark = mark
        self._snapshot: Any = _UNSET

    @property
    def snapshot(self) -> Any:
        """The tool input parsed up to and including this fragment."""
        value = self._snapshot
        if value is _UNSET:
            value = self._snapshot = self._state.input_at(self._mark)
        return value


class CompactionEvent(_Event):
    """A `compaction_delta` (beta): the compaction block's `content` and
    `encrypted_content` after it (each delta replaces both)."""

    __slots__ = ("content", "encrypted_content")
    type: ClassVar[Literal["compaction"]] = "compaction"
    _shown = ("content", "encrypted_content")

    def __init__(self, content: str | None, encrypted_content: str | None) -> None:
        self.content = content
        self.encrypted_content = encrypted_content


class ParsedContentBlockStopEvent(_Event):
    """`content_block_stop`, with the completed block."""

    __slots__ = ("content_block", "index")
    type: ClassVar[Literal["content_block_stop"]] = "content_block_stop"
    _shown = ("index", "content_block")

    def __init__(self, index: int, content_block: ContentBlock) -> None:
        self.index = index
        self.content_block = content_block


class ParsedMessageStopEvent(_Event):
    """`message_stop`, with the complete message."""

    __slots__ = ("message",)
    type: ClassVar[Literal["message_stop"]] = "message_stop"
    _shown = ("message",)

    def __init__(self, message: Message) -> None:
        self.message = message


_SDKEvent: TypeAlias = (
    MessageStartEvent
    | MessageDeltaEvent
    | ParsedMessageStopEvent
    | ContentBlockStartEvent
    | ContentBlockDeltaEvent
    | ParsedContentBlockStopEvent
    | TextEvent
    | CitationEvent
    | ThinkingEvent
    | SignatureEvent
    | InputJsonEvent
    | CompactionEvent
    | UnknownEvent
)
if TYPE_CHECKING:
    StreamEvent: TypeAlias = _SDKEvent
else:
    StreamEvent = documented_alias(
        "What iterating a `MessageStream` yields: the SDK's event sequence (no `ping`).",
        _SDKEvent.__args__,
    )


class TextSlot:
    """The log entry of every `text_delta` of one text block: one object shared by all of
    them, whose text is read back from the accumulator (see `LogReader`). The log then holds
    one pointer per text delta, not the event, its delta and its string (~200 bytes)."""

    __slots__ = ("base", "index", "text")

    def __init__(self, index: int, text: Parts) -> None:
        self.index = index
        self.text = text  # the block's text
        self.base = text.count() - 1  # its count of pieces before its first delta


LogEntry: TypeAlias = StreamEvent | int | TextSlot
"""An entry of a stream's event log: an event, the mark (an int) from which `event_at`
builds the higher-level event that follows a delta, or a text delta's `TextSlot`. Marks keep
the log to one object the garbage collector tracks per wire event, however many consumers
replay it."""


class LogReader:
    """One reader's position in the text of each block: the text deltas' marks, counted as
    it reads the log from its start."""

    __slots__ = ("_counts",)

    def __init__(self) -> None:
        self._counts: dict[int, int] = {}

    def text(self, slot: TextSlot) -> str:
        """The next text delta of `slot`'s block."""
        count = self._counts.get(slot.index, slot.base) + 1
        self._counts[slot.index] = count
        return slot.text.piece(count)

    def events(
        self, slot: TextSlot, accumulator: MessageAccumulator
    ) -> tuple[ContentBlockDeltaEvent, TextEvent]:
        """The next text delta of `slot`'s block as the SDK's two events."""
        text = self.text(slot)
        state = accumulator.block(slot.index)
        assert type(state) is TextState
        wire = ContentBlockDeltaEvent(index=slot.index, delta=TextDelta(text=text))
        return wire, TextEvent(text, state, self._counts[slot.index])


def log_events(
    event: MessageStreamEvent,
    accumulator: MessageAccumulator,
    log: list[LogEntry],
    slots: dict[int, TextSlot],
) -> None:
    """Append the SDK's events for one wire event, already fed to `accumulator`."""
    if type(event) is ContentBlockDeltaEvent:
        state = accumulator.block(event.index)
        kind = event.delta.type
        if type(state) is TextState:
            if kind == "text_delta":
                slot = slots.get(event.index)
                if slot is None:
                    slot = slots[event.index] = TextSlot(event.index, state.text)
                log.append(slot)
                return
            log.append(event)
            if kind == "citations_delta":
                log.append(len(state.citations))
            return
        log.append(event)
        if type(state) is ToolState:
            if kind == "input_json_delta":
                log.append(state.mark())
        elif type(state) is ThinkingState and kind in ("thinking_delta", "signature_delta"):
            log.append(state.thinking.count())
        elif type(state) is WholeState and kind == "compaction_delta":
            compaction: Any = state.block  # a CompactionBlock: the accumulator checked it
            log.append(CompactionEvent(compaction.content, compaction.encrypted_content))
    elif event.type == "content_block_stop":
        block = accumulator.block(event.index)
        log.append(ParsedContentBlockStopEvent(event.index, block.block_at(block.mark())))
    elif event.type == "message_stop":
        log.append(ParsedMessageStopEvent(accumulator.message()))
    elif not isinstance(event, PingEvent | ErrorEvent):
        log.append(event)


def event_at(log: list[LogEntry], i: int, accumulator: MessageAccumulator) -> StreamEvent:
    """The event at `log[i]`, built from its mark for the event that follows a delta."""
    entry = log[i]
    if type(entry) is not int:
        return entry  # type: ignore[return-value]  # an int is the only other kind
    wire = log[i - 1]
    assert type(wire) is ContentBlockDeltaEvent
    state: Any = accumulator.block(wire.index)
    delta: Any = wire.delta
    kind = delta.type
    if kind == "text_delta":
        return TextEvent(delta.text, state, entry)
    if kind == "input_json_delta":
        return InputJsonEvent(delta.partial_json, state, entry)
    if kind == "thinking_delta":
        return ThinkingEvent(delta.thinking, state, entry)
    if kind == "signature_delta":
        return SignatureEvent(delta.signature)  # assigned, not appended: the delta's is it
    return CitationEvent(delta.citation, state, entry)
