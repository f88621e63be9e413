"""MessageAccumulator: every block and delta kind folds into the exact final message, snapshots
never change once handed out, and events that cannot apply raise StreamDecodeError."""

from __future__ import annotations

import json
from typing import Any

import pytest
from streams import (
    CITATIONS,
    TOOL_RESULT_TYPES,
    Block,
    RedactedThinking,
    Stream,
    Text,
    Thinking,
    ToolUse,
    WholeBlock,
    server_tool_use,
    sse,
    web_search_result,
)

import rxstream
from rxstream import MessageSnapshot, SnapshotEvent, StreamDecodeError, ToolUseBlock
from rxstream.accumulate import MessageAccumulator
from rxstream.types import UnknownBlock


def typed(events: list[dict[str, Any]]) -> list[rxstream.MessageStreamEvent]:
    """The wire events, decoded by rxstream."""
    return list(rxstream.sse.iter_events([sse(events)]))


def accumulate(events: list[dict[str, Any]]) -> MessageAccumulator:
    accumulator = MessageAccumulator()
    for event in typed(events):
        accumulator.feed(event)
    return accumulator


def as_json(value: Any) -> Any:
    return json.loads(rxstream.encode(value))


def final_json(stream: Stream) -> Any:
    accumulator = accumulate(stream.events())
    assert accumulator.complete
    return as_json(accumulator.message())


# --- final messages ---------------------------------------------------------------------------

BLOCKS = {
    "text": [Text("Hello, world")],
    "text_non_ascii": [Text("Grüße aus Zürich — 東京は晴れ 🌤️ ǅ\u0301", chunk=3)],
    "text_one_char_deltas": [Text('a\nb\r\nc\t"q"\\', chunk=1)],
    "text_empty": [Text("")],
    "thinking": [Thinking("Let me think… 2 + 2 = 4", chunk=5)],
    "redacted_thinking": [RedactedThinking()],
    "tool_use": [ToolUse({"location": "San Francisco, CA", "unit": "celsius"})],
    "tool_use_nested_non_ascii": [
        ToolUse({"q": "naïve café", "list": [1, 2.5, None, True, {"深": ["い"]}]}, fragment=3)
    ],
    "tool_use_no_empty_first_fragment": [ToolUse({"n": 1}, empty_first=False)],
    "tool_use_one_char_fragments": [ToolUse({"s": 'a\\b"c\u00e9\U0001f600'}, fragment=1)],
    "server_tool_use_with_web_search_result": [
        server_tool_use("weather in Paris"),
        web_search_result(titles=("Météo Paris", "Paris weather")),
    ],
    "container_upload": [WholeBlock({"type": "container_upload", "file_id": "file_011CNha"})],
    "several_blocks": [
        Thinking("First, the weather."),
        Text("I'll check the weather."),
        ToolUse({"city": "Paris"}, id="toolu_1"),
        ToolUse({"city": "Berlin"}, id="toolu_2"),
        RedactedThinking(),
        Text("Done ✅"),
    ],
}
for _kind in TOOL_RESULT_TYPES:
    BLOCKS[_kind] = [WholeBlock({"type": _kind, "tool_use_id": "srvtoolu_1", "content": {"a": 1}})]


@pytest.mark.parametrize("blocks", BLOCKS.values(), ids=BLOCKS.keys())
def test_final_message_is_exact_for_each_block_kind(blocks: list[Block]) -> None:
    stream = Stream(blocks, ping_every=2)
    assert final_json(stream) == stream.message()


@pytest.mark.parametrize("citation", CITATIONS.values(), ids=CITATIONS.keys())
def test_each_citation_type_is_appended_to_its_text_block(citation: dict[str, Any]) -> None:
    stream = Stream([Text("Cited text.", chunk=4, citations=[citation])])
    assert final_json(stream)["content"] == [
        {"type": "text", "text": "Cited text.", "citations": [citation]}
    ]


