"""tool_fields(), tool_field(), rxstream.tool() and typed_tool_inputs(): field events at the
moment the JSON proves each value complete, whatever the chunking; typed inputs and errors."""

from __future__ import annotations

import datetime
import decimal
import enum
import json
import threading
import uuid
from collections.abc import Iterator
from typing import Annotated, Any, Literal

import anyio
import msgspec
import pytest
import reactivex
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reactivex import operators as ops
from reactivex.scheduler import NewThreadScheduler
from streams import Stream, Text, ToolUse, chunked, json_values, server_tool_use, sse

import rxstream
from rxstream import IncompleteStreamError, StreamDecodeError
from rxstream import operators as rxo
from rxstream._field_parser import FieldParser, escape_pointer_segment
from rxstream.emulator import Emulator, serve
from rxstream.operators import FieldDone, StringChunk, ToolInput, ToolInputError

MODEST = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def run(stream: Stream | bytes, operator: Any) -> tuple[list[Any], BaseException | None]:
    items: list[Any] = []
    errors: list[BaseException] = []
    data = stream if isinstance(stream, bytes) else stream.sse()
    rxstream.from_sse([data]).pipe(operator).subscribe(items.append, errors.append)
    return items, errors[0] if errors else None


def short(item: Any) -> tuple[Any, ...]:
    if isinstance(item, FieldDone):
        return ("done", item.index, item.pointer, item.value)
    if isinstance(item, StringChunk):
        return ("chunk", item.index, item.pointer, item.text)
    assert isinstance(item, ToolInput)
    return ("input", item.index, item.input)


# --- tool_fields(): exact sequences ------------------------------------------------------

URLS_JSON = (
    '{"urls": ["http://a/1", "http://b/2"], "n": 12, "t": "a\\u00e9\\ud83d\\ude00", "o": {}}'
)
URLS_INPUT = json.loads(URLS_JSON)


def test_tool_fields_emits_chunks_then_each_value_as_it_closes_then_the_tool_input() -> None:
    stream = Stream(
        [Text("Let me fetch."), ToolUse({}, name="fetch", json_text=URLS_JSON, fragment=5)]
    )
    items, error = run(stream, rxo.tool_fields())
    assert error is None
    assert [short(i) for i in items] == [
        ("chunk", 1, "/urls/0", "http"),
        ("chunk", 1, "/urls/0", "://a/"),
        ("chunk", 1, "/urls/0", "1"),
        ("done", 1, "/urls/0", "http://a/1"),
        ("chunk", 1, "/urls/1", "http:"),
        ("chunk", 1, "/urls/1", "//b/2"),
        ("done", 1, "/urls/1", "http://b/2"),
        ("done", 1, "/urls", ["http://a/1", "http://b/2"]),
        ("done", 1, "/n", 12),
        ("chunk", 1, "/t", "a"),
        ("chunk", 1, "/t", "é"),
        ("chunk", 1, "/t", "😀"),  # the escaped pair, cut across fragments, is one piece
        ("done", 1, "/t", "aé😀"),
        ("done", 1, "/o", {}),
        ("done", 1, "", URLS_INPUT),
        ("input", 1, URLS_INPUT),
    ]
    first = items[0]
    assert (first.tool_id, first.tool_name) == ("toolu_01A09q90qw90lq917835lq9", "fetch")


def test_a_number_is_done_only_at_the_character_after_it() -> None:
    done_at: list[str] = []
    parser = FieldParser(
        lambda pointer, value: done_at.append(f"{pointer}={value}@{parser.consumed}")
    )
    for c in '{"n": 12, "m": [1]}':
        parser.feed(c)
    assert done_at == ["/n=12@9", "/m/0=1@18", "/m=[1]@18", "={'n': 12, 'm': [1]}@19"]
    stream = Stream([ToolUse({}, json_text='{"n": 12, "m": [1', fragment=1)])
    items, error = run(stream, rxo.tool_fields())
    assert isinstance(error, StreamDecodeError)  # the first block never closes its JSON
    assert [short(i) for i in items] == [("done", 0, "/n", 12)]


def test_a_top_level_number_is_done_at_block_stop() -> None:
    items, error = run(Stream([ToolUse(7, json_text="7")]), rxo.tool_fields())
    assert error is None
    assert [short(i) for i in items] == [("done", 0, "", 7), ("input", 0, 7)]


@pytest.mark.parametrize("text", ["", "   ", None])
def test_an_empty_input_is_done_as_an_empty_object(text: str | None) -> None:
    block = ToolUse({}, json_text=text, empty_first=text is not None) if text is not None else None
    stream = Stream([block or ToolUse({}, json_text="", empty_first=False)])
    items, error = run(stream, rxo.tool_fields())
    assert error is None
    assert [short(i) for i in items] == [("done", 0, "", {}), ("input", 0, {})]


