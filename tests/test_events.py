"""Typed events: every wire type decodes to its struct, unknown types are kept raw, bad input
fails with an error that says where, and every value encodes back to the JSON it came from."""

from __future__ import annotations

import json
import pickle
import re
from collections.abc import AsyncGenerator, AsyncIterator, Iterable
from typing import Any

import msgspec
import pytest

import rxstream
from rxstream import (
    ContentBlockDeltaEvent,
    ContentBlockStartEvent,
    ContentBlockStopEvent,
    InputJSONDelta,
    Message,
    MessageDeltaEvent,
    MessageStartEvent,
    MessageStopEvent,
    StreamDecodeError,
    TextBlock,
    TextDelta,
    ThinkingBlock,
    ThinkingDelta,
    ToolUseBlock,
    Usage,
    encode,
)
from rxstream.sse import ServerSentEvent, aiter_events, aiter_sse, iter_events, iter_sse
from rxstream.types import (
    BashCodeExecutionToolResultBlock,
    CharLocationCitation,
    CitationsDelta,
    CodeExecutionToolResultBlock,
    Container,
    ContainerUploadBlock,
    ContentBlockLocationCitation,
    ErrorDetail,
    ErrorEvent,
    MessageDelta,
    MessageDeltaUsage,
    PageLocationCitation,
    PingEvent,
    RedactedThinkingBlock,
    SearchResultLocationCitation,
    ServerToolUseBlock,
    SignatureDelta,
    TextEditorCodeExecutionToolResultBlock,
    ToolSearchToolResultBlock,
    UnknownBlock,
    UnknownCitation,
    UnknownDelta,
    UnknownEvent,
    UnknownValue,
    WebFetchToolResultBlock,
    WebSearchResultLocationCitation,
    WebSearchToolResultBlock,
)

# --- the wire: one example of every event, block, delta and citation type ---------------

CITATIONS: list[tuple[dict[str, Any], Any]] = [
    (
        {
            "type": "char_location",
            "cited_text": "The grass is green.",
            "document_index": 0,
            "document_title": "Facts",
            "start_char_index": 0,
            "end_char_index": 20,
            "file_id": "file_011CNha8iCJcU1wXNR6q4V8w",
        },
        CharLocationCitation(
            cited_text="The grass is green.",
            document_index=0,
            document_title="Facts",
            start_char_index=0,
            end_char_index=20,
            file_id="file_011CNha8iCJcU1wXNR6q4V8w",
        ),
    ),
    (
        {
            "type": "page_location",
            "cited_text": "Water boils at 100 °C.",
            "document_index": 1,
            "document_title": None,
            "start_page_number": 3,
            "end_page_number": 4,
        },
        PageLocationCitation(
            cited_text="Water boils at 100 °C.",
            document_index=1,
            document_title=None,
            start_page_number=3,
            end_page_number=4,
        ),
    ),
    (
        {
            "type": "content_block_location",
            "cited_text": "数据",
            "document_index": 2,
            "document_title": "Custom",
            "start_block_index": 0,
            "end_block_index": 1,
        },
        ContentBlockLocationCitation(
            cited_text="数据",
            document_index=2,
            document_title="Custom",
            start_block_index=0,
            end_block_index=1,
        ),
    ),
    (
        {
            "type": "web_search_result_location",
            "cited_text": "Claude is a family of models.",
            "encrypted_index": "EpMBCioIAhgBIiQ0",
            "title": "Claude",
            "url": "https://example.com/claude",
        },
        WebSearchResultLocationCitation(
            cited_text="Claude is a family of models.",
            encrypted_index="EpMBCioIAhgBIiQ0",
            title="Claude",
            url="https://example.com/claude",
        ),
    ),
    (
        {
            "type": "search_result_location",
            "cited_text": "Refunds within 30 days.",
            "search_result_index": 0,
            "source": "https://example.com/policy",
            "title": None,
            "start_block_index": 0,
            "end_block_index": 0,
        },
        SearchResultLocationCitation(
            cited_text="Refunds within 30 days.",
            search_result_index=0,
            source="https://example.com/policy",
            title=None,
            start_block_index=0,
            end_block_index=0,
        ),
    ),
]

