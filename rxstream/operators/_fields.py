"""Tool input field by field: each value the moment the JSON proves it complete, strings as they
arrive, and one field selected by a JSON Pointer pattern."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeAlias

import msgspec
from reactivex import abc

from .._accumulate import MessageAccumulator, StreamItem
from .._blocks import ToolState, input_json_error
from .._field_parser import FieldParser
from .._partial_json import JSONSyntaxError
from .._types import (
    ContentBlockDeltaEvent,
    InputJSONDelta,
    ServerToolUseBlock,
    ToolUseBlock,
)
from ._base import EventHandler, Operator, event_operator
from ._tools import ToolInput

__all__ = ["FieldDone", "StringChunk", "tool_field", "tool_fields"]


class FieldDone(msgspec.Struct):
    """A value of a tool input, complete: `pointer` is its RFC 6901 JSON Pointer in the input
    (`""` is the whole input, done last). Containers are the same objects the final input
    holds: do not mutate them."""

    # A msgspec Struct, built in C: one is made for every value of every input.
    index: int
    tool_id: str
    tool_name: str
    pointer: str
    value: Any

    def __repr__(self) -> str:
        return (
            f"FieldDone(index={self.index}, tool_name={self.tool_name!r}, "
            f"pointer={self.pointer!r}, value={self.value!r})"
        )


class StringChunk(msgspec.Struct):
    """A piece of a string value of a tool input as it arrives, escapes decoded: the pieces of
    one string concatenate to its final value. Where the pieces are cut depends on how the
    input was streamed."""

    # A msgspec Struct, built in C: one is made for nearly every fragment of a long string.
    index: int
    tool_id: str
    tool_name: str
    pointer: str
    text: str

    def __repr__(self) -> str:
        return (
            f"StringChunk(index={self.index}, tool_name={self.tool_name!r}, "
            f"pointer={self.pointer!r}, text={self.text!r})"
        )


FieldEvent: TypeAlias = FieldDone | StringChunk | ToolInput
_Callbacks = tuple[Callable[[str, object], None], Callable[[str, str], None] | None]


class _Parsing:
    """A tool block whose input is being parsed: its start, its parser, its `on_done`, and
    whether any fragment (even "") came."""

    __slots__ = ("fed", "feed", "on_done", "parser", "start")

    def __init__(
        self,
        start: ToolUseBlock | ServerToolUseBlock,
        parser: FieldParser,
        on_done: Callable[[str, object], None],
    ) -> None:
        self.start = start
        self.parser = parser
        self.feed = parser.feed_strict  # the stream ends at the first error
        self.on_done = on_done
        self.fed = False


def _field_operator(
    make_callbacks: Callable[[abc.ObserverBase[Any], int, str, str], _Callbacks | None],
    emit_tool_input: bool,
) -> Operator[Any]:
    """The machinery of `tool_fields` and `tool_field`: every tool block's input goes through a
    `FieldParser` whose callbacks `make_callbacks(observer, index, id, name)` gives (None: the
    block is not wanted); a syntax error ends the stream at the fragment that holds it."""

    def handler(observer: abc.ObserverBase[Any]) -> EventHandler:
        # The accumulator follows the blocks; the input fragments of the blocks parsed here go
        # to their parser only (the accumulator would keep and re-parse them at the end).
        accumulator = MessageAccumulator()
        parsing: dict[int, _Parsing] = {}

        def on_next(event: StreamItem) -> None:
            # `type() is`: the fragments of a long input are nearly every event.
            if type(event) is ContentBlockDeltaEvent:
                parsed = parsing.get(event.index)
                if parsed is not None:
                    delta = event.delta
                    if type(delta) is InputJSONDelta:
                        try:
                            parsed.feed(delta.partial_json)
                        except JSONSyntaxError as exc:
                            raise input_json_error(parsed.start.name, event.index, exc) from None
                        parsed.fed = True
                        return
                accumulator.feed(event)
            elif event.type == "content_block_start":
                accumulator.feed(event)
                block = event.content_block
                if isinstance(block, ToolUseBlock | ServerToolUseBlock):
                    callbacks = make_callbacks(observer, event.index, block.id, block.name)
                    if callbacks is not None:
                        parser = FieldParser(callbacks[0], callbacks[1])
                        parsing[event.index] = _Parsing(block, parser, callbacks[0])
            elif event.type == "content_block_stop":
                accumulator.feed(event)
                parsed = parsing.pop(event.index, None)
                if parsed is None:
                    # A block that started before a SnapshotEvent: its input only at the end.
                    state = accumulator.block(event.index)
                    if emit_tool_input and isinstance(state, ToolState) and state.final:
                        final = state.final
                        observer.on_next(ToolInput(event.index, final.id, final.name, final.input))
                    return
                start = parsed.start
                value: Any = start.input
                if parsed.fed:
                    try:
                        value = parsed.parser.finish()
                    except JSONSyntaxError as exc:
                        raise input_json_error(start.name, event.index, exc) from None
                if not parsed.parser.root_done:
                    parsed.on_done("", value)  # an empty input is `{}`: nothing closed in it
                if emit_tool_input:
                    observer.on_next(ToolInput(event.index, start.id, start.name, value))
            else:
                accumulator.feed(event)

        return on_next, None

    return event_operator(handler)


def tool_fields() -> Operator[FieldDone | StringChunk | ToolInput]:
    """For every tool_use / server_tool_use block, in input order: a `FieldDone` for every value
    of its input (at every depth) at the moment the JSON proves it complete, never before; a
    `StringChunk` for every piece of a string value as it arrives; then the `ToolInput` that
    `tool_inputs()` gives. A block cut before its end gets no `FieldDone` for unfinished
    values. Invalid JSON ends the stream with a `StreamDecodeError` naming the block, the
    tool and the offset of the first bad character, as soon as the fragment holding it arrives.
    """

    def callbacks(
        observer: abc.ObserverBase[FieldEvent], index: int, tool_id: str, name: str
    ) -> _Callbacks:
        emit = observer.on_next

        def on_done(pointer: str, value: object) -> None:
            emit(FieldDone(index, tool_id, name, pointer, value))

        def on_chunk(pointer: str, text: str) -> None:
            emit(StringChunk(index, tool_id, name, pointer, text))

        return on_done, on_chunk

    operator: Operator[FieldEvent] = _field_operator(callbacks, emit_tool_input=True)
    return operator


def tool_field(pointer: str, *, tool: str | None = None) -> Operator[FieldDone]:
    """Each completed value at `pointer`, an RFC 6901 JSON Pointer where a segment `*` matches
    any key or index: `tool_field("/urls/*")` emits every URL of the input as soon as it is
    complete, while the model still writes the rest. `tool` keeps only the calls of the tool
    of that name. Invalid JSON ends the stream as in `tool_fields()`."""
    if pointer and not pointer.startswith("/"):
        raise ValueError(f"a JSON Pointer is empty or starts with '/': {pointer!r}")
    match = _matcher(pointer)

    def callbacks(
        observer: abc.ObserverBase[FieldDone], index: int, tool_id: str, name: str
    ) -> _Callbacks | None:
        if tool is not None and name != tool:
            return None
        emit = observer.on_next

        def on_done(at: str, value: object) -> None:
            if match(at):
                emit(FieldDone(index, tool_id, name, at, value))

        return on_done, None

    operator: Operator[FieldDone] = _field_operator(callbacks, emit_tool_input=False)
    return operator


def _matcher(pattern: str) -> Callable[[str], bool]:
    """Whether a value's pointer matches `pattern` (`*` segments match any one segment)."""
    segments = pattern.split("/")
    if "*" not in segments:
        return lambda pointer: pointer == pattern
    depth = len(segments)
    prefix = "/".join(segments[: segments.index("*")]) + "/"

    def match(pointer: str) -> bool:
        if not pointer.startswith(prefix):
            return False
        parts = pointer.split("/")
        if len(parts) != depth:
            return False
        return all(want == "*" or want == got for want, got in zip(segments, parts, strict=True))

    return match
