"""Wire types of the Messages API stream: frozen msgspec Structs tagged on `type`.

Each struct exposes its tag as a `type` class attribute, so `event.type == "message_start"`
narrows a union for type checkers as it does with the official SDK's models.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, TypeAlias, Union

import msgspec

from ._unknown import UnknownBlock, UnknownCitation, UnknownDelta, UnknownEvent

__all__ = [
    "BashCodeExecutionToolResultBlock",
    "CharLocationCitation",
    "Citation",
    "CitationsDelta",
    "CodeExecutionToolResultBlock",
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
    "InputJSONDelta",
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


def documented_alias(doc: str, members: tuple[Any, ...]) -> Any:
    """A union of `members` with its own docstring, for the public aliases at runtime.

    `X | Y` (types.UnionType) cannot carry a docstring; a `typing.Union` can, and works the
    same with `isinstance` and msgspec. Type checkers see the plain alias instead.
    """
    alias: Any = Union[members] if len(members) > 1 else Annotated[members[0], "alias"]  # noqa: UP007
    alias.__doc__ = doc
    return alias


_STOP_REASON_DOC = """The reason a message stopped: `end_turn`, `max_tokens`, `stop_sequence`,
`tool_use`, `pause_turn`, `refusal`, `model_context_window_exceeded`; kept as `str` so a new
reason never breaks a stream."""
if TYPE_CHECKING:
    StopReason: TypeAlias = str
else:
    StopReason = documented_alias(_STOP_REASON_DOC, (str,))


class _Wire(msgspec.Struct, frozen=True, omit_defaults=True, tag_field="type"):
    """Base of the tagged wire structs."""


# --- citations -------------------------------------------------------------------------


class CharLocationCitation(_Wire, frozen=True, tag="char_location"):
    """A citation of a character range in a plain-text document."""

    type: ClassVar[Literal["char_location"]] = "char_location"
    cited_text: str
    document_index: int
    document_title: str | None
    start_char_index: int
    end_char_index: int
    file_id: str | None = None


class PageLocationCitation(_Wire, frozen=True, tag="page_location"):
    """A citation of a page range in a PDF document."""

    type: ClassVar[Literal["page_location"]] = "page_location"
    cited_text: str
    document_index: int
    document_title: str | None
    start_page_number: int
    end_page_number: int
    file_id: str | None = None


class ContentBlockLocationCitation(_Wire, frozen=True, tag="content_block_location"):
    """A citation of a range of blocks in a custom-content document."""

    type: ClassVar[Literal["content_block_location"]] = "content_block_location"
    cited_text: str
    document_index: int
    document_title: str | None
    start_block_index: int
    end_block_index: int
    file_id: str | None = None


class WebSearchResultLocationCitation(_Wire, frozen=True, tag="web_search_result_location"):
    """A citation of a web search result."""

    type: ClassVar[Literal["web_search_result_location"]] = "web_search_result_location"
    cited_text: str
    encrypted_index: str
    title: str | None
    url: str


class SearchResultLocationCitation(_Wire, frozen=True, tag="search_result_location"):
    """A citation of a search result block given in the request."""

    type: ClassVar[Literal["search_result_location"]] = "search_result_location"
    cited_text: str
    search_result_index: int
    source: str
    title: str | None
    start_block_index: int
    end_block_index: int


_KnownCitation: TypeAlias = (
    CharLocationCitation
    | PageLocationCitation
    | ContentBlockLocationCitation
    | WebSearchResultLocationCitation
    | SearchResultLocationCitation
)

# --- content blocks --------------------------------------------------------------------


class TextBlock(_Wire, frozen=True, tag="text"):
    """Text, with the citations that support it."""

    type: ClassVar[Literal["text"]] = "text"
    text: str
    citations: tuple[Citation, ...] | None = None


class ThinkingBlock(_Wire, frozen=True, tag="thinking"):
    """Extended thinking, signed."""

    type: ClassVar[Literal["thinking"]] = "thinking"
    thinking: str
    signature: str


class RedactedThinkingBlock(_Wire, frozen=True, tag="redacted_thinking"):
    """Thinking the API returns encrypted."""

    type: ClassVar[Literal["redacted_thinking"]] = "redacted_thinking"
    data: str


class ToolUseBlock(_Wire, frozen=True, tag="tool_use"):
    """A call of a client tool; `input` streams as `input_json_delta`."""

    type: ClassVar[Literal["tool_use"]] = "tool_use"
    id: str
    name: str
    input: Any
    caller: dict[str, Any] | None = None
    toolset_name: str | None = None


class ServerToolUseBlock(_Wire, frozen=True, tag="server_tool_use"):
    """A call of a server tool (web search, code execution, ...); `input` streams like tool_use."""

    type: ClassVar[Literal["server_tool_use"]] = "server_tool_use"
    id: str
    name: str
    input: Any
    caller: dict[str, Any] | None = None


class WebSearchToolResultBlock(_Wire, frozen=True, tag="web_search_tool_result"):
    """The result of a web search; arrives whole."""

    type: ClassVar[Literal["web_search_tool_result"]] = "web_search_tool_result"
    tool_use_id: str
    content: Any
    caller: dict[str, Any] | None = None


class WebFetchToolResultBlock(_Wire, frozen=True, tag="web_fetch_tool_result"):
    """The result of a web fetch; arrives whole."""

    type: ClassVar[Literal["web_fetch_tool_result"]] = "web_fetch_tool_result"
    tool_use_id: str
    content: Any
    caller: dict[str, Any] | None = None


class CodeExecutionToolResultBlock(_Wire, frozen=True, tag="code_execution_tool_result"):
    """The result of code execution; arrives whole."""

    type: ClassVar[Literal["code_execution_tool_result"]] = "code_execution_tool_result"
    tool_use_id: str
    content: Any
    caller: dict[str, Any] | None = None


class BashCodeExecutionToolResultBlock(_Wire, frozen=True, tag="bash_code_execution_tool_result"):
    """The result of a bash command run by code execution; arrives whole."""

    type: ClassVar[Literal["bash_code_execution_tool_result"]] = "bash_code_execution_tool_result"
    tool_use_id: str
    content: Any
    caller: dict[str, Any] | None = None


class TextEditorCodeExecutionToolResultBlock(
    _Wire, frozen=True, tag="text_editor_code_execution_tool_result"
):
    """The result of a text-editor command run by code execution; arrives whole."""

    type: ClassVar[Literal["text_editor_code_execution_tool_result"]] = (
        "text_editor_code_execution_tool_result"
    )
    tool_use_id: str
    content: Any
    caller: dict[str, Any] | None = None


class ToolSearchToolResultBlock(_Wire, frozen=True, tag="tool_search_tool_result"):
    """The result of a tool search; arrives whole."""

    type: ClassVar[Literal["tool_search_tool_result"]] = "tool_search_tool_result"
    tool_use_id: str
    content: Any
    caller: dict[str, Any] | None = None


class ContainerUploadBlock(_Wire, frozen=True, tag="container_upload"):
    """A file uploaded to the code-execution container."""

    type: ClassVar[Literal["container_upload"]] = "container_upload"
    file_id: str


_KnownBlock: TypeAlias = (
    TextBlock
    | ThinkingBlock
    | RedactedThinkingBlock
    | ToolUseBlock
    | ServerToolUseBlock
    | WebSearchToolResultBlock
    | WebFetchToolResultBlock
    | CodeExecutionToolResultBlock
    | BashCodeExecutionToolResultBlock
    | TextEditorCodeExecutionToolResultBlock
    | ToolSearchToolResultBlock
    | ContainerUploadBlock
)

# --- deltas ----------------------------------------------------------------------------


class TextDelta(_Wire, frozen=True, tag="text_delta"):
    """Text to append to a text block."""

    type: ClassVar[Literal["text_delta"]] = "text_delta"
    text: str


class InputJSONDelta(_Wire, frozen=True, tag="input_json_delta"):
    """A fragment of a tool's input JSON."""

    type: ClassVar[Literal["input_json_delta"]] = "input_json_delta"
    partial_json: str