BLOCKS: list[tuple[dict[str, Any], Any]] = [
    ({"type": "text", "text": ""}, TextBlock(text="")),
    (
        {"type": "text", "text": "", "citations": [CITATIONS[0][0]]},
        TextBlock(text="", citations=(CITATIONS[0][1],)),
    ),
    (
        {"type": "thinking", "thinking": "", "signature": ""},
        ThinkingBlock(thinking="", signature=""),
    ),
    (
        {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix"},
        RedactedThinkingBlock(data="EmwKAhgBEgy3va3pzix"),
    ),
    (
        {
            "type": "tool_use",
            "id": "toolu_01T1x1fJ34qAmk2tNTrN7Up6",
            "name": "get_weather",
            "input": {},
        },
        ToolUseBlock(id="toolu_01T1x1fJ34qAmk2tNTrN7Up6", name="get_weather", input={}),
    ),
    (
        {
            "type": "server_tool_use",
            "id": "srvtoolu_014hJH82Qum7Td6UV8gDXThB",
            "name": "web_search",
            "input": {},
        },
        ServerToolUseBlock(id="srvtoolu_014hJH82Qum7Td6UV8gDXThB", name="web_search", input={}),
    ),
    (
        {
            "type": "web_search_tool_result",
            "tool_use_id": "srvtoolu_014hJH82Qum7Td6UV8gDXThB",
            "content": [
                {
                    "type": "web_search_result",
                    "title": "Claude",
                    "url": "https://example.com/claude",
                    "encrypted_content": "EqgfCioIARgBIiQ3",
                    "page_age": "April 30, 2025",
                }
            ],
        },
        WebSearchToolResultBlock(
            tool_use_id="srvtoolu_014hJH82Qum7Td6UV8gDXThB",
            content=[
                {
                    "type": "web_search_result",
                    "title": "Claude",
                    "url": "https://example.com/claude",
                    "encrypted_content": "EqgfCioIARgBIiQ3",
                    "page_age": "April 30, 2025",
                }
            ],
        ),
    ),
    (
        {
            "type": "web_fetch_tool_result",
            "tool_use_id": "srvtoolu_01",
            "content": {
                "type": "web_fetch_result",
                "url": "https://example.com/a",
                "content": {
                    "type": "document",
                    "source": {"type": "text", "media_type": "text/plain", "data": "hi"},
                    "title": "A",
                },
                "retrieved_at": "2025-08-25T10:30:02.123456+00:00",
            },
        },
        WebFetchToolResultBlock(
            tool_use_id="srvtoolu_01",
            content={
                "type": "web_fetch_result",
                "url": "https://example.com/a",
                "content": {
                    "type": "document",
                    "source": {"type": "text", "media_type": "text/plain", "data": "hi"},
                    "title": "A",
                },
                "retrieved_at": "2025-08-25T10:30:02.123456+00:00",
            },
        ),
    ),
    (
        {
            "type": "code_execution_tool_result",
            "tool_use_id": "srvtoolu_02",
            "content": {
                "type": "code_execution_result",
                "stdout": "4\n",
                "stderr": "",
                "return_code": 0,
                "content": [],
            },
        },
        CodeExecutionToolResultBlock(
            tool_use_id="srvtoolu_02",
            content={
                "type": "code_execution_result",
                "stdout": "4\n",
                "stderr": "",
                "return_code": 0,
                "content": [],
            },
        ),
    ),
    (
        {
            "type": "bash_code_execution_tool_result",
            "tool_use_id": "srvtoolu_03",
            "content": {
                "type": "bash_code_execution_result",
                "stdout": "ok",
                "stderr": "",
                "return_code": 0,
                "content": [],
            },
        },
        BashCodeExecutionToolResultBlock(
            tool_use_id="srvtoolu_03",
            content={
                "type": "bash_code_execution_result",
                "stdout": "ok",
                "stderr": "",
                "return_code": 0,
                "content": [],
            },
        ),
    ),
    (
        {
            "type": "text_editor_code_execution_tool_result",
            "tool_use_id": "srvtoolu_04",
            "content": {
                "type": "text_editor_code_execution_view_result",
                "file_type": "text",
                "content": "x = 1\n",
                "num_lines": 1,
                "start_line": 1,
                "total_lines": 1,
            },
        },
        TextEditorCodeExecutionToolResultBlock(
            tool_use_id="srvtoolu_04",
            content={
                "type": "text_editor_code_execution_view_result",
                "file_type": "text",
                "content": "x = 1\n",
                "num_lines": 1,
                "start_line": 1,
                "total_lines": 1,
            },
        ),
    ),
    (
        {
            "type": "tool_search_tool_result",
            "tool_use_id": "srvtoolu_05",
            "content": {
                "type": "tool_search_tool_search_result",
                "tool_references": [{"type": "tool_reference", "tool_name": "get_weather"}],
            },
        },
        ToolSearchToolResultBlock(
            tool_use_id="srvtoolu_05",
            content={
                "type": "tool_search_tool_search_result",
                "tool_references": [{"type": "tool_reference", "tool_name": "get_weather"}],
            },
        ),
    ),
    (
        {"type": "container_upload", "file_id": "file_011CNha8iCJcU1wXNR6q4V8w"},
        ContainerUploadBlock(file_id="file_011CNha8iCJcU1wXNR6q4V8w"),
    ),
]

DELTAS: list[tuple[dict[str, Any], Any]] = [
    ({"type": "text_delta", "text": "Hello, wörld 🎉"}, TextDelta(text="Hello, wörld 🎉")),
    (
        {"type": "input_json_delta", "partial_json": '{"location": "San Fra'},
        InputJSONDelta(partial_json='{"location": "San Fra'),
    ),
    (
        {"type": "thinking_delta", "thinking": "Let me think.\n"},
        ThinkingDelta(thinking="Let me think.\n"),
    ),
    (
        {"type": "signature_delta", "signature": "EqQBCgIYAhIM1gbcDa9GJwZA2b3h"},
        SignatureDelta(signature="EqQBCgIYAhIM1gbcDa9GJwZA2b3h"),
    ),
    *[
        ({"type": "citations_delta", "citation": wire}, CitationsDelta(citation=value))
        for wire, value in CITATIONS
    ],
]

USAGE_WIRE = {
    "input_tokens": 25,
    "cache_creation_input_tokens": 0,
    "cache_read_input_tokens": 0,
    "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
    "output_tokens": 1,
    "service_tier": "standard",
}
USAGE = Usage(
    input_tokens=25,
    output_tokens=1,
    cache_creation_input_tokens=0,
    cache_read_input_tokens=0,
    cache_creation={"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
    service_tier="standard",
)
MESSAGE_START: tuple[dict[str, Any], MessageStartEvent] = (
    {
        "type": "message_start",
        "message": {
            "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
            "type": "message",
            "role": "assistant",
            "content": [],
            "model": "claude-sonnet-4-5",
            "stop_reason": None,
            "stop_sequence": None,
            "usage": USAGE_WIRE,
        },
    },
    MessageStartEvent(
        message=Message(
            id="msg_01XFDUDYJgAACzvnptvVoYEL",
            role="assistant",
            content=(),
            model="claude-sonnet-4-5",
            stop_reason=None,
            stop_sequence=None,
            usage=USAGE,
        )
    ),
)

EVENTS: list[tuple[dict[str, Any], Any]] = [
    MESSAGE_START,
    ({"type": "ping"}, PingEvent()),
    *[
        (
            {"type": "content_block_start", "index": i, "content_block": wire},
            ContentBlockStartEvent(index=i, content_block=value),
        )
        for i, (wire, value) in enumerate(BLOCKS)
    ],
    *[
        (
            {"type": "content_block_delta", "index": i, "delta": wire},
            ContentBlockDeltaEvent(index=i, delta=value),
        )
        for i, (wire, value) in enumerate(DELTAS)
    ],
    ({"type": "content_block_stop", "index": 0}, ContentBlockStopEvent(index=0)),
    (
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn", "stop_sequence": None},
            "usage": {
                "input_tokens": 25,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0,
                "output_tokens": 503,
                "server_tool_use": {"web_search_requests": 1},
            },
        },
        MessageDeltaEvent(
            delta=MessageDelta(stop_reason="end_turn", stop_sequence=None),
            usage=MessageDeltaUsage(
                output_tokens=503,
                input_tokens=25,
                cache_creation_input_tokens=0,
                cache_read_input_tokens=0,
                server_tool_use={"web_search_requests": 1},
            ),
        ),
    ),
    (
        {
            "type": "message_delta",
            "delta": {
                "stop_reason": "refusal",
                "stop_sequence": None,
                "stop_details": {"type": "refusal", "category": "cyber", "explanation": None},
                "container": {
                    "id": "container_011CNha8iCJcU1wXNR6q4V8w",
                    "expires_at": "2025-09-01T10:30:00Z",
                },
            },
            "usage": {"output_tokens": 504},
        },
        MessageDeltaEvent(
            delta=MessageDelta(
                stop_reason="refusal",
                stop_sequence=None,
                stop_details={"type": "refusal", "category": "cyber", "explanation": None},
                container=Container(
                    id="container_011CNha8iCJcU1wXNR6q4V8w", expires_at="2025-09-01T10:30:00Z"
                ),
            ),
            usage=MessageDeltaUsage(output_tokens=504),
        ),
    ),
    (
        {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
        ErrorEvent(error=ErrorDetail(type="overloaded_error", message="Overloaded")),
    ),
    (
        {
            "type": "error",
            "error": {"type": "api_error", "message": "Internal server error"},
            "request_id": "req_011CNha8iCJcU1wXNR6q4V8w",
        },
        ErrorEvent(
            error=ErrorDetail(type="api_error", message="Internal server error"),
            request_id="req_011CNha8iCJcU1wXNR6q4V8w",
        ),
    ),
    ({"type": "message_stop"}, MessageStopEvent()),
]

WIRE = [wire for wire, _ in EVENTS]
EXPECTED = [value for _, value in EVENTS]


def sse_bytes(payloads: Iterable[dict[str, Any] | bytes], *, named: bool = True) -> bytes:
    """The event stream of `payloads`, with `event:` lines unless `named` is false."""
    out = bytearray()
    for payload in payloads:
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        if named:
            name = payload["type"] if isinstance(payload, dict) else "unknown"
            out += f"event: {name}\n".encode()
        out += b"data: " + data + b"\n\n"
    return bytes(out)


def chunked(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


STREAM = sse_bytes(WIRE)


# --- decoding --------------------------------------------------------------------------


@pytest.mark.parametrize("chunk_size", [len(STREAM), 4096, 7, 1])
def test_every_wire_type_decodes_to_its_struct(chunk_size: int) -> None:
    assert list(iter_events(chunked(STREAM, chunk_size))) == EXPECTED


def test_the_stream_covers_every_type_of_the_design() -> None:
    events = list(iter_events([STREAM]))
    assert {e.type for e in events} == {
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
        "ping",
        "error",
    }
    blocks = {e.content_block.type for e in events if isinstance(e, ContentBlockStartEvent)}
    assert blocks == {
        "text",
        "thinking",
        "redacted_thinking",
        "tool_use",
        "server_tool_use",
        "web_search_tool_result",
        "web_fetch_tool_result",
        "code_execution_tool_result",
        "bash_code_execution_tool_result",
        "text_editor_code_execution_tool_result",
        "tool_search_tool_result",
        "container_upload",
    }
    deltas = [e.delta for e in events if isinstance(e, ContentBlockDeltaEvent)]
    assert {d.type for d in deltas} == {
        "text_delta",
        "input_json_delta",
        "thinking_delta",
        "signature_delta",
        "citations_delta",
    }
    assert {d.citation.type for d in deltas if isinstance(d, CitationsDelta)} == {
        "char_location",
        "page_location",
        "content_block_location",
        "web_search_result_location",
        "search_result_location",
    }


def test_ping_and_error_are_events_not_dropped() -> None:
    stream = sse_bytes(
        [
            {"type": "ping"},
            {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
        ]
    )
    assert list(iter_events([stream])) == [
        PingEvent(),
        ErrorEvent(error=ErrorDetail(type="overloaded_error", message="Overloaded")),
    ]


def test_events_without_an_event_line_are_typed_by_their_json_type() -> None:
    assert list(iter_events([sse_bytes(WIRE, named=False)])) == EXPECTED


def test_events_whose_json_lacks_a_type_are_typed_by_their_event_name() -> None:
    stream = (
        b"event: ping\ndata: {}\n\n"
        b'event: content_block_stop\ndata: {"index": 3}\n\n'
        b"event: message_stop\ndata: {}\n\n"
    )
    assert list(iter_events([stream])) == [
        PingEvent(),
        ContentBlockStopEvent(index=3),
        MessageStopEvent(),
    ]


def test_decode_event_types_one_raw_event() -> None:
    raw = (b"content_block_stop", b'{"type":"content_block_stop","index":2}', 1, 0, "", None)
    assert rxstream.sse.decode_event(raw) == ContentBlockStopEvent(index=2)


# --- unknown types ---------------------------------------------------------------------

UNKNOWN_BLOCK = b'{"type":"mystery_block","payload":{"a":[1,2,3]}}'
UNKNOWN_DELTA = b'{"type":"mystery_delta","bits":"0101"}'
UNKNOWN_CITATION = b'{"type":"mystery_location","cited_text":"x","where":7}'


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        pytest.param(
            b'{"type": "message_annotation", "note": "new in 2026"}',
            UnknownEvent(
                "message_annotation", b'{"type": "message_annotation", "note": "new in 2026"}'
            ),
            id="event",
        ),
        pytest.param(
            b'{"type":"content_block_start","index":0,"content_block":' + UNKNOWN_BLOCK + b"}",
            ContentBlockStartEvent(
                index=0, content_block=UnknownBlock("mystery_block", UNKNOWN_BLOCK)
            ),
            id="block",
        ),
        pytest.param(
            b'{"type":"content_block_delta","index":1,"delta":' + UNKNOWN_DELTA + b"}",
            ContentBlockDeltaEvent(index=1, delta=UnknownDelta("mystery_delta", UNKNOWN_DELTA)),
            id="delta",
        ),
        pytest.param(
            b'{"type":"content_block_delta","index":2,"delta":{"type":"citations_delta",'
            b'"citation":' + UNKNOWN_CITATION + b"}}",
            ContentBlockDeltaEvent(
                index=2,
                delta=CitationsDelta(
                    citation=UnknownCitation("mystery_location", UNKNOWN_CITATION)
                ),
            ),
            id="citation_in_delta",
        ),
        pytest.param(
            b'{"type":"content_block_start","index":3,"content_block":{"type":"text","text":"",'
            b'"citations":['
            + json.dumps(CITATIONS[1][0]).encode()
            + b","
            + UNKNOWN_CITATION
            + b"]}}",
            ContentBlockStartEvent(
                index=3,
                content_block=TextBlock(
                    text="",
                    citations=(
                        CITATIONS[1][1],
                        UnknownCitation("mystery_location", UNKNOWN_CITATION),
                    ),
                ),
            ),
            id="citation_in_block",
        ),
        pytest.param(
            json.dumps(
                {
                    **MESSAGE_START[0],
                    "message": {
                        **MESSAGE_START[0]["message"],
                        "content": [{"type": "text", "text": "hi"}, json.loads(UNKNOWN_BLOCK)],
                    },
                },
                separators=(",", ":"),
            ).encode(),
            MessageStartEvent(
                message=msgspec.structs.replace(
                    MESSAGE_START[1].message,
                    content=(TextBlock(text="hi"), UnknownBlock("mystery_block", UNKNOWN_BLOCK)),
                )
            ),
            id="block_in_message_start",
        ),
    ],
)
def test_unknown_types_decode_to_unknown_values_and_the_stream_goes_on(
    payload: bytes, expected: Any
) -> None:
    stream = sse_bytes([{"type": "ping"}]) + b"data: " + payload + b"\n\n" + sse_bytes(WIRE)
    events = list(iter_events(chunked(stream, 5)))
    assert events == [PingEvent(), expected, *EXPECTED]
    assert json.loads(encode(events[1])) == json.loads(payload)


def test_unknown_values_keep_wire_type_and_raw_json() -> None:
    delta = UnknownDelta("mystery_delta", UNKNOWN_DELTA)
    assert delta.type == "unknown"
    assert delta.wire_type == "mystery_delta"
    assert delta.raw == UNKNOWN_DELTA
    assert delta.data == {"type": "mystery_delta", "bits": "0101"}


def test_unknown_values_compare_hash_and_pickle_by_class_wire_type_and_raw() -> None:
    delta = UnknownDelta("mystery_delta", UNKNOWN_DELTA)
    assert delta == UnknownDelta("mystery_delta", UNKNOWN_DELTA)
    assert delta != UnknownBlock("mystery_delta", UNKNOWN_DELTA)
    assert delta != UnknownDelta("other", UNKNOWN_DELTA)
    assert len({delta, UnknownDelta("mystery_delta", UNKNOWN_DELTA)}) == 1
    assert pickle.loads(pickle.dumps(delta)) == delta


def test_unknown_value_repr_shows_the_start_of_the_raw_json() -> None:
    short = UnknownEvent("x", b'{"type":"x"}')
    assert repr(short) == "UnknownEvent(wire_type='x', raw=b'{\"type\":\"x\"}')"
    long = repr(UnknownEvent("x", b"[" + b"1," * 100 + b"1]"))
    assert long.endswith("...')")
    assert len(long) < 130


def test_encode_refuses_values_that_are_not_wire_values() -> None:
    with pytest.raises(NotImplementedError, match="cannot encode object"):
        encode(object())


def test_unknown_values_are_immutable() -> None:
    value = UnknownEvent("x", b"{}")
    with pytest.raises(AttributeError):
        value.raw = b"[]"  # type: ignore[misc]  # read-only for mypy too; this is the runtime
    with pytest.raises(AttributeError):
        value.other = 1


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"not json at all", id="text"),
        pytest.param(b"[1, 2, 3]", id="array"),
        pytest.param(b"42", id="number"),
        pytest.param(b'"a string"', id="string"),
        pytest.param(b'{"truncated": ', id="truncated_object"),
        pytest.param(b"\xff\xfe", id="invalid_utf8"),
        pytest.param(b"", id="empty"),
    ],
)
def test_unknown_event_with_non_json_or_non_object_data_is_kept_raw(data: bytes) -> None:
    stream = b"event: telemetry\ndata: " + data + b"\n\n" + sse_bytes([{"type": "message_stop"}])
    assert list(iter_events([stream])) == [UnknownEvent("telemetry", data), MessageStopEvent()]