def test_server_tool_use_blocks_and_several_blocks_are_told_apart_by_index() -> None:
    stream = Stream([server_tool_use("rx"), ToolUse({"k": [True, None]}, fragment=3)])
    items, error = run(stream, rxo.tool_fields())
    assert error is None
    assert [short(i) for i in items if not isinstance(i, StringChunk)] == [
        ("done", 0, "/query", "rx"),
        ("done", 0, "", {"query": "rx"}),
        ("input", 0, {"query": "rx"}),
        ("done", 1, "/k/0", True),
        ("done", 1, "/k/1", None),
        ("done", 1, "/k", [True, None]),
        ("done", 1, "", {"k": [True, None]}),
        ("input", 1, {"k": [True, None]}),
    ]


def interleaved(first: str, second: str, size: int = 3) -> bytes:
    """Two tool blocks open at once, their fragments alternating (the API sends one block
    after another, but a stream that does not must still be parsed right)."""
    stream = Stream([ToolUse({}, name="a"), ToolUse({}, name="b")])
    events = stream.events()
    head = [e for e in events if e["type"] in ("message_start", "ping")][:2]
    starts = [e for e in events if e["type"] == "content_block_start"]
    tail = [e for e in events if e["type"] in ("message_delta", "message_stop")]
    parts = [[t[k : k + size] for k in range(0, len(t), size)] for t in (first, second)]
    deltas = []
    for k in range(max(map(len, parts))):
        for index, fragments in enumerate(parts):
            if k < len(fragments):
                delta = {"type": "input_json_delta", "partial_json": fragments[k]}
                deltas.append({"type": "content_block_delta", "index": index, "delta": delta})
    stops = [{"type": "content_block_stop", "index": index} for index in (1, 0)]
    return sse([*head, *starts, *deltas, *stops, *tail])


def test_two_tool_blocks_open_at_once_are_each_parsed_whole() -> None:
    first, second = '{"x": [1, "one"], "y": true}', '{"z": {"w": "deep"}, "v": 2.5}'
    items, error = run(interleaved(first, second), rxo.tool_fields())
    assert error is None
    for index, text in enumerate((first, second)):
        mine = [i for i in items if i.index == index]
        alone, _ = run(Stream([ToolUse({}, json_text=text, fragment=3)]), rxo.tool_fields())
        assert [short(i)[2:] for i in mine if isinstance(i, FieldDone)] == [
            short(i)[2:] for i in alone if isinstance(i, FieldDone)
        ]
        assert mine[-1] == ToolInput(index, mine[-1].id, "ab"[index], json.loads(text))
    # Block 1 stops first: its input comes first.
    assert [i.index for i in items if isinstance(i, ToolInput)] == [1, 0]


@pytest.mark.parametrize("bad", [0, 1])
def test_invalid_json_in_either_of_two_open_blocks_names_that_block(bad: int) -> None:
    texts = ['{"ok": [1, 2, 3]}', '{"ok": [4, 5, 6]}']
    texts[bad] = '{"ok": [1, 2x]}'
    items, error = run(interleaved(texts[0], texts[1]), rxo.tool_fields())
    assert isinstance(error, StreamDecodeError)
    name = "ab"[bad]
    assert str(error) == (
        f"invalid input JSON for tool {name!r} (block {bad}) at offset 12: invalid number"
    )
    assert not any(isinstance(i, ToolInput) for i in items)


def test_a_text_delta_in_a_tool_block_ends_the_stream_with_an_api_error() -> None:
    stream = Stream([ToolUse({"a": 1}, name="calc", fragment=2)])
    events = stream.events()
    at = next(k for k, e in enumerate(events) if e["type"] == "content_block_delta")
    wrong = {
        "type": "content_block_delta",
        "index": 0,
        "delta": {"type": "text_delta", "text": "x"},
    }
    events.insert(at + 1, wrong)
    items, error = run(sse(events), rxo.tool_fields())
    assert isinstance(error, rxstream.APIError), error
    assert not any(isinstance(i, ToolInput) for i in items)


