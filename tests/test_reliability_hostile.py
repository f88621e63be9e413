"""Hostile input: whatever bytes arrive, a stream ends with a message or an `rxstream.APIError`
(never a hang, a raw exception or unbounded memory), and the partial message survives.

`test_sse_properties.py` and `test_partial_json.py` hold the decoders' own properties; here the
whole pipeline is attacked (SSE decoding, event decoding, accumulation, tool-input JSON), over
sockets where it matters: giant events, unterminated events, deep nesting, invalid UTF-8, NUL
bytes, HTML or JSON where an event stream was expected, bytes that never complete an event.
"""

from __future__ import annotations

import contextlib
import json
import time
import tracemalloc
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from loopback import LoopbackServer, Reply, loopback
from streams import Stream, Text, ToolUse, chunk_sizes, chunked, frame, sse, stream_strategy

from rxstream import (
    APIError,
    APITimeoutError,
    AsyncClient,
    Client,
    IncompleteStreamError,
    Message,
    StreamDecodeError,
    TextBlock,
    ToolUseBlock,
    from_sse,
)
from rxstream import operators as rxo
from rxstream._partial_json import JSONSyntaxError, PartialJSONParser
from rxstream._sse import DEFAULT_MAX_EVENT_SIZE
from rxstream.sse import SSEDecoder, iter_events
from rxstream.types import UnknownEvent

KEY = "sk-ant-reliability-hostile"
PARAMS: dict[str, Any] = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 64,
    "messages": [{"role": "user", "content": "Hello"}],
}
# A hang or a quadratic blow-up fails an example (each takes milliseconds; 5 s is the limit).
QUICK = settings(max_examples=100, deadline=5000, suppress_health_check=[HealthCheck.too_slow])


REPLY = "x-canned-reply"
CANNED: dict[str, Reply] = {}
"""The replies of the `canned` server, by the name a request gives in its `x-canned-reply`."""


@pytest.fixture(scope="module")
def canned() -> Iterator[LoopbackServer]:
    """One loopback server for the module (each one takes half a second to stop)."""
    with loopback(lambda seen: CANNED[seen.headers[REPLY]]) as server:
        yield server


class Ended:
    """How an Observable ended: its items, then completed or the error."""

    def __init__(self) -> None:
        self.items: list[Any] = []
        self.error: Exception | None = None
        self.completed = False

    def on_error(self, error: Exception) -> None:
        self.error = error

    def on_completed(self) -> None:
        self.completed = True


def run_sse(chunks: list[bytes], *, max_event_size: int = DEFAULT_MAX_EVENT_SIZE) -> Ended:
    """Read `chunks` through `from_sse` (SSE decoding, typed events, accumulation)."""
    ended = Ended()
    from_sse(chunks, max_event_size=max_event_size).subscribe(
        ended.items.append, ended.on_error, lambda: setattr(ended, "completed", True)
    )
    assert ended.completed != (ended.error is not None), "exactly one terminal event"
    return ended


def final_of(chunks: list[bytes]) -> tuple[Message | None, Exception | None]:
    """The final message `from_sse(...).pipe(final_message())` gives, or its error."""
    ended = Ended()
    from_sse(chunks).pipe(rxo.final_message()).subscribe(
        ended.items.append, ended.on_error, lambda: setattr(ended, "completed", True)
    )
    return (ended.items[0] if ended.items else None), ended.error


# --- properties over the whole pipeline -------------------------------------------------