def test_unknown_event_raw_is_exactly_the_data_bytes() -> None:
    data = b'{ "type" : "new_event",  "x": "\\u00e9" }'
    (event,) = iter_events([b"data: " + data + b"\n\n"])
    assert isinstance(event, UnknownEvent)
    assert event.wire_type == "new_event"
    assert event.raw == data
    assert encode(event) == data


# --- decode errors ---------------------------------------------------------------------


@pytest.mark.parametrize("chunk_size", [None, 1, 3, 7])
def test_invalid_json_in_a_known_event_names_event_ordinal_offset_and_payload(
    chunk_size: int | None,
) -> None:
    good = sse_bytes(WIRE[:3])
    bad = b'{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hel'
    stream = good + b": keep-alive\n\nevent: content_block_delta\ndata: " + bad + b"\n\n"
    chunks = [stream] if chunk_size is None else chunked(stream, chunk_size)
    with pytest.raises(StreamDecodeError) as caught:
        list(iter_events(chunks))
    message = str(caught.value)
    assert "invalid JSON" in message
    assert "'content_block_delta'" in message
    assert "event #4 " in message
    offset = len(good) + len(b": keep-alive\n\n")
    assert f"at byte {offset}" in message
    assert caught.value.offset == offset
    assert 'data starts b\'{"type":"content_block_delta","index":0,' in message


