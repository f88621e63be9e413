"""The incremental JSON parser, reporting each value the moment the JSON proves it complete.

`FieldParser` is `PartialJSONParser` with two callbacks: `on_done(pointer, value)` once per
value (at its closing quote or bracket, or at the delimiter after a number or literal; the
whole input, pointer `""`, last) and `on_chunk(pointer, text)` for the decoded text of a string
value as it arrives. Every value passes through the parser's one `_add`, so the hook costs one
call per value; pointers are built once per open container, so the work stays linear in the
input (plus the size of the pointers handed out).
"""

from __future__ import annotations

from collections.abc import Callable

from ._partial_json import _AFTER, _END, _MISSING, _STRING, _STRING_STOP, PartialJSONParser

__all__ = ["FieldParser", "escape_pointer_segment"]


def escape_pointer_segment(key: str) -> str:
    """A key as one RFC 6901 JSON Pointer segment (`~` is `~0`, `/` is `~1`)."""
    if "~" in key or "/" in key:
        return key.replace("~", "~0").replace("/", "~1")
    return key


def _ignore(pointer: str, value: object) -> None:
    pass


class FieldParser(PartialJSONParser):
    """Parse one JSON text fed in fragments, calling `on_done` for every completed value and
    `on_chunk` for every piece of a string value (no empty pieces; a piece never ends inside
    an escape or between the halves of an escaped surrogate pair)."""

    __slots__ = (
        "_chunked",
        "_chunked_pieces",
        "_on_chunk",
        "_on_done",
        "_pointers",
        "_string_pointer",
        "root_done",
    )

    def __init__(
        self,
        on_done: Callable[[str, object], None],
        on_chunk: Callable[[str, str], None] | None = None,
        *,
        max_depth: int = 1000,
    ) -> None:
        super().__init__(max_depth=max_depth)
        self._on_done = on_done
        self._on_chunk = on_chunk
        self._pointers: list[str] = []  # the pointer of each open container, computed lazily
        self._chunked = 0  # characters of the open string value already given to on_chunk
        self._chunked_pieces = 0  # ... and how many of its pieces that was
        self._string_pointer: str | None = None  # the open string value's pointer, once known
        self.root_done = False
        """Whether `on_done` was called for the whole input (pointer `""`)."""

    def feed(self, chunk: str) -> None:
        """Consume the next fragment, calling back for what it completes, then for the new
        text of a string value it leaves open."""
        if self._finished or not chunk or self._error is not None:
            super().feed(chunk)  # raises after finish(); counts the characters after an error
            return
        state = self._state
        if state == _STRING and not self._carry and _STRING_STOP.search(chunk) is None:
            # The whole fragment is plain text inside the string being read (the most common
            # fragment of a long input): no state changes, so the scanner is not needed.
            self._consumed += len(chunk)
            pieces = self._pieces
            pieces.append(chunk)
            if self._in_key:
                return
            self._cache = _MISSING
            if self._on_chunk is not None:
                self._chunked += len(chunk)
                self._chunked_pieces = len(pieces)
                self._on_chunk(self._string_pointer or self._open_string_pointer(), chunk)
            return
        # PartialJSONParser.feed, inlined: this runs once per fragment.
        start = self._consumed
        self._consumed = start + len(chunk)
        carry = self._carry
        if carry:
            self._carry = ""
            self._scan(carry + chunk, start - len(carry))
        else:
            self._scan(chunk, start)
        if self._state == _STRING and not self._in_key and self._on_chunk is not None:
            pieces = self._pieces
            done = self._chunked_pieces
            if len(pieces) > done:
                text = pieces[done] if len(pieces) == done + 1 else "".join(pieces[done:])
                self._chunked += len(text)
                self._chunked_pieces = len(pieces)
                self._on_chunk(self._string_pointer or self._open_string_pointer(), text)

    def _open_string_pointer(self) -> str:
        pointer = self._string_pointer = self._pointer()
        return pointer

    def finish(self) -> object:
        """Strict end, as `PartialJSONParser.finish()`: a number or literal the input ends
        with is done only if it is the whole input (inside a container, the end of the input
        proves nothing: the JSON is incomplete)."""
        if self._stack:
            self._on_done = _ignore
        return super().finish()

    def _string_so_far(self) -> str:
        text = super()._string_so_far()
        self._chunked_pieces = len(self._pieces)  # partial() joined them: all were given out
        return text

    def _pointer(self) -> str:
        """The pointer of the value being added to the innermost open container."""
        stack = self._stack
        depth = len(stack)
        if not depth:
            return ""
        pointers = self._pointers
        if len(pointers) > depth:  # containers closed since: their pointers are stale
            del pointers[depth:]
        while len(pointers) < depth:
            # An open container's parent cannot change while it is open: its index is the
            # parent's length, its key the parent's pending key.
            d = len(pointers)
            if d == 0:
                pointers.append("")
                continue
            parent = stack[d - 1]
            segment = (
                str(len(parent))
                if isinstance(parent, list)
                else escape_pointer_segment(self._keys[d - 1])
            )
            pointers.append(f"{pointers[d - 1]}/{segment}")
        top = stack[-1]
        if isinstance(top, list):
            return f"{pointers[-1]}/{len(top)}"
        return f"{pointers[-1]}/{escape_pointer_segment(self._keys[-1])}"

    def _add(self, value: object) -> int:
        # The base `_add` inlined, with the pointer's common case (the innermost container's
        # pointer known): this runs once per value of the input.
        stack = self._stack
        if isinstance(value, str):
            pointer = self._string_pointer or self._pointer()
            chunked = self._chunked
            if self._on_chunk is not None and len(value) > chunked:
                self._on_chunk(pointer, value[chunked:] if chunked else value)
            self._chunked = self._chunked_pieces = 0
            self._string_pointer = None
        elif stack and len(self._pointers) == len(stack):
            top = stack[-1]
            if isinstance(top, list):
                pointer = f"{self._pointers[-1]}/{len(top)}"
            else:
                pointer = f"{self._pointers[-1]}/{escape_pointer_segment(self._keys[-1])}"
        else:
            pointer = self._pointer()
        if stack:
            top = stack[-1]
            if isinstance(top, list):
                top.append(value)
            else:
                top[self._keys[-1]] = value
            state = _AFTER
        else:
            self._root = value
            state = _END
            self.root_done = True
        self._on_done(pointer, value)
        return state