def test_disposing_at_the_first_field_stops_the_events_and_closes_the_source() -> None:
    data = Stream([ToolUse({}, name="fetch", json_text=URLS_JSON, fragment=5)]).sse()
    closed = threading.Event()

    def chunks() -> Iterator[bytes]:
        try:
            for k in range(0, len(data), 64):
                yield data[k : k + 64]
        finally:
            closed.set()

    items: list[tuple[Any, ...]] = []
    ended = threading.Event()
    subscribed = threading.Event()
    subscription: list[Any] = []

    def on_next(item: Any) -> None:
        items.append(short(item))
        if isinstance(item, FieldDone):
            subscribed.wait(5)
            subscription[0].dispose()  # from the reading thread, mid-fragment

    subscription.append(
        rxstream.from_sse(chunks)
        .pipe(rxo.tool_fields())
        .subscribe(
            on_next,
            on_error=lambda _: ended.set(),
            on_completed=ended.set,
            scheduler=NewThreadScheduler(),
        )
    )
    subscribed.set()
    assert closed.wait(5)
    assert [i for i in items if i[0] == "done"] == [("done", 0, "/urls/0", "http://a/1")]
    assert not ended.is_set()  # disposed: neither completed nor failed


def test_keys_are_escaped_in_pointers() -> None:
    items, _ = run(Stream([ToolUse({"a/b": {"~": 1}, "": 2})]), rxo.tool_fields())
    assert [i.pointer for i in items if isinstance(i, FieldDone)] == ["/a~1b/~0", "/a~1b", "/", ""]
    assert escape_pointer_segment("~/x") == "~0~1x"


def test_invalid_json_ends_the_stream_at_the_fragment_holding_the_first_bad_character() -> None:
    stream = Stream(
        [ToolUse({}, name="calc", json_text='{"a": [1, 2x], "b": "never"}', fragment=4)]
    )
    items, error = run(stream, rxo.tool_fields())
    assert isinstance(error, StreamDecodeError)
    assert str(error) == "invalid input JSON for tool 'calc' (block 0) at offset 11: invalid number"
    assert error.offset == 11
    assert [short(i) for i in items] == [("done", 0, "/a/0", 1)]


def test_a_stream_cut_mid_block_gets_no_done_for_unfinished_values() -> None:
    full = Stream([ToolUse({"first": "complete", "second": "cut short"}, fragment=6)]).sse()
    cut = full[: full.index(b"cut") + 10]
    items, error = run(cut[: cut.rindex(b"\n\n") + 2], rxo.tool_fields())
    assert isinstance(error, IncompleteStreamError)
    done = [short(i) for i in items if isinstance(i, FieldDone)]
    assert done == [("done", 0, "/first", "complete")]
    assert not any(isinstance(i, ToolInput) for i in items)


# --- the events of one read at once: the same events as one by one -----------------------


def one_by_one_and_by_read(data: bytes, operator: Any, sizes: list[int]) -> list[Any]:
    """The operator on `data` one event at a time (through a `map`, which hides the source's
    reads) and on its reads for each chunk size: the items and the error must be the same.
    Returns the items."""

    def outcome(source: reactivex.Observable[Any]) -> tuple[list[Any], Any]:
        items: list[Any] = []
        errors: list[BaseException] = []
        source.pipe(operator).subscribe(items.append, errors.append)
        return items, [(type(e), str(e), getattr(e, "offset", None)) for e in errors]

    expected = outcome(rxstream.from_sse([data]).pipe(ops.map(lambda event: event)))
    for size in sizes:
        assert outcome(rxstream.from_sse(chunked(data, size))) == expected, size
    return expected[0]


def test_interleaved_blocks_a_foreign_delta_and_bad_json_give_the_same_events_by_read() -> None:
    sizes = [1, 50, 300, 1 << 20]
    first, second = '{"x": [1, "one"], "y": true}', '{"z": {"w": "deep"}, "v": 2.5}'
    assert one_by_one_and_by_read(interleaved(first, second), rxo.tool_fields(), sizes)
    bad = interleaved('{"ok": [1, 2x]}', '{"ok": [4, 5, 6]}')
    assert one_by_one_and_by_read(bad, rxo.tool_fields(), sizes)
    stream = Stream([Text("hi"), ToolUse({}, name="fetch", json_text=URLS_JSON, fragment=2)])
    events = stream.events()
    wrong = {
        "type": "content_block_delta",
        "index": 1,
        "delta": {"type": "text_delta", "text": "x"},
    }
    at = max(k for k, e in enumerate(events) if e["type"] == "content_block_delta")
    one_by_one_and_by_read(sse([*events[:at], wrong, *events[at:]]), rxo.tool_fields(), sizes)
    # An in-stream error in the middle of the input, and a stream cut there.
    error = {"type": "error", "error": {"type": "overloaded_error", "message": "busy"}}
    one_by_one_and_by_read(sse([*events[:at], error]), rxo.tool_fields(), sizes)
    one_by_one_and_by_read(sse(events[:at]), rxo.tool_fields(), sizes)
    one_by_one_and_by_read(stream.sse(), rxo.tool_field("/urls/*"), sizes)


