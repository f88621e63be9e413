"""The incremental JSON parser, reporting each value the moment the JSON proves it complete.

`FieldParser` parses like `PartialJSONParser` (same acceptance, same errors at the same offsets)
and calls back: `on_done(pointer, value)` once per value (at its closing quote or bracket, or at
the delimiter after a number or literal; the whole input, pointer `""`, last) and
`on_chunk(pointer, text)` for the decoded text of a string value as it arrives. Each value's
pointer is built once, from its container's, so the work stays linear in the input (plus the
size of the pointers handed out).

It is its own scanner, not `PartialJSONParser` with hooks, because it runs once per fragment of
8 bytes or so: the scanner is a generator whose state lives in its local variables between
fragments (a fragment costs one `send`, not a method call that loads and stores a dozen
attributes), common sequences (`": "`, `", "`) are taken in one step, and it keeps no state for
`partial()`, which field events do not need. An operator subscribes the scanner itself to its
source (`route_scanner`): the source's `on_next` resumes it with each event, so a fragment of
the block being parsed reaches the scanner without a Python call in between; the other events
go to the operator's `Route`. A source that reads a stream hands it all the events of one read
at once (`EventSource.reads`), which it takes in turn: one resumption per read, not per event.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any, Final, Protocol, cast

from ._partial_json import (
    _AFTER,
    _COLON,
    _END,
    _KEY,
    _KEY_OR_CLOSE,
    _LITERALS,
    _MISSING,
    _NOT_WHITESPACE,
    _NOT_WORD,
    _SIMPLE_ESCAPES,
    _STRING,
    _STRING_STOP,
    _VALUE,
    _VALUE_OR_CLOSE,
    _WORD,
    _WORD_CHARS,
    JSONSyntaxError,
    _word_value,
    decode_escape,
)
from ._types import ContentBlockDeltaEvent, ContentBlockStopEvent

__all__ = ["FieldParser", "Input", "Route", "escape_pointer_segment", "ignore", "route_scanner"]

_Container = list[object] | dict[str, object]
OnDone = Callable[[str, object], object]
OnChunk = Callable[[str, str], object]
Emit = Callable[[Any], None]
# What the scanner is sent (a fragment; None: the end of the input; an event in route mode),
# what it yields after each (whether the whole input is done) and what it returns (the value,
# whether done).
_Scanner = Generator[bool, Any, tuple[object, bool]]
Input = tuple[int, OnDone, OnChunk | None, Emit]
"""An input to parse in route mode: its block's index and its callbacks."""

_DELTA_EVENT: Final = ContentBlockDeltaEvent
_STOP_EVENT: Final = ContentBlockStopEvent


class Route(Protocol):
    """What an operator gives the scanner it subscribes as its `on_next` (`route_scanner`)."""

    def other(self, event: Any, idle: bool) -> Input | None:
        """Every event but the fragments and the stop of the block parsed in the scanner.
        `idle`: no block is; return the input of a tool block that starts, to parse it there
        (a block that starts while another is parsed must be parsed elsewhere)."""

    def ended(self, stop: ContentBlockStopEvent, value: object, done: bool, fed: bool) -> None:
        """The block parsed in the scanner stopped: its input's `value`, whether `on_done`
        was called for it, and whether any fragment came."""

    def failed(self, exc: Exception, index: int) -> None:
        """The subscription ends with `exc` (a `JSONSyntaxError` is in the input of the block
        at `index`; anything else was raised by a callback, the observer or `other`)."""


def route_scanner(route: Route, max_depth: int = 1000) -> Callable[[Any], None]:
    """An operator's `on_next`: the scanner in route mode, started. It takes events, or lists
    of events (what one read completes: `EventSource.reads`), the same either way."""
    scanner = _scan(_no_done, None, ignore, max_depth, route)
    next(scanner)
    return cast("Callable[[Any], None]", scanner.send)  # what it yields goes nowhere


def _no_done(pointer: str, value: object) -> None:
    """The `on_done` of a scanner before its first input."""


_WHITESPACE: Final = " \t\n\r"


def escape_pointer_segment(key: str) -> str:
    """A key as one RFC 6901 JSON Pointer segment (`~` is `~0`, `/` is `~1`)."""
    if "~" in key or "/" in key:
        return key.replace("~", "~0").replace("/", "~1")
    return key


