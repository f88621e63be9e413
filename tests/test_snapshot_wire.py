"""`event: snapshot` on the wire: `from_sse` resumes from it exactly, wherever the stream
was cut (mid-text, mid-thinking, mid-tool-input, after the end)."""

from __future__ import annotations

import pytest

import rxstream.operators as rxo
from rxstream import Client, StreamDecodeError, encode, from_sse
from rxstream._demo import WEATHER_TOOL
from rxstream._snapshot_wire import decode_snapshot, encode_snapshot
from rxstream.accumulate import MessageAccumulator
from rxstream.emulator import Emulator
from rxstream.types import Message, MessageStreamEvent


@pytest.fixture(scope="module")
def events(emulator: Emulator) -> list[MessageStreamEvent]:
    """A reply with thinking, text and a tool call whose input streams in fragments."""
    with Client(base_url=emulator.base_url, api_key="k") as client:
        return list(
            client.messages.create(
                stream=True,
                model="claude-sonnet-4-5",
                max_tokens=2048,
                messages=[{"role": "user", "content": "What is the weather in Paris?"}],
                tools=[WEATHER_TOOL],
                thinking={"type": "enabled", "budget_tokens": 1024},
            )
        )


def test_a_snapshot_then_the_tail_reads_as_the_whole_stream(
    events: list[MessageStreamEvent],
) -> None:
    whole = MessageAccumulator()
    for event in events:
        whole.feed(event)
    assert {e.type for e in events} >= {"content_block_delta", "content_block_stop"}
    for cut in range(1, len(events) + 1):
        accumulator = MessageAccumulator()
        for event in events[:cut]:
            accumulator.feed(event)
        body = b"event: snapshot\ndata: " + encode_snapshot(accumulator.snapshot()) + b"\n\n"
        body += b"".join(
            b"event: " + e.type.encode() + b"\ndata: " + encode(e) + b"\n\n" for e in events[cut:]
        )
        final: list[Message] = []
        from_sse([body]).pipe(rxo.final_message()).subscribe(final.append)
        assert final == [whole.message()], cut


def test_a_snapshot_that_is_not_one_names_what_is_wrong() -> None:
    with pytest.raises(StreamDecodeError, match="snapshot event does not match the schema"):
        decode_snapshot(b'{"type": "snapshot", "message": 3}')