@MODEST
@given(
    st.lists(json_values(), min_size=1, max_size=3),
    st.integers(1, 9),
    st.lists(st.integers(1, 400), min_size=1, max_size=4),
)
def test_any_reads_give_the_events_of_one_event_at_a_time(
    values: list[Any], fragment: int, sizes: list[int]
) -> None:
    blocks = [ToolUse(v, name=f"t{k}", fragment=fragment) for k, v in enumerate(values)]
    stream = Stream([Text("go"), *blocks])
    items = one_by_one_and_by_read(stream.sse(), rxo.tool_fields(), [*sizes, 1 << 20])
    assert [i.input for i in items if isinstance(i, ToolInput)] == values


def test_disposing_at_the_first_field_of_a_read_that_holds_the_whole_stream() -> None:
    data = Stream([ToolUse({}, name="fetch", json_text=URLS_JSON, fragment=5)]).sse()
    closed = threading.Event()

    def chunks() -> Iterator[bytes]:
        try:
            yield data  # one read: every event at once
        finally:
            closed.set()

    items: list[tuple[Any, ...]] = []
    ended: list[str] = []
    subscription: list[Any] = []

    def on_next(item: Any) -> None:
        items.append(short(item))
        if isinstance(item, FieldDone):
            subscription[0].dispose()

    subscription.append(
        rxstream.from_sse(chunks)
        .pipe(rxo.tool_fields())
        .subscribe(
            on_next,
            on_error=lambda e: ended.append(repr(e)),
            on_completed=lambda: ended.append("completed"),
            scheduler=NewThreadScheduler(),
        )
    )
    assert closed.wait(5)
    assert [i for i in items if i[0] == "done"] == [("done", 0, "/urls/0", "http://a/1")]
    assert items[-1] == ("done", 0, "/urls/0", "http://a/1")  # nothing after the disposal
    assert ended == []


def test_take_on_tool_fields_stops_within_a_read() -> None:
    data = Stream([ToolUse({}, name="fetch", json_text=URLS_JSON, fragment=5)]).sse()
    items: list[Any] = []
    completed: list[bool] = []
    rxstream.from_sse([data]).pipe(rxo.tool_fields(), ops.take(4)).subscribe(
        items.append, on_completed=lambda: completed.append(True)
    )
    assert [short(i) for i in items] == [
        ("chunk", 0, "/urls/0", "http"),
        ("chunk", 0, "/urls/0", "://a/"),
        ("chunk", 0, "/urls/0", "1"),
        ("done", 0, "/urls/0", "http://a/1"),
    ]
    assert completed == [True]


# --- tool_field(pointer) -----------------------------------------------------------------


def test_tool_field_with_a_wildcard_emits_each_url_as_soon_as_it_is_complete() -> None:
    stream = Stream([ToolUse({}, name="fetch", json_text=URLS_JSON, fragment=5)])
    items, error = run(stream, rxo.tool_field("/urls/*"))
    assert error is None
    assert [(i.pointer, i.value) for i in items] == [
        ("/urls/0", "http://a/1"),
        ("/urls/1", "http://b/2"),
    ]


@pytest.mark.parametrize(
    ("pointer", "tool", "expected"),
    [
        ("/n", None, [12]),
        ("", None, [URLS_INPUT]),
        ("/*", None, [["http://a/1", "http://b/2"], 12, "aé😀", {}]),
        ("/*/1", None, ["http://b/2"]),
        ("/urls/*", "other", []),
        ("/urls/0", "fetch", ["http://a/1"]),
        ("/missing/*", None, []),
    ],
)
def test_tool_field_patterns(pointer: str, tool: str | None, expected: list[Any]) -> None:
    stream = Stream([ToolUse({}, name="fetch", json_text=URLS_JSON, fragment=7)])
    items, error = run(stream, rxo.tool_field(pointer, tool=tool))
    assert error is None
    assert [i.value for i in items] == expected


def test_tool_field_refuses_a_pointer_without_a_leading_slash() -> None:
    with pytest.raises(ValueError, match="JSON Pointer"):
        rxo.tool_field("urls/*")


# --- correct on every chunking (hypothesis) ----------------------------------------------


