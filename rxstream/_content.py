"""Content blocks, deltas and citations of the Messages API (GA and beta), tagged on `type`.

Blocks keep fields they do not declare in `extras` (see `_wire`); deltas and citations ignore
them, so the hot path (text and input_json deltas) decodes in one pass whatever arrives.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeAlias

import msgspec

from ._unknown import UnknownBlock, UnknownCitation, UnknownDelta
from ._wire import TaggedExtensible, Wire, documented_alias

__all__ = [
    "AdvisorToolResultBlock",
    "BashCodeExecutionToolResultBlock",
    "CharLocationCitation",
    "Citation",
    "CitationsDelta",
    "CodeExecutionToolResultBlock",
    "CompactionBlock",
    "CompactionDelta",
    "ContainerUploadBlock",
    "ContentBlock",
    "ContentBlockLocationCitation",
    "Delta",
    "FallbackBlock",
    "FallbackInfo",
    "InputJSONDelta",
    "MCPToolListingBlock",
    "MCPToolResultBlock",
    "MCPToolUseBlock",
    "PageLocationCitation",
    "RedactedThinkingBlock",
    "SearchResultLocationCitation",
    "ServerToolUseBlock",
    "SignatureDelta",
    "TextBlock",
    "TextDelta",
    "TextEditorCodeExecutionToolResultBlock",
    "ThinkingBlock",
    "ThinkingDelta",
    "ToolSearchToolResultBlock",
    "ToolUseBlock",
    "WebFetchToolResultBlock",
    "WebSearchResultLocationCitation",
    "WebSearchToolResultBlock",
]

# --- citations -------------------------------------------------------------------------


class CharLocationCitation(Wire, frozen=True, tag="char_location"):
    """A citation of a character range in a plain-text document."""

    type: ClassVar[Literal["char_location"]] = "char_location"
    cited_text: str
    document_index: int
    document_title: str | None
    start_char_index: int
    end_char_index: int
    file_id: str | None = None


class PageLocationCitation(Wire, frozen=True, tag="page_location"):
    """A citation of a page range in a PDF document."""

    type: ClassVar[Literal["page_location"]] = "page_location"
    cited_text: str
    document_index: int
    document_title: str | None
    start_page_number: int
    end_page_number: int
    file_id: str | None = None


class ContentBlockLocationCitation(Wire, frozen=True, tag="content_block_location"):
    """A citation of a range of blocks in a custom-content document."""

    type: ClassVar[Literal["content_block_location"]] = "content_block_location"
    cited_text: str
    document_index: int
    document_title: str | None
    start_block_index: int
    end_block_index: int
    file_id: str | None = None


class WebSearchResultLocationCitation(Wire, frozen=True, tag="web_search_result_location"):
    """A citation of a web search result."""

    type: ClassVar[Literal["web_search_result_location"]] = "web_search_result_location"
    cited_text: str
    encrypted_index: str
    title: str | None
    url: str


class SearchResultLocationCitation(Wire, frozen=True, tag="search_result_location"):
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


class TextBlock(TaggedExtensible, frozen=True, tag="text"):
    """Text, with the citations that support it."""

    type: ClassVar[Literal["text"]] = "text"
    text: str
    citations: tuple[Citation, ...] | None = None


class ThinkingBlock(TaggedExtensible, frozen=True, tag="thinking"):
    """Extended thinking, signed."""

    type: ClassVar[Literal["thinking"]] = "thinking"
    thinking: str
    signature: str


class RedactedThinkingBlock(TaggedExtensible, frozen=True, tag="redacted_thinking"):
    """Thinking the API returns encrypted."""

    type: ClassVar[Literal["redacted_thinking"]] = "redacted_thinking"
    data: str


class ToolUseBlock(TaggedExtensible, frozen=True, tag="tool_use"):
    """A call of a client tool; `input` streams as `input_json_delta`."""

    type: ClassVar[Literal["tool_use"]] = "tool_use"
    id: str
    name: str
    input: Any
    caller: dict[str, Any] | None = None
    toolset_name: str | None = None


class ServerToolUseBlock(TaggedExtensible, frozen=True, tag="server_tool_use"):
    """A call of a server tool (web search, code execution, ...); `input` streams like tool_use."""

    type: ClassVar[Literal["server_tool_use"]] = "server_tool_use"
    id: str
    name: str
    input: Any
    caller: dict[str, Any] | None = None


class WebSearchToolResultBlock(TaggedExtensible, frozen=True, tag="web_search_tool_result"):
    """The result of a web search; arrives whole."""

    type: ClassVar[Literal["web_search_tool_result"]] = "web_search_tool_result"
    tool_use_id: str
    content: Any
    caller: dict[str, Any] | None = None


class WebFetchToolResultBlock(TaggedExtensible, frozen=True, tag="web_fetch_tool_result"):
    """The result of a web fetch; arrives whole."""

    type: ClassVar[Literal["web_fetch_tool_result"]] = "web_fetch_tool_result"
    tool_use_id: str
    content: Any
    caller: dict[str, Any] | None = None


class CodeExecutionToolResultBlock(TaggedExtensible, frozen=True, tag="code_execution_tool_result"):
    """The result of code execution; arrives whole."""

    type: ClassVar[Literal["code_execution_tool_result"]] = "code_execution_tool_result"
    tool_use_id: str
    content: Any
    caller: dict[str, Any] | None = None


class BashCodeExecutionToolResultBlock(
    TaggedExtensible, frozen=True, tag="bash_code_execution_tool_result"
):
    """The result of a bash command run by code execution; arrives whole."""

    type: ClassVar[Literal["bash_code_execution_tool_result"]] = "bash_code_execution_tool_result"
    tool_use_id: str
    content: Any
    caller: dict[str, Any] | None = None


class TextEditorCodeExecutionToolResultBlock(
    TaggedExtensible, frozen=True, tag="text_editor_code_execution_tool_result"
):
    """The result of a text-editor command run by code execution; arrives whole."""

    type: ClassVar[Literal["text_editor_code_execution_tool_result"]] = (
        "text_editor_code_execution_tool_result"
    )
    tool_use_id: str
    content: Any
    caller: dict[str, Any] | None = None


class ToolSearchToolResultBlock(TaggedExtensible, frozen=True, tag="tool_search_tool_result"):
    """The result of a tool search; arrives whole."""

    type: ClassVar[Literal["tool_search_tool_result"]] = "tool_search_tool_result"
    tool_use_id: str
    content: Any
    caller: dict[str, Any] | None = None


class ContainerUploadBlock(TaggedExtensible, frozen=True, tag="container_upload"):
    """A file uploaded to the code-execution container."""

    type: ClassVar[Literal["container_upload"]] = "container_upload"
    file_id: str


class AdvisorToolResultBlock(TaggedExtensible, frozen=True, tag="advisor_tool_result"):
    """The result of the advisor tool (beta); arrives whole."""

    type: ClassVar[Literal["advisor_tool_result"]] = "advisor_tool_result"
    tool_use_id: str
    content: Any


class MCPToolUseBlock(TaggedExtensible, frozen=True, tag="mcp_tool_use"):
    """A call of a tool of an MCP server (beta); `input` streams like tool_use."""

    type: ClassVar[Literal["mcp_tool_use"]] = "mcp_tool_use"
    id: str
    name: str
    input: Any
    server_name: str


class MCPToolResultBlock(TaggedExtensible, frozen=True, tag="mcp_tool_result"):
    """The result of an MCP tool call (beta); arrives whole."""

    type: ClassVar[Literal["mcp_tool_result"]] = "mcp_tool_result"
    tool_use_id: str
    content: Any
    is_error: bool


class MCPToolListingBlock(TaggedExtensible, frozen=True, tag="mcp_tool_listing"):
    """The tools the API fetched from an MCP server (beta); arrives whole."""

    type: ClassVar[Literal["mcp_tool_listing"]] = "mcp_tool_listing"
    mcp_server_name: str
    tools: list[dict[str, Any]]


class CompactionBlock(TaggedExtensible, frozen=True, tag="compaction"):
    """A summary of compacted context (beta); each `compaction_delta` replaces its
    `content` and `encrypted_content`. `content` None: the compaction failed."""

    type: ClassVar[Literal["compaction"]] = "compaction"
    content: str | None = None
    encrypted_content: str | None = None
    signature: str | None = None
    tool_changes: list[dict[str, Any]] | None = None


class FallbackInfo(msgspec.Struct, frozen=True, omit_defaults=True):
    """One side of a fallback hop: the model."""

    model: str


class FallbackBlock(TaggedExtensible, frozen=True, tag="fallback"):
    """Where one model's output gives way to a fallback model's (beta); arrives whole.

    Its start relabels the message's `model` to `to.model`, as the SDK's beta stream does.
    `from_` is `from` on the wire.
    """

    type: ClassVar[Literal["fallback"]] = "fallback"
    from_: FallbackInfo = msgspec.field(name="from")
    to: FallbackInfo
    trigger: dict[str, Any]


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
    | AdvisorToolResultBlock
    | MCPToolUseBlock
    | MCPToolResultBlock
    | MCPToolListingBlock
    | CompactionBlock
    | FallbackBlock
)

# --- deltas ----------------------------------------------------------------------------


class TextDelta(Wire, frozen=True, tag="text_delta"):
    """Text to append to a text block."""

    type: ClassVar[Literal["text_delta"]] = "text_delta"
    text: str


class InputJSONDelta(Wire, frozen=True, tag="input_json_delta"):
    """A fragment of a tool's input JSON."""

    type: ClassVar[Literal["input_json_delta"]] = "input_json_delta"
    partial_json: str


