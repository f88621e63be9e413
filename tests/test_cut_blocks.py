"""Blocks the message ends inside (no `content_block_stop` before `message_stop`, as when
`max_tokens` cuts a tool input): never presented as complete.

The final input is the SDK's (jiter's `partial_mode=True` over the fragments: an unfinished
string, key or literal left out), `tool_inputs()` gives a `ToolInputCut` and no `ToolInput`,
and `cut_blocks()`, snapshots and both MessageStreams name the block and the stop_reason.
"""

from __future__ import annotations

import json
from typing import Any

import anthropic
import jiter
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from loopback import Reply, loopback
from recorded import PARAMS, recorded
from streams import START_USAGE, chunked, json_values, sse

import rxstream
from rxstream import operators as rxo
from rxstream._partial_json import JSONSyntaxError, PartialJSONParser
from rxstream.emulator import Emulator

CUT_INPUT = {"title": "Taxes 2026", "priority": 2, "tags": ["finance", "home"]}
"""The fixture's input without its unfinished `"notes": "Filing taxes`."""
TOOL_ID = "toolu_01D7FnLq4bWc2RzYs9XtVmHe"


def collect(data: bytes, operator: Any) -> list[Any]:
    out: list[Any] = []
    rxstream.from_sse(chunked(data, 9)).pipe(operator).subscribe(out.append)
    return out


def test_final_message_leaves_the_unfinished_fragment_out() -> None:
    (message,) = collect(recorded("cut_tool_input"), rxo.final_message())
    tool = message.content[1]
    assert isinstance(tool, rxstream.ToolUseBlock)
    assert tool.input == CUT_INPUT
    assert message.stop_reason == "max_tokens"


def test_tool_inputs_gives_a_cut_marker_and_no_complete_input() -> None:
    updates = collect(recorded("cut_tool_input"), rxo.tool_inputs())
    assert [type(u).__name__ for u in updates] == ["ToolInputDelta"] * 4 + ["ToolInputCut"]
    assert not any(isinstance(u, rxo.ToolInput) for u in updates)
    assert updates[-1] == rxo.ToolInputCut(1, TOOL_ID, "create_task", CUT_INPUT, "max_tokens")
    # While it streamed, the open string showed cut short, as every partial value does.
    assert updates[-2].partial["notes"] == "Filing taxes"


def test_cut_blocks_operator_names_the_block_and_the_stop_reason() -> None:
    (cut,) = collect(recorded("cut_tool_input"), rxo.cut_blocks())
    assert cut == rxo.CutBlock(
        1,
        rxstream.ToolUseBlock(
            id=TOOL_ID, name="create_task", input=CUT_INPUT, caller={"type": "direct"}
        ),
        "max_tokens",
    )
    assert collect(recorded("fallback"), rxo.cut_blocks()) == []


def test_snapshots_say_cut_only_once_the_message_ended() -> None:
    snapshots = collect(recorded("cut_tool_input"), rxo.snapshots())
    assert all(s.cut_blocks == () for s in snapshots[:-1])
    last = snapshots[-1]
    assert last.complete
    assert [(c.index, c.stop_reason) for c in last.cut_blocks] == [(1, "max_tokens")]
    # A subscriber that joins after the end (a SnapshotEvent) sees the same.
    late = rxstream.accumulate.MessageAccumulator()
    late.feed(rxstream.SnapshotEvent(last))
    assert late.cut_blocks == last.cut_blocks
    assert late.message() == last.to_message()


def test_a_subscriber_joining_mid_block_names_the_cut_block_too() -> None:
    events = list(rxstream.sse.iter_events([recorded("cut_tool_input")]))
    whole, early = (
        rxstream.accumulate.MessageAccumulator(),
        rxstream.accumulate.MessageAccumulator(),
    )
    for event in events[:7]:  # up to the tool block's second fragment
        early.feed(event)
    late = rxstream.accumulate.MessageAccumulator()
    late.feed(rxstream.SnapshotEvent(early.snapshot()))
    for event in events:
        whole.feed(event)
    for event in events[7:]:
        late.feed(event)
    assert late.cut_blocks == whole.cut_blocks
    assert [c.index for c in late.cut_blocks] == [1]
    assert late.message() == whole.message()


