"""A `SnapshotEvent` on the wire: `event: snapshot`, so a relay can start a late reader with
one event instead of the whole stream, and any SSE reader (`from_sse` included) resumes.

The data is the message so far (`message`, its content as `to_message()` shows it), plus
what a reader needs to go on accumulating: the raw JSON text of each tool block whose input
is still streaming (`partial_json`, by block index) and whether `message_stop` came
(`complete`). Decoding feeds the equivalent events to a fresh accumulator, so the snapshot
resumes exactly as a live one does.
"""

from __future__ import annotations

from typing import Any, cast

import msgspec

from ._accumulate import MessageAccumulator, MessageSnapshot, SnapshotEvent
from ._blocks import ToolState
from ._decode import encode
from ._errors import StreamDecodeError
from ._types import (
    ContentBlockDeltaEvent,
    ContentBlockStartEvent,
    ContentBlockStopEvent,
    InputJSONDelta,
    Message,
    MessageStartEvent,
    MessageStopEvent,
    ServerToolUseBlock,
    ToolUseBlock,
)

__all__ = ["decode_snapshot", "encode_snapshot"]


class _WireSnapshot(msgspec.Struct, frozen=True):
    message: Message
    partial_json: dict[str, str] = {}
    complete: bool = False
    type: str = "snapshot"


_decoder = msgspec.json.Decoder(_WireSnapshot)


def encode_snapshot(snapshot: MessageSnapshot) -> bytes:
    """The `data:` of an `event: snapshot` for `snapshot` (JSON, one line)."""
    partial: dict[str, str] = {}
    for index, (state, mark) in enumerate(zip(snapshot._blocks, snapshot._marks, strict=True)):
        if isinstance(state, ToolState) and not (
            state.final is not None and mark == len(state.fragments)
        ):
            partial[str(index)] = "".join(state.fragments[: cast(int, mark)])
    wire = _WireSnapshot(snapshot.to_message(), partial, snapshot.complete)
    return encode(wire)


def decode_snapshot(data: bytes | Any) -> SnapshotEvent:
    """The `SnapshotEvent` an `event: snapshot`'s data (bytes, or its parsed JSON) stands for.

    Raises `StreamDecodeError` when the data is not a snapshot of that shape.
    """
    try:
        if isinstance(data, bytes | bytearray | memoryview | str):
            wire = _decoder.decode(data)
        else:
            wire = msgspec.convert(data, _WireSnapshot)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise StreamDecodeError(f"snapshot event does not match the schema: {exc}") from None
    accumulator = MessageAccumulator()
    message = wire.message
    accumulator.feed(MessageStartEvent(message=msgspec.structs.replace(message, content=())))
    for index, block in enumerate(message.content):
        partial = wire.partial_json.get(str(index))
        if partial is None:
            accumulator.feed(ContentBlockStartEvent(index=index, content_block=block))
            if isinstance(block, ToolUseBlock | ServerToolUseBlock):
                accumulator.feed(ContentBlockStopEvent(index=index))
            continue
        if not isinstance(block, ToolUseBlock | ServerToolUseBlock):
            raise StreamDecodeError(f"snapshot event: partial_json for block {index}, not a tool")
        start = msgspec.structs.replace(block, input={})
        accumulator.feed(ContentBlockStartEvent(index=index, content_block=start))
        if partial:
            delta = InputJSONDelta(partial_json=partial)
            accumulator.feed(ContentBlockDeltaEvent(index=index, delta=delta))
    if wire.complete:
        accumulator.feed(MessageStopEvent())
    return SnapshotEvent(accumulator.snapshot())
