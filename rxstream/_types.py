"""Wire types of the Messages API stream: frozen msgspec Structs tagged on `type`.

Each struct exposes its tag as a `type` class attribute, so `event.type == "message_start"`
narrows a union for type checkers as it does with the official SDK's models. Messages, usage
and content blocks keep the fields they do not declare in `extras` (see `_wire`). Content
blocks, deltas and citations live in `_content` and are re-exported here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeAlias

import msgspec

from ._content import AdvisorToolResultBlock as AdvisorToolResultBlock
from ._content import BashCodeExecutionToolResultBlock as BashCodeExecutionToolResultBlock
from ._content import CharLocationCitation as CharLocationCitation
from ._content import Citation as Citation
from ._content import CitationsDelta as CitationsDelta
from ._content import CodeExecutionToolResultBlock as CodeExecutionToolResultBlock
from ._content import CompactionBlock as CompactionBlock
from ._content import CompactionDelta as CompactionDelta
from ._content import ContainerUploadBlock as ContainerUploadBlock
from ._content import ContentBlock as ContentBlock
from ._content import ContentBlockLocationCitation as ContentBlockLocationCitation
from ._content import Delta as Delta
from ._content import FallbackBlock as FallbackBlock
from ._content import FallbackInfo as FallbackInfo
from ._content import InputJSONDelta as InputJSONDelta
from ._content import MCPToolListingBlock as MCPToolListingBlock
from ._content import MCPToolResultBlock as MCPToolResultBlock
from ._content import MCPToolUseBlock as MCPToolUseBlock
from ._content import PageLocationCitation as PageLocationCitation
from ._content import RedactedThinkingBlock as RedactedThinkingBlock
from ._content import SearchResultLocationCitation as SearchResultLocationCitation
from ._content import ServerToolUseBlock as ServerToolUseBlock
from ._content import SignatureDelta as SignatureDelta
from ._content import TextBlock as TextBlock
from ._content import TextDelta as TextDelta
from ._content import (
    TextEditorCodeExecutionToolResultBlock as TextEditorCodeExecutionToolResultBlock,
)
from ._content import ThinkingBlock as ThinkingBlock
from ._content import ThinkingDelta as ThinkingDelta
from ._content import ToolSearchToolResultBlock as ToolSearchToolResultBlock
from ._content import ToolUseBlock as ToolUseBlock
from ._content import WebFetchToolResultBlock as WebFetchToolResultBlock
from ._content import WebSearchResultLocationCitation as WebSearchResultLocationCitation
from ._content import WebSearchToolResultBlock as WebSearchToolResultBlock
from ._content import _KnownBlock as _KnownBlock
from ._content import _KnownCitation as _KnownCitation
from ._content import _KnownDelta as _KnownDelta
from ._unknown import UnknownEvent
from ._wire import Extensible, TaggedExtensible, Wire
from ._wire import documented_alias as documented_alias

__all__ = [
    "AdvisorToolResultBlock",
    "BashCodeExecutionToolResultBlock",
    "CharLocationCitation",
    "Citation",
    "CitationsDelta",
    "CodeExecutionToolResultBlock",
    "CompactionBlock",
    "CompactionDelta",
    "Container",
    "ContainerUploadBlock",
    "ContentBlock",
    "ContentBlockDeltaEvent",
    "ContentBlockLocationCitation",
    "ContentBlockStartEvent",
    "ContentBlockStopEvent",
    "Delta",
    "ErrorDetail",
    "ErrorEvent",
    "FallbackBlock",
    "FallbackInfo",
    "InputJSONDelta",
    "MCPToolListingBlock",
    "MCPToolResultBlock",
    "MCPToolUseBlock",
    "Message",
    "MessageDelta",
    "MessageDeltaEvent",
    "MessageDeltaUsage",
    "MessageStartEvent",
    "MessageStopEvent",
    "MessageStreamEvent",
    "PageLocationCitation",
    "PingEvent",
    "RedactedThinkingBlock",
    "SearchResultLocationCitation",
    "ServerToolUseBlock",
    "SignatureDelta",
    "StopReason",
    "TextBlock",
    "TextDelta",
    "TextEditorCodeExecutionToolResultBlock",
    "ThinkingBlock",
    "ThinkingDelta",
    "ToolSearchToolResultBlock",
    "ToolUseBlock",
    "Usage",
    "WebFetchToolResultBlock",
    "WebSearchResultLocationCitation",
    "WebSearchToolResultBlock",
]

_STOP_REASON_DOC = """The reason a message stopped: `end_turn`, `max_tokens`, `stop_sequence`,
`tool_use`, `pause_turn`, `refusal`, `model_context_window_exceeded`; kept as `str` so a new
reason never breaks a stream."""
if TYPE_CHECKING:
    StopReason: TypeAlias = str
else:
    StopReason = documented_alias(_STOP_REASON_DOC, (str,))


# --- message ---------------------------------------------------------------------------


class Usage(Extensible, frozen=True):
    """Token counts of a message."""

    input_tokens: int
    output_tokens: int
    cache_creation_input_tokens: int | None = None
    cache_read_input_tokens: int | None = None
    cache_creation: dict[str, int] | None = None
    server_tool_use: dict[str, int] | None = None
    service_tier: str | None = None
    output_tokens_details: dict[str, Any] | None = None
    inference_geo: str | None = None
    speed: str | None = None
    fallback_credit: dict[str, Any] | None = None
    iterations: list[dict[str, Any]] | None = None


class Container(msgspec.Struct, frozen=True, omit_defaults=True):
    """The code-execution container used by a request."""

    id: str
    expires_at: str
    skills: list[dict[str, Any]] | None = None


class Message(TaggedExtensible, frozen=True, tag="message"):
    """A complete (or, as a snapshot, partial) assistant message."""

    type: ClassVar[Literal["message"]] = "message"
    id: str
    role: Literal["assistant"]
    content: tuple[ContentBlock, ...]
    model: str
    stop_reason: StopReason | None
    stop_sequence: str | None
    usage: Usage
    stop_details: dict[str, Any] | None = None
    container: Container | None = None
    diagnostics: dict[str, Any] | None = None
    context_management: dict[str, Any] | None = None
    input_transformations: list[dict[str, Any]] | None = None


# --- events ----------------------------------------------------------------------------


class MessageStartEvent(Wire, frozen=True, tag="message_start"):
    """The stream began: the message skeleton, empty content."""

    type: ClassVar[Literal["message_start"]] = "message_start"
    message: Message


class ContentBlockStartEvent(Wire, frozen=True, tag="content_block_start"):
    """A content block begins at `index`."""

    type: ClassVar[Literal["content_block_start"]] = "content_block_start"
    index: int
    content_block: ContentBlock


class ContentBlockDeltaEvent(Wire, frozen=True, tag="content_block_delta"):
    """An increment of the block at `index`."""

    type: ClassVar[Literal["content_block_delta"]] = "content_block_delta"
    index: int
    delta: Delta


class ContentBlockStopEvent(Wire, frozen=True, tag="content_block_stop"):
    """The block at `index` is complete."""

    type: ClassVar[Literal["content_block_stop"]] = "content_block_stop"
    index: int


class MessageDelta(msgspec.Struct, frozen=True, omit_defaults=True):
    """Top-level message fields that changed.

    `stop_reason` and `stop_sequence` are required and nullable, as in the API's schema, so
    they encode back as the API sent them (`"stop_sequence": null` included); a proxy that
    drops them still decodes, as null.
    """

    stop_reason: StopReason | None
    stop_sequence: str | None
    stop_details: dict[str, Any] | None = None
    container: Container | None = None


class MessageDeltaUsage(Extensible, frozen=True):
    """Cumulative usage so far; absent (None) counts keep their earlier value."""

    output_tokens: int
    input_tokens: int | None = None
    cache_creation_input_tokens: int | None = None
    cache_read_input_tokens: int | None = None
    server_tool_use: dict[str, int] | None = None
    output_tokens_details: dict[str, Any] | None = None
    iterations: list[dict[str, Any]] | None = None
    fallback_credit: dict[str, Any] | None = None


class MessageDeltaEvent(Wire, frozen=True, tag="message_delta"):
    """Stop reason and cumulative usage, near the end of the stream."""

    type: ClassVar[Literal["message_delta"]] = "message_delta"
    delta: MessageDelta
    usage: MessageDeltaUsage
    context_management: dict[str, Any] | None = None
    """Beta: the context-management edits applied; replaces the message's when present."""
    input_transformations: list[dict[str, Any]] | None = None
    """Beta: sent only after a mid-stream fallback; replaces the message's."""


