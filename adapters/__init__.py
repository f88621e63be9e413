"""The official SDK's streaming interface over rxstream: `MessageStream`,
`AsyncMessageStream`, their managers, the raw `Stream` / `AsyncStream`, and the SDK's
higher-level stream events."""

from ._async_stream import AsyncMessageStream as AsyncMessageStream
from ._async_stream import AsyncMessageStreamManager as AsyncMessageStreamManager
from ._events import CitationEvent as CitationEvent
from ._events import CompactionEvent as CompactionEvent
from ._events import InputJsonEvent as InputJsonEvent
from ._events import ParsedContentBlockStopEvent as ParsedContentBlockStopEvent
from ._events import ParsedMessageStopEvent as ParsedMessageStopEvent
from ._events import SignatureEvent as SignatureEvent
from ._events import StreamEvent as StreamEvent
from ._events import TextEvent as TextEvent
from ._events import ThinkingEvent as ThinkingEvent
from ._raw import AsyncStream as AsyncStream
from ._raw import Stream as Stream
from ._stream import MessageStream as MessageStream
from ._stream import MessageStreamManager as MessageStreamManager

__all__ = [
    "AsyncMessageStream",
    "AsyncMessageStreamManager",
    "AsyncStream",
    "CitationEvent",
    "CompactionEvent",
    "InputJsonEvent",
    "MessageStream",
    "MessageStreamManager",
    "ParsedContentBlockStopEvent",
    "ParsedMessageStopEvent",
    "SignatureEvent",
    "Stream",
    "StreamEvent",
    "TextEvent",
    "ThinkingEvent",
]