class FieldParser:
    """Parse one JSON text fed in fragments, calling `on_done` for every completed value and
    `on_chunk` for every piece of a string value (no empty pieces; a piece never ends inside
    an escape or between the halves of an escaped surrogate pair).

    With `emit`, the callbacks make the events and the parser hands what they return to
    `emit`: an operator passes event constructors bound to the block (C calls, not a Python
    function per event, and there is one event per value and nearly one per fragment).

    `max_depth` bounds the nesting of arrays and objects: deeper input is a syntax error.
    """

    __slots__ = ("_consumed", "_finished", "_root", "_send", "error", "feed_strict", "root_done")

    def __init__(
        self,
        on_done: OnDone,
        on_chunk: OnChunk | None = None,
        *,
        emit: Emit | None = None,
        max_depth: int = 1000,
    ) -> None:
        scanner = _scan(on_done, on_chunk, ignore if emit is None else emit, max_depth)
        next(scanner)
        self._send = scanner.send
        self.feed_strict: Callable[[str], bool] = scanner.send
        """Like `feed`, with nothing in between the caller and the scanner, for a caller that
        stops at the first error: raises `JSONSyntaxError` (the parser cannot go on) and does
        not count `consumed`. Returns whether the whole input is done."""
        self._consumed = 0
        self._finished = False
        self._root: object = None
        self.error: JSONSyntaxError | None = None
        """The first syntax error met so far, if any (parsing stopped there); read only."""
        self.root_done = False
        """Whether `on_done` was called for the whole input (pointer `""`)."""

    @property
    def consumed(self) -> int:
        """The total number of characters fed so far."""
        return self._consumed

    def feed(self, chunk: str) -> None:
        """Consume the next fragment, calling back for what it completes, then for the new
        text of a string value it leaves open.

        Never raises for syntax errors: the first error is remembered (parsing stops there)
        and raised by `finish()`. Raises `RuntimeError` after `finish()`, or after a callback
        raised (the parser cannot resume)."""
        if self._finished:
            raise RuntimeError("FieldParser.feed() called after finish()")
        self._consumed += len(chunk)  # first: callbacks may read it
        try:
            if self._send(chunk):
                self.root_done = True
        except JSONSyntaxError as exc:
            self.error = exc
            self._send = _stopped  # parsing stopped there: later fragments are only counted
        except StopIteration:
            raise RuntimeError("FieldParser.feed() after a callback raised") from None

    def finish(self) -> object:
        """Strict end, as `PartialJSONParser.finish()`: the whole value, `{}` for an empty or
        all-whitespace input. A number or literal the input ends with is done only if it is
        the whole input (inside a container, the end of the input proves nothing: the JSON is
        incomplete). Raises `JSONSyntaxError` if the input is invalid or incomplete."""
        if not self._finished:
            self._finished = True
            if self.error is None:
                try:
                    self._send(None)
                except StopIteration as stop:
                    if stop.value is None:  # `feed_strict` or a callback raised
                        raise RuntimeError(
                            "FieldParser.finish() after the scanner raised"
                        ) from None
                    self._root, done = stop.value
                    if done:
                        self.root_done = True
                except JSONSyntaxError as exc:
                    self.error = exc
        if self.error is not None:
            raise self.error
        return self._root


def _stopped(chunk: str | None) -> bool:
    return False


def ignore(event: object) -> None:
    """The `emit` of a parser whose callbacks do the work."""


