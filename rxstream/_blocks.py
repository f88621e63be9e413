"""The growing state of each content block: append-only, so any earlier point of it can
be read back in O(its size) — what snapshots and the SDK-style events are views of."""

from __future__ import annotations

import json
from typing import Any, Final, Protocol

import msgspec

from ._errors import StreamDecodeError
from ._partial_json import JSONSyntaxError, PartialJSONParser
from ._types import (
    Citation,
    ContentBlock,
    ServerToolUseBlock,
    TextBlock,
    ThinkingBlock,
    ToolUseBlock,
)

__all__ = [
    "BlockState",
    "Parts",
    "TextState",
    "ThinkingState",
    "ToolState",
    "WholeState",
    "input_json_error",
    "state_for",
]

_EMPTY: Final[tuple[Any, ...]] = ()


class BlockState(Protocol):
    """The growing state of one content block."""

    def mark(self) -> object:
        """An immutable token for the state as it is now."""
        ...

    def block_at(self, mark: Any) -> ContentBlock:
        """The block as it was at `mark`."""
        ...

    def fork(self, mark: Any) -> BlockState:
        """A new state that starts where this one stood at `mark`."""
        ...


class Parts:
    """Append-only text with a cached join, so repeated reads cost only the new parts."""

    __slots__ = ("_joined", "_joined_count", "parts")

    def __init__(self, first: str) -> None:
        self.parts: list[str] = [first] if first else []
        self._joined = first
        self._joined_count = len(self.parts)

    def text_at(self, count: int) -> str:
        if count == self._joined_count:
            return self._joined
        if count > self._joined_count:
            text = self._joined + "".join(self.parts[self._joined_count : count])
            self._joined, self._joined_count = text, count
            return text
        return "".join(self.parts[:count])


class TextState:
    __slots__ = ("_cache", "citations", "start", "text")

    def __init__(self, start: TextBlock) -> None:
        self.start = start
        self.text = Parts(start.text)
        self.citations: list[Citation] = list(start.citations or _EMPTY)
        self._cache: tuple[tuple[int, int], TextBlock] | None = None

    def mark(self) -> tuple[int, int]:
        return (len(self.text.parts), len(self.citations))

    def fork(self, mark: tuple[int, int]) -> TextState:
        state = TextState(self.start)
        state.text.parts[:] = self.text.parts[: mark[0]]
        state.citations[:] = self.citations[: mark[1]]
        return state

    def block_at(self, mark: tuple[int, int]) -> TextBlock:
        cached = self._cache
        if cached is not None and cached[0] == mark:
            return cached[1]
        citations = self.start.citations
        if mark[1] or citations is not None:
            citations = tuple(self.citations[: mark[1]])
        block = TextBlock(text=self.text.text_at(mark[0]), citations=citations)
        self._cache = (mark, block)
        return block


class ThinkingState:
    __slots__ = ("signature", "thinking")

    def __init__(self, start: ThinkingBlock) -> None:
        self.thinking = Parts(start.thinking)
        self.signature = start.signature

    def mark(self) -> tuple[int, str]:
        return (len(self.thinking.parts), self.signature)

    def fork(self, mark: tuple[int, str]) -> ThinkingState:
        state = ThinkingState(ThinkingBlock(thinking="", signature=mark[1]))
        state.thinking.parts[:] = self.thinking.parts[: mark[0]]
        return state

    def block_at(self, mark: tuple[int, str]) -> ThinkingBlock:
        return ThinkingBlock(thinking=self.thinking.text_at(mark[0]), signature=mark[1])