def post_order(value: Any, pointer: str = "") -> list[tuple[str, Any]]:
    """Every (pointer, value) of `value`, each value after its children, in document order."""
    out: list[tuple[str, Any]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            out += post_order(item, f"{pointer}/{escape_pointer_segment(key)}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            out += post_order(item, f"{pointer}/{i}")
    out.append((pointer, value))
    return out


def parse(chunks: list[str]) -> tuple[list[tuple[str, Any]], dict[str, list[str]], list[str]]:
    """Feed `chunks`: the FieldDone pairs, the string chunks per pointer, and what triggered
    each done (the character fed last, or "end")."""
    done: list[tuple[str, Any]] = []
    pieces: dict[str, list[str]] = {}
    triggers: list[str] = []
    fed = [""]

    def on_done(pointer: str, value: object) -> None:
        done.append((pointer, value))
        triggers.append(fed[0])

    def on_chunk(pointer: str, text: str) -> None:
        assert text
        assert not any(0xD800 <= ord(c) <= 0xDFFF for c in text)  # never half a pair
        assert pointer not in dict(done)  # never after its done
        pieces.setdefault(pointer, []).append(text)

    parser = FieldParser(on_done, on_chunk)
    for chunk in chunks:
        fed[0] = chunk[-1:]
        parser.feed(chunk)
    fed[0] = "end"
    parser.finish()
    return done, pieces, triggers


def json_texts() -> st.SearchStrategy[tuple[Any, str]]:
    values = json_values(max_leaves=20) | st.dictionaries(
        st.text(max_size=3), json_values(max_leaves=6), max_size=8
    )
    styles = st.sampled_from(["compact", "spaced", "ascii", "indented"])

    def write(value: Any, style: str) -> tuple[Any, str]:
        if style == "compact":
            return value, json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        if style == "ascii":  # \uXXXX escapes, surrogate pairs for emoji
            return value, json.dumps(value)
        if style == "indented":
            return value, json.dumps(value, indent=2, ensure_ascii=False)
        return value, json.dumps(value, ensure_ascii=False)

    return st.builds(write, values, styles)


NUMBER_END = set(" \t\n\r,]}") | {"end"}


@MODEST
@given(json_texts())
def test_every_value_is_done_exactly_once_never_early_whatever_the_split(
    case: tuple[Any, str],
) -> None:
    value, text = case
    expected = post_order(value)
    reference = parse(list(text))  # one character at a time: the trigger is exact
    done, pieces, triggers = reference
    assert done == expected
    for (_, v), trigger in zip(done, triggers, strict=True):
        if isinstance(v, str):
            assert trigger == '"'
        elif isinstance(v, dict):
            assert trigger == "}"
        elif isinstance(v, list):
            assert trigger == "]"
        else:  # numbers and literals: the character after them proves them complete
            assert trigger in NUMBER_END
    strings = {p: v for p, v in expected if isinstance(v, str)}
    assert {p: "".join(c) for p, c in pieces.items()} == {p: s for p, s in strings.items() if s}
    for k in range(len(text) + 1):  # split at every position
        split_done, split_pieces, _ = parse([text[:k], text[k:]] if 0 < k < len(text) else [text])
        assert split_done == expected
        assert {p: "".join(c) for p, c in split_pieces.items()} == {
            p: s for p, s in strings.items() if s
        }


@MODEST
@given(json_texts(), st.lists(st.integers(1, 9), min_size=1, max_size=6), st.integers(0, 5))
def test_the_operator_gives_the_same_done_events_on_any_fragmenting(
    case: tuple[Any, str], sizes: list[int], fragment: int
) -> None:
    value, text = case
    stream = Stream([ToolUse(value, json_text=text, fragment=fragment + 1)])
    items, error = run(stream, rxo.tool_fields())
    assert error is None
    assert [(i.pointer, i.value) for i in items if isinstance(i, FieldDone)] == post_order(value)
    assert isinstance(items[-1], ToolInput)
    assert items[-1].input == value


@MODEST
@given(json_texts(), st.data())
def test_invalid_json_fails_at_the_same_offset_however_it_is_split(
    case: tuple[Any, str], data: st.DataObject
) -> None:
    _, text = case
    at = data.draw(st.integers(0, len(text)))
    bad = text[:at] + "\x01" + text[at:]
    offsets = set()
    for k in range(0, len(bad) + 1, max(1, len(bad) // 7)):
        parser = FieldParser(lambda p, v: None, lambda p, t: None)
        parser.feed(bad[:k])
        parser.feed(bad[k:])
        with pytest.raises(rxstream._partial_json.JSONSyntaxError) as caught:
            parser.finish()
        offsets.add(caught.value.offset)
    assert len(offsets) == 1
    assert offsets.pop() <= at


# --- rxstream.tool() and typed_tool_inputs() ---------------------------------------------


class Page(msgspec.Struct):
    url: str
    depth: Annotated[int, msgspec.Meta(ge=0)] = 0


class FetchPages(msgspec.Struct, forbid_unknown_fields=True):
    """Fetch web pages."""

    urls: list[str]
    mode: Literal["fast", "thorough"] = "fast"
    pages: list[Page] = []


class Tree(msgspec.Struct):
    name: str
    children: list[Tree] = []


def test_tool_builds_the_definition_from_the_struct_schema() -> None:
    assert rxstream.tool(FetchPages) == {
        "name": "fetch_pages",
        "description": "Fetch web pages.",
        "input_schema": {
            "type": "object",
            "properties": {
                "urls": {"type": "array", "items": {"type": "string"}},
                "mode": {"enum": ["fast", "thorough"], "default": "fast"},
                "pages": {"type": "array", "items": {"$ref": "#/$defs/Page"}, "default": []},
            },
            "required": ["urls"],
            "additionalProperties": False,
            "$defs": {
                "Page": {
                    "title": "Page",
                    "type": "object",
                    "properties": {
                        "url": {"type": "string"},
                        "depth": {"type": "integer", "minimum": 0, "default": 0},
                    },
                    "required": ["url"],
                }
            },
        },
    }
    named = rxstream.tool(Page, name="open-page", description="Open one page.")
    assert (named["name"], named["description"]) == ("open-page", "Open one page.")
    assert "$defs" not in named["input_schema"]
    assert "description" not in rxstream.tool(Page)
    recursive = rxstream.tool(Tree)["input_schema"]
    assert recursive["properties"]["children"]["items"] == {"$ref": "#/$defs/Tree"}
    assert "Tree" in recursive["$defs"]


def test_tool_refuses_what_is_not_a_struct_and_names_the_api_refuses() -> None:
    with pytest.raises(TypeError, match=r"msgspec\.Struct"):
        rxstream.tool(dict)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="tool name 'fetch pages'"):
        rxstream.tool(FetchPages, name="fetch pages")


@pytest.mark.parametrize(
    ("given_input", "pointer", "reason"),
    [
        ({"urls": ["a", 3]}, "/urls/1", "Expected `str`, got `int`"),
        ({}, "/urls", "Object missing required field `urls`"),
        ({"urls": [], "x/y": 1}, "/x~1y", "Object contains unknown field `x/y`"),
        (
            {"urls": [], "pages": [{"url": "u", "depth": -1}]},
            "/pages/0/depth",
            "Expected `int` >= 0",
        ),
        ({"urls": [], "mode": "slow"}, "/mode", "Invalid enum value 'slow'"),
        ([1], "", "Expected `object`, got `array`"),
    ],
)
def test_typed_tool_inputs_names_the_tool_and_the_wrong_field(
    given_input: Any, pointer: str, reason: str
) -> None:
    stream = Stream([ToolUse(given_input, name="fetch_pages", id="toolu_9")])
    items, error = run(stream, rxo.typed_tool_inputs(FetchPages))
    assert error is None
    [item] = items
    assert isinstance(item, ToolInputError)
    assert (item.index, item.tool_id, item.tool_name) == (0, "toolu_9", "fetch_pages")
    assert (item.pointer, item.reason, item.input) == (pointer, reason, given_input)
    assert (
        str(item) == f"invalid input for tool 'fetch_pages' (block 0) at {pointer or '/'}: {reason}"
    )


def test_typed_tool_inputs_decodes_matching_blocks_only() -> None:
    stream = Stream(
        [
            ToolUse({"urls": ["u"]}, name="fetch_pages"),
            ToolUse({"urls": ["v"]}, name="other"),
            ToolUse({"urls": ["w"], "pages": [{"url": "w"}]}, name="fetch_pages"),
        ]
    )
    items, error = run(stream, rxo.typed_tool_inputs(FetchPages))
    assert error is None
    assert items == [
        FetchPages(urls=["u"]),
        FetchPages(urls=["w"], pages=[Page(url="w")]),
    ]
    renamed, _ = run(stream, rxo.typed_tool_inputs(FetchPages, name="other"))
    assert renamed == [FetchPages(urls=["v"])]


# --- against the emulator ----------------------------------------------------------------


def test_against_the_emulator_each_url_is_done_before_the_block_ends() -> None:
    urls = [f"https://site{i}.example/page" for i in range(4)]
    prompt = "Please fetch these pages: " + ", ".join(urls) + "."
    with serve() as emulator, rxstream.Client(base_url=emulator.base_url, api_key="test") as client:
        observable = client.messages.observe(
            model="claude-sonnet-4-5",
            max_tokens=1024,
            tools=[rxstream.tool(FetchPages)],
            tool_choice={"type": "tool", "name": "fetch_pages"},
            messages=[{"role": "user", "content": prompt}],
        )
        typed: list[Any] = []
        observable.pipe(rxo.typed_tool_inputs(FetchPages)).subscribe(typed.append)
        fields: list[Any] = []
        observable.pipe(rxo.tool_fields()).subscribe(fields.append)
    assert typed == [FetchPages(urls=urls)]
    assert [short(i)[2:] for i in fields if isinstance(i, FieldDone)] == [
        *((f"/urls/{i}", url) for i, url in enumerate(urls)),
        ("/urls", urls),
        ("", {"urls": urls}),
    ]
    assert isinstance(fields[-1], ToolInput)
    chunks = [i for i in fields if isinstance(i, StringChunk) and i.pointer == "/urls/0"]
    assert len(chunks) > 1  # the input streams in several fragments


# --- every subscription has its own parsers: threads and both async backends -------------

URLS = [f"https://site{i}.example/page" for i in range(5)]
FETCH_REQUEST: dict[str, Any] = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 1024,
    "tools": [rxstream.tool(FetchPages)],
    "tool_choice": {"type": "tool", "name": "fetch_pages"},
    "messages": [{"role": "user", "content": "Fetch these pages: " + ", ".join(URLS)}],
}


def test_subscriptions_from_several_threads_each_get_every_field(emulator: Emulator) -> None:
    results: dict[int, list[Any]] = {}

    with rxstream.Client(base_url=emulator.base_url, api_key="test") as client:
        observable = client.messages.observe(**FETCH_REQUEST).pipe(rxo.tool_field("/urls/*"))

        def subscribe(k: int) -> None:
            got: list[Any] = []
            observable.subscribe(lambda done: got.append(done.value))
            results[k] = got

        threads = [threading.Thread(target=subscribe, args=(k,)) for k in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    assert results == {k: URLS for k in range(6)}


@pytest.mark.anyio
async def test_async_client_streams_field_events_under_each_backend(emulator: Emulator) -> None:
    items: list[Any] = []
    ended = anyio.Event()
    errors: list[Exception] = []

    def failed(exc: Exception) -> None:
        errors.append(exc)
        ended.set()

    async with rxstream.AsyncClient(base_url=emulator.base_url, api_key="test") as client:
        client.messages.observe(**FETCH_REQUEST).pipe(rxo.tool_fields()).subscribe(
            items.append, failed, ended.set
        )
        with anyio.fail_after(10):
            await ended.wait()
    assert errors == []
    done = [(i.pointer, i.value) for i in items if isinstance(i, FieldDone)]
    assert done == [
        *((f"/urls/{k}", url) for k, url in enumerate(URLS)),
        ("/urls", URLS),
        ("", {"urls": URLS}),
    ]
    assert items[-1] == ToolInput(0, items[-1].id, "fetch_pages", {"urls": URLS})


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Circle(msgspec.Struct, tag=True):
    radius: float


class Square(msgspec.Struct, tag=True):
    side: Annotated[int, msgspec.Meta(ge=2, le=9)]


class Everything(msgspec.Struct):
    """Every kind of field msgspec writes a schema for."""

    id: uuid.UUID
    price: decimal.Decimal
    wait: datetime.timedelta
    day: datetime.date
    created_at: datetime.datetime
    blob: bytes
    name: Annotated[str, msgspec.Meta(min_length=40, max_length=60)]
    pair: tuple[int, str]
    color: Color
    shape: Circle | Square
    maybe: int | None
    tags: set[str]
    counts: dict[str, int]
    tree: Tree
    pages: Annotated[list[Page], msgspec.Meta(min_length=2)]
    mode: Literal["fast", "thorough"] = "fast"


@pytest.mark.parametrize("struct", [FetchPages, Page, Tree, Everything], ids=lambda t: t.__name__)
def test_the_emulator_writes_inputs_that_decode_into_the_struct(
    emulator: Emulator, struct: type[msgspec.Struct]
) -> None:
    definition = rxstream.tool(struct)
    with rxstream.Client(base_url=emulator.base_url, api_key="test") as client:
        items: list[Any] = []
        client.messages.observe(
            model="claude-sonnet-4-5",
            max_tokens=4096,
            tools=[definition],
            tool_choice={"type": "tool", "name": definition["name"]},
            messages=[{"role": "user", "content": "Fill it in for https://example.com/a"}],
        ).pipe(rxo.typed_tool_inputs(struct)).subscribe(items.append)
    [item] = items
    assert isinstance(item, struct), item


def test_a_late_subscriber_of_a_shared_stream_gets_the_input_of_the_block_in_progress() -> None:
    stream = Stream([ToolUse({"a": "first"}, fragment=3), ToolUse({"b": [1]}, name="second")])
    shared = rxstream.SharedStream(rxstream.from_sse([stream.sse()]))
    late: list[Any] = []
    deltas = 0

    def join_mid_block(event: rxstream.StreamItem) -> None:
        nonlocal deltas
        if event.type == "content_block_delta":
            deltas += 1
            if deltas == 3:
                shared.pipe(rxo.tool_fields()).subscribe(late.append)

    shared.subscribe(join_mid_block)
    shared.connect()
    assert [short(i) for i in late if not isinstance(i, StringChunk)] == [
        ("input", 0, {"a": "first"}),  # joined mid-block: no field events for it
        ("done", 1, "/b/0", 1),
        ("done", 1, "/b", [1]),
        ("done", 1, "", {"b": [1]}),
        ("input", 1, {"b": [1]}),
    ]


@pytest.mark.parametrize("opener", ["[", '{"k":'])
def test_deep_nesting_gets_one_done_per_level_innermost_first(opener: str) -> None:
    depth = 900
    closer = "]" if opener == "[" else "}"
    text = opener * depth + "0" + closer * depth
    done: list[tuple[str, Any]] = []
    parser = FieldParser(lambda pointer, value: done.append((pointer, value)))
    for i in range(0, len(text), 7):
        parser.feed(text[i : i + 7])
    final = parser.finish()
    segment = "/0" if opener == "[" else "/k"
    assert [pointer for pointer, _ in done] == [segment * k for k in range(depth, -1, -1)]
    assert done[-1][1] is final


def test_after_an_error_fragments_are_only_counted_and_finish_raises_the_first_error() -> None:
    chunks: list[tuple[str, str]] = []
    parser = FieldParser(lambda pointer, value: None, lambda p, t: chunks.append((p, t)))
    parser.feed('{"a": "xy\x01z')
    assert chunks == [("/a", "xy")]  # what the string held before the bad character
    error = parser.error
    assert error is not None
    assert (error.reason, error.offset) == ("control character in string", 9)
    parser.feed('"}')
    assert parser.consumed == 13
    assert chunks == [("/a", "xy")]
    with pytest.raises(rxstream._partial_json.JSONSyntaxError) as caught:
        parser.finish()
    assert caught.value is error
    with pytest.raises(RuntimeError, match="after finish"):
        parser.feed("x")


def test_feed_strict_raises_at_the_first_error_and_the_parser_cannot_go_on() -> None:
    done: list[tuple[str, Any]] = []
    parser = FieldParser(lambda pointer, value: done.append((pointer, value)))
    assert parser.feed_strict('{"n": [1, ') is False
    with pytest.raises(rxstream._partial_json.JSONSyntaxError) as caught:
        parser.feed_strict("2x]}")
    assert (caught.value.reason, caught.value.offset) == ("invalid number", 11)
    assert done == [("/n/0", 1)]
    with pytest.raises(RuntimeError):
        parser.finish()
    assert FieldParser(lambda p, v: None).feed_strict("[1] ") is True  # the whole input is done


def test_field_events_compare_by_value_and_show_without_the_tool_id() -> None:
    done = FieldDone(0, "toolu_1", "fetch", "/urls/0", "http://a")
    assert done == FieldDone(0, "toolu_1", "fetch", "/urls/0", "http://a")
    assert done != FieldDone(0, "toolu_2", "fetch", "/urls/0", "http://a")
    other: object = StringChunk(0, "toolu_1", "fetch", "/urls/0", "http://a")
    assert done != other
    assert (
        repr(done) == "FieldDone(index=0, tool_name='fetch', pointer='/urls/0', value='http://a')"
    )
    chunk = StringChunk(1, "toolu_1", "fetch", "/t", "ab")
    assert repr(chunk) == "StringChunk(index=1, tool_name='fetch', pointer='/t', text='ab')"
    with pytest.raises(TypeError):
        hash(chunk)


class ObserverFailure(Exception):
    pass


@pytest.mark.parametrize(
    ("operator", "at"),
    [
        (rxo.tool_fields(), ("chunk", "/urls/0")),  # a string piece, mid-input
        (rxo.tool_fields(), ("done", "/n")),  # a value the parser completes
        (rxo.tool_fields(), ("done", "")),  # the whole input, at the block's end
        (rxo.tool_field("/urls/*"), ("done", "/urls/1")),
    ],
)
def test_what_the_observer_raises_ends_the_stream_unchanged(
    operator: Any, at: tuple[str, str]
) -> None:
    """An exception from the subscriber's own on_next is not the operator's: it goes back to
    the source unchanged (not as a StreamDecodeError), which ends the stream with it."""
    stream = Stream([ToolUse({}, name="fetch", json_text=URLS_JSON, fragment=5)])
    seen: list[Any] = []
    errors: list[BaseException] = []
    failure = ObserverFailure("the subscriber's own")

    def on_next(item: Any) -> None:
        seen.append(short(item))
        if short(item)[0] == at[0] and short(item)[2] == at[1]:
            raise failure

    rxstream.from_sse([stream.sse()]).pipe(operator).subscribe(on_next, errors.append)
    assert errors == [failure]
    assert errors[0].__cause__ is None
    assert (seen[-1][0], seen[-1][2]) == at
