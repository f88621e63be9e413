"""Properties of the decoder over generated input: chunking never changes what comes out, and
no input, however broken, hangs it or makes it raise anything but rxstream's own errors."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rxstream import APIError, TextDelta
from rxstream.sse import SSEDecoder, iter_events, iter_sse

MODEST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- generated event streams -----------------------------------------------------------

# Text that exercises the decoder: multi-byte UTF-8 (2, 3 and 4 bytes), colons, spaces, NUL.
TEXT = st.text(
    alphabet=st.sampled_from([*'ab :{}"\\\x00\t', "é", "ß", "数", "据", "🎉", "\ufeff"]),
    max_size=12,
)
FIELD_NAMES = st.sampled_from(["data"] * 4 + ["event", "id", "retry", "", "foo", "Data", "data "])
LINE_ENDS = st.sampled_from([b"\n", b"\r", b"\r\n"])


@st.composite
def lines(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["field"] * 3 + ["no_colon", "no_space"] + ["blank"] * 2))
    name = draw(FIELD_NAMES).encode()
    value = draw(TEXT).encode()
    if kind == "blank":
        return b""
    if kind == "no_colon":
        return name
    if kind == "no_space":
        return name + b":" + value
    if name == b"retry" and draw(st.booleans()):
        value = str(draw(st.integers(0, 10**6))).encode()
    return name + b": " + value


@st.composite
def event_streams(draw: st.DrawFn) -> bytes:
    """A stream of lines with mixed line ends, maybe a BOM, maybe an unterminated tail."""
    out = bytearray(b"\xef\xbb\xbf" if draw(st.booleans()) else b"")
    for line in draw(st.lists(lines(), max_size=25)):
        out += line + draw(LINE_ENDS)
    if draw(st.booleans()):
        out += draw(lines())  # an unterminated tail
    return bytes(out)


def interesting_cuts(data: bytes) -> list[int]:
    """Positions inside a CRLF, the BOM or a multi-byte UTF-8 character."""
    cuts = [1, 2] if data.startswith(b"\xef\xbb\xbf") else []
    cuts += [i + 1 for i in range(len(data) - 1) if data[i : i + 2] == b"\r\n"]
    cuts += [i for i in range(1, len(data)) if 0x80 <= data[i] < 0xC0]  # continuation bytes
    return cuts


@st.composite
def chunkings(draw: st.DrawFn, data: bytes) -> list[bytes]:
    """`data` cut at random points, many of them where cutting is hardest."""
    if not data:
        return [b"", b""]
    cuts = set(draw(st.lists(st.integers(0, len(data)), max_size=12)))
    interesting = interesting_cuts(data)
    if interesting:
        cuts |= set(draw(st.lists(st.sampled_from(interesting), max_size=12)))
    bounds = [0, *sorted(cuts), len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]  # a cut at 0 or the end: b""


def raw_events(chunks: list[bytes], max_event_size: int = 1 << 24) -> Any:
    """What the decoder makes of `chunks`: every raw event and the end report, or the error."""
    decoder = SSEDecoder(max_event_size=max_event_size)
    out: list[Any] = []
    try:
        for chunk in chunks:
            out.extend(decoder.feed(chunk))
        tail, leftover = decoder.end()
    except APIError as exc:
        return out, type(exc), str(exc)
    return [*out, *tail], leftover, decoder.last_event_id, decoder.retry


@MODEST
@given(st.data())
def test_every_chunking_yields_the_same_events(data: st.DataObject) -> None:
    stream = data.draw(event_streams())
    chunks = data.draw(chunkings(stream))
    assert list(iter_sse(chunks)) == list(iter_sse([stream]))
    assert raw_events(chunks) == raw_events([stream])


@MODEST
@given(st.data())
def test_every_chunking_hits_the_max_event_size_at_the_same_event(data: st.DataObject) -> None:
    stream = data.draw(event_streams())
    chunks = data.draw(chunkings(stream))
    limit = data.draw(st.integers(0, 30))
    assert raw_events(chunks, limit) == raw_events([stream], limit)


@MODEST
@given(st.data())
def test_every_chunking_yields_the_same_typed_events(data: st.DataObject) -> None:
    texts = data.draw(st.lists(st.text(max_size=20), max_size=15))
    stream = api_stream(texts, line_end=data.draw(LINE_ENDS), bom=data.draw(st.booleans()))
    chunks = data.draw(chunkings(stream))
    events = list(iter_events(chunks))
    assert events == list(iter_events([stream]))
    assert raw_events(chunks) == raw_events([stream])  # ordinals and offsets too
    assert "".join(text_of(e.delta) for e in events if e.type == "content_block_delta") == "".join(
        texts
    )


def text_of(delta: object) -> str:
    """The text of a delta that must be a `text_delta`."""
    assert isinstance(delta, TextDelta)
    return delta.text


def api_stream(texts: list[str], *, line_end: bytes = b"\n", bom: bool = False) -> bytes:
    """A text reply in the shape of the real API's stream, one delta per text."""
    payloads: list[dict[str, Any]] = [
        {
            "type": "message_start",
            "message": {
                "id": "msg_01",
                "type": "message",
                "role": "assistant",
                "content": [],
                "model": "claude-sonnet-4-5",
                "stop_reason": None,
                "stop_sequence": None,
                "usage": {"input_tokens": 10, "output_tokens": 1},
            },
        },
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        {"type": "ping"},
        *[
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": t}}
            for t in texts
        ],
        {"type": "content_block_stop", "index": 0},
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn", "stop_sequence": None},
            "usage": {"output_tokens": len(texts)},
        },
        {"type": "message_stop"},
    ]
    out = bytearray(b"\xef\xbb\xbf" if bom else b"")
    for payload in payloads:
        data = json.dumps(payload, ensure_ascii=False).encode()
        out += b"event: " + payload["type"].encode() + line_end + b"data: " + data + line_end
        out += line_end
    return bytes(out)