@st.composite
def damaged(draw: st.DrawFn) -> bytes:
    """A realistic stream, then damaged: bytes replaced (invalid UTF-8, NUL, CR, LF, quotes,
    braces), inserted, deleted, or the stream cut short."""
    data = bytearray(draw(stream_strategy(max_blocks=3)).sse())
    nasty = st.sampled_from([0x00, 0xFF, 0xC3, 0x80, 0x0D, 0x0A, 0x22, 0x7B, 0x7D, 0x3A, 0x5C])
    for _ in range(draw(st.integers(1, 6))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        action = draw(st.sampled_from(["replace", "insert", "delete", "cut"]))
        if action == "replace":
            data[at] = draw(nasty)
        elif action == "insert":
            data[at:at] = bytes(draw(st.lists(nasty, min_size=1, max_size=4)))
        elif action == "delete":
            del data[at : at + draw(st.integers(1, 8))]
        else:
            del data[at:]
    return bytes(data)


@settings(QUICK, max_examples=60)
@given(damaged(), chunk_sizes())
def test_damaged_streams_end_in_a_message_or_an_api_error_with_the_partial_message(
    data: bytes, sizes: list[int]
) -> None:
    ended = run_sse(chunked(data, sizes))

    if ended.error is not None:
        assert isinstance(ended.error, APIError), repr(ended.error)
        started = any(getattr(e, "type", None) == "message_start" for e in ended.items)
        assert (ended.error.partial_message is not None) == started


@QUICK
@given(st.binary(max_size=400), chunk_sizes())
def test_random_bytes_through_the_operators_end_in_an_api_error(
    data: bytes, sizes: list[int]
) -> None:
    for operator in (rxo.final_message(), rxo.tool_inputs(), rxo.snapshots(), rxo.text_deltas()):
        ended = Ended()
        from_sse(chunked(data, sizes)).pipe(operator).subscribe(
            ended.items.append, ended.on_error, ended.on_completed
        )
        assert ended.completed or isinstance(ended.error, APIError), repr(ended.error)


@QUICK
@given(st.lists(st.text(max_size=12), max_size=12), st.booleans())
def test_any_tool_input_fragments_give_the_json_value_or_a_stream_decode_error(
    fragments: list[str], valid_start: bool
) -> None:
    text = "".join(["{", *fragments] if valid_start else fragments)
    block = ToolUse({}, json_text=text, fragment=max(1, len(text) // 3 or 1))
    message, error = final_of(chunked(Stream([block]).sse(), 17))

    invalid = object()  # not None: "null" is valid JSON
    expected: object
    try:
        # Empty means JSON whitespace only: str.strip() would also take "\x0c", which JSON
        # does not allow (hypothesis found it).
        expected = json.loads(text) if text.strip(" \t\n\r") else {}
    except ValueError:
        expected = invalid
    if expected is invalid:
        assert isinstance(error, StreamDecodeError), repr(error)  # never a JSONSyntaxError
        assert error.partial_message is not None
    elif isinstance(expected, dict):
        assert error is None
        assert message is not None
        assert message.content[0] == ToolUseBlock(block.id, block.name, expected)
    else:  # valid JSON, but a tool input must be an object
        assert error is None or isinstance(error, StreamDecodeError)


@QUICK
@given(st.lists(st.text(max_size=10), max_size=10))
def test_the_partial_json_parser_raises_only_json_syntax_error_and_only_from_finish(
    fragments: list[str],
) -> None:
    parser = PartialJSONParser()
    for fragment in fragments:
        parser.feed(fragment)  # never raises for bad input
        parser.partial()
    with contextlib.suppress(JSONSyntaxError):
        parser.finish()


# --- memory bounded by the maximum event size -------------------------------------------


def endless_event(chunk_size: int) -> Iterator[bytes]:
    """An event that never ends: `data: xxxx...` with no line end, forever."""
    yield b"event: content_block_delta\ndata: "
    filler = b"x" * chunk_size
    while True:
        yield filler


def test_an_unterminated_event_raises_once_it_passes_the_maximum_size_not_later() -> None:
    limit, chunk = 64 * 1024, 4096
    decoder = SSEDecoder(max_event_size=limit)
    fed = 0

    def feed_forever() -> None:
        nonlocal fed
        for piece in endless_event(chunk):
            fed += len(piece)
            decoder.feed(piece)

    with pytest.raises(StreamDecodeError, match="exceeds the maximum event size"):
        feed_forever()
    assert fed <= limit + chunk
    with pytest.raises(StreamDecodeError):  # it stays failed and keeps nothing
        decoder.feed(b"\n\n")


def test_reading_stops_at_the_maximum_event_size_and_memory_stays_within_it() -> None:
    limit, chunk = 1024 * 1024, 64 * 1024
    pulled = 0

    def endless() -> Iterator[bytes]:
        nonlocal pulled
        for piece in endless_event(chunk):
            pulled += len(piece)
            yield piece

    tracemalloc.start()
    try:
        ended = Ended()
        from_sse(endless, max_event_size=limit).subscribe(ended.items.append, ended.on_error)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert isinstance(ended.error, StreamDecodeError)
    assert pulled <= limit + 2 * chunk  # the source was not read on past the limit
    assert peak < 3 * limit  # at most about one event is held


# --- giant events over a socket ---------------------------------------------------------


def text_stream_with_delta(text: str) -> bytes:
    return Stream([Text(text, chunk=len(text) or 1)]).sse()


def delta_frame_size(text: str) -> int:
    delta: dict[str, Any] = {
        "type": "content_block_delta",
        "index": 0,
        "delta": {"type": "text_delta"},
    }
    delta["delta"]["text"] = text
    return len(frame(delta)) - 2  # the event, without its closing blank line


def test_a_text_delta_of_the_maximum_event_size_decodes_over_a_socket(
    canned: LoopbackServer,
) -> None:
    overhead = delta_frame_size("")
    text = "abcdefghij" * ((DEFAULT_MAX_EVENT_SIZE - overhead) // 10)
    text += "z" * (DEFAULT_MAX_EVENT_SIZE - overhead - len(text))
    assert delta_frame_size(text) == DEFAULT_MAX_EVENT_SIZE
    body = text_stream_with_delta(text)
    CANNED["giant"] = Reply(chunks=chunked(body, 64 * 1024))

    started = time.monotonic()
    with (
        Client(base_url=canned.url, api_key=KEY, default_headers={REPLY: "giant"}) as client,
        client.messages.stream(**PARAMS) as stream,
    ):
        message = stream.get_final_message()
    assert message.content == (TextBlock(text),)
    assert time.monotonic() - started < 10


def test_one_byte_past_the_maximum_event_size_is_a_stream_decode_error_with_the_partial(
    canned: LoopbackServer,
) -> None:
    text = "y" * (DEFAULT_MAX_EVENT_SIZE - delta_frame_size("") + 1)
    CANNED["too big"] = Reply(chunks=chunked(text_stream_with_delta(text), 256 * 1024))

    error = read_sync(canned.url, "stream", "too big")
    assert isinstance(error, StreamDecodeError)
    assert "exceeds the maximum event size" in str(error)
    assert error.partial_message is not None
    assert error.partial_message.content == (TextBlock(""),)


# --- deep nesting ------------------------------------------------------------------------


def test_a_tool_input_nested_100k_levels_deep_is_a_stream_decode_error_not_a_recursion_error() -> (
    None
):
    depth = 100_000
    block = ToolUse({}, json_text="[" * depth + "]" * depth, fragment=4096)
    ended = run_sse(chunked(Stream([block]).sse(), 65536))

    assert isinstance(ended.error, StreamDecodeError)
    assert "max_depth" in str(ended.error) or "nesting" in str(ended.error)
    assert ended.error.partial_message is not None
    stops = [e for e in ended.items if getattr(e, "type", None) == "content_block_stop"]
    assert stops == []  # it failed at content_block_stop, the strict check


def test_a_tool_input_nested_just_under_the_depth_limit_assembles_without_recursion() -> None:
    depth = 999  # `{` counts too: 1,000 levels, the parser's max_depth
    text = '{"a":' + "[" * depth + "]" * depth + "}"
    block = ToolUse({}, json_text=text, fragment=64)
    inputs = Ended()
    from_sse(chunked(Stream([block]).sse(), 512)).pipe(rxo.tool_inputs()).subscribe(
        inputs.items.append, inputs.on_error
    )

    assert inputs.error is None
    value, levels = inputs.items[-1].input["a"], 0
    while value:  # walked, not compared: `==` on 1,000 nested lists would recurse too deep
        value, levels = value[0], levels + 1
    assert (value, levels) == ([], depth - 1)


@pytest.mark.parametrize(
    "where",
    ["content_block_start input", "message_start metadata", "an unknown event"],
)
def test_deeply_nested_json_in_event_data_never_raises_recursion_error(where: str) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    start = {"type": "message_start", "message": Stream().skeleton()}
    if where == "content_block_start input":
        events = [
            frame(start),
            b'event: content_block_start\ndata: {"type":"content_block_start","index":0,'
            b'"content_block":{"type":"tool_use","id":"t","name":"n","input":'
            + deep.encode()
            + b"}}\n\n",
        ]
    elif where == "message_start metadata":
        events = [
            b'event: message_start\ndata: {"type":"message_start","message":'
            + json.dumps(start["message"])[:-1].encode()
            + b',"container":'
            + deep.encode()
            + b"}}\n\n"
        ]
    else:
        events = [frame(start), b"event: surprise\ndata: " + deep.encode() + b"\n\n"]
    ended = run_sse(events)

    if where == "an unknown event":
        assert isinstance(ended.items[-1], UnknownEvent)  # kept raw, never parsed deeper
        assert isinstance(ended.error, IncompleteStreamError)
    else:
        assert isinstance(ended.error, StreamDecodeError), repr(ended.error)


# --- invalid UTF-8 and NUL bytes ---------------------------------------------------------

START = frame({"type": "message_start", "message": Stream().skeleton()})
BLOCK = frame(
    {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}
)
REST = sse(Stream([Text("")]).events()[3:])  # content_block_stop, message_delta, message_stop


def text_delta_bytes(text: bytes) -> bytes:
    return (
        b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,'
        b'"delta":{"type":"text_delta","text":"' + text + b'"}}\n\n'
    )


@pytest.mark.parametrize(
    ("name", "data", "error", "text"),
    [
        ("invalid UTF-8 in a text delta", text_delta_bytes(b"ok\xff\xfe"), StreamDecodeError, ""),
        ("a truncated UTF-8 sequence", text_delta_bytes(b"caf\xc3"), StreamDecodeError, ""),
        ("an overlong UTF-8 encoding", text_delta_bytes(b"\xc0\xaf"), StreamDecodeError, ""),
        ("a raw NUL byte inside a JSON string", text_delta_bytes(b"a\x00b"), StreamDecodeError, ""),
        ("an escaped NUL in a JSON string", text_delta_bytes(b"a\\u0000b"), None, "a\x00b"),
        ("a NUL in an id field (ignored)", b"id: a\x00b\n" + text_delta_bytes(b"x"), None, "x"),
        ("a NUL in a comment (ignored)", b": \x00\xff\n" + text_delta_bytes(b"x"), None, "x"),
        ("invalid UTF-8 in an unknown event", b"event: odd\ndata: \xff\xfe\n\n", None, ""),
        ("a NUL in an event name", b"event: a\x00b\ndata: \x00\n\n", None, ""),
    ],
)
def test_invalid_utf8_and_nul_bytes_give_a_stream_decode_error_or_are_ignored(
    name: str, data: bytes, error: type[APIError] | None, text: str
) -> None:
    message, failure = final_of([START, BLOCK, data, REST])

    if error is None:
        assert failure is None, repr(failure)
        assert message is not None
        assert message.content == (TextBlock(text),)
    else:
        assert type(failure) is error, repr(failure)
        assert failure.partial_message is not None
        assert failure.partial_message.content == (TextBlock(""),)


def test_every_chunking_of_invalid_utf8_gives_the_same_outcome() -> None:
    data = START + BLOCK + text_delta_bytes(b"\xe6\x95\xb0\xff") + REST
    outcomes = set()
    for size in (1, 2, 3, 7, 64, len(data)):
        try:
            list(iter_events(chunked(data, size)))
        except StreamDecodeError as exc:
            outcomes.add(type(exc))
    assert outcomes == {StreamDecodeError}


# --- not an event stream ------------------------------------------------------------------

NOT_SSE = {
    "an HTML page": ("text/html; charset=utf-8", b"<!doctype html><html><h1>502 Bad Gateway</h1>"),
    "a JSON body": ("application/json", b'{"type":"message","id":"msg_1"}'),
    "plain text": ("text/plain", b"upstream connect error or disconnect/reset before headers"),
}


def read_sync(url: str, interface: str, reply: str, **options: Any) -> Exception | None:
    """Read the canned `reply` through the sync client's `interface`; the error it ends with."""
    settings: dict[str, Any] = {"max_retries": 0, "default_headers": {REPLY: reply}}
    with Client(base_url=url, api_key=KEY, **{**settings, **options}) as client:
        try:
            if interface == "stream":
                with client.messages.stream(**PARAMS) as stream:
                    stream.until_done()
            elif interface == "create":
                with client.messages.create(stream=True, **PARAMS) as raw:
                    list(raw)
            else:
                ended = Ended()
                client.messages.observe(**PARAMS).subscribe(ended.items.append, ended.on_error)
                return ended.error
        except Exception as exc:
            return exc
    return None


async def read_async(url: str, interface: str, reply: str, **options: Any) -> Exception | None:
    """The async twin of `read_sync` (interfaces "stream" and "create")."""
    settings: dict[str, Any] = {"max_retries": 0, "default_headers": {REPLY: reply}}
    async with AsyncClient(base_url=url, api_key=KEY, **{**settings, **options}) as client:
        try:
            if interface == "stream":
                async with client.messages.stream(**PARAMS) as stream:
                    await stream.until_done()
            else:
                async with await client.messages.create(stream=True, **PARAMS) as raw:
                    async for _ in raw:
                        pass
        except Exception as exc:
            return exc
    return None


def read(way: str, url: str, reply: str, **options: Any) -> Exception | None:
    """`read_sync` or `read_async` under the loop `way` names ("sync-stream", "trio-create")."""
    loop, _, interface = way.partition("-")
    if loop == "sync":
        return read_sync(url, interface, reply, **options)
    return anyio.run(lambda: read_async(url, interface, reply, **options), backend=loop)


@pytest.mark.parametrize(
    "way",
    ["sync-stream", "sync-create", "sync-observe", "asyncio-stream", "trio-stream", "trio-create"],
)
@pytest.mark.parametrize("body", NOT_SSE)
def test_a_200_that_is_not_an_event_stream_raises_a_stream_decode_error_naming_it(
    body: str, way: str, canned: LoopbackServer
) -> None:
    content_type, content = NOT_SSE[body]
    CANNED[body] = Reply(chunks=[content], headers={"content-type": content_type})
    seen = len(canned.seen)

    error = read(way, canned.url, body, stream_retries=2)
    assert isinstance(error, StreamDecodeError), repr(error)
    assert "200" in str(error)
    assert content_type in str(error)
    assert content[:20].decode() in str(error)  # the start of the body, to see what it was
    assert len(canned.seen) == seen + 1  # not retried: it would get the same page again


def test_an_event_stream_content_type_over_html_ends_before_message_start(
    canned: LoopbackServer,
) -> None:
    CANNED["html as sse"] = Reply(chunks=[NOT_SSE["an HTML page"][1]])

    error = read_sync(canned.url, "stream", "html as sse")
    assert isinstance(error, IncompleteStreamError)
    assert "before message_start" in str(error)
    assert error.partial_message is None


# --- bytes that never complete an event ---------------------------------------------------


@pytest.mark.parametrize("way", ["sync-stream", "asyncio-stream", "trio-stream"])
def test_comments_forever_do_not_keep_a_stream_alive_past_the_idle_timeout(
    way: str, canned: LoopbackServer
) -> None:
    CANNED["comments"] = Reply(chunks=[START] + [b": still here\n\n"] * 100, delay=0.05)

    started = time.monotonic()
    error = read(way, canned.url, "comments", idle_timeout=0.3)
    assert isinstance(error, APITimeoutError), repr(error)
    assert error.partial_message is not None  # message_start had come
    assert time.monotonic() - started < 3  # the server would have gone on for 5 s
