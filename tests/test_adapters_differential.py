"""Differential test of the adapters: the official SDK (anthropic 2.13) and rxstream read the
same bytes from the same loopback server, over real sockets, and must agree on

- the events that iterating `messages.stream(...)` yields, type by type and field by field
  (`text`/`thinking` with their snapshots, `signature`, `citation`, `input_json`,
  `content_block_stop.content_block`, `message_stop.message`, the raw events' JSON);
- `text_stream`, `get_final_message()` and `get_final_text()` (or both raising RuntimeError);
- the raw events of `messages.create(stream=True)`.

Values are compared as JSON after these normalizations, and no others:

1. A null field and an absent field mean the same: the SDK's `model_dump()` writes every
   optional field as null (`caller`, `file_id`, `inference_geo`, ...) and rxstream leaves out
   those whose default is None, so null-valued keys are dropped on both sides, except inside
   a tool's `input` (the tool's own JSON, compared exactly).
2. `container.expires_at` is compared as a datetime (the SDK re-writes it in its own format).
3. `InputJsonEvent.snapshot` is compared at each block's last fragment, where it is the whole
   input. Before that the two differ by design: the SDK (jiter's partial mode) leaves out a
   string still open and shows a number or literal the next fragment may still extend
   (`-9` of `-900`); rxstream shows the open string cut short and a number or literal only
   once a delimiter follows it, so no value it shows ever changes but by growing.
4. `create(stream=True)`: rxstream also yields `ping` events (they show the connection is
   live; the SDK drops them), so pings are filtered out of rxstream's side.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import anthropic
import pytest
from hypothesis import HealthCheck, given, settings
from loopback import LoopbackServer, Reply, loopback
from streams import (
    SDK_CASES,
    Stream,
    ToolUse,
    chunk_sizes,
    chunked,
    normalize,
    stream_strategy,
)

import rxstream

PARAMS: dict[str, Any] = {
    "model": "rxstream-differential",  # not a real model: the SDK warns about none
    "max_tokens": 1024,
    "messages": [{"role": "user", "content": "Hi"}],
}


def sdk_json(value: Any) -> Any:
    return normalize(value.model_dump(mode="json", warnings=False))


def rx_json(value: Any) -> Any:
    return normalize(json.loads(rxstream.encode(value)))


def digest(events: list[Any], to_json: Callable[[Any], Any]) -> list[tuple[Any, ...]]:
    """What each event says, comparably: its type and its fields as JSON."""
    out: list[tuple[Any, ...]] = []
    for k, e in enumerate(events):
        if e.type == "text":
            out.append((e.type, e.text, e.snapshot))
        elif e.type == "thinking":
            out.append((e.type, e.thinking, e.snapshot))
        elif e.type == "signature":
            out.append((e.type, e.signature))
        elif e.type == "citation":
            out.append((e.type, to_json(e.citation), [to_json(c) for c in e.snapshot]))
        elif e.type == "input_json":
            last = events[k + 1].type == "content_block_stop"
            out.append((e.type, e.partial_json, e.snapshot if last else "(partial)"))
        elif e.type == "content_block_stop":
            out.append((e.type, e.index, to_json(e.content_block)))
        elif e.type == "message_stop":
            out.append((e.type, to_json(e.message)))
        else:
            out.append((e.type, to_json(e)))
    return out


@dataclass
class Observed:
    """Everything a program can read from one client's streams of the same bytes."""

    events: list[tuple[Any, ...]]
    text_stream: list[str]
    final_message: Any
    final_text: str | None  # None: get_final_text() raised RuntimeError
    raw_events: list[Any]


def final_text(get: Callable[[], str]) -> str | None:
    try:
        return get()
    except RuntimeError:
        return None


def observe_sdk(client: anthropic.Anthropic) -> Observed:
    with client.messages.stream(**PARAMS) as stream:
        events = digest(list(stream), sdk_json)
        message = sdk_json(stream.get_final_message())
        text = final_text(stream.get_final_text)
    with client.messages.stream(**PARAMS) as stream:
        texts = list(stream.text_stream)
    with client.messages.create(**PARAMS, stream=True) as raw:
        raw_events = [sdk_json(e) for e in raw]
    return Observed(events, texts, message, text, raw_events)


def observe_rxstream(client: rxstream.Client) -> Observed:
    with client.messages.stream(**PARAMS) as stream:
        events = digest(list(stream), rx_json)
        message = rx_json(stream.get_final_message())
        text = final_text(stream.get_final_text)
    with client.messages.stream(**PARAMS) as stream:
        texts = list(stream.text_stream)
    with client.messages.create(**PARAMS, stream=True) as raw:
        raw_events = [rx_json(e) for e in raw if e.type != "ping"]
    return Observed(events, texts, message, text, raw_events)


class Clients:
    """Both clients on one loopback server that answers with the bytes last given."""

    def __init__(self, server: LoopbackServer, replies: list[Reply]) -> None:
        self._replies = replies
        self.sdk = anthropic.Anthropic(base_url=server.url, api_key="test", max_retries=0)
        self.ours = rxstream.Client(base_url=server.url, api_key="test", max_retries=0)

    def assert_agree(self, chunks: list[bytes]) -> None:
        self._replies.append(Reply(chunks=chunks))
        expected = observe_sdk(self.sdk)
        observed = observe_rxstream(self.ours)
        assert observed.events == expected.events
        assert observed.text_stream == expected.text_stream
        assert observed.final_message == expected.final_message
        assert observed.final_text == expected.final_text
        assert observed.raw_events == expected.raw_events


@pytest.fixture(scope="module")
def clients() -> Iterator[Clients]:
    replies = [Reply()]
    with loopback(lambda seen: replies[-1]) as server:
        both = Clients(server, replies)
        yield both
        both.sdk.close()
        both.ours.close()


CASES = {
    **SDK_CASES,
    "no_text_block": Stream([ToolUse({"q": 1})], stop_reason="tool_use"),
    "no_block_at_all": Stream([], stop_reason="end_turn"),
}


@pytest.mark.parametrize("stream", CASES.values(), ids=CASES.keys())
@pytest.mark.parametrize("size", [7, None], ids=lambda s: f"chunk={s}")
def test_rxstream_reads_what_the_sdk_reads(
    clients: Clients, stream: Stream, size: int | None
) -> None:
    data = stream.sse()
    clients.assert_agree(chunked(data, size) if size else [data])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stream=stream_strategy(), sizes=chunk_sizes())
def test_rxstream_reads_what_the_sdk_reads_for_generated_streams(
    clients: Clients, stream: Stream, sizes: list[int]
) -> None:
    clients.assert_agree(chunked(stream.sse(), sizes))