class ThinkingDelta(Wire, frozen=True, tag="thinking_delta"):
    """Thinking text to append to a thinking block."""

    type: ClassVar[Literal["thinking_delta"]] = "thinking_delta"
    thinking: str
    estimated_tokens: int | None = None


class SignatureDelta(Wire, frozen=True, tag="signature_delta"):
    """The signature of a thinking block (assigned, not appended)."""

    type: ClassVar[Literal["signature_delta"]] = "signature_delta"
    signature: str


class CitationsDelta(Wire, frozen=True, tag="citations_delta"):
    """A citation to append to a text block."""

    type: ClassVar[Literal["citations_delta"]] = "citations_delta"
    citation: Citation


class CompactionDelta(Wire, frozen=True, tag="compaction_delta"):
    """The new `content` and `encrypted_content` of a compaction block (assigned, not
    appended: an absent one becomes None, as in the SDK)."""

    type: ClassVar[Literal["compaction_delta"]] = "compaction_delta"
    content: str | None = None
    encrypted_content: str | None = None


_KnownDelta: TypeAlias = (
    TextDelta | InputJSONDelta | ThinkingDelta | SignatureDelta | CitationsDelta | CompactionDelta
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
        "A block of a message's content: text, thinking, a tool call, a server tool's result, "
        "a compaction, a fallback (`UnknownBlock` for a type this version does not know).",
        _KnownBlock.__args__,
    )
    Delta = documented_alias(
        "What a `content_block_delta` adds to its block: text, tool input JSON, thinking, a "
        "signature, a citation, a compaction (`UnknownDelta` for a type this version does not "
        "know).",
        _KnownDelta.__args__,
    )