@pytest.mark.parametrize("chunk_size", [None, 4096, 1])
def test_invalid_json_among_events_of_the_api_shape_names_the_event(chunk_size: int | None) -> None:
    good = sse_bytes(WIRE[:3])
    bad = b"event: content_block_delta\ndata: {not json}\n\n"
    stream = good + bad + sse_bytes(WIRE[3:6])
    seen: list[Any] = []
    with pytest.raises(StreamDecodeError) as caught:
        seen.extend(iter_events([stream] if chunk_size is None else chunked(stream, chunk_size)))
    assert seen == EXPECTED[:3]
    assert f"event #4 'content_block_delta' at byte {len(good)}" in str(caught.value)
    assert caught.value.offset == len(good)


@pytest.mark.parametrize("chunk_size", [None, 4096, 1])
def test_unknown_event_among_events_of_the_api_shape(chunk_size: int | None) -> None:
    stream = sse_bytes(WIRE[:3]) + b"event: telemetry\ndata: <b>hi</b>\n\n" + sse_bytes(WIRE[3:])
    events = list(iter_events([stream] if chunk_size is None else chunked(stream, chunk_size)))
    assert events == [*EXPECTED[:3], UnknownEvent("telemetry", b"<b>hi</b>"), *EXPECTED[3:]]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param(b"[1, 2]", "event #1 at byte 0 is not a JSON object", id="array"),
        pytest.param(
            b'{"index": 0}',
            "event #1 at byte 0 has neither an event name nor a JSON `type`",
            id="no_type",
        ),
    ],
)
def test_unnamed_event_that_cannot_be_typed_is_an_error(data: bytes, message: str) -> None:
    with pytest.raises(StreamDecodeError, match=re.escape(message)):
        list(iter_events([b"data: " + data + b"\n\n"]))


