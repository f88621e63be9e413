"""The official SDK's higher-level stream events (`text`, `input_json`, ...), built lazily.

Their `snapshot` fields are computed on first access from the accumulator's append-only
state, so building them costs O(1) per event however long the message grows.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal, TypeAlias

from rxstream._accumulate import MessageAccumulator, _TextState, _ThinkingState, _ToolState
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
)
from rxstream._unknown import UnknownEvent

__all__ = [
    "CitationEvent",
    "InputJsonEvent",
    "ParsedContentBlockStopEvent",
    "ParsedMessageStopEvent",
    "SignatureEvent",
    "StreamEvent",
    "TextEvent",
    "ThinkingEvent",
    "build_events",
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

    def __init__(self, text: str, state: _TextState, mark: int) -> None:
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

    def __init__(self, thinking: str, state: _ThinkingState, mark: int) -> None:
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

    def __init__(self, citation: Citation, state: _TextState, count: int) -> None:
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

    def __init__(self, partial_json: str, state: _ToolState, mark: int) -> None:
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


StreamEvent: TypeAlias = (
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
    | UnknownEvent
)
"""What iterating a `MessageStream` yields: the SDK's event sequence (no `ping`)."""


def build_events(event: MessageStreamEvent, accumulator: MessageAccumulator) -> list[StreamEvent]:
    """The SDK's events for one wire event, already fed to `accumulator`."""
    if isinstance(event, ContentBlockDeltaEvent):
        state = accumulator.block(event.index)
        delta = event.delta
        if delta.type == "text_delta" and isinstance(state, _TextState):
            return [event, TextEvent(delta.text, state, len(state.text.parts))]
        if delta.type == "input_json_delta" and isinstance(state, _ToolState):
            return [event, InputJsonEvent(delta.partial_json, state, state.mark())]
        if delta.type == "thinking_delta" and isinstance(state, _ThinkingState):
            return [event, ThinkingEvent(delta.thinking, state, len(state.thinking.parts))]
        if delta.type == "signature_delta" and isinstance(state, _ThinkingState):
            return [event, SignatureEvent(state.signature)]
        if delta.type == "citations_delta" and isinstance(state, _TextState):
            return [event, CitationEvent(delta.citation, state, len(state.citations))]
        return [event]
    if event.type == "content_block_stop":
        state = accumulator.block(event.index)
        return [ParsedContentBlockStopEvent(event.index, state.block_at(state.mark()))]
    if event.type == "message_stop":
        return [ParsedMessageStopEvent(accumulator.message())]
    if isinstance(event, PingEvent | ErrorEvent):
        return []
    return [event]
