"""rxstream: the Anthropic Messages API stream as composable ReactiveX Observables.

Quickstart: one request, shared by several subscribers, each seeing every event as it arrives.

    import rxstream
    from rxstream import operators as rxo

    client = rxstream.Client()  # ANTHROPIC_API_KEY (and ANTHROPIC_BASE_URL) from the environment
    shared = rxstream.SharedStream(
        client.messages.observe(
            model="claude-sonnet-4-5",
            max_tokens=512,
            messages=[{"role": "user", "content": "Write a haiku about rivers"}],
        )
    )
    shared.pipe(rxo.text_deltas()).subscribe(lambda text: print(text, end=""))
    shared.pipe(rxo.final_message()).subscribe(lambda m: print("\\nstop:", m.stop_reason))
    shared.connect()  # sends the request; returns when the stream has ended

Or keep the official SDK's interface, changing only the import:

    from rxstream import Anthropic

    with Anthropic().messages.stream(model=..., max_tokens=..., messages=...) as stream:
        for text in stream.text_stream:
            print(text, end="")

What is here: the clients (`Client`, `AsyncClient`, and the SDK's names for them), the
sources (`from_sse`, `from_async_sse`, `from_response`, `from_async_response`: bytes or an
httpx response to an Observable), `SharedStream` (fan-out), the types you match events and
messages on, the exceptions you catch, `encode` (any value back to JSON), and `tool` (a tool
definition from a msgspec Struct).

Elsewhere: `rxstream.operators` (text deltas, tool inputs, snapshots, metrics, ...),
`rxstream.adapters` (the SDK's `MessageStream` and friends), `rxstream.types` (every wire
type), `rxstream.errors` (every exception), `rxstream.sse` (the decoding layer, without Rx),
`rxstream.accumulate` (folding events into a message), `rxstream.emulator` (a local API).
"""

from . import accumulate as accumulate
from . import errors as errors
from . import sse as sse
from . import types as types
from ._accumulate import MessageSnapshot as MessageSnapshot
from ._accumulate import SnapshotEvent as SnapshotEvent
from ._accumulate import StreamItem as StreamItem
from ._async_client import AsyncClient as AsyncClient
from ._client import Client as Client
from ._decode import encode as encode
from ._errors import APIConnectionError as APIConnectionError
from ._errors import APIError as APIError
from ._errors import APIStatusError as APIStatusError
from ._errors import APITimeoutError as APITimeoutError
from ._errors import IncompleteStreamError as IncompleteStreamError
from ._errors import OverloadedError as OverloadedError
from ._errors import RateLimitError as RateLimitError
from ._errors import StreamDecodeError as StreamDecodeError
from ._errors import SubscriberLagError as SubscriberLagError
from ._fanout import SharedStream as SharedStream
from ._sources import from_async_response as from_async_response
from ._sources import from_async_sse as from_async_sse
from ._sources import from_response as from_response
from ._sources import from_sse as from_sse
from ._tool_definition import tool as tool
from ._types import ContentBlock as ContentBlock
from ._types import ContentBlockDeltaEvent as ContentBlockDeltaEvent
from ._types import ContentBlockStartEvent as ContentBlockStartEvent
from ._types import ContentBlockStopEvent as ContentBlockStopEvent
from ._types import InputJSONDelta as InputJSONDelta
from ._types import Message as Message
from ._types import MessageDeltaEvent as MessageDeltaEvent
from ._types import MessageStartEvent as MessageStartEvent
from ._types import MessageStopEvent as MessageStopEvent
from ._types import MessageStreamEvent as MessageStreamEvent
from ._types import TextBlock as TextBlock
from ._types import TextDelta as TextDelta
from ._types import ThinkingBlock as ThinkingBlock
from ._types import ThinkingDelta as ThinkingDelta
from ._types import ToolUseBlock as ToolUseBlock
from ._types import Usage as Usage

__version__ = "0.1.0"

# The official SDK's client names, so `from anthropic import Anthropic` becomes
# `from rxstream import Anthropic` and nothing else changes.
Anthropic = Client
AsyncAnthropic = AsyncClient

__all__ = [  # noqa: RUF022  (grouped for the reader, sorted within each group)
    # clients
    "Anthropic",
    "AsyncAnthropic",
    "AsyncClient",
    "Client",
    # sources and fan-out
    "SharedStream",
    "from_async_response",
    "from_async_sse",
    "from_response",
    "from_sse",
    # tool definitions
    "tool",
    # what streams carry
    "ContentBlock",
    "ContentBlockDeltaEvent",
    "ContentBlockStartEvent",
    "ContentBlockStopEvent",
    "InputJSONDelta",
    "Message",
    "MessageDeltaEvent",
    "MessageSnapshot",
    "MessageStartEvent",
    "MessageStopEvent",
    "MessageStreamEvent",
    "SnapshotEvent",
    "StreamItem",
    "TextBlock",
    "TextDelta",
    "ThinkingBlock",
    "ThinkingDelta",
    "ToolUseBlock",
    "Usage",
    "encode",
    # what can go wrong (every class: rxstream.errors)
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "IncompleteStreamError",
    "OverloadedError",
    "RateLimitError",
    "StreamDecodeError",
    "SubscriberLagError",
]