def test_invalid_json_in_an_unnamed_event_is_an_error() -> None:
    with pytest.raises(StreamDecodeError, match=r"invalid JSON in event #1 at byte 0"):
        list(iter_events([b"data: {oops\n\n"]))


def test_events_after_a_decode_error_are_not_decoded() -> None:
    stream = b"event: ping\ndata: {bad\n\n" + sse_bytes([{"type": "message_stop"}])
    seen: list[Any] = []
    with pytest.raises(StreamDecodeError):
        seen.extend(iter_events([stream]))
    assert seen == []


def text_delta_event(**fields: Any) -> dict[str, Any]:
    event = {
        "type": "content_block_delta",
        "index": 0,
        "delta": {"type": "text_delta", "text": "a"},
    }
    return {**event, **fields}


SCHEMA_ERRORS = [
    pytest.param(
        {"type": "content_block_delta", "delta": {"type": "text_delta", "text": "a"}},
        "missing required field `index`",
        id="missing_index",
    ),
    pytest.param(text_delta_event(index="0"), "`$.index`", id="index_of_wrong_type"),
    pytest.param(
        text_delta_event(delta={"type": "text_delta"}),
        "missing required field `text` - at `$.delta`",
        id="missing_delta_field",
    ),
    pytest.param(
        text_delta_event(delta={"type": "text_delta", "text": 5}),
        "`$.delta.text`",
        id="delta_field_of_wrong_type",
    ),
    pytest.param(
        text_delta_event(delta={"text": "a"}),
        "missing required field `type` - at `$.delta`",
        id="delta_without_type",
    ),
    pytest.param(
        text_delta_event(delta={"type": "citations_delta", "citation": {"type": "char_location"}}),
        "missing required field `cited_text` - at `$.delta.citation`",
        id="citation_missing_field",
    ),
    pytest.param(
        {
            "type": "content_block_start",
            "index": 0,
            "content_block": {"type": "tool_use", "name": "get_weather", "input": {}},
        },
        "missing required field `id` - at `$.content_block`",
        id="block_missing_field",
    ),
    pytest.param(
        {
            "type": "content_block_start",
            "index": 0,
            "content_block": {
                "type": "text",
                "text": "",
                "citations": [CITATIONS[0][0], {**CITATIONS[1][0], "start_page_number": "3"}],
            },
        },
        "`$.content_block.citations[1].start_page_number`",
        id="block_citation_of_wrong_type",
    ),
    pytest.param(
        {
            "type": "message_start",
            "message": {**MESSAGE_START[0]["message"], "usage": {"input_tokens": 3}},
        },
        "missing required field `output_tokens` - at `$.message.usage`",
        id="message_usage_missing_field",
    ),
    pytest.param(
        {
            "type": "message_start",
            "message": {**MESSAGE_START[0]["message"], "content": [{"type": "text"}]},
        },
        "missing required field `text` - at `$.message.content[0]`",
        id="message_content_block_missing_field",
    ),
    pytest.param(
        {"type": "message_delta", "delta": {}, "usage": {"output_tokens": "many"}},
        "`$.usage.output_tokens`",
        id="usage_of_wrong_type",
    ),
    pytest.param(
        {"type": "error", "error": {"type": "overloaded_error"}},
        "missing required field `message` - at `$.error`",
        id="error_missing_message",
    ),
]