def _scan(
    on_done: OnDone,
    on_chunk: OnChunk | None,
    emit: Emit,
    max_depth: int,
    route: Route | None = None,
) -> _Scanner:
    """The scanner of `FieldParser`: sent each fragment, then None at the end of the input;
    `emit` gets what each call of `on_done` and `on_chunk` returns. Raises `JSONSyntaxError`
    at the first invalid character, and returns the value and whether it was done.

    With a `route` it is an operator's `on_next` instead, sent every event of the stream, or a
    list of events (those one read completes) to take in turn (see `Route`): the
    `input_json_delta` fragments of one tool block at a time are parsed here, without a Python
    call between the source and the scanner; the block's stop ends its input, and the next
    block's input begins afresh. It never raises then: errors go to the route.
    """
    # The states and tables as locals: they are read several times in every fragment.
    VALUE_OR_CLOSE = _VALUE_OR_CLOSE
    KEY_OR_CLOSE = _KEY_OR_CLOSE
    NOT_WHITESPACE = _NOT_WHITESPACE
    WORD_CHARS = _WORD_CHARS
    WHITESPACE = _WHITESPACE
    STRING = _STRING
    WORD = _WORD
    AFTER = _AFTER
    KEY = _KEY
    COLON = _COLON
    VALUE = _VALUE
    END = _END
    WORD_VALUE = _word_value
    LITERALS = _LITERALS
    MISSING = _MISSING
    SIMPLE_ESCAPES = _SIMPLE_ESCAPES
    DELTA_EVENT = _DELTA_EVENT
    STOP_EVENT = _STOP_EVENT
    string_stop = _STRING_STOP.search
    not_word = _NOT_WORD.search
    value: object
    index = -1  # route mode: the block whose fragments are parsed here (-1: none)
    fed = False  # whether a fragment of the current input came
    root_done = False
    item: Any  # what is sent: a fragment, None, or (route mode) an event
    text: str
    batch: list[Any] = []  # route mode: the events of one read; `batch[k:kn]` are to come
    k = kn = 0
    try:
        while True:  # one input after another (a FieldParser parses one)
            state = VALUE
            stack: list[_Container] = []  # open containers, holding only complete values
            keys: list[str] = []  # per open container: the key being parsed ("" in arrays)
            pointers: list[str] = []  # per open container: its pointer
            top: _Container | None = None  # the innermost open container
            in_list = False  # whether `top` is a list
            pieces: list[str] = []  # the decoded parts of the string being parsed
            sent = 0  # how many of `pieces` went to on_chunk
            in_key = False
            pointer = ""  # the pointer of the string, number or literal being parsed
            word_pieces: list[str] = []
            word_start = 0
            carry = ""  # an escape cut at the end of the last fragment
            resume = False  # whether it ended in an escape, a number or a literal
            base = 0  # the offset of the fragment's first character in the input
            root: object = None
            root_done = False
            fed = False
            while True:
                if k < kn:  # the next event of a read
                    item = batch[k]
                    k += 1
                else:
                    item = yield root_done
                    if type(item) is list:  # route mode: the events of one read
                        batch = item
                        k = 0
                        kn = len(item)
                        continue
                if type(item) is DELTA_EVENT and item.index == index:
                    try:
                        # Only an `input_json_delta` has it.
                        text = item.delta.partial_json  # type: ignore[union-attr]
                    except AttributeError:  # another kind of delta, invalid in a tool block
                        assert route is not None
                        route.other(item, False)
                        continue
                elif type(item) is str:
                    text = item
                elif type(item) is STOP_EVENT and item.index == index:
                    break  # the end of the input
                elif route is None:
                    if item is None:
                        break  # the end of the input
                    raise TypeError(f"a FieldParser is fed strings, not {type(item).__name__}")
                else:
                    started = route.other(item, index < 0)
                    if started is not None:
                        index, on_done, on_chunk, emit = started
                    continue
                fed = True
                n = len(text)
                i = 0
                if resume:  # the last fragment ended in an escape, a number or a literal
                    resume = False
                    if carry:
                        text = carry + text
                        n = len(text)
                        carry = ""
                    elif state == WORD:  # a number or literal the last fragment ended in
                        m = not_word(text)
                        if m is None:
                            word_pieces.append(text)
                            base += n
                            resume = True
                            continue
                        i = m.start()
                        word_pieces.append(text[:i])
                        value = WORD_VALUE("".join(word_pieces), word_start)
                        word_pieces.clear()
                        # As at the end of the loop below: `value` is complete.
                        if top is None:
                            root = value
                            state = END
                            root_done = True
                        else:
                            if isinstance(top, list):
                                top.append(value)
                            else:
                                top[keys[-1]] = value
                            state = AFTER
                        emit(on_done(pointer, value))
                try:
                    while i < n:
                        if state == STRING:
                            m = string_stop(text, i)
                            if m is None:  # the fragment ends inside the string
                                piece = text[i:] if i else text
                                pieces.append(piece)
                                if not in_key and on_chunk is not None:
                                    emit(
                                        on_chunk(
                                            pointer,
                                            piece
                                            if len(pieces) == sent + 1
                                            else "".join(pieces[sent:]),
                                        )
                                    )
                                    sent = len(pieces)
                                break
                            j = m.start()
                            c = text[j]
                            if c == '"':
                                if not pieces:  # the whole string in this fragment, the common case
                                    string = text[i:j]
                                    if j != i and not in_key and on_chunk is not None:
                                        emit(on_chunk(pointer, string))
                                else:
                                    if j != i:
                                        pieces.append(text[i:j])
                                    string = pieces[0] if len(pieces) == 1 else "".join(pieces)
                                    if not in_key and on_chunk is not None and len(pieces) > sent:
                                        emit(
                                            on_chunk(
                                                pointer,
                                                pieces[sent]
                                                if len(pieces) == sent + 1
                                                else "".join(pieces[sent:]),
                                            )
                                        )
                                    pieces.clear()
                                    sent = 0
                                i = j + 1
                                if in_key:
                                    keys[-1] = string
                                    if (
                                        i < n and text[i] == ":"
                                    ):  # `": "`, the common case, in one step
                                        i += 1
                                        state = VALUE
                                        if i < n and text[i] == " ":
                                            i += 1
                                        if i < n and text[i] == '"':  # and a string value begins
                                            if "~" in string or "/" in string:
                                                string = string.replace("~", "~0").replace(
                                                    "/", "~1"
                                                )
                                            pointer = f"{pointers[-1]}/{string}"
                                            state = STRING
                                            in_key = False
                                            i += 1
                                    else:
                                        state = COLON
                                    continue
                                value = string
                            elif c == "\\":
                                if j != i:
                                    pieces.append(text[i:j])
                                # `\n`, `\"` and the like (code has many) without a regex match.
                                simple = SIMPLE_ESCAPES.get(text[j + 1 : j + 2])
                                if simple is not None:
                                    pieces.append(simple)
                                    i = j + 2
                                    continue
                                decoded = decode_escape(text, j, base)
                                if decoded is None:  # the fragment ends inside the escape
                                    carry = text[j:]
                                    resume = True
                                    i = n = j  # the fragment ends before the escape
                                    continue
                                pieces.append(decoded[0])
                                i = decoded[1]
                                continue
                            else:
                                if j != i:  # it goes out before the error
                                    pieces.append(text[i:j])
                                raise JSONSyntaxError("control character in string", base + j)
                        else:
                            c = text[i]
                            if c in WHITESPACE:
                                i += 1
                                if i < n and text[i] in WHITESPACE:
                                    m = NOT_WHITESPACE.search(text, i)
                                    i = n if m is None else m.start()
                                continue
                            if state == AFTER:
                                if c == ",":
                                    i += 1
                                    if (
                                        i < n and text[i] == " "
                                    ):  # `", "`, the common case, in one step
                                        i += 1
                                    if in_list:
                                        state = VALUE
                                    elif i < n and text[i] == '"':
                                        state = STRING
                                        in_key = True
                                        i += 1
                                    else:
                                        state = KEY
                                    continue
                                assert top is not None
                                if c != ("]" if in_list else "}"):
                                    raise JSONSyntaxError(
                                        "expected ',' or the end of the container", base + i
                                    )
                                i += 1
                                value = top
                                stack.pop()
                                keys.pop()
                                pointer = pointers.pop()
                                top = stack[-1] if stack else None
                                in_list = type(top) is list
                            elif state <= VALUE_OR_CLOSE:
                                if c == "]" and state == VALUE_OR_CLOSE:
                                    assert top is not None
                                    i += 1
                                    value = top
                                    stack.pop()
                                    keys.pop()
                                    pointer = pointers.pop()
                                    top = stack[-1] if stack else None
                                    in_list = type(top) is list
                                else:
                                    # A value begins: its pointer, from its container's.
                                    if top is None:
                                        pointer = ""
                                    elif in_list:
                                        pointer = f"{pointers[-1]}/{len(top)}"
                                    else:
                                        key = keys[-1]
                                        if "~" in key or "/" in key:
                                            key = key.replace("~", "~0").replace("/", "~1")
                                        pointer = f"{pointers[-1]}/{key}"
                                    if c == '"':
                                        state = STRING
                                        in_key = False
                                        i += 1
                                        continue
                                    if c == "{" or c == "[":
                                        if len(stack) >= max_depth:
                                            raise JSONSyntaxError(
                                                "nesting deeper than max_depth", base + i
                                            )
                                        top = {} if c == "{" else []
                                        in_list = c == "["
                                        stack.append(top)
                                        keys.append("")
                                        pointers.append(pointer)
                                        state = VALUE_OR_CLOSE if in_list else KEY_OR_CLOSE
                                        i += 1
                                        continue
                                    if c not in WORD_CHARS:
                                        raise JSONSyntaxError("expected a value", base + i)
                                    m = not_word(text, i)
                                    if m is None:  # the word may go on in the next fragment
                                        word_pieces.append(text[i:] if i else text)
                                        word_start = base + i
                                        state = WORD
                                        resume = True
                                        break
                                    j = m.start()
                                    word = text[i:j]
                                    # Plain integers and literals (ids, flags) without a call: words
                                    # are ASCII, so `isdigit` means 0-9; a longer one may hit the
                                    # digit limit of int(), which `_word_value` reports.
                                    if word.isdigit() and (c != "0" or j == i + 1) and j - i < 100:
                                        value = int(word)
                                    else:
                                        value = LITERALS.get(word, MISSING)
                                        if value is MISSING:
                                            value = WORD_VALUE(word, base + i)
                                    i = j
                            elif state <= KEY:
                                if c == '"':
                                    state = STRING
                                    in_key = True
                                    i += 1
                                    continue
                                if c != "}" or state != KEY_OR_CLOSE:
                                    raise JSONSyntaxError("expected a string key", base + i)
                                assert top is not None
                                i += 1
                                value = top
                                stack.pop()
                                keys.pop()
                                pointer = pointers.pop()
                                top = stack[-1] if stack else None
                                in_list = type(top) is list
                            elif state == COLON:
                                if c != ":":
                                    raise JSONSyntaxError("expected ':'", base + i)
                                state = VALUE
                                i += 1
                                continue
                            else:
                                raise JSONSyntaxError("extra data after the value", base + i)
                        # `value`, at `pointer`, is complete: put it in its container.
                        if top is None:
                            root = value
                            state = END
                            root_done = True
                            emit(on_done(pointer, value))
                        else:
                            if in_list:
                                top.append(value)  # type: ignore[union-attr]
                            else:
                                top[keys[-1]] = value  # type: ignore[call-overload]
                            emit(on_done(pointer, value))
                            if i < n and text[i] == ",":  # `", "`, as above, in one step
                                i += 1
                                if i < n and text[i] == " ":
                                    i += 1
                                if in_list:
                                    state = VALUE
                                elif i < n and text[i] == '"':
                                    state = STRING
                                    in_key = True
                                    i += 1
                                else:
                                    state = KEY
                            else:
                                state = AFTER
                    else:  # the fragment ended between tokens, or in a string: what is new
                        if (
                            state == STRING
                            and not in_key
                            and on_chunk is not None
                            and len(pieces) > sent
                        ):
                            emit(on_chunk(pointer, "".join(pieces[sent:])))
                            sent = len(pieces)
                except JSONSyntaxError:
                    # What the fragment held of a string value before the error still goes out.
                    if (
                        state == STRING
                        and not in_key
                        and on_chunk is not None
                        and len(pieces) > sent
                    ):
                        emit(on_chunk(pointer, "".join(pieces[sent:])))
                    raise
                base += n
            # The end of the input.
            if state == WORD:
                value = WORD_VALUE("".join(word_pieces), word_start)
                if top is None:
                    root = value
                    state = END
                    root_done = True
                    emit(on_done(pointer, value))
                else:
                    state = AFTER  # inside a container the end proves nothing: no on_done
            if state == VALUE and top is None:  # nothing but whitespace was fed
                root = {}
            elif state != END:
                reason = "unterminated string" if state == STRING else "unexpected end of input"
                raise JSONSyntaxError(reason, base)
            if route is None:
                return root, root_done
            route.ended(item, root, root_done, fed)
            index = -1
    except Exception as exc:
        if route is None:
            raise
        route.failed(exc, index)
    while True:  # the subscription ended: what still comes is dropped
        yield False
