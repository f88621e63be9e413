"""Tool inputs while they stream: a partial value per fragment, the validated input at the end."""

from __future__ import annotations

from typing import Any

from reactivex import abc

from .._accumulate import MessageAccumulator, StreamItem
from .._blocks import ToolState
from .._cut import CutBlock
from .._types import StopReason
from ._base import EventHandler, Operator, event_operator

__all__ = ["CutBlock", "ToolInput", "ToolInputCut", "ToolInputDelta", "cut_blocks", "tool_inputs"]


class ToolInputDelta:
    """One `input_json_delta` of a tool_use / server_tool_use / mcp_tool_use block.

    `partial` is the input as parsed up to and including this fragment: strings may be cut
    short, but no number, literal or key appears before it is complete. It is computed on
    first access (so ignoring it costs nothing) and never changes afterwards.
    """

    __slots__ = ("_mark", "_partial", "_state", "index", "partial_json")

    def __init__(self, index: int, partial_json: str, state: ToolState, mark: int) -> None:
        self.index = index
        self.partial_json = partial_json
        self._state = state
        self._mark = mark
        self._partial: Any = _UNSET

    @property
    def id(self) -> str:
        """The tool_use id."""
        return self._state.start.id

    @property
    def name(self) -> str:
        """The tool's name."""
        return self._state.start.name

    @property
    def partial(self) -> Any:
        """The input parsed so far."""
        value = self._partial
        if value is _UNSET:
            value = self._partial = self._state.input_at(self._mark)
        return value

    def __repr__(self) -> str:
        return (
            f"ToolInputDelta(index={self.index}, name={self.name!r}, "
            f"partial_json={self.partial_json!r})"
        )


class ToolInput:
    """A tool block's complete input, validated strictly at `content_block_stop`."""

    __slots__ = ("id", "index", "input", "name")

    def __init__(self, index: int, id: str, name: str, input: Any) -> None:
        self.index = index
        self.id = id
        self.name = name
        self.input = input

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ToolInput):
            return NotImplemented
        return (self.index, self.id, self.name, self.input) == (
            other.index,
            other.id,
            other.name,
            other.input,
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"ToolInput(index={self.index}, id={self.id!r}, name={self.name!r}, "
            f"input={self.input!r})"
        )


class ToolInputCut:
    """A tool block the message ended inside (no `content_block_stop`): its input is
    unfinished. `input` is what arrived, as the official SDK shows it (an unfinished string,
    key or literal left out); `stop_reason` says why the message ended (`max_tokens`)."""

    __slots__ = ("id", "index", "input", "name", "stop_reason")

    def __init__(
        self, index: int, id: str, name: str, input: Any, stop_reason: StopReason | None
    ) -> None:
        self.index = index
        self.id = id
        self.name = name
        self.input = input
        self.stop_reason = stop_reason

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ToolInputCut):
            return NotImplemented
        return (self.index, self.id, self.name, self.input, self.stop_reason) == (
            other.index,
            other.id,
            other.name,
            other.input,
            other.stop_reason,
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"ToolInputCut(index={self.index}, id={self.id!r}, name={self.name!r}, "
            f"input={self.input!r}, stop_reason={self.stop_reason!r})"
        )


_UNSET: Any = object()


def tool_inputs() -> Operator[ToolInputDelta | ToolInput | ToolInputCut]:
    """For every tool_use / server_tool_use / mcp_tool_use block: a `ToolInputDelta` per
    fragment of its input, then a `ToolInput` with the validated input when the block stops,
    or, for a block the message ended inside, a `ToolInputCut` at `message_stop` (never a
    `ToolInput`). Invalid JSON ends the stream with a `StreamDecodeError` naming the block,
    the tool and the offset."""

    def handler(
        observer: abc.ObserverBase[ToolInputDelta | ToolInput | ToolInputCut],
    ) -> EventHandler:
        accumulator = MessageAccumulator()

        def on_next(event: StreamItem) -> None:
            accumulator.feed(event)
            if event.type == "content_block_delta":
                delta = event.delta
                if delta.type == "input_json_delta":
                    state = accumulator.block(event.index)
                    assert isinstance(state, ToolState)
                    observer.on_next(
                        ToolInputDelta(event.index, delta.partial_json, state, state.mark())
                    )
            elif event.type == "content_block_stop":
                state = accumulator.block(event.index)
                if isinstance(state, ToolState) and state.final is not None:
                    block = state.final
                    observer.on_next(ToolInput(event.index, block.id, block.name, block.input))
            elif event.type == "message_stop":
                for cut in accumulator.cut_blocks:
                    state = accumulator.block(cut.index)
                    if isinstance(state, ToolState) and state.final is not None:
                        block = state.final
                        observer.on_next(
                            ToolInputCut(
                                cut.index, block.id, block.name, block.input, cut.stop_reason
                            )
                        )

        return on_next, None

    return event_operator(handler)


def cut_blocks() -> Operator[CutBlock]:
    """At `message_stop`, a `CutBlock` for each block the message ended inside (started,
    never stopped): which block, as the final message holds it, and the `stop_reason`."""

    def handler(observer: abc.ObserverBase[CutBlock]) -> EventHandler:
        accumulator = MessageAccumulator()

        def on_next(event: StreamItem) -> None:
            accumulator.feed(event)
            if event.type == "message_stop":
                for cut in accumulator.cut_blocks:
                    observer.on_next(cut)

        return on_next, None

    return event_operator(handler)