class ToolState:
    """A tool_use / server_tool_use block whose input streams as JSON fragments.

    Fragments are only kept as they arrive; the incremental parser catches up with them
    when a partial value is asked for (still O(n) in all), so a consumer that never reads
    partial values never pays for them: the complete input is then parsed once, in C.
    """

    __slots__ = ("_parsed", "final", "fragments", "parser", "start")

    def __init__(self, start: ToolUseBlock | ServerToolUseBlock) -> None:
        self.start = start
        self.fragments: list[str] = []
        self.parser = PartialJSONParser()
        self._parsed = 0  # how many fragments the parser has been fed
        self.final: ToolUseBlock | ServerToolUseBlock | None = None

    def feed(self, fragment: str) -> None:
        self.fragments.append(fragment)

    def mark(self) -> int:
        return len(self.fragments)

    def catch_up(self) -> PartialJSONParser:
        """The parser, fed every fragment so far."""
        parser, fragments = self.parser, self.fragments
        if self._parsed < len(fragments):
            parser.feed("".join(fragments[self._parsed :]))
            self._parsed = len(fragments)
        return parser

    def input_at(self, mark: int) -> Any:
        """The input as it stood after `mark` fragments (complete once the block stopped)."""
        if self.final is not None and mark == len(self.fragments):
            return self.final.input
        # Until a character arrives (the API's first fragment is often ""), the input is
        # the block's own (`{}`), not the parser's "nothing yet" (None).
        if mark == len(self.fragments):
            parser = self.catch_up()
            return parser.partial() if parser.consumed else self.start.input
        text = "".join(self.fragments[:mark])
        if not text:
            return self.start.input
        parser = PartialJSONParser()
        parser.feed(text)
        return parser.partial()

    def fork(self, mark: int) -> ToolState:
        state = ToolState(self.start)
        if mark:
            state.feed("".join(self.fragments[:mark]))
        if self.final is not None and mark == len(self.fragments):
            state.final = self.final
        return state

    def block_at(self, mark: int) -> ToolUseBlock | ServerToolUseBlock:
        if self.final is not None and mark == len(self.fragments):
            return self.final
        return msgspec.structs.replace(self.start, input=self.input_at(mark))

    def stop(self, index: int) -> None:
        if self.fragments:
            try:
                value = self._complete_input()
            except JSONSyntaxError as exc:
                raise input_json_error(self.start.name, index, exc) from None
            self.final = msgspec.structs.replace(self.start, input=value)
        else:
            self.final = self.start

    def _complete_input(self) -> Any:
        """The whole input, validated strictly: `PartialJSONParser.finish()`'s result, taken
        from `json.loads` when the parser is behind (it agrees on every valid input)."""
        if self._parsed == len(self.fragments):
            return self.parser.finish()
        text = "".join(self.fragments)
        if not text.strip(_JSON_WHITESPACE):
            return {}  # an empty input, as the parser has it
        try:
            return json.loads(text, parse_constant=_reject_constant)
        except (ValueError, RecursionError):
            return self.catch_up().finish()  # raises with the parser's offset and reason


_JSON_WHITESPACE: Final = " \t\n\r"


def input_json_error(tool_name: str, index: int, exc: JSONSyntaxError) -> StreamDecodeError:
    """The error for a tool input that is not valid JSON: the tool, the block, the offset."""
    return StreamDecodeError(
        f"invalid input JSON for tool {tool_name!r} (block {index}) at offset {exc.offset}: "
        f"{exc.reason}",
        offset=exc.offset,
    )


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


class WholeState:
    """A block that arrives whole (tool results, redacted thinking, unknown types)."""

    __slots__ = ("block",)

    def __init__(self, block: ContentBlock) -> None:
        self.block = block

    def mark(self) -> None:
        return None

    def fork(self, mark: None) -> WholeState:
        return self

    def block_at(self, mark: None) -> ContentBlock:
        return self.block


def state_for(block: ContentBlock) -> BlockState:
    if isinstance(block, TextBlock):
        return TextState(block)
    if isinstance(block, ThinkingBlock):
        return ThinkingState(block)
    if isinstance(block, ToolUseBlock | ServerToolUseBlock):
        return ToolState(block)
    return WholeState(block)