# --- broken input ----------------------------------------------------------------------

VALID = api_stream(["Hello", ", wörld", " 🎉", "数据"], line_end=b"\n")
NASTY = [b"\r", b"\n", b"\r\n", b"\n\n", b":", b"\x00", b"\xff", b"\xc3", b"\xe6\x95", b"{", b'"']
NASTY += [b"\xef\xbb\xbf", b"data: ", b"event: ", b"event: zzz\n", b"[", b"1e999", b"\\u"]


@st.composite
def mutated_streams(draw: st.DrawFn) -> bytes:
    """A valid stream with bits flipped, bytes inserted or deleted, maybe truncated."""
    data = bytearray(draw(st.sampled_from([VALID, api_stream([""]), api_stream(["a"] * 3)])))
    for _ in range(draw(st.integers(1, 8))):
        at = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["flip", "insert", "insert", "delete", "truncate"]))
        if action == "flip" and at < len(data):
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif action == "insert":
            data[at:at] = draw(st.sampled_from(NASTY) | st.binary(max_size=4))
        elif action == "delete":
            del data[at : at + draw(st.integers(1, 8))]
        elif action == "truncate":
            del data[at:]
    return bytes(data)


def outcome(decode: Callable[[list[bytes]], Iterator[Any]], chunks: list[bytes]) -> Any:
    """The values `decode` yields, and the rxstream error it ends with, if any.

    Any other exception escapes and fails the test.
    """
    out: list[Any] = []
    try:
        out.extend(decode(chunks))
    except APIError as exc:
        return out, type(exc), str(exc)
    return out


def small_events(chunks: list[bytes]) -> Iterator[Any]:
    return iter_events(chunks, max_event_size=64)


@MODEST
@given(st.binary(max_size=300), st.data())
def test_random_bytes_raise_nothing_but_api_errors(stream: bytes, data: st.DataObject) -> None:
    chunks = data.draw(chunkings(stream))
    for decode in (iter_sse, iter_events, small_events):
        assert outcome(decode, chunks) == outcome(decode, [stream])


@MODEST
@given(mutated_streams(), st.data())
def test_mutated_streams_raise_nothing_but_api_errors(stream: bytes, data: st.DataObject) -> None:
    chunks = data.draw(chunkings(stream))
    for decode in (iter_sse, iter_events, small_events):
        assert outcome(decode, chunks) == outcome(decode, [stream])