def test_citations_are_appended_in_arrival_order() -> None:
    cites = list(CITATIONS.values())
    stream = Stream([Text("ab", chunk=1, citations=[*cites, cites[0]])])
    assert final_json(stream)["content"][0]["citations"] == [*cites, cites[0]]


def test_citations_extend_those_the_block_started_with() -> None:
    first, second = CITATIONS["char_location"], CITATIONS["page_location"]
    start = {"type": "text", "text": "x", "citations": [first]}
    events = Stream([WholeBlock(start)]).events()
    events.insert(
        4,
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "citations_delta", "citation": second},
        },
    )
    assert as_json(accumulate(events).message())["content"][0]["citations"] == [first, second]


def test_text_without_citations_has_no_citations_field() -> None:
    assert "citations" not in final_json(Stream([Text("plain")]))["content"][0]


def test_signature_delta_is_assigned_not_appended() -> None:
    events = Stream([Thinking("hmm", signature="final-sig")]).events()
    stale = {"type": "signature_delta", "signature": "stale-sig"}
    events.insert(3, {"type": "content_block_delta", "index": 0, "delta": stale})
    block = as_json(accumulate(events).message())["content"][0]
    assert block == {"type": "thinking", "thinking": "hmm", "signature": "final-sig"}


def test_usage_is_overwritten_only_by_non_null_cumulative_values() -> None:
    stream = Stream(
        [Text("hi")],
        start_usage={
            "input_tokens": 100,
            "output_tokens": 1,
            "cache_creation_input_tokens": 7,
            "cache_read_input_tokens": 9,
            "service_tier": "standard",
        },
        delta_usage={
            "output_tokens": 30,
            "input_tokens": 120,  # a value: overwrites
            "cache_creation_input_tokens": None,  # null: keeps 7
            # cache_read_input_tokens omitted: keeps 9
            "server_tool_use": {"web_search_requests": 2, "web_fetch_requests": 0},
        },
    )
    assert final_json(stream)["usage"] == {
        "input_tokens": 120,
        "output_tokens": 30,
        "cache_creation_input_tokens": 7,
        "cache_read_input_tokens": 9,
        "server_tool_use": {"web_search_requests": 2, "web_fetch_requests": 0},
        "service_tier": "standard",
    }


def test_cumulative_output_tokens_are_never_added_up() -> None:
    events = Stream([Text("hi")], delta_usage={"output_tokens": 25}).events()
    first = {**events[-2], "usage": {"output_tokens": 10}}
    events.insert(-2, first)
    assert as_json(accumulate(events).message())["usage"]["output_tokens"] == 25


def test_stop_reason_sequence_and_details_come_from_message_delta() -> None:
    details = {"type": "refusal", "category": "cyber", "explanation": "Not this one."}
    stream = Stream(
        [Text("I can't")], stop_reason="refusal", stop_sequence=None, stop_details=details
    )
    message = final_json(stream)
    assert (message["stop_reason"], message["stop_sequence"]) == ("refusal", None)
    assert message["stop_details"] == details
    stream = Stream([Text("1, 2, 3")], stop_reason="stop_sequence", stop_sequence="4")
    assert final_json(stream)["stop_sequence"] == "4"


def test_container_is_kept_when_a_later_message_delta_has_none() -> None:
    container = {"id": "container_011CNha", "expires_at": "2025-06-01T12:05:00Z"}
    events = Stream([Text("x")], container=container).events()
    events.insert(-1, {**events[-2], "delta": {"stop_reason": "end_turn", "stop_sequence": None}})
    assert as_json(accumulate(events).message())["container"] == container


def test_empty_tool_input_is_an_empty_object() -> None:
    for tool in (
        ToolUse({}, json_text="", empty_first=False),  # no delta at all
        ToolUse({}, json_text="", empty_first=True),  # one empty delta
        ToolUse({}, json_text="{}"),
    ):
        assert final_json(Stream([tool]))["content"][0]["input"] == {}


