"""Fold stream events into a `Message`, in O(size of the event) per event.

Every block keeps append-only state (a list of text parts, a list of citations, the tool
JSON fragments with their incremental parser), so a snapshot is a cheap, immutable view: the
block states and how far each had grown. Turning a snapshot into a `Message` joins the parts
up to those marks, once, on first access.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Final, Literal, TypeAlias

import msgspec

from ._blocks import BlockState, TextState, ThinkingState, ToolState, WholeState, state_for
from ._cut import CutBlock
from ._errors import StreamDecodeError
from ._types import (
    CitationsDelta,
    CompactionBlock,
    CompactionDelta,
    ContentBlock,
    ContentBlockDeltaEvent,
    ContentBlockStartEvent,
    ContentBlockStopEvent,
    Delta,
    FallbackBlock,
    InputJSONDelta,
    Message,
    MessageDeltaEvent,
    MessageStartEvent,
    MessageStreamEvent,
    SignatureDelta,
    StopReason,
    TextBlock,
    TextDelta,
    ThinkingDelta,
    Usage,
    documented_alias,
)

__all__ = [
    "MessageAccumulator",
    "MessageSnapshot",
    "SnapshotEvent",
    "StreamItem",
]


class MessageSnapshot:
    """An immutable view of the message at one point of the stream.

    Reading `content` (or calling `to_message()`) builds the full `Message` once, in
    O(size of the message), and caches it; the other fields cost nothing.
    """

    __slots__ = ("_blocks", "_marks", "_message", "_open", "_skeleton", "complete", "cut_blocks")

    def __init__(
        self,
        skeleton: Message,
        blocks: tuple[BlockState, ...],
        marks: tuple[object, ...],
        complete: bool,
        open_blocks: frozenset[int] = frozenset(),
        cut_blocks: tuple[CutBlock, ...] = (),
    ) -> None:
        self._skeleton = skeleton
        self._blocks = blocks
        self._marks = marks
        self._open = open_blocks
        self._message: Message | None = None
        self.complete = complete
        """Whether `message_stop` had arrived."""
        self.cut_blocks = cut_blocks
        """The blocks the message ended inside (no `content_block_stop`), once
        `message_stop` has arrived; empty before, and for a message whose blocks all ended."""

    def to_message(self) -> Message:
        """The snapshot as a frozen `Message` (built on first call, then cached)."""
        message = self._message
        if message is None:
            content = tuple(
                state.block_at(mark) for state, mark in zip(self._blocks, self._marks, strict=True)
            )
            message = msgspec.structs.replace(self._skeleton, content=content)
            self._message = message
        return message

    @property
    def content(self) -> tuple[ContentBlock, ...]:
        """The content blocks so far."""
        return self.to_message().content

    @property
    def text(self) -> str:
        """The text of all text blocks so far, concatenated."""
        return "".join(b.text for b in self.content if isinstance(b, TextBlock))

    @property
    def id(self) -> str:
        """The message id."""
        return self._skeleton.id

    @property
    def model(self) -> str:
        """The model answering."""
        return self._skeleton.model

    @property
    def role(self) -> str:
        """Always "assistant"."""
        return self._skeleton.role

    @property
    def stop_reason(self) -> StopReason | None:
        """Why generation stopped; None until `message_delta`."""
        return self._skeleton.stop_reason

    @property
    def stop_sequence(self) -> str | None:
        """The stop sequence that ended generation, if one did."""
        return self._skeleton.stop_sequence

    @property
    def usage(self) -> Usage:
        """Token usage so far."""
        return self._skeleton.usage

    def __repr__(self) -> str:
        return f"MessageSnapshot({self.to_message()!r})"


class SnapshotEvent:
    """Not a wire event: what a subscriber that joins a shared stream late receives first,
    and what replaces the backlog of one that fell behind (`on_overflow="catch_up"`).

    Accumulators (and so every operator) start from `snapshot` as if they had seen the
    events before it; one that had started replaces its state by the snapshot's.
    """

    __slots__ = ("skipped", "snapshot")

    type: ClassVar[Literal["snapshot"]] = "snapshot"

    def __init__(self, snapshot: MessageSnapshot, skipped: int = 0) -> None:
        self.snapshot = snapshot
        self.skipped = skipped
        """How many events this snapshot stands for that the consumer never received
        (a catch-up); 0 for a late joiner's."""

    def __repr__(self) -> str:
        return f"SnapshotEvent({self.snapshot!r})"


