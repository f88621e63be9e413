"""Fields neither rxstream nor the SDK declares survive on messages, usage and content blocks:
decoding keeps them in `extras`, accumulation carries them as the SDK does (message_start's
and content_block_start's; a message_delta's usage extras stay on that event), and
`encode()`, `get_final_message()` and non-streaming `create()` give them back in place."""

from __future__ import annotations

import json
from typing import Any

import msgspec
from loopback import Reply, loopback
from recorded import PARAMS, SDK, recorded
from streams import chunked

import rxstream
from rxstream import operators as rxo

MESSAGE_EXTRAS = {"routing": {"region": "us-east", "shard": 7}, "safety_labels": []}
USAGE_EXTRAS = {"reasoning_budget_left": {"tokens": 3900, "unit": "token"}}


def final_message(data: bytes, size: int = 5) -> rxstream.Message:
    out: list[rxstream.Message] = []
    rxstream.from_sse(chunked(data, size)).pipe(rxo.final_message()).subscribe(out.append)
    (message,) = out
    return message


def test_decoded_and_accumulated_values_keep_them() -> None:
    message = final_message(recorded("unknown_fields"))
    assert message.extras == MESSAGE_EXTRAS
    # message_start's usage extras survive the message_delta, as in the SDK's accumulation.
    assert message.usage.extras == USAGE_EXTRAS
    thinking, text, tool = message.content
    assert thinking == rxstream.ThinkingBlock(
        thinking="Two tools; weather first.",
        signature="EqMBCkgIARABGAIiQL1",
        extras={"summary_level": "full"},
    )
    assert text == rxstream.TextBlock(
        text="Let me check.", extras={"annotations": [{"kind": "emphasis", "start": 0, "end": 5}]}
    )
    assert tool == rxstream.ToolUseBlock(
        id="toolu_01Ab3CdE4fGh5IjK6lMn7OpQ",
        name="get_weather",
        input={"city": "Lyon"},
        extras={"origin": {"planner": "v2"}, "priority": None},
    )


def test_the_message_delta_usage_keeps_its_own() -> None:
    events = list(rxstream.sse.iter_events([recorded("unknown_fields")]))
    (delta,) = [e for e in events if isinstance(e, rxstream.MessageDeltaEvent)]
    assert delta.usage.extras == {"reasoning_budget_left": {"tokens": 3842, "unit": "token"}}


def test_encode_puts_them_back_in_place() -> None:
    message = final_message(recorded("unknown_fields"))
    data = json.loads(rxstream.encode(message))
    assert "__rxstream_extras__" not in json.dumps(data)
    assert data["routing"] == MESSAGE_EXTRAS["routing"]
    assert data["safety_labels"] == []
    assert data["usage"]["reasoning_budget_left"] == {"tokens": 3900, "unit": "token"}
    assert data["content"][0]["summary_level"] == "full"
    assert data["content"][2]["origin"] == {"planner": "v2"}
    assert data["content"][2]["priority"] is None
    # Declared fields first, then the extras, as the SDK's model_dump() orders them.
    assert list(data)[-2:] == ["routing", "safety_labels"]
    # A block, a usage and a tuple of blocks encode alone just as well.
    assert json.loads(rxstream.encode(message.content[1]))["annotations"][0]["kind"] == "emphasis"
    assert json.loads(rxstream.encode(message.usage))["reasoning_budget_left"]["tokens"] == 3900
    assert [b.get("summary_level") for b in json.loads(rxstream.encode(message.content))] == [
        "full",
        None,
        None,
    ]


def test_a_cut_block_encodes_its_block_with_them() -> None:
    block = rxstream.TextBlock(text="cut", extras={"annotations": []})
    assert json.loads(rxstream.encode(rxo.CutBlock(0, block, "max_tokens"))) == {
        "index": 0,
        "block": {"type": "text", "text": "cut", "annotations": []},
        "stop_reason": "max_tokens",
    }


def test_a_tool_input_key_named_like_the_extras_field_is_left_alone() -> None:
    block = rxstream.ToolUseBlock(
        id="toolu_1",
        name="t",
        input={"__rxstream_extras__": {"x": 1}},
        extras={"origin": "planner"},
    )
    assert json.loads(rxstream.encode(block)) == {
        "type": "tool_use",
        "id": "toolu_1",
        "name": "t",
        "input": {"__rxstream_extras__": {"x": 1}},
        "origin": "planner",
    }


def test_they_match_what_the_sdk_keeps() -> None:
    sdk = SDK()
    try:
        data = recorded("unknown_fields")
        for beta in (False, True):
            theirs = sdk.final_message([data], beta=beta)
            assert theirs["routing"] == MESSAGE_EXTRAS["routing"]
            assert theirs["usage"]["reasoning_budget_left"] == USAGE_EXTRAS["reasoning_budget_left"]
            assert theirs["content"][1]["annotations"][0]["kind"] == "emphasis"
    finally:
        sdk.close()


def test_non_streaming_create_keeps_them() -> None:
    body = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-6",
        "content": [{"type": "text", "text": "hi", "annotations": []}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 3, "output_tokens": 1, "carbon_grams": 0.2},
        "routing": {"region": "eu"},
    }
    reply = Reply(chunks=[msgspec.json.encode(body)], headers={"content-type": "application/json"})
    with (
        loopback(reply) as server,
        rxstream.Client(base_url=server.url, api_key="t", max_retries=0) as client,
    ):
        message = client.messages.create(**PARAMS)
    assert message.extras == {"routing": {"region": "eu"}}
    assert message.usage.extras == {"carbon_grams": 0.2}
    assert message.content[0] == rxstream.TextBlock(text="hi", extras={"annotations": []})
    assert json.loads(rxstream.encode(message)) == body | {"stop_sequence": None}


def test_snapshots_and_the_stream_have_them_from_the_start() -> None:
    snapshots: list[Any] = []
    rxstream.from_sse([recorded("unknown_fields")]).pipe(rxo.snapshots()).subscribe(
        snapshots.append
    )
    assert all(s.to_message().extras == MESSAGE_EXTRAS for s in snapshots)
    with (
        loopback(Reply(chunks=[recorded("unknown_fields")])) as server,
        rxstream.Client(base_url=server.url, api_key="t", max_retries=0) as client,
        client.messages.stream(**PARAMS) as stream,
    ):
        assert stream.get_final_message().usage.extras == USAGE_EXTRAS


def test_a_schema_error_next_to_an_unknown_field_is_still_reported() -> None:
    data = (
        b'event: message_start\ndata: {"type":"message_start","message":{"id":"m","type":'
        b'"message","role":"assistant","content":[],"model":"x","stop_reason":null,'
        b'"stop_sequence":null,"usage":{"input_tokens":"many","output_tokens":1},"new":1}}\n\n'
    )
    errors: list[Exception] = []
    rxstream.from_sse([data]).subscribe(on_error=errors.append)
    (error,) = errors
    assert isinstance(error, rxstream.StreamDecodeError)
    assert "$.message.usage.input_tokens" in str(error)