def test_unknown_block_is_kept_with_its_raw_json() -> None:
    block = {"type": "hologram", "frames": [1, 2], "label": "ünïcode"}
    accumulator = accumulate(Stream([WholeBlock(block), Text("after")]).events())
    content = accumulator.message().content
    assert isinstance(content[0], UnknownBlock)
    assert (content[0].wire_type, content[0].data) == ("hologram", block)
    assert as_json(accumulator.message())["content"][0] == block


def test_unknown_deltas_and_events_are_ignored() -> None:
    stream = Stream([Text("same")])
    events = stream.events()
    unknown_delta = {"type": "sparkle_delta", "sparkles": 3}
    events.insert(3, {"type": "content_block_delta", "index": 0, "delta": unknown_delta})
    events.insert(3, {"type": "telemetry", "payload": {"x": 1}})
    assert as_json(accumulate(events).message()) == stream.message()


def test_ping_and_error_events_leave_the_message_unchanged() -> None:
    stream = Stream([Text("x")])
    events = stream.events()
    events.insert(3, {"type": "ping"})
    events.insert(3, {"type": "error", "error": {"type": "overloaded_error", "message": "x"}})
    assert as_json(accumulate(events).message()) == stream.message()


def test_complete_only_after_message_stop() -> None:
    events = Stream([Text("x")]).events()
    accumulator = accumulate(events[:-1])
    assert accumulator.started
    assert not accumulator.complete
    accumulator.feed(typed(events[-1:])[0])
    assert accumulator.complete


# --- snapshots --------------------------------------------------------------------------------

SNAPSHOT_STREAM = Stream(
    [
        Thinking("Which tool? The weather one.", chunk=4),
        Text("Checking ", chunk=3, citations=[CITATIONS["char_location"]]),
        ToolUse({"city": "Zürich", "days": [1, 2, 3], "detail": {"hourly": True}}, fragment=4),
        Text("done", chunk=1),
    ],
    delta_usage={"output_tokens": 77, "input_tokens": 500},
)


def replay(events: list[dict[str, Any]], count: int) -> Any:
    """The message after the first `count` events, from a fresh accumulator."""
    return as_json(accumulate(events[:count]).message())


def test_snapshots_never_change_after_more_events() -> None:
    events = SNAPSHOT_STREAM.events()
    accumulator = MessageAccumulator()
    kept: list[tuple[int, MessageSnapshot, Any, Any]] = []
    for count, event in enumerate(typed(events), start=1):
        accumulator.feed(event)
        snapshot = accumulator.snapshot()
        message = snapshot.to_message()
        kept.append((count, snapshot, message, as_json(message)))
    for count, snapshot, message, seen in kept:
        assert snapshot.to_message() is message  # built once, cached
        assert as_json(message) == seen  # the Message object itself never changed
        assert seen == replay(events, count)


