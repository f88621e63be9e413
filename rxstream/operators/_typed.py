"""Tool inputs decoded into msgspec Structs at each block's end, or a typed error naming the
field that was wrong."""

from __future__ import annotations

import re
from typing import Any, Final, TypeVar

import msgspec
from reactivex import abc

from .._accumulate import MessageAccumulator, StreamItem
from .._blocks import ToolState
from .._errors import APIError
from .._field_parser import escape_pointer_segment
from .._tool_definition import tool_name
from ._base import EventHandler, Operator, event_operator

__all__ = ["ToolInputError", "typed_tool_inputs"]

_S = TypeVar("_S", bound=msgspec.Struct)

_PATH_STEP: Final = re.compile(r"\.([^.\[]+)|\[(\d+)\]|\[\.\.\.\]")
_AT_PATH: Final = re.compile(r" - at `(\$[^`]*)`\Z")
_NAMED_FIELD: Final = re.compile(r"^Object (?:missing required|contains unknown) field `(.+)`")


class ToolInputError(APIError):
    """A tool input that does not fit the tool's input type: `pointer` is the JSON Pointer of
    the wrong field in the input (`""`: the whole input), `reason` what was wrong, `input` the
    input as the model wrote it. Emitted as an item, so an agent can answer the model with an
    `is_error` tool result and go on."""

    index: int
    tool_id: str
    tool_name: str
    pointer: str
    reason: str
    input: Any

    def __init__(
        self, index: int, tool_id: str, tool_name: str, pointer: str, reason: str, input: Any
    ) -> None:
        super().__init__(
            f"invalid input for tool {tool_name!r} (block {index}) at {pointer or '/'!s}: {reason}"
        )
        self.index = index
        self.tool_id = tool_id
        self.tool_name = tool_name
        self.pointer = pointer
        self.reason = reason
        self.input = input

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            type(self),
            (self.index, self.tool_id, self.tool_name, self.pointer, self.reason, self.input),
        )


def _pointer_and_reason(error: msgspec.ValidationError) -> tuple[str, str]:
    """msgspec's `... - at `$.urls[1]`` as ("/urls/1", "..."); a missing or unknown field is
    named in the pointer too. A dict key msgspec does not name (`[...]`) ends the pointer."""
    text = str(error)
    segments: list[str] = []
    at = _AT_PATH.search(text)
    if at is not None:
        text = text[: at.start()]
        for step in _PATH_STEP.finditer(at.group(1), 1):
            key, index = step.group(1), step.group(2)
            if key is None and index is None:
                break
            segments.append(escape_pointer_segment(key) if key is not None else index)
    named = _NAMED_FIELD.match(text)
    if named is not None:
        segments.append(escape_pointer_segment(named.group(1)))
    return "".join(f"/{s}" for s in segments), text


def typed_tool_inputs(
    input_type: type[_S], *, name: str | None = None
) -> Operator[_S | ToolInputError]:
    """At the end of each tool_use block of the tool `name` (by default the name
    `rxstream.tool(input_type)` gives), its input decoded into `input_type` and validated
    (strictly: no type coercion), or a `ToolInputError` naming the tool, the field as a JSON
    Pointer and what was wrong. Invalid JSON ends the stream with a `StreamDecodeError`."""
    wanted = tool_name(input_type) if name is None else name

    def handler(observer: abc.ObserverBase[_S | ToolInputError]) -> EventHandler:
        accumulator = MessageAccumulator()

        def on_next(event: StreamItem) -> None:
            accumulator.feed(event)
            if event.type != "content_block_stop":
                return
            state = accumulator.block(event.index)
            if not isinstance(state, ToolState) or state.final is None:
                return
            block = state.final
            if block.name != wanted:
                return
            try:
                value = msgspec.convert(block.input, input_type)
            except msgspec.ValidationError as exc:
                pointer, reason = _pointer_and_reason(exc)
                observer.on_next(
                    ToolInputError(event.index, block.id, block.name, pointer, reason, block.input)
                )
                return
            observer.on_next(value)

        return on_next, None

    return event_operator(handler)