def _stream(blocks: list[list[dict[str, Any]]], stop_reason: str = "max_tokens") -> bytes:
    events: list[dict[str, Any]] = [
        {
            "type": "message_start",
            "message": {
                "id": "msg_1",
                "type": "message",
                "role": "assistant",
                "model": "claude-sonnet-4-6",
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": dict(START_USAGE),
            },
        }
    ]
    for block in blocks:
        events.extend(block)
    events.append(
        {
            "type": "message_delta",
            "delta": {"stop_reason": stop_reason, "stop_sequence": None},
            "usage": {"output_tokens": 5},
        }
    )
    events.append({"type": "message_stop"})
    return sse(events)


def _tool(index: int, fragments: list[str], *, stop: bool) -> list[dict[str, Any]]:
    start = {"type": "tool_use", "id": "toolu_1", "name": "t", "input": {}}
    return [
        {"type": "content_block_start", "index": index, "content_block": start},
        *(
            {
                "type": "content_block_delta",
                "index": index,
                "delta": {"type": "input_json_delta", "partial_json": f},
            }
            for f in fragments
        ),
        *([{"type": "content_block_stop", "index": index}] if stop else []),
    ]


def test_a_cut_text_block_is_named_too() -> None:
    text = [
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "text_delta", "text": "The answer is"},
        },
    ]
    (cut,) = collect(_stream([text], "refusal"), rxo.cut_blocks())
    assert cut == rxo.CutBlock(0, rxstream.TextBlock(text="The answer is"), "refusal")


@pytest.mark.parametrize(
    ("fragments", "expected"),
    [
        ([], {}),
        ([""], {}),
        (["  "], {}),
        (['{"n": 12'], {"n": 12}),
        (['{"n": 1.', "5e"], {}),
        (['{"ok": tru'], {}),
        (['{"ok": true'], {"ok": True}),
        (['{"a": [1, {"b": "c'], {"a": [1, {}]}),
        (['{"a": "x", "b'], {"a": "x"}),
    ],
)
def test_cut_input_is_what_the_sdk_shows(fragments: list[str], expected: Any) -> None:
    (message,) = collect(_stream([_tool(0, fragments, stop=False)]), rxo.final_message())
    assert message.content[0].input == expected


def test_invalid_json_in_a_cut_block_is_an_error_naming_it() -> None:
    errors: list[Exception] = []
    data = _stream([_tool(0, ['{"a": 1]'], stop=False)])
    rxstream.from_sse([data]).pipe(rxo.final_message()).subscribe(on_error=errors.append)
    (error,) = errors
    assert isinstance(error, rxstream.StreamDecodeError)
    assert "tool 't' (block 0, cut off before its end)" in str(error)


def test_blocks_that_stopped_are_not_cut() -> None:
    data = _stream([_tool(0, ['{"a": 1}'], stop=True)], "tool_use")
    assert collect(data, rxo.cut_blocks()) == []
    assert collect(data, rxo.tool_inputs())[-1] == rxo.ToolInput(0, "toolu_1", "t", {"a": 1})


def test_message_stream_names_the_cut_block() -> None:
    with (
        loopback(Reply(chunks=chunked(recorded("cut_tool_input"), 17))) as server,
        rxstream.Client(base_url=server.url, api_key="test", max_retries=0) as client,
        client.messages.stream(**PARAMS) as stream,
    ):
        assert stream.cut_blocks == ()
        kinds = [e.type for e in stream]
        message = stream.get_final_message()
        cut: tuple[rxo.CutBlock, ...] = stream.cut_blocks
    # As the SDK: no content_block_stop event for the cut block (index 1).
    assert kinds.count("content_block_stop") == 1
    tool = message.content[1]
    assert isinstance(tool, rxstream.ToolUseBlock)
    assert tool.input == CUT_INPUT
    assert [(c.index, c.block.type, c.stop_reason) for c in cut] == [(1, "tool_use", "max_tokens")]


