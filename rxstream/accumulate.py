"""Folding events into a message: what the operators and adapters are built on.

`MessageAccumulator` takes events one by one (O(size of the event) each) and hands out
`MessageSnapshot`s, immutable views of the message so far; `SnapshotEvent` carries one to a
subscriber that joins a `SharedStream` late; `StreamItem` is what every operator consumes.

    accumulator = rxstream.accumulate.MessageAccumulator()
    for event in rxstream.sse.iter_events(chunks):
        accumulator.feed(event)
    message = accumulator.snapshot().to_message()
"""

from ._accumulate import MessageAccumulator as MessageAccumulator
from ._accumulate import MessageSnapshot as MessageSnapshot
from ._accumulate import SnapshotEvent as SnapshotEvent
from ._accumulate import StreamItem as StreamItem

__all__ = ["MessageAccumulator", "MessageSnapshot", "SnapshotEvent", "StreamItem"]
