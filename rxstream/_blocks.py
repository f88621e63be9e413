"""The growing state of each content block: append-only, so any earlier point of it can
be read back in O(its size) — what snapshots and the SDK-style events are views of."""

from __future__ import annotations

import json
from array import array
from bisect import bisect_right
from itertools import accumulate, islice
from typing import Any, Final, Protocol, TypeAlias

import msgspec

from ._errors import StreamDecodeError
from ._partial_json import JSONSyntaxError, PartialJSONParser
from ._types import (
    Citation,
    ContentBlock,
    MCPToolUseBlock,
    ServerToolUseBlock,
    TextBlock,
    ThinkingBlock,
    ToolUseBlock,
)

__all__ = [
    "COMPACT_RUN",
    "TOOL_BLOCKS",
    "BlockState",
    "Parts",
    "TextState",
    "ThinkingState",
    "ToolBlock",
    "ToolState",
    "WholeState",
    "input_json_error",
    "state_for",
]

_EMPTY: Final[tuple[Any, ...]] = ()

ToolBlock: TypeAlias = ToolUseBlock | ServerToolUseBlock | MCPToolUseBlock
"""The blocks whose `input` streams as `input_json_delta` fragments (the SDK's list)."""
TOOL_BLOCKS: Final = (ToolUseBlock, ServerToolUseBlock, MCPToolUseBlock)


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


COMPACT_RUN: Final = 64
"""How many deltas are kept as they came before being joined into one chunk."""


_View: TypeAlias = tuple[int, int, int, list[str]]
"""(pieces joined, characters joined, chunks, the list of the pieces after them)"""


class Parts:
    """Append-only text that stays compact however small its pieces.

    The last pieces are kept as they came (`parts`); every `COMPACT_RUN` of them is joined
    into one UTF-8 chunk (about the size of the text on the wire, where a `str` holding one
    emoji takes 4 bytes per character), and only each piece's end offset is kept (4 bytes,
    not a ~50-byte string object), so any earlier point can still be read back. Reads are
    cached: reading further on costs only the new text. A mark is a count of pieces.

    One thread appends; any thread may read at the same time: a reader takes one consistent
    view (`_view`), which a compaction replaces in one assignment, never mutates.
    """

    __slots__ = ("_chunk_ends", "_chunks", "_ends", "_joined", "_view", "parts")

    def __init__(self, first: str) -> None:
        self.parts: list[str] = [first] if first else []
        self._chunks: list[bytes] = []  # joined runs of pieces, in UTF-8 (append-only)
        self._chunk_ends: list[int] = []  # the character offset where each chunk ends
        self._ends = array("I")  # the character offset where each joined piece ends
        self._view: _View = (0, 0, 0, self.parts)
        self._joined = (len(self.parts), first)  # a cached read: (count, its text)

    def add(self, piece: str) -> None:
        """Append a piece."""
        parts = self.parts
        parts.append(piece)
        if len(parts) >= COMPACT_RUN:
            self.compact()

    def compact(self) -> None:
        """Join the pieces kept as they came into one chunk."""
        joined, start, chunks, parts = self._view
        self._ends.extend(islice(accumulate(map(len, parts), initial=start), 1, None))
        text = "".join(parts)
        self._chunks.append(text.encode())
        end = start + len(text)
        self._chunk_ends.append(end)
        self.parts = []
        self._view = (joined + len(parts), end, chunks + 1, self.parts)

    def count(self) -> int:
        """How many pieces so far: the mark of the text now."""
        joined, _, _, parts = self._view
        return joined + len(parts)

    def text_at(self, count: int) -> str:
        """The text of the first `count` pieces."""
        cached_count, cached = self._joined
        if count == cached_count:
            return cached
        view = self._view
        end = self._offset(view, count)
        if count > cached_count:
            # Dropped from the cache while it grows, so that it is extended in place.
            self._joined = (0, "")
            text = self._between(view, len(cached), end, prefix=cached)
            self._joined = (count, text)
            return text
        return cached[:end]

    def piece(self, count: int) -> str:
        """The `count`-th piece (from 1), as it was appended."""
        view = self._view
        joined, _, _, parts = view
        if count > joined:
            return parts[count - joined - 1]
        return self._between(view, self._offset(view, count - 1), self._offset(view, count))

    def _offset(self, view: _View, count: int) -> int:
        """Where the first `count` pieces end, in characters."""
        joined, compacted, _, parts = view
        if count <= joined:
            return self._ends[count - 1] if count else 0
        return compacted + sum(map(len, parts[: count - joined]))

    def _between(self, view: _View, start: int, end: int, prefix: str = "") -> str:
        """`prefix`, then the text from character `start` to character `end`. Decoded chunk
        by chunk onto the end of one string, which CPython grows in place: the whole text is
        never held twice, nor widened from a narrower copy, while it is built."""
        text = prefix
        del prefix
        _, compacted, chunks, parts = view
        if start < compacted:
            chunk_ends = self._chunk_ends
            k = bisect_right(chunk_ends, start, 0, chunks)
            chunk_start = chunk_ends[k - 1] if k else 0
            while k < chunks and chunk_start < end:
                chunk_end = chunk_ends[k]
                chunk = self._chunks[k].decode()
                if start > chunk_start or end < chunk_end:
                    chunk = chunk[max(start - chunk_start, 0) : end - chunk_start]
                text += chunk
                chunk_start = chunk_end
                k += 1
        if end > compacted:
            text += "".join(parts)[max(start - compacted, 0) : end - compacted]
        return text

    def fork(self, count: int) -> Parts:
        """New parts that start with the text of the first `count` pieces."""
        return Parts(self.text_at(count))