@pytest.mark.parametrize(("payload", "path"), SCHEMA_ERRORS)
def test_known_event_with_missing_or_wrong_field_names_the_field(
    payload: dict[str, Any], path: str
) -> None:
    stream = sse_bytes([{"type": "ping"}, payload])
    with pytest.raises(StreamDecodeError) as caught:
        list(iter_events([stream]))
    message = str(caught.value)
    assert f"event #2 '{payload['type']}' at byte {len(sse_bytes([{'type': 'ping'}]))}" in message
    assert path in message


def test_schema_error_is_found_next_to_an_unknown_type() -> None:
    payload = {
        "type": "content_block_delta",
        "index": "first",
        "delta": json.loads(UNKNOWN_DELTA),
    }
    with pytest.raises(StreamDecodeError, match=r"`\$\.index`"):
        list(iter_events([sse_bytes([payload])]))


def test_message_delta_without_the_nullable_stop_fields_decodes_as_null() -> None:
    """Some proxies drop `stop_sequence`; the API always sends it."""
    payload = {
        "type": "message_delta",
        "delta": {"stop_reason": "end_turn"},
        "usage": {"output_tokens": 1},
    }
    (event,) = iter_events([sse_bytes([payload])])
    assert event == MessageDeltaEvent(
        delta=MessageDelta(stop_reason="end_turn", stop_sequence=None),
        usage=MessageDeltaUsage(output_tokens=1),
    )


