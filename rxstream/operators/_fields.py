"""Tool input field by field: each value the moment the JSON proves it complete, strings as they
arrive, and one field selected by a JSON Pointer pattern."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, TypeAlias

import msgspec
import reactivex
from reactivex import abc
from reactivex.disposable import SingleAssignmentDisposable

from .._accumulate import MessageAccumulator, StreamItem
from .._blocks import ToolState, input_json_error
from .._field_parser import Emit, FieldParser, Input, OnChunk, OnDone, ignore, route_scanner
from .._partial_json import JSONSyntaxError
from .._sources import EventSource
from .._types import (
    ContentBlockDeltaEvent,
    ContentBlockStopEvent,
    InputJSONDelta,
    ServerToolUseBlock,
    ToolUseBlock,
)
from ._base import Operator
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


def _field_operator(
    make_callbacks: Callable[[Callable[[Any], None], int, str, str], _Callbacks | None],
    emit_tool_input: bool,
) -> Operator[Any]:
    """The machinery of `tool_fields` and `tool_field`: every tool block's input goes through a
    field parser whose callbacks `make_callbacks(emit, index, id, name)` gives (None: the
    block is not wanted); a syntax error ends the stream at the fragment that holds it.

    The source's events go straight to a scanner (`route_scanner`): the fragments of the tool
    block in progress are parsed without a Python call in between, and a `_FieldRoute` takes
    the other events. On a stream read here (`from_sse`, `from_response`), the scanner gets
    the events of each read in one list."""

    def operator(source: reactivex.Observable[StreamItem]) -> reactivex.Observable[Any]:
        def subscribe(
            observer: abc.ObserverBase[Any], scheduler: abc.SchedulerBase | None = None
        ) -> abc.DisposableBase:
            upstream = SingleAssignmentDisposable()
            route = _FieldRoute(observer, upstream, make_callbacks, emit_tool_input)
            # Straight on a stream read here: the events of each read come in one call (the
            # scanner takes them in turn, as one by one), not one call through reactivex each.
            events: reactivex.Observable[Any] = (
                source.reads if isinstance(source, EventSource) else source
            )
            upstream.disposable = events.subscribe(
                route_scanner(route), observer.on_error, observer.on_completed, scheduler=scheduler
            )
            return upstream

        return reactivex.Observable(subscribe)

    return operator


class _FieldRoute:
    """One subscription of a field operator: the events its scanner does not parse itself (see
    `Route`). The accumulator follows the blocks; the input fragments of the blocks parsed go
    to their parser only (the accumulator would keep and re-parse them at the end)."""

    __slots__ = (
        "accumulator",
        "emit",
        "emit_tool_input",
        "feeds",
        "make_callbacks",
        "observer",
        "parsing",
        "starts",
        "upstream",
    )

    def __init__(
        self,
        observer: abc.ObserverBase[Any],
        upstream: abc.DisposableBase,
        make_callbacks: Callable[[Callable[[Any], None], int, str, str], _Callbacks | None],
        emit_tool_input: bool,
    ) -> None:
        self.observer = observer
        self.emit = observer.on_next
        self.upstream = upstream
        self.make_callbacks = make_callbacks
        self.emit_tool_input = emit_tool_input
        self.accumulator = MessageAccumulator()
        # The block parsed in the scanner, by index, with its callbacks.
        self.starts: dict[int, tuple[ToolUseBlock | ServerToolUseBlock, _Callbacks]] = {}
        # Blocks that start while the scanner parses another: each in a parser of its own.
        self.parsing: dict[int, _Parsing] = {}
        self.feeds: dict[int, Callable[[str], bool]] = {}

    def other(self, event: Any, idle: bool) -> Input | None:
        if type(event) is ContentBlockDeltaEvent:
            feed = self.feeds.get(event.index)
            if feed is not None and type(event.delta) is InputJSONDelta:
                try:
                    feed(event.delta.partial_json)
                except JSONSyntaxError as exc:
                    name = self.parsing[event.index].start.name
                    raise input_json_error(name, event.index, exc) from None
                return None
            self.accumulator.feed(event)
            return None
        kind = event.type
        if kind == "content_block_start":
            self.accumulator.feed(event)
            block = event.content_block
            if isinstance(block, ToolUseBlock | ServerToolUseBlock):
                callbacks = self.make_callbacks(self.emit, event.index, block.id, block.name)
                if callbacks is not None:
                    index: int = event.index
                    on_done, on_chunk, emit = callbacks
                    if idle:
                        self.starts[index] = (block, callbacks)
                        return index, on_done, on_chunk, ignore if emit is None else emit
                    started = _Parsing(block, callbacks)
                    self.parsing[index] = started
                    self.feeds[index] = partial(_feed_first, started, self.feeds, index)
            return None
        if kind == "content_block_stop":
            self.accumulator.feed(event)
            parsed = self.parsing.pop(event.index, None)
            self.feeds.pop(event.index, None)
            if parsed is None:
                # A block that started before a SnapshotEvent: its input only at the end.
                state = self.accumulator.block(event.index)
                if self.emit_tool_input and isinstance(state, ToolState) and state.final:
                    final = state.final
                    self.emit(ToolInput(event.index, final.id, final.name, final.input))
                return None
            value: object = None
            if parsed.fed:
                try:
                    value = parsed.parser.finish()
                except JSONSyntaxError as exc:
                    raise input_json_error(parsed.start.name, event.index, exc) from None
            self._close(
                event.index,
                parsed.start,
                parsed.callbacks,
                value,
                parsed.parser.root_done,
                parsed.fed,
            )
            return None
        self.accumulator.feed(event)
        return None

    def ended(self, stop: ContentBlockStopEvent, value: object, done: bool, fed: bool) -> None:
        self.accumulator.feed(stop)
        start, callbacks = self.starts.pop(stop.index)
        self._close(stop.index, start, callbacks, value, done, fed)

    def _close(
        self,
        index: int,
        start: ToolUseBlock | ServerToolUseBlock,
        callbacks: _Callbacks,
        value: object,
        done: bool,
        fed: bool,
    ) -> None:
        """A parsed block stopped: the whole input's `FieldDone` if the parser did not give it
        (an empty input is `{}`: nothing closed in it), then its `ToolInput`."""
        if not fed:
            value = start.input
        if not done:
            on_done, _, emit = callbacks
            event = on_done("", value)
            if emit is not None:
                emit(event)
        if self.emit_tool_input:
            self.emit(ToolInput(index, start.id, start.name, value))

    def failed(self, exc: Exception, index: int) -> None:
        error: Exception = exc
        if isinstance(exc, JSONSyntaxError):  # in the input of the block parsed in the scanner
            error = input_json_error(self.starts[index][0].name, index, exc)
        self.upstream.dispose()
        self.observer.on_error(error)


def _feed_first(
    parsed: _Parsing, feeds: dict[int, Callable[[str], bool]], index: int, fragment: str
) -> bool:
    """The first fragment of a block parsed in a parser of its own: noted, and the next ones
    go straight to the scanner (`feed_strict`: the stream ends at the first error)."""
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
