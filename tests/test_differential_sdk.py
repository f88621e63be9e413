"""Differential test: for the same SSE bytes, rxstream's `final_message()` equals the official
SDK's `MessageStream.get_final_message()` (anthropic 2.13, a dev dependency only).

Both messages are compared as JSON after these normalizations, and no others:

1. A field that is null and a field that is absent mean the same thing. The SDK's
   `model_dump()` writes every optional field of its models, as null when unset
   (`caller`, `file_id`, `inference_geo`, `parsed_output`, ...); rxstream leaves out fields
   whose default is None but writes required-nullable ones (`stop_sequence`,
   `document_title`) as null. So null-valued keys are dropped on both sides, except inside a
   tool's `input`, which is the tool's own JSON and must match exactly, nulls included.
2. `container.expires_at` is compared as a datetime: the SDK parses it and writes it back in
   its own ISO format; rxstream keeps the string it received.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import anthropic
import httpx2
import pytest
from hypothesis import HealthCheck, given, settings
from streams import (
    SDK_CASES,
    START_USAGE,
    Stream,
    Text,
    Thinking,
    ToolUse,
    WholeBlock,
    chunk_sizes,
    chunked,
    normalize,
    stream_strategy,
)

import rxstream
from rxstream import operators as rxo


class SDK:
    """The official client over httpx2's MockTransport, answering with the bytes given."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        transport = httpx2.MockTransport(self._answer)
        self.client = anthropic.Anthropic(
            api_key="test",
            base_url="http://test",
            http_client=httpx2.Client(transport=transport),
            max_retries=0,
        )

    def _answer(self, request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(
            200, headers={"content-type": "text/event-stream"}, content=iter(self.chunks)
        )

    def final_message(self, chunks: list[bytes]) -> Any:
        self.chunks = chunks
        with self.client.messages.stream(
            model="rxstream-differential",  # not a real model: no deprecation warning, ever
            max_tokens=1024,
            messages=[{"role": "user", "content": "Hi"}],
        ) as stream:
            message = stream.get_final_message()
        return normalize(message.model_dump(mode="json", warnings=False))


@pytest.fixture(scope="module")
def sdk() -> Iterator[SDK]:
    official = SDK()
    yield official
    official.client.close()


def rxstream_final_message(chunks: list[bytes]) -> Any:
    out: list[rxstream.Message] = []
    rxstream.from_sse(chunks).pipe(rxo.final_message()).subscribe(out.append)
    (message,) = out
    return normalize(json.loads(rxstream.encode(message)))


def assert_same_final_message(sdk: SDK, chunks: list[bytes]) -> None:
    ours = rxstream_final_message(chunks)
    assert ours == sdk.final_message(chunks)


CASES = {
    **SDK_CASES,
    "tool_use_empty_input": Stream([ToolUse({}, json_text="", empty_first=True)]),
    "tool_use_one_char_fragments": Stream([ToolUse({"a": "é", "b": [1, 2]}, fragment=1)]),
    "usage_with_fields_left_out_or_null": Stream(
        [Text("hi")],
        delta_usage={
            "output_tokens": 15,
            "input_tokens": None,
            "cache_read_input_tokens": 300,
            "server_tool_use": {"web_search_requests": 1, "web_fetch_requests": 2},
        },
    ),
    "usage_fields_the_sdk_knows": Stream(
        [Thinking("hmm"), Text("hi")],
        start_usage={**START_USAGE, "inference_geo": "us", "speed": "standard"},
        delta_usage={"output_tokens": 15, "output_tokens_details": {"thinking_tokens": 9}},
    ),
    "stop_sequence": Stream([Text("1, 2, 3")], stop_reason="stop_sequence", stop_sequence="4"),
    "unknown_block_type": Stream([WholeBlock({"type": "hologram", "frames": [1, 2]}), Text("x")]),
}


@pytest.mark.parametrize("stream", CASES.values(), ids=CASES.keys())
@pytest.mark.parametrize("size", [1, 7, 4096])
def test_final_message_matches_the_sdk(sdk: SDK, stream: Stream, size: int) -> None:
    assert_same_final_message(sdk, chunked(stream.sse(), size))


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(stream=stream_strategy(), sizes=chunk_sizes())
def test_final_message_matches_the_sdk_for_generated_streams(
    sdk: SDK, stream: Stream, sizes: list[int]
) -> None:
    assert_same_final_message(sdk, chunked(stream.sse(), sizes))
