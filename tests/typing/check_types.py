"""Typing examples: mypy --strict checks these (tests/test_static.py); they are not run.

`assert_type` fails the type check if the inferred type differs.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, assert_type

import msgspec
import reactivex

import rxstream
from rxstream import operators as rxo
from rxstream.adapters import MessageStream, MessageStreamManager, StreamEvent


def narrowing_on_type(event: rxstream.MessageStreamEvent) -> None:
    if event.type == "message_start":
        assert_type(event, rxstream.MessageStartEvent)
        assert_type(event.message.id, str)
    elif event.type == "content_block_delta":
        assert_type(event.index, int)
        if event.delta.type == "text_delta":
            assert_type(event.delta, rxstream.TextDelta)
            assert_type(event.delta.text, str)
        elif event.delta.type == "input_json_delta":
            assert_type(event.delta.partial_json, str)
    elif event.type == "message_delta":
        assert_type(event.usage.output_tokens, int)
        assert_type(event.delta.stop_reason, str | None)
    elif event.type == "unknown":
        assert_type(event, rxstream.types.UnknownEvent)
        assert_type(event.raw, bytes)


def adapter_events(stream: MessageStream) -> None:
    for event in stream:
        assert_type(event, StreamEvent)
        if event.type == "text":
            assert_type(event.snapshot, str)
        elif event.type == "content_block_stop":
            assert_type(event.content_block, rxstream.ContentBlock)
        elif event.type == "message_stop":
            assert_type(event.message, rxstream.Message)
    assert_type(stream.text_stream, Iterator[str])
    assert_type(stream.get_final_message(), rxstream.Message)
    assert_type(stream.current_message_snapshot.content, tuple[rxstream.ContentBlock, ...])
    assert_type(stream.cut_blocks, tuple[rxo.CutBlock, ...])
    for event in stream:
        if event.type == "compaction":
            assert_type(event.content, str | None)


def beta_surface(client: rxstream.Client, message: rxstream.Message) -> None:
    manager = client.beta.messages.stream(model="m", max_tokens=8, messages=[], betas=["b"])
    assert_type(manager, MessageStreamManager)
    assert_type(message.extras, dict[str, Any] | None)
    assert_type(message.usage.iterations, list[dict[str, Any]] | None)
    for block in message.content:
        if block.type == "compaction":
            assert_type(block, rxstream.types.CompactionBlock)
            assert_type(block.encrypted_content, str | None)
        elif block.type == "fallback":
            assert_type(block.to.model, str)
        elif block.type == "tool_use":
            assert_type(block.extras, dict[str, Any] | None)


def operators_keep_their_types(source: reactivex.Observable[rxstream.MessageStreamEvent]) -> None:
    assert_type(source.pipe(rxo.text_deltas()), reactivex.Observable[str])
    assert_type(source.pipe(rxo.snapshots()), reactivex.Observable[rxstream.MessageSnapshot])
    assert_type(source.pipe(rxo.final_message()), reactivex.Observable[rxstream.Message])
    assert_type(source.pipe(rxo.usage()), reactivex.Observable[rxstream.Usage])
    inputs = source.pipe(rxo.tool_inputs())
    assert_type(inputs, reactivex.Observable[rxo.ToolInputDelta | rxo.ToolInput | rxo.ToolInputCut])
    assert_type(source.pipe(rxo.cut_blocks()), reactivex.Observable[rxo.CutBlock])
    assert_type(source.pipe(rxo.metrics()), reactivex.Observable[rxo.StreamMetrics])
    fields = source.pipe(rxo.tool_fields())
    assert_type(fields, reactivex.Observable[rxo.FieldDone | rxo.StringChunk | rxo.ToolInput])
    assert_type(source.pipe(rxo.tool_field("/urls/*")), reactivex.Observable[rxo.FieldDone])


class Search(msgspec.Struct):
    query: str


def typed_tools_are_typed(source: reactivex.Observable[rxstream.MessageStreamEvent]) -> None:
    assert_type(rxstream.tool(Search), dict[str, Any])
    typed = source.pipe(rxo.typed_tool_inputs(Search))
    assert_type(typed, reactivex.Observable[Search | rxo.ToolInputError])


def sources_are_typed(chunks: list[bytes]) -> None:
    assert_type(rxstream.from_sse(chunks), reactivex.Observable[rxstream.MessageStreamEvent])
    assert_type(list(rxstream.sse.iter_events(chunks)), list[rxstream.MessageStreamEvent])
    shared = rxstream.SharedStream(rxstream.from_sse(chunks))
    assert_type(shared.pipe(rxo.final_text()), reactivex.Observable[str])


def snapshot_fields(snapshot: rxstream.MessageSnapshot) -> None:
    assert_type(snapshot.text, str)
    assert_type(snapshot.to_message(), rxstream.Message)
    assert_type(snapshot.stop_reason, str | None)
    unused: Any = snapshot
    del unused