class ThinkingDelta(_Wire, frozen=True, tag="thinking_delta"):
    """Thinking text to append to a thinking block."""

    type: ClassVar[Literal["thinking_delta"]] = "thinking_delta"
    thinking: str


class SignatureDelta(_Wire, frozen=True, tag="signature_delta"):
    """The signature of a thinking block (assigned, not appended)."""

    type: ClassVar[Literal["signature_delta"]] = "signature_delta"
    signature: str


class CitationsDelta(_Wire, frozen=True, tag="citations_delta"):
    """A citation to append to a text block."""

    type: ClassVar[Literal["citations_delta"]] = "citations_delta"
    citation: Citation


_KnownDelta: TypeAlias = (
    TextDelta | InputJSONDelta | ThinkingDelta | SignatureDelta | CitationsDelta
)

# msgspec decodes the known (tagged) members; the event decoder substitutes `Unknown...`
# values for unknown tags, so type checkers see them in the unions while msgspec does not.
if TYPE_CHECKING:
    Citation: TypeAlias = _KnownCitation | UnknownCitation
    ContentBlock: TypeAlias = _KnownBlock | UnknownBlock
    Delta: TypeAlias = _KnownDelta | UnknownDelta
else:
    Citation = documented_alias(
        "A citation of a text block: a location in a document, a web page or a search result "
        "(`UnknownCitation` for a type this version does not know).",
        _KnownCitation.__args__,
    )
    ContentBlock = documented_alias(
        "A block of a message's content: text, thinking, a tool call, a server tool's result "
        "(`UnknownBlock` for a type this version does not know).",
        _KnownBlock.__args__,
    )
    Delta = documented_alias(
        "What a `content_block_delta` adds to its block: text, tool input JSON, thinking, a "
        "signature, a citation (`UnknownDelta` for a type this version does not know).",
        _KnownDelta.__args__,
    )

