"""Operators for streams of rxstream events: each a function returning
`Callable[[Observable[StreamItem]], Observable[T]]`, for `observable.pipe(...)`."""

from .._lanes import DeliveryStats as DeliveryStats
from ._decouple import Decouple as Decouple
from ._decouple import decouple as decouple
from ._fields import FieldDone as FieldDone
from ._fields import StringChunk as StringChunk
from ._fields import tool_field as tool_field
from ._fields import tool_fields as tool_fields
from ._message import final_message as final_message
from ._message import final_text as final_text
from ._message import snapshots as snapshots
from ._message import usage as usage
from ._metrics import StreamMetrics as StreamMetrics
from ._metrics import metrics as metrics
from ._text import citations as citations
from ._text import coalesce_text as coalesce_text
from ._text import text_deltas as text_deltas
from ._text import thinking_deltas as thinking_deltas
from ._tools import CutBlock as CutBlock
from ._tools import ToolInput as ToolInput
from ._tools import ToolInputCut as ToolInputCut
from ._tools import ToolInputDelta as ToolInputDelta
from ._tools import cut_blocks as cut_blocks
from ._tools import tool_inputs as tool_inputs
from ._typed import ToolInputError as ToolInputError
from ._typed import typed_tool_inputs as typed_tool_inputs

__all__ = [
    "CutBlock",
    "Decouple",
    "DeliveryStats",
    "FieldDone",
    "StreamMetrics",
    "StringChunk",
    "ToolInput",
    "ToolInputCut",
    "ToolInputDelta",
    "ToolInputError",
    "citations",
    "coalesce_text",
    "cut_blocks",
    "decouple",
    "final_message",
    "final_text",
    "metrics",
    "snapshots",
    "text_deltas",
    "thinking_deltas",
    "tool_field",
    "tool_fields",
    "tool_inputs",
    "typed_tool_inputs",
    "usage",
]