# --- round trips -----------------------------------------------------------------------


@pytest.mark.parametrize(("wire", "value"), [pytest.param(w, v, id=w["type"]) for w, v in EVENTS])
def test_every_event_encodes_back_to_the_json_it_came_from(
    wire: dict[str, Any], value: Any
) -> None:
    assert json.loads(encode(value)) == wire


@pytest.mark.parametrize(
    ("wire", "value"),
    [pytest.param(w, v, id=w["type"]) for w, v in [*BLOCKS, *DELTAS, *CITATIONS]],
)
def test_every_block_delta_and_citation_encodes_back(wire: dict[str, Any], value: Any) -> None:
    assert json.loads(encode(value)) == wire
    assert msgspec.json.decode(encode(value), type=type(value)) == value


@pytest.mark.parametrize(
    "value",
    [
        UnknownEvent("x", b'{ "type": "x", "n": 1.50 }'),
        UnknownBlock("b", UNKNOWN_BLOCK),
        UnknownDelta("d", UNKNOWN_DELTA),
        UnknownCitation("c", UNKNOWN_CITATION),
    ],
)
def test_unknown_values_encode_to_exactly_their_raw_bytes(value: UnknownValue) -> None:
    assert encode(value) == value.raw


def test_decoding_what_was_encoded_gives_the_same_events() -> None:
    events = list(iter_events([STREAM]))
    again = b"".join(b"data: " + encode(e) + b"\n\n" for e in events)
    assert list(iter_events([again])) == events


