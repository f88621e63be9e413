"""Every type of the Messages API stream: frozen msgspec Structs, matched by class or `.type`.

The events (`MessageStreamEvent` and its members), the message and its content blocks (GA
and beta: compaction, fallback, MCP, advisor), the deltas, citations and usage; `Unknown...`
values keep the raw JSON of a type this version does not know instead of failing; `NOT_GIVEN`
marks a request argument left out. The ones a user matches on every day are also in
`rxstream` itself.

    match event:
        case rxstream.types.ContentBlockDeltaEvent(delta=rxstream.types.CitationsDelta() as d):
            print(d.citation)
"""

from ._client_core import NOT_GIVEN as NOT_GIVEN
from ._client_core import NotGiven as NotGiven
from ._types import AdvisorToolResultBlock as AdvisorToolResultBlock
from ._types import BashCodeExecutionToolResultBlock as BashCodeExecutionToolResultBlock
from ._types import CharLocationCitation as CharLocationCitation
from ._types import Citation as Citation
from ._types import CitationsDelta as CitationsDelta
from ._types import CodeExecutionToolResultBlock as CodeExecutionToolResultBlock
from ._types import CompactionBlock as CompactionBlock
from ._types import CompactionDelta as CompactionDelta
from ._types import Container as Container
from ._types import ContainerUploadBlock as ContainerUploadBlock
from ._types import ContentBlock as ContentBlock
from ._types import ContentBlockDeltaEvent as ContentBlockDeltaEvent
from ._types import ContentBlockLocationCitation as ContentBlockLocationCitation
from ._types import ContentBlockStartEvent as ContentBlockStartEvent
from ._types import ContentBlockStopEvent as ContentBlockStopEvent
from ._types import Delta as Delta
from ._types import ErrorDetail as ErrorDetail
from ._types import ErrorEvent as ErrorEvent
from ._types import FallbackBlock as FallbackBlock
from ._types import FallbackInfo as FallbackInfo
from ._types import InputJSONDelta as InputJSONDelta
from ._types import MCPToolListingBlock as MCPToolListingBlock
from ._types import MCPToolResultBlock as MCPToolResultBlock
from ._types import MCPToolUseBlock as MCPToolUseBlock
from ._types import Message as Message
from ._types import MessageDelta as MessageDelta
from ._types import MessageDeltaEvent as MessageDeltaEvent
from ._types import MessageDeltaUsage as MessageDeltaUsage
from ._types import MessageStartEvent as MessageStartEvent
from ._types import MessageStopEvent as MessageStopEvent
from ._types import MessageStreamEvent as MessageStreamEvent
from ._types import PageLocationCitation as PageLocationCitation
from ._types import PingEvent as PingEvent
from ._types import RedactedThinkingBlock as RedactedThinkingBlock
from ._types import SearchResultLocationCitation as SearchResultLocationCitation
from ._types import ServerToolUseBlock as ServerToolUseBlock
from ._types import SignatureDelta as SignatureDelta
from ._types import StopReason as StopReason
from ._types import TextBlock as TextBlock
from ._types import TextDelta as TextDelta
from ._types import TextEditorCodeExecutionToolResultBlock as TextEditorCodeExecutionToolResultBlock
from ._types import ThinkingBlock as ThinkingBlock
from ._types import ThinkingDelta as ThinkingDelta
from ._types import ToolSearchToolResultBlock as ToolSearchToolResultBlock
from ._types import ToolUseBlock as ToolUseBlock
from ._types import Usage as Usage
from ._types import WebFetchToolResultBlock as WebFetchToolResultBlock
from ._types import WebSearchResultLocationCitation as WebSearchResultLocationCitation
from ._types import WebSearchToolResultBlock as WebSearchToolResultBlock
from ._unknown import UnknownBlock as UnknownBlock
from ._unknown import UnknownCitation as UnknownCitation
from ._unknown import UnknownDelta as UnknownDelta
from ._unknown import UnknownEvent as UnknownEvent
from ._unknown import UnknownValue as UnknownValue

__all__ = [
    "NOT_GIVEN",
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
    "NotGiven",
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
    "UnknownBlock",
    "UnknownCitation",
    "UnknownDelta",
    "UnknownEvent",
    "UnknownValue",
    "Usage",
    "WebFetchToolResultBlock",
    "WebSearchResultLocationCitation",
    "WebSearchToolResultBlock",
]