def test_snapshot_taken_mid_tool_input_and_materialized_later_shows_that_moment() -> None:
    events = SNAPSHOT_STREAM.events()
    decoded = typed(events)
    tool_deltas = [
        k
        for k, e in enumerate(events)
        if e["type"] == "content_block_delta" and e["delta"]["type"] == "input_json_delta"
    ]
    accumulator = MessageAccumulator()
    untouched: dict[int, MessageSnapshot] = {}
    for count, event in enumerate(decoded, start=1):
        accumulator.feed(event)
        if count - 1 in tool_deltas:
            untouched[count] = accumulator.snapshot()  # not materialized now
    assert accumulator.complete
    assert len(untouched) == len(tool_deltas) > 10
    for count, snapshot in untouched.items():
        assert as_json(snapshot.to_message()) == replay(events, count)
    middle = untouched[sorted(untouched)[len(untouched) // 2]].content[2]
    assert isinstance(middle, ToolUseBlock)
    assert middle.input != {"city": "Zürich", "days": [1, 2, 3], "detail": {"hourly": True}}


def test_snapshot_cheap_fields_need_no_materialization() -> None:
    accumulator = accumulate(SNAPSHOT_STREAM.events())
    snapshot = accumulator.snapshot()
    assert (snapshot.id, snapshot.model, snapshot.role) == (
        SNAPSHOT_STREAM.id,
        SNAPSHOT_STREAM.model,
        "assistant",
    )
    assert (snapshot.stop_reason, snapshot.stop_sequence) == ("end_turn", None)
    assert snapshot.usage.output_tokens == 77
    assert snapshot.complete
    assert snapshot._message is None  # nothing was built to answer those
    assert snapshot.text == "Checking done"


def test_snapshot_is_the_same_object_until_an_event_changes_the_message() -> None:
    events = typed(SNAPSHOT_STREAM.events())
    assert (events[1].type, events[2].type) == ("ping", "content_block_start")
    accumulator = MessageAccumulator()
    accumulator.feed(events[0])
    first = accumulator.snapshot()
    assert accumulator.snapshot() is first
    accumulator.feed(events[1])
    assert accumulator.snapshot() is first
    accumulator.feed(events[2])
    assert accumulator.snapshot() is not first


def test_snapshot_before_message_start_raises() -> None:
    with pytest.raises(RuntimeError, match="message_start"):
        MessageAccumulator().snapshot()


@pytest.mark.parametrize("cut", [1, 5, 12, 20, 30, 45])
def test_an_accumulator_resumed_from_a_snapshot_event_reaches_the_same_message(cut: int) -> None:
    events = SNAPSHOT_STREAM.events()
    decoded = typed(events)
    leader = MessageAccumulator()
    for event in decoded[:cut]:
        leader.feed(event)
    joiner = MessageAccumulator()
    joiner.feed(SnapshotEvent(leader.snapshot()))
    for event in decoded[cut:]:
        leader.feed(event)
        joiner.feed(event)
    assert as_json(joiner.message()) == as_json(leader.message()) == SNAPSHOT_STREAM.message()


@pytest.mark.parametrize("cut", [3, 12, 30])
def test_a_snapshot_event_after_message_start_replaces_the_state(cut: int) -> None:
    """A consumer that fell behind skips to the present: its state becomes the snapshot's."""
    events = typed(SNAPSHOT_STREAM.events())
    leader = MessageAccumulator()
    for event in events[:cut]:
        leader.feed(event)
    behind = accumulate(SNAPSHOT_STREAM.events()[:2])
    behind.feed(SnapshotEvent(leader.snapshot()))
    for event in events[cut:]:
        leader.feed(event)
        behind.feed(event)
    assert as_json(behind.message()) == as_json(leader.message()) == SNAPSHOT_STREAM.message()


# --- events that cannot apply -----------------------------------------------------------------


def bad(events: list[dict[str, Any]]) -> str:
    with pytest.raises(StreamDecodeError) as caught:
        accumulate(events)
    return str(caught.value)


def _delta(index: int, delta: dict[str, Any]) -> dict[str, Any]:
    return {"type": "content_block_delta", "index": index, "delta": delta}


TEXT_DELTA = {"type": "text_delta", "text": "x"}


def test_delta_before_its_block_started_raises() -> None:
    events = Stream([]).events()
    events.insert(2, _delta(0, TEXT_DELTA))
    assert bad(events) == "content_block_delta event: no content block at index 0"


def test_stop_of_a_block_that_never_started_raises() -> None:
    events = Stream([]).events()
    events.insert(2, {"type": "content_block_stop", "index": 3})
    assert bad(events) == "content_block_stop event: no content block at index 3"


WRONG_KINDS = {
    "text_delta_to_tool_use": (
        ToolUse({}),
        TEXT_DELTA,
        "a text_delta for block 0, a tool_use block",
    ),
    "input_json_to_text": (
        Text("x"),
        {"type": "input_json_delta", "partial_json": "{"},
        "a input_json_delta for block 0, a text block",
    ),
    "signature_to_text": (
        Text("x"),
        {"type": "signature_delta", "signature": "s"},
        "a signature_delta for block 0, a text block",
    ),
    "citation_to_thinking": (
        Thinking("x"),
        {"type": "citations_delta", "citation": CITATIONS["char_location"]},
        "a citations_delta for block 0, a thinking block",
    ),
    "thinking_to_redacted": (
        RedactedThinking(),
        {"type": "thinking_delta", "thinking": "t"},
        "a thinking_delta for block 0, a redacted_thinking block",
    ),
    "text_delta_to_search_result": (
        web_search_result(),
        TEXT_DELTA,
        "a text_delta for block 0, a web_search_tool_result block",
    ),
}


@pytest.mark.parametrize(("block", "delta", "why"), WRONG_KINDS.values(), ids=WRONG_KINDS.keys())
def test_delta_of_the_wrong_kind_for_its_block_raises(
    block: Block, delta: dict[str, Any], why: str
) -> None:
    events = Stream([block]).events()
    events.insert(3, _delta(0, delta))
    assert bad(events) == f"content_block_delta event: {why}"


def test_block_index_gap_raises() -> None:
    events = Stream([Text("a"), Text("b")]).events()
    second = next(k for k, e in enumerate(events) if e.get("index") == 1)
    events[second] = {**events[second], "index": 2}
    assert bad(events) == "content_block_start event: index 2, but 1 blocks came before it"


@pytest.mark.parametrize(
    "event",
    [
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        _delta(0, TEXT_DELTA),
        {"type": "content_block_stop", "index": 0},
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn"},
            "usage": {"output_tokens": 1},
        },
        {"type": "message_stop"},
    ],
    ids=lambda e: e["type"],
)
def test_events_before_message_start_raise(event: dict[str, Any]) -> None:
    assert bad([event]) == f"{event['type']} event: arrived before message_start"


def test_a_second_message_start_raises() -> None:
    events = Stream([Text("x")]).events()
    events.insert(2, events[0])
    assert bad(events) == "message_start event: a second message_start in one stream"


def test_input_json_delta_after_the_tool_block_stopped_raises() -> None:
    events = Stream([ToolUse({"a": 1})]).events()
    events.insert(-2, _delta(0, {"type": "input_json_delta", "partial_json": "1"}))
    assert "block 0, which had stopped" in bad(events)


INVALID_TOOL_JSON = {
    "trailing_comma": ('{"city": "Paris",}', 17, "expected a string key"),
    "truncated_string": ('{"city": "Par', 13, "unterminated string"),
    "extra_data": ('{"a": 1} x', 9, "extra data after the value"),
    "bad_literal": ('{"a": tru}', 9, "invalid literal"),
    "unclosed_array": ("[1, 2", 5, "unexpected end of input"),
}


@pytest.mark.parametrize(
    ("text", "offset", "reason"), INVALID_TOOL_JSON.values(), ids=INVALID_TOOL_JSON.keys()
)
def test_invalid_tool_json_raises_at_block_stop_naming_block_tool_and_offset(
    text: str, offset: int, reason: str
) -> None:
    tool = ToolUse(None, name="lookup_city", json_text=text, fragment=3)
    events = Stream([Text("first"), tool]).events()
    stop = max(k for k, e in enumerate(events) if e["type"] == "content_block_stop")
    accumulate(events[:stop])  # every fragment is accepted: validation is at the stop
    with pytest.raises(StreamDecodeError) as caught:
        accumulate(events[: stop + 1])
    assert str(caught.value) == (
        f"invalid input JSON for tool 'lookup_city' (block 1) at offset {offset}: {reason}"
    )
    assert caught.value.offset == offset


def test_tool_input_is_the_blocks_empty_object_until_a_character_arrives() -> None:
    events = Stream([ToolUse({"a": 1}, empty_first=True)]).events()
    accumulator = accumulate(events[:4])  # start, ping, block start, the empty fragment
    assert events[3]["delta"] == {"type": "input_json_delta", "partial_json": ""}
    block = accumulator.message().content[0]
    assert isinstance(block, ToolUseBlock)
    assert block.input == {}