class TextState:
    __slots__ = ("_cache", "citations", "start", "text")

    def __init__(self, start: TextBlock) -> None:
        self.start = start
        self.text = Parts(start.text)
        self.citations: list[Citation] = list(start.citations or _EMPTY)
        self._cache: tuple[tuple[int, int], TextBlock] | None = None

    def mark(self) -> tuple[int, int]:
        return (self.text.count(), len(self.citations))

    def fork(self, mark: tuple[int, int]) -> TextState:
        state = TextState(self.start)
        state.text = self.text.fork(mark[0])
        state.citations[:] = self.citations[: mark[1]]
        return state

    def block_at(self, mark: tuple[int, int]) -> TextBlock:
        cached = self._cache
        if cached is not None and cached[0] == mark:
            return cached[1]
        citations = self.start.citations
        if mark[1] or citations is not None:
            citations = tuple(self.citations[: mark[1]])
        block = TextBlock(
            text=self.text.text_at(mark[0]), citations=citations, extras=self.start.extras
        )
        self._cache = (mark, block)
        return block


class ThinkingState:
    __slots__ = ("extras", "signature", "thinking")

    def __init__(self, start: ThinkingBlock) -> None:
        self.thinking = Parts(start.thinking)
        self.signature = start.signature
        self.extras = start.extras

    def mark(self) -> tuple[int, str]:
        return (self.thinking.count(), self.signature)

    def fork(self, mark: tuple[int, str]) -> ThinkingState:
        state = ThinkingState(ThinkingBlock(thinking="", signature=mark[1], extras=self.extras))
        state.thinking = self.thinking.fork(mark[0])
        return state

    def block_at(self, mark: tuple[int, str]) -> ThinkingBlock:
        return ThinkingBlock(
            thinking=self.thinking.text_at(mark[0]), signature=mark[1], extras=self.extras
        )


class ToolState:
    """A tool_use / server_tool_use / mcp_tool_use block whose input streams as JSON fragments.

    Fragments are only kept as they arrive; the incremental parser catches up with them
    when a partial value is asked for (still O(n) in all), so a consumer that never reads
    partial values never pays for them: the complete input is then parsed once, in C.
    """

    __slots__ = ("_parsed", "cut_off", "final", "fragments", "parser", "start")

    def __init__(self, start: ToolBlock) -> None:
        self.start = start
        self.fragments: list[str] = []
        self.parser = PartialJSONParser()
        self._parsed = 0  # how many fragments the parser has been fed
        self.final: ToolBlock | None = None
        self.cut_off = False  # the message ended inside the block: `final` is what came

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
        """The input as it stood after `mark` fragments (complete once the block stopped;
        for a block cut off, the partial value, whenever it is read)."""
        if self.final is not None and not self.cut_off and mark == len(self.fragments):
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
            state.final, state.cut_off = self.final, self.cut_off
        return state

    def block_at(self, mark: int) -> ToolBlock:
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

    def cut(self, index: int) -> None:
        """The message ended inside this block: its input is what the SDK shows for the
        fragments so far (an unfinished string, key or literal left out)."""
        self.cut_off = True
        if not "".join(self.fragments).strip(_JSON_WHITESPACE):
            self.final = self.start
            return
        try:
            value = self.catch_up().cut_value()
        except JSONSyntaxError as exc:
            raise StreamDecodeError(
                f"invalid input JSON for tool {self.start.name!r} (block {index}, cut off "
                f"before its end) at offset {exc.offset}: {exc.reason}",
                offset=exc.offset,
            ) from None
        self.final = msgspec.structs.replace(self.start, input=value)

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
    """A block that arrives whole (tool results, redacted thinking, unknown types), or
    whose deltas replace fields (compaction): its mark is the block itself."""

    __slots__ = ("block",)

    def __init__(self, block: ContentBlock) -> None:
        self.block = block

    def mark(self) -> ContentBlock:
        return self.block

    def fork(self, mark: ContentBlock) -> WholeState:
        return WholeState(mark)

    def block_at(self, mark: ContentBlock) -> ContentBlock:
        return mark


def state_for(block: ContentBlock) -> BlockState:
    if isinstance(block, TextBlock):
        return TextState(block)
    if isinstance(block, ThinkingBlock):
        return ThinkingState(block)
    if isinstance(block, TOOL_BLOCKS):
        return ToolState(block)
    return WholeState(block)