_ITEM_DOC = """What every source emits and every operator consumes: the stream's events
(`MessageStreamEvent`), and, first for a subscriber that joined a `SharedStream` late, a
`SnapshotEvent` with the message so far."""
if TYPE_CHECKING:
    StreamItem: TypeAlias = MessageStreamEvent | SnapshotEvent
else:
    StreamItem = documented_alias(_ITEM_DOC, (*MessageStreamEvent.__args__, SnapshotEvent))


# Usage counts of `message_delta` that overwrite the message's when present (cumulative).
_DELTA_USAGE_FIELDS: Final = (
    "input_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
    "server_tool_use",
    "output_tokens_details",
    "iterations",
    "fallback_credit",
)


def _bad(event: StreamItem, why: str) -> StreamDecodeError:
    return StreamDecodeError(f"{event.type} event: {why}")


class MessageAccumulator:
    """The state machine that folds events into a message.

    `feed` raises `StreamDecodeError` for events that cannot apply (a delta for a block that
    does not exist or of the wrong kind, events before `message_start`, invalid tool JSON).
    `ping`, `error` and unknown events leave the message unchanged.
    """

    __slots__ = ("_blocks", "_open", "_skeleton", "_snapshot", "complete", "cut_blocks")

    def __init__(self) -> None:
        self._skeleton: Message | None = None
        self._blocks: list[BlockState] = []
        # Blocks started and not stopped; immutable, so a snapshot shares it for free.
        self._open: frozenset[int] = frozenset()
        self._snapshot: MessageSnapshot | None = None
        self.complete = False
        self.cut_blocks: tuple[CutBlock, ...] = ()
        """The blocks the message ended inside (see `CutBlock`), set at `message_stop`."""

    @property
    def started(self) -> bool:
        """Whether `message_start` has been seen."""
        return self._skeleton is not None

    def block(self, index: int) -> BlockState:
        """The state of the block at `index`."""
        return self._blocks[index]

    def feed(self, event: StreamItem) -> None:
        """Apply one event."""
        kind = event.type
        if kind == "content_block_delta":
            assert isinstance(event, ContentBlockDeltaEvent)
            delta = event.delta
            # The hot path, one text delta appended to a text block, first and flat.
            if delta.type == "text_delta" and 0 <= event.index < len(self._blocks):
                state = self._blocks[event.index]
                if type(state) is TextState:
                    parts = state.text.parts  # Parts.add, inlined: the hottest line
                    parts.append(delta.text)
                    if len(parts) >= 64:  # COMPACT_RUN, as a constant: the hot path
                        state.text.compact()
                    self._snapshot = None
                    return
            self._apply_delta(event, delta)
        elif kind == "message_start":
            assert isinstance(event, MessageStartEvent)
            if self._skeleton is not None:
                raise _bad(event, "a second message_start in one stream")
            self._skeleton = msgspec.structs.replace(event.message, content=())
            self._blocks = [state_for(b) for b in event.message.content]
        elif kind in ("ping", "error", "unknown"):
            return
        elif kind == "snapshot":
            assert isinstance(event, SnapshotEvent)
            self._resume(event.snapshot)
        elif self._skeleton is None:
            raise _bad(event, "arrived before message_start")
        elif kind == "content_block_start":
            assert isinstance(event, ContentBlockStartEvent)
            if event.index != len(self._blocks):
                raise _bad(
                    event, f"index {event.index}, but {len(self._blocks)} blocks came before it"
                )
            block = event.content_block
            self._blocks.append(state_for(block))
            self._open = self._open | {event.index}
            if type(block) is FallbackBlock:
                # The SDK's beta stream relabels the message with the model now answering,
                # as the API does for a non-streaming response.
                self._skeleton = msgspec.structs.replace(self._skeleton, model=block.to.model)
        elif kind == "content_block_stop":
            assert isinstance(event, ContentBlockStopEvent)
            state = self._state(event, event.index)
            if isinstance(state, ToolState):
                state.stop(event.index)
            self._open = self._open - {event.index}
        elif kind == "message_delta":
            assert isinstance(event, MessageDeltaEvent)
            self._apply_message_delta(event)
        elif kind == "message_stop":
            if self._open and not self.complete:
                self._cut_open_blocks()
            self.complete = True
        self._snapshot = None

    def _cut_open_blocks(self) -> None:
        """The message ended inside the open blocks: end them as the SDK leaves them."""
        skeleton = self._skeleton
        assert skeleton is not None
        cut = []
        for index in sorted(self._open):
            state = self._blocks[index]
            if isinstance(state, ToolState):
                state.cut(index)
            cut.append(CutBlock(index, state.block_at(state.mark()), skeleton.stop_reason))
        self._open = frozenset()
        self.cut_blocks = tuple(cut)

    def _resume(self, snapshot: MessageSnapshot) -> None:
        # Before message_start: a late joiner. After: a consumer that fell behind and skipped
        # to the present (`on_overflow="catch_up"`): the snapshot replaces what it had.
        self._skeleton = snapshot._skeleton
        self._blocks = [
            state.fork(mark) for state, mark in zip(snapshot._blocks, snapshot._marks, strict=True)
        ]
        self._open = snapshot._open
        self.complete = snapshot.complete
        self.cut_blocks = snapshot.cut_blocks

    def _state(self, event: MessageStreamEvent, index: int) -> BlockState:
        if not 0 <= index < len(self._blocks):
            raise _bad(event, f"no content block at index {index}")
        return self._blocks[index]

    def _apply_delta(self, event: ContentBlockDeltaEvent, delta: Delta) -> None:
        if self._skeleton is None:
            raise _bad(event, "arrived before message_start")
        state = self._state(event, event.index)
        # `type() is`, not isinstance: each failed isinstance against a msgspec Struct class
        # costs ~200 ns.
        if type(delta) is TextDelta and type(state) is TextState:
            state.text.add(delta.text)
        elif type(delta) is InputJSONDelta and type(state) is ToolState:
            if state.final is not None:
                raise _bad(event, f"an input_json_delta for block {event.index}, which had stopped")
            state.feed(delta.partial_json)
        elif type(delta) is ThinkingDelta and type(state) is ThinkingState:
            state.thinking.add(delta.thinking)
        elif type(delta) is SignatureDelta and type(state) is ThinkingState:
            state.signature = delta.signature
        elif type(delta) is CitationsDelta and type(state) is TextState:
            state.citations.append(delta.citation)
        elif type(delta) is CompactionDelta and type(state) is WholeState:
            block = state.block
            if type(block) is not CompactionBlock:
                raise _bad(
                    event, f"a compaction_delta for block {event.index}, a {block.type} block"
                )
            # Assigned, not appended, both fields: as the SDK does.
            state.block = msgspec.structs.replace(
                block, content=delta.content, encrypted_content=delta.encrypted_content
            )
        elif delta.type == "unknown":
            return
        else:
            block = state.block_at(state.mark())
            raise _bad(event, f"a {delta.type} for block {event.index}, a {block.type} block")
        self._snapshot = None

    def _apply_message_delta(self, event: MessageDeltaEvent) -> None:
        skeleton = self._skeleton
        assert skeleton is not None
        delta, usage = event.delta, event.usage
        # Usage counts are cumulative: overwrite with every value that is present.
        changes: dict[str, Any] = {"output_tokens": usage.output_tokens}
        for field in _DELTA_USAGE_FIELDS:
            value = getattr(usage, field)
            if value is not None:
                changes[field] = value
        message: dict[str, Any] = {}
        # Beta fields: present only when they change, otherwise the message_start value stays.
        if event.context_management is not None:
            message["context_management"] = event.context_management
        if event.input_transformations is not None:
            message["input_transformations"] = event.input_transformations
        self._skeleton = msgspec.structs.replace(
            skeleton,
            stop_reason=delta.stop_reason,
            stop_sequence=delta.stop_sequence,
            stop_details=delta.stop_details,
            container=delta.container if delta.container is not None else skeleton.container,
            usage=msgspec.structs.replace(skeleton.usage, **changes),
            **message,
        )

    def snapshot(self) -> MessageSnapshot:
        """An immutable view of the message now (O(number of blocks); cached until the next
        event). Raises `RuntimeError` before `message_start`."""
        snapshot = self._snapshot
        if snapshot is None:
            if self._skeleton is None:
                raise RuntimeError("no message yet: message_start has not arrived")
            blocks = tuple(self._blocks)
            snapshot = MessageSnapshot(
                self._skeleton,
                blocks,
                tuple(b.mark() for b in blocks),
                self.complete,
                self._open,
                self.cut_blocks,
            )
            self._snapshot = snapshot
        return snapshot

    def message(self) -> Message:
        """The message as it is now, as a frozen `Message`."""
        return self.snapshot().to_message()