# --- async, under asyncio and trio -----------------------------------------------------


async def achunks(chunks: Iterable[bytes]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


async def collect(events: AsyncIterator[Any], into: list[Any]) -> None:
    async for event in events:
        into.append(event)


@pytest.mark.anyio
@pytest.mark.parametrize("chunk_size", [len(STREAM), 7])
async def test_aiter_events_yields_what_iter_events_yields(chunk_size: int) -> None:
    events = [e async for e in aiter_events(achunks(chunked(STREAM, chunk_size)))]
    assert events == EXPECTED


@pytest.mark.anyio
async def test_aiter_sse_yields_what_iter_sse_yields() -> None:
    stream = (
        b"\xef\xbb\xbfid: 1\r\nevent: a\r\ndata: x\r\n\r\nretry: 5\ndata: y\ndata: z\n\ndata: cut"
    )
    expected = [
        ServerSentEvent(event="a", data="x", id="1"),
        ServerSentEvent(data="y\nz", id="1", retry=5),
    ]
    assert list(iter_sse(chunked(stream, 1))) == expected
    assert [e async for e in aiter_sse(achunks(chunked(stream, 1)))] == expected


@pytest.mark.anyio
async def test_async_twins_dispatch_an_event_closed_by_a_final_cr() -> None:
    stream = b'event: message_stop\ndata: {"type":"message_stop"}\r\r'
    assert [e async for e in aiter_events(achunks([stream]))] == [MessageStopEvent()]
    assert [e async for e in aiter_sse(achunks([stream]))] == [
        ServerSentEvent(event="message_stop", data='{"type":"message_stop"}')
    ]


@pytest.mark.anyio
async def test_aiter_events_raises_stream_decode_error() -> None:
    stream = sse_bytes([{"type": "ping"}]) + b"event: message_stop\ndata: {\n\n"
    seen: list[Any] = []
    with pytest.raises(StreamDecodeError, match=r"event #2 'message_stop'"):
        await collect(aiter_events(achunks([stream])), seen)
    assert seen == [PingEvent()]


@pytest.mark.anyio
async def test_aiter_events_keeps_unknown_types() -> None:
    stream = b"event: telemetry\ndata: <b>hi</b>\n\n" + sse_bytes(WIRE)
    events = [e async for e in aiter_events(achunks(chunked(stream, 3)))]
    assert events == [UnknownEvent("telemetry", b"<b>hi</b>"), *EXPECTED]


def closing_chunks(chunks: list[bytes], closed: list[bool]) -> AsyncIterator[bytes]:
    async def gen() -> AsyncIterator[bytes]:
        try:
            for chunk in chunks:
                yield chunk
        finally:
            closed.append(True)

    return gen()


@pytest.mark.anyio
async def test_aiter_events_closes_the_chunk_iterator_when_the_consumer_stops_early() -> None:
    closed: list[bool] = []
    events = aiter_events(closing_chunks(chunked(STREAM, 7), closed))
    assert await anext(events) == EXPECTED[0]
    assert isinstance(events, AsyncGenerator)  # aiter_* are async generators
    await events.aclose()
    assert closed == [True]


@pytest.mark.anyio
async def test_aiter_events_closes_the_chunk_iterator_on_a_decode_error() -> None:
    closed: list[bool] = []
    stream = b"event: ping\ndata: {\n\n" + STREAM
    with pytest.raises(StreamDecodeError):
        await collect(aiter_events(closing_chunks(chunked(stream, 7), closed)), [])
    assert closed == [True]


@pytest.mark.anyio
async def test_aiter_sse_closes_the_chunk_iterator_when_the_consumer_stops_early() -> None:
    closed: list[bool] = []
    events = aiter_sse(closing_chunks(chunked(STREAM, 7), closed))
    await anext(events)
    assert isinstance(events, AsyncGenerator)  # aiter_* are async generators
    await events.aclose()
    assert closed == [True]
