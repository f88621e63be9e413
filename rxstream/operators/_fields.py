"""Tool input field by field: each value the moment the JSON proves it complete, strings as they
arrive, and one field selected by a JSON Pointer pattern."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, TypeAlias

import msgspec
from reactivex import abc

from .._accumulate import MessageAccumulator, StreamItem
from .._blocks import ToolState, input_json_error
from .._field_parser import Emit, FieldParser, OnChunk, OnDone
from .._partial_json import JSONSyntaxError
from .._types import (
    ContentBlockDeltaEvent,
    InputJSONDelta,
    ServerToolUseBlock,
    ToolUseBlock,
)
from ._base import Downstream, EventHandler, Operator, event_operator
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
# `on_done`, `on_chunk` and `emit` as `FieldParser` takes them.
_Callbacks = tuple[OnDone, OnChunk | None, Emit | None]


class _Parsing:
    """A tool block whose input is being parsed: its start, its parser and its callbacks."""

    __slots__ = ("callbacks", "fed", "parser", "start")

    def __init__(self, start: ToolUseBlock | ServerToolUseBlock, callbacks: _Callbacks) -> None:
        self.start = start
        self.callbacks = callbacks
        self.parser = FieldParser(callbacks[0], callbacks[1], emit=callbacks[2])
        self.fed = False
        """Whether any fragment (even "") came."""

    def done(self, pointer: str, value: object) -> None:
        """`on_done` for a value the parser did not see complete."""
        on_done, _, emit = self.callbacks
        event = on_done(pointer, value)
        if emit is not None:
            emit(event)


def _field_operator(
    make_callbacks: Callable[[Callable[[Any], None], int, str, str], _Callbacks | None],
    emit_tool_input: bool,
) -> Operator[Any]:
    """The machinery of `tool_fields` and `tool_field`: every tool block's input goes through a
    `FieldParser` whose callbacks `make_callbacks(emit, index, id, name)` gives (None: the
    block is not wanted); a syntax error ends the stream at the fragment that holds it."""

    def handler(observer: abc.ObserverBase[Any]) -> EventHandler:
        # The accumulator follows the blocks; the input fragments of the blocks parsed here go
        # to their parser only (the accumulator would keep and re-parse them at the end).
        accumulator = MessageAccumulator()
        parsing: dict[int, _Parsing] = {}
        feeds: dict[int, Callable[[str], bool]] = {}  # per block parsed: where fragments go
        # The field events go to the observer's own `on_next`, not through `Downstream` (one
        # Python call less per event): what it raises is recorded here, where the parser is
        # called (the parser itself raises only `JSONSyntaxError`).
        downstream = observer if isinstance(observer, Downstream) else None
        emit = observer.on_next if downstream is None else downstream.target.on_next

        def parser_error(
            exc: BaseException, start: ToolUseBlock | ServerToolUseBlock, index: int
        ) -> BaseException:
            """What to raise for `exc`, raised by a parser (through `emit`)."""
            if isinstance(exc, JSONSyntaxError):
                return input_json_error(start.name, index, exc)
            if downstream is not None:
                downstream.raised = exc  # the observer's: it goes back upstream unchanged
            return exc

        def on_next(event: StreamItem) -> None:
            # `type() is`: the fragments of a long input are nearly every event.
            if type(event) is ContentBlockDeltaEvent:
                feed = feeds.get(event.index)
                if feed is not None:
                    delta = event.delta
                    if type(delta) is InputJSONDelta:
                        try:
                            feed(delta.partial_json)
                        except Exception as exc:
                            start = parsing[event.index].start
                            error = parser_error(exc, start, event.index)
                            if error is exc:
                                raise
                            raise error from None
                        return
                accumulator.feed(event)
            elif event.type == "content_block_start":
                accumulator.feed(event)
                block = event.content_block
                if isinstance(block, ToolUseBlock | ServerToolUseBlock):
                    callbacks = make_callbacks(emit, event.index, block.id, block.name)
                    if callbacks is not None:
                        started = _Parsing(block, callbacks)
                        parsing[event.index] = started
                        feeds[event.index] = partial(_feed_first, started, feeds, event.index)
            elif event.type == "content_block_stop":
                accumulator.feed(event)
                parsed = parsing.pop(event.index, None)
                feeds.pop(event.index, None)
                if parsed is None:
                    # A block that started before a SnapshotEvent: its input only at the end.
                    state = accumulator.block(event.index)
                    if emit_tool_input and isinstance(state, ToolState) and state.final:
                        final = state.final
                        observer.on_next(ToolInput(event.index, final.id, final.name, final.input))
                    return
                start = parsed.start
                value: Any = start.input
                try:
                    if parsed.fed:
                        value = parsed.parser.finish()
                    if not parsed.parser.root_done:
                        parsed.done("", value)  # an empty input is `{}`: nothing closed in it
                except Exception as exc:
                    error = parser_error(exc, start, event.index)
                    if error is exc:
                        raise
                    raise error from None
                if emit_tool_input:
                    observer.on_next(ToolInput(event.index, start.id, start.name, value))
            else:
                accumulator.feed(event)

        return on_next, None

    return event_operator(handler)


def _feed_first(
    parsed: _Parsing, feeds: dict[int, Callable[[str], bool]], index: int, fragment: str
) -> bool:
    """The first fragment of a block: noted, and the next ones go straight to the scanner (a
    C call, `feed_strict`: the stream ends at the first error)."""
    parsed.fed = True
    feeds[index] = parsed.parser.feed_strict
    return parsed.parser.feed_strict(fragment)


def tool_fields() -> Operator[FieldDone | StringChunk | ToolInput]:
    """For every tool_use / server_tool_use block, in input order: a `FieldDone` for every value
    of its input (at every depth) at the moment the JSON proves it complete, never before; a
    `StringChunk` for every piece of a string value as it arrives; then the `ToolInput` that
    `tool_inputs()` gives. A block cut before its end gets no `FieldDone` for unfinished
    values. Invalid JSON ends the stream with a `StreamDecodeError` naming the block, the
    tool and the offset of the first bad character, as soon as the fragment holding it arrives.
    """

    def callbacks(
        emit: Callable[[FieldEvent], None], index: int, tool_id: str, name: str
    ) -> _Callbacks:
        # The events are built by their classes, bound to the block: no Python call each.
        return (
            partial(FieldDone, index, tool_id, name),
            partial(StringChunk, index, tool_id, name),
            emit,
        )

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
        emit: Callable[[FieldDone], None], index: int, tool_id: str, name: str
    ) -> _Callbacks | None:
        if tool is not None and name != tool:
            return None

        def on_done(at: str, value: object) -> None:
            if match(at):
                emit(FieldDone(index, tool_id, name, at, value))

        return on_done, None, None

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