class MessageStopEvent(Wire, frozen=True, tag="message_stop"):
    """The stream is complete."""

    type: ClassVar[Literal["message_stop"]] = "message_stop"


class PingEvent(Wire, frozen=True, tag="ping"):
    """A keep-alive: proof the connection is still live."""

    type: ClassVar[Literal["ping"]] = "ping"


class ErrorDetail(msgspec.Struct, frozen=True, omit_defaults=True):
    """`error.type` (`overloaded_error`, ...) and `error.message`."""

    type: str
    message: str


class ErrorEvent(Wire, frozen=True, tag="error"):
    """An error inside a stream; also the body of an HTTP error response."""

    type: ClassVar[Literal["error"]] = "error"
    error: ErrorDetail
    request_id: str | None = None


_KnownEvent: TypeAlias = (
    MessageStartEvent
    | ContentBlockStartEvent
    | ContentBlockDeltaEvent
    | ContentBlockStopEvent
    | MessageDeltaEvent
    | MessageStopEvent
    | PingEvent
    | ErrorEvent
)

_EVENT_DOC = """Every event of the stream, `ping` and `error` included; unknown types as
`UnknownEvent`. Match on the class (`case ContentBlockDeltaEvent(delta=TextDelta(text=t))`)
or on `event.type`."""
if TYPE_CHECKING:
    MessageStreamEvent: TypeAlias = _KnownEvent | UnknownEvent
else:
    MessageStreamEvent = documented_alias(_EVENT_DOC, (*_KnownEvent.__args__, UnknownEvent))