# --- message ---------------------------------------------------------------------------


class Usage(msgspec.Struct, frozen=True, omit_defaults=True):
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


class Container(msgspec.Struct, frozen=True, omit_defaults=True):
    """The code-execution container used by a request."""

    id: str
    expires_at: str
    skills: list[dict[str, Any]] | None = None


class Message(_Wire, frozen=True, tag="message"):
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


# --- events ----------------------------------------------------------------------------


class MessageStartEvent(_Wire, frozen=True, tag="message_start"):
    """The stream began: the message skeleton, empty content."""

    type: ClassVar[Literal["message_start"]] = "message_start"
    message: Message


class ContentBlockStartEvent(_Wire, frozen=True, tag="content_block_start"):
    """A content block begins at `index`."""

    type: ClassVar[Literal["content_block_start"]] = "content_block_start"
    index: int
    content_block: ContentBlock


class ContentBlockDeltaEvent(_Wire, frozen=True, tag="content_block_delta"):
    """An increment of the block at `index`."""

    type: ClassVar[Literal["content_block_delta"]] = "content_block_delta"
    index: int
    delta: Delta


class ContentBlockStopEvent(_Wire, frozen=True, tag="content_block_stop"):
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


class MessageDeltaUsage(msgspec.Struct, frozen=True, omit_defaults=True):
    """Cumulative usage so far; absent (None) counts keep their earlier value."""

    output_tokens: int
    input_tokens: int | None = None
    cache_creation_input_tokens: int | None = None
    cache_read_input_tokens: int | None = None
    server_tool_use: dict[str, int] | None = None
    output_tokens_details: dict[str, Any] | None = None


class MessageDeltaEvent(_Wire, frozen=True, tag="message_delta"):
    """Stop reason and cumulative usage, near the end of the stream."""

    type: ClassVar[Literal["message_delta"]] = "message_delta"
    delta: MessageDelta
    usage: MessageDeltaUsage


class MessageStopEvent(_Wire, frozen=True, tag="message_stop"):
    """The stream is complete."""

    type: ClassVar[Literal["message_stop"]] = "message_stop"


class PingEvent(_Wire, frozen=True, tag="ping"):
    """A keep-alive: proof the connection is still live."""

    type: ClassVar[Literal["ping"]] = "ping"


class ErrorDetail(msgspec.Struct, frozen=True, omit_defaults=True):
    """`error.type` (`overloaded_error`, ...) and `error.message`."""

    type: str
    message: str


class ErrorEvent(_Wire, frozen=True, tag="error"):
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
