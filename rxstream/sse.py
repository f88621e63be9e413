"""The lower layer: Server-Sent Events, and decoding them into typed events, without Rx.

`iter_sse` / `aiter_sse` give the raw `ServerSentEvent`s of a byte stream (for relays and
debugging); `iter_events` / `aiter_events` give typed `MessageStreamEvent`s; `SSEDecoder` is
the incremental, sans-IO decoder under both; `decode_event` types one raw event.

    for event in rxstream.sse.iter_events(response.iter_bytes()):
        print(event.type)
"""

from ._decode import aiter_events as aiter_events
from ._decode import aiter_sse as aiter_sse
from ._decode import decode_event as decode_event
from ._decode import iter_events as iter_events
from ._decode import iter_sse as iter_sse
from ._sse import DEFAULT_MAX_EVENT_SIZE as DEFAULT_MAX_EVENT_SIZE
from ._sse import ServerSentEvent as ServerSentEvent
from ._sse import SSEDecoder as SSEDecoder

__all__ = [
    "DEFAULT_MAX_EVENT_SIZE",
    "SSEDecoder",
    "ServerSentEvent",
    "aiter_events",
    "aiter_sse",
    "decode_event",
    "iter_events",
    "iter_sse",
]
