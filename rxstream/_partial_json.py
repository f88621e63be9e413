"""Incremental JSON parsing for tool inputs streamed as `input_json_delta` fragments.

`PartialJSONParser` does O(n) work over all fragments of one input however it is chunked:
it keeps an explicit stack of open containers, scans each fragment with compiled regexes
(C-level runs over string content, never a per-character Python loop), and carries over
only the token cut at a fragment boundary. Completed values are built once and shared by
every later `partial()` result; only the open containers are copied, iteratively.

A `partial()` call costs the size of the open containers (their shallow copies) plus the
string being read, so calling it after every delta of one huge flat array is quadratic in
that array; `feed()` alone stays linear.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["JSONSyntaxError", "PartialJSONParser"]


class JSONSyntaxError(ValueError):
    """Invalid JSON: `offset` is the character offset in the whole input, `reason` a short text."""

    offset: int
    reason: str

    def __init__(self, reason: str, offset: int) -> None:
        super().__init__(f"{reason} at offset {offset}")
        self.reason = reason
        self.offset = offset

    def __reduce__(self) -> tuple[type[JSONSyntaxError], tuple[str, int]]:
        return (type(self), (self.reason, self.offset))


# Parser states: what the next significant character may be.
_VALUE: Final = 0  # a value (at the start, after ':' and after ',' in an array)
_VALUE_OR_CLOSE: Final = 1  # a value or ']' (after '[')
_KEY_OR_CLOSE: Final = 2  # a key or '}' (after '{')
_KEY: Final = 3  # a key (after ',' in an object)
_COLON: Final = 4
_AFTER: Final = 5  # ',' or the close of the innermost container
_END: Final = 6  # the top-level value is complete: only whitespace may follow
_STRING: Final = 7  # inside a string (a key when `_in_key`)
_WORD: Final = 8  # inside a number or literal

# Each pattern finds where a run ends (None: at the end of the text).
_STRING_STOP: Final = re.compile(r'["\\\x00-\x1f]')
_NOT_WHITESPACE: Final = re.compile(r"[^ \t\n\r]")
# A number or literal is the longest run of these; whatever it holds must then be one valid
# token, since no value may directly follow another.
_WORD_CHARS: Final = frozenset("-+.0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_NOT_WORD: Final = re.compile(r"[^-+.0-9A-Za-z]")
_NUMBER: Final = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?")
# The longest prefix of a word that could still begin a number: its end is the bad character.
_NUMBER_PREFIX: Final = re.compile(
    r"-?(?:(?:0|[1-9][0-9]*)(?:\.(?:[0-9]+(?:[eE][-+]?[0-9]*)?)?|[eE][-+]?[0-9]*)?)?"
)
_LITERALS: Final[dict[str, object]] = {"true": True, "false": False, "null": None}
_ESCAPE: Final = re.compile(r'\\(?:(["\\/bfnrt])|u([0-9a-fA-F]{4}))')
_ESCAPE_PREFIX: Final = re.compile(r"\\(?:u[0-9a-fA-F]{0,3})?\Z")  # an escape cut by the end
_SIMPLE_ESCAPES: Final = {
    '"': '"',
    "\\": "\\",
    "/": "/",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
}
_HEX_DIGITS: Final = frozenset("0123456789abcdefABCDEF")

_MISSING: Final = object()

_Container = list[object] | dict[str, object]


class PartialJSONParser:
    """Parse one JSON text fed in fragments; show the value so far after any fragment.

    `max_depth` bounds the nesting of arrays and objects: deeper input is a syntax error.
    """

    __slots__ = (
        "_cache",
        "_carry",
        "_consumed",
        "_error",
        "_finished",
        "_in_key",
        "_keys",
        "_max_depth",
        "_pieces",
        "_root",
        "_stack",
        "_state",
        "_word_pieces",
        "_word_start",
    )

    def __init__(self, *, max_depth: int = 1000) -> None:
        self._max_depth = max_depth
        self._state: int = _VALUE
        self._stack: list[_Container] = []  # open containers, holding only complete values
        self._keys: list[str] = []  # per open container: the key being parsed ("" in arrays)
        self._pieces: list[str] = []  # the decoded parts of the string being parsed
        self._in_key = False
        self._word_pieces: list[str] = []
        self._word_start = 0
        self._carry = ""  # an escape cut at the end of the last fragment
        self._root: object = None
        self._consumed = 0
        self._error: JSONSyntaxError | None = None
        self._finished = False
        # The last partial() result, or _MISSING after a visible change (None is right at first).
        self._cache: object = None

    @property
    def consumed(self) -> int:
        """The total number of characters fed so far."""
        return self._consumed

    @property
    def error(self) -> JSONSyntaxError | None:
        """The first syntax error met so far, if any (parsing stopped there)."""
        return self._error

    def feed(self, chunk: str) -> None:
        """Consume the next fragment.

        Never raises for syntax errors: the first error is remembered (parsing stops there)
        and raised by `finish()`; `partial()` then shows what was valid before the error.
        Raises `RuntimeError` after `finish()`.
        """
        if self._finished:
            raise RuntimeError("PartialJSONParser.feed() called after finish()")
        if not chunk:
            return
        start = self._consumed
        self._consumed = start + len(chunk)
        if self._error is not None:
            return
        carry = self._carry
        if carry:
            self._carry = ""
            self._scan(carry + chunk, start - len(carry))
        else:
            self._scan(chunk, start)

    def partial(self) -> object:
        """The current partial value (None before anything was parsed).

        Strings may be cut short (an escape shows once complete). Numbers and `true` /
        `false` / `null` show once a delimiter follows them; a key shows once its value has
        begun. Complete sub-values are the same objects in every later result, only the open
        containers are fresh copies, and a result is never mutated afterwards. Without a
        `feed()` in between, the same object is returned again.
        """
        value = self._cache
        if value is not _MISSING:
            return value
        leaf: object = _MISSING
        if self._state == _STRING and not self._in_key:
            leaf = self._string_so_far()
        stack = self._stack
        if stack:
            keys = self._keys
            for depth in range(len(stack) - 1, -1, -1):  # iterative: depth may reach max_depth
                copy = stack[depth].copy()
                if leaf is not _MISSING:
                    if isinstance(copy, list):
                        copy.append(leaf)
                    else:
                        copy[keys[depth]] = leaf
                leaf = copy
            value = leaf
        elif self._state == _END:
            value = self._root
        else:
            value = None if leaf is _MISSING else leaf
        self._cache = value
        return value

    def cut_value(self) -> object:
        """The value of an input that ends here unfinished, as the official SDK reads it
        (jiter's `partial_mode=True`): an unfinished string, key or literal is left out, an
        unfinished number shows if what came of it is a number, open containers close.

        Raises `JSONSyntaxError` for invalid input, and for a top-level value left unfinished
        or absent (nothing of it can be shown).
        """
        if self._error is not None:
            raise self._error
        state = self._state
        if state == _END:
            return self._root
        leaf: object = _MISSING
        if state == _WORD:
            word = "".join(self._word_pieces)
            if _NUMBER.fullmatch(word) or word in _LITERALS:
                leaf = _word_value(word, self._word_start)
        stack = self._stack
        if not stack:
            if leaf is _MISSING:
                raise JSONSyntaxError("unexpected end of input", self._consumed)
            return leaf
        keys = self._keys
        for depth in range(len(stack) - 1, -1, -1):  # iterative: depth may reach max_depth
            copy = stack[depth].copy()
            if leaf is not _MISSING:
                if isinstance(copy, list):
                    copy.append(leaf)
                else:
                    copy[keys[depth]] = leaf
            leaf = copy
        return leaf

    def finish(self) -> object:
        """Strict end: the whole value, with the acceptance of `json.loads` on the full text.

        An input that is empty or all whitespace gives `{}` (an empty tool input). Raises
        `JSONSyntaxError` if the input is invalid or incomplete (NaN and Infinity included).
        """
        if not self._finished:
            self._finished = True
            if self._error is None:
                self._error = self._end_of_input()
        if self._error is not None:
            raise self._error
        return self._root

    def _end_of_input(self) -> JSONSyntaxError | None:
        state = self._state
        if state == _WORD:
            try:
                value = _word_value("".join(self._word_pieces), self._word_start)
            except JSONSyntaxError as exc:
                return exc
            self._word_pieces.clear()
            self._state = state = self._add(value)
            self._cache = _MISSING
        if state == _END:
            return None
        if state == _VALUE and not self._stack:  # nothing but whitespace was fed
            self._root = {}
            self._state = _END
            self._cache = _MISSING
            return None
        reason = "unterminated string" if state == _STRING else "unexpected end of input"
        return JSONSyntaxError(reason, self._consumed)

    def _string_so_far(self) -> str:
        pieces = self._pieces
        if len(pieces) == 1:
            return pieces[0]
        if not pieces:
            return ""
        text = "".join(pieces)
        pieces.clear()
        pieces.append(text)  # the next partial() joins one long piece and the new ones
        return text

    def _add(self, value: object) -> int:
        """Put a complete value in the innermost container; return the next state."""
        stack = self._stack
        if not stack:
            self._root = value
            return _END
        top = stack[-1]
        if isinstance(top, list):
            top.append(value)
        else:
            top[self._keys[-1]] = value
        return _AFTER

    def _scan(self, text: str, base: int) -> None:
        """Advance over `text`, whose first character is at offset `base` of the input."""
        n = len(text)
        i = 0
        state = self._state
        stack = self._stack
        keys = self._keys
        pieces = self._pieces
        word_pieces = self._word_pieces
        in_key = self._in_key
        string_stop = _STRING_STOP.search
        dirty = False  # whether partial() would show something new
        error: JSONSyntaxError | None = None
        while i < n:
            if state == _STRING:
                m = string_stop(text, i)
                j = n if m is None else m.start()
                if j != i:
                    pieces.append(text[i:j])
                    dirty = dirty or not in_key
                if j == n:
                    break
                c = text[j]
                if c == '"':
                    i = j + 1
                    string = pieces[0] if len(pieces) == 1 else "".join(pieces)
                    pieces.clear()
                    if in_key:
                        keys[-1] = string
                        state = _COLON
                    else:
                        state = self._add(string)
                        dirty = True
                elif c == "\\":
                    simple = _SIMPLE_ESCAPES.get(text[j + 1 : j + 2])
                    decoded: tuple[str, int] | None
                    if simple is not None:  # `\n`, `\"` and the like, without a regex match
                        decoded = simple, j + 2
                    else:
                        try:
                            decoded = decode_escape(text, j, base)
                        except JSONSyntaxError as exc:
                            error = exc
                            break
                        if decoded is None:
                            self._carry = text[j:]
                            break
                    pieces.append(decoded[0])
                    i = decoded[1]
                    dirty = dirty or not in_key
                else:
                    error = JSONSyntaxError("control character in string", base + j)
                    break
                continue
            if state == _WORD:
                m = _NOT_WORD.search(text, i)
                j = n if m is None else m.start()
                word_pieces.append(text[i:j])
                if j == n:
                    break
                word = "".join(word_pieces)
                word_pieces.clear()
                try:
                    value = _word_value(word, self._word_start)
                except JSONSyntaxError as exc:
                    error = exc
                    break
                i = j
                state = self._add(value)
                dirty = True
                continue
            c = text[i]
            if c in " \t\n\r":
                m = _NOT_WHITESPACE.search(text, i + 1)
                i = n if m is None else m.start()
            elif state == _AFTER:
                top = stack[-1]
                if c == ",":
                    state = _VALUE if isinstance(top, list) else _KEY
                    i += 1
                elif c == ("]" if isinstance(top, list) else "}"):
                    stack.pop()
                    keys.pop()
                    state = self._add(top)
                    dirty = True
                    i += 1
                else:
                    error = JSONSyntaxError("expected ',' or the end of the container", base + i)
                    break
            elif state <= _VALUE_OR_CLOSE:
                if c == '"':
                    state = _STRING
                    in_key = False
                    dirty = True
                    i += 1
                elif c == "{" or c == "[":
                    if len(stack) >= self._max_depth:
                        error = JSONSyntaxError("nesting deeper than max_depth", base + i)
                        break
                    if c == "{":
                        stack.append({})
                        state = _KEY_OR_CLOSE
                    else:
                        stack.append([])
                        state = _VALUE_OR_CLOSE
                    keys.append("")
                    dirty = True
                    i += 1
                elif c in _WORD_CHARS:
                    m = _NOT_WORD.search(text, i)
                    j = n if m is None else m.start()
                    if j == n:  # the word may go on in the next fragment
                        word_pieces.append(text[i:])
                        self._word_start = base + i
                        state = _WORD
                        break
                    try:
                        value = _word_value(text[i:j], base + i)
                    except JSONSyntaxError as exc:
                        error = exc
                        break
                    i = j
                    state = self._add(value)
                    dirty = True
                elif c == "]" and state == _VALUE_OR_CLOSE:
                    top = stack.pop()
                    keys.pop()
                    state = self._add(top)
                    dirty = True
                    i += 1
                else:
                    error = JSONSyntaxError("expected a value", base + i)
                    break
            elif state <= _KEY:
                if c == '"':
                    state = _STRING
                    in_key = True
                    i += 1
                elif c == "}" and state == _KEY_OR_CLOSE:
                    top = stack.pop()
                    keys.pop()
                    state = self._add(top)
                    dirty = True
                    i += 1
                else:
                    error = JSONSyntaxError("expected a string key", base + i)
                    break
            elif state == _COLON:
                if c != ":":
                    error = JSONSyntaxError("expected ':'", base + i)
                    break
                state = _VALUE
                i += 1
            else:
                error = JSONSyntaxError("extra data after the value", base + i)
                break
        self._state = state
        self._in_key = in_key
        if dirty:
            self._cache = _MISSING
        if error is not None:
            self._error = error


def _word_value(word: str, start: int) -> object:
    """The value of a complete number or literal beginning at offset `start`."""
    value = _LITERALS.get(word, _MISSING)
    if value is not _MISSING:
        return value
    m = _NUMBER.fullmatch(word)
    if m is None:
        if word[0] in "-0123456789":
            prefix = _NUMBER_PREFIX.match(word)
            reason, bad = "invalid number", 0 if prefix is None else prefix.end()
        else:
            reason, bad = "invalid literal", _literal_error(word)
        raise JSONSyntaxError("expected a value" if bad == 0 else reason, start + bad)
    if m.lastindex is None:  # an integer, like json.loads: int() and its digit limit
        try:
            return int(word)
        except ValueError:
            raise JSONSyntaxError("integer too long", start) from None
    return float(word)  # like json.loads: 1e400 is inf


def _literal_error(word: str) -> int:
    """The index of the first character of `word` that cannot continue a literal."""
    for literal in _LITERALS:
        if literal[0] == word[0]:
            i = 1
            while i < len(word) and i < len(literal) and word[i] == literal[i]:
                i += 1
            return i
    return 0


def decode_escape(text: str, j: int, base: int) -> tuple[str, int] | None:
    """The escape at `text[j]` (a backslash): its text and the index after it, an escaped
    surrogate pair as one character. None when `text` ends inside it, or right after a high
    surrogate that a low one may follow: the caller keeps `text[j:]` for the next fragment.
    Raises `JSONSyntaxError` at the bad character (its offset: `base` + its index)."""
    m = _ESCAPE.match(text, j)
    if m is None:
        if _ESCAPE_PREFIX.match(text, j) is not None:
            return None
        raise JSONSyntaxError("invalid escape", base + _escape_error(text, j))
    simple = m.group(1)
    if simple is not None:
        return _SIMPLE_ESCAPES[simple], j + 2
    code = int(m.group(2), 16)
    i = j + 6
    if 0xD800 <= code <= 0xDBFF:  # a high surrogate: pair it if it can be
        low = _ESCAPE.match(text, i)
        if low is not None and low.group(2) is not None:
            low_code = int(low.group(2), 16)
            if 0xDC00 <= low_code <= 0xDFFF:
                code = 0x10000 + ((code - 0xD800) << 10) + low_code - 0xDC00
                i += 6
        elif low is None and (i == len(text) or _ESCAPE_PREFIX.match(text, i)):
            return None
    return chr(code), i


def _escape_error(text: str, j: int) -> int:
    """The index of the bad character of the invalid escape at `text[j]`."""
    if text[j + 1] != "u":
        return j + 1
    k = j + 2
    while text[k] in _HEX_DIGITS:
        k += 1
    return k