@pytest.mark.anyio
async def test_async_message_stream_names_the_cut_block(anyio_backend: str) -> None:
    with loopback(Reply(chunks=chunked(recorded("cut_tool_input"), 17))) as server:
        async with (
            rxstream.AsyncClient(base_url=server.url, api_key="t", max_retries=0) as client,
            client.messages.stream(**PARAMS) as stream,
        ):
            message = await stream.get_final_message()
            cut = stream.cut_blocks
    tool = message.content[1]
    assert isinstance(tool, rxstream.ToolUseBlock)
    assert tool.input == CUT_INPUT
    assert [(c.index, c.stop_reason) for c in cut] == [(1, "max_tokens")]


# --- the parser's cut value against jiter's partial mode, on every prefix ---------------


def jiter_cut(text: str) -> Any:
    try:
        return jiter.from_json(text.encode(), partial_mode=True)
    except ValueError:
        return "(error)"


def parser_cut(text: str) -> Any:
    parser = PartialJSONParser()
    parser.feed(text)
    try:
        return parser.cut_value()
    except JSONSyntaxError:
        return "(error)"


@settings(max_examples=150, deadline=None)
@given(value=json_values(), indent=st.sampled_from([None, 1]))
def test_cut_value_matches_jiter_partial_mode_on_every_prefix(
    value: Any, indent: int | None
) -> None:
    text = json.dumps({"v": value}, ensure_ascii=False, indent=indent)
    for end in range(1, len(text) + 1):
        prefix = text[:end]
        assert repr(parser_cut(prefix)) == repr(jiter_cut(prefix)), prefix


# --- end to end: the emulator cuts a tool input by max_tokens as the API does ------------

WEATHER_TOOL = {
    "name": "get_weather",
    "description": "Get the current weather in a given location",
    "input_schema": {
        "type": "object",
        "properties": {"location": {"type": "string"}},
        "required": ["location"],
    },
}


def test_a_tool_input_cut_by_max_tokens_on_the_emulator(emulator: Emulator) -> None:
    request: dict[str, Any] = {
        "model": "claude-sonnet-4-5",
        "max_tokens": 12,
        "tools": [WEATHER_TOOL],
        "messages": [{"role": "user", "content": "Weather in Rome?"}],
    }
    with (
        anthropic.Anthropic(base_url=emulator.base_url, api_key="t", max_retries=0) as sdk,
        sdk.messages.stream(**request) as theirs,
    ):
        expected = theirs.get_final_message()
    with rxstream.Client(base_url=emulator.base_url, api_key="t", max_retries=0) as client:
        with client.messages.stream(**request) as stream:
            message = stream.get_final_message()
            (cut,) = stream.cut_blocks
        updates: list[Any] = []
        client.messages.observe(**request).pipe(rxo.tool_inputs()).subscribe(updates.append)
    assert message.stop_reason == "max_tokens"
    assert cut.stop_reason == "max_tokens"
    assert cut.block == message.content[cut.index]
    assert isinstance(cut.block, rxstream.ToolUseBlock)
    theirs_block = expected.content[cut.index]
    assert isinstance(theirs_block, anthropic.types.ToolUseBlock)
    assert cut.block.input == theirs_block.input
    assert isinstance(updates[-1], rxo.ToolInputCut)
    assert not any(isinstance(u, rxo.ToolInput) for u in updates)


def test_fine_grained_tool_streaming_does_not_keep_the_cut_string() -> None:
    """A deliberate difference (README): with this beta the SDK's beta stream keeps the cut
    string (`"notes": "Filing taxes"`) in the final input; rxstream never presents it."""
    with (
        loopback(Reply(chunks=[recorded("cut_tool_input")])) as server,
        rxstream.Client(base_url=server.url, api_key="test", max_retries=0) as client,
        client.beta.messages.stream(
            **PARAMS, betas=["fine-grained-tool-streaming-2025-05-14"]
        ) as stream,
    ):
        tool = stream.get_final_message().content[1]
    assert isinstance(tool, rxstream.ToolUseBlock)
    assert tool.input == CUT_INPUT
