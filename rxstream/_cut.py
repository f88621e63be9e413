"""`CutBlock`: a content block the message ended inside, never presented as complete."""

from __future__ import annotations

import msgspec

from ._types import ContentBlock, StopReason

__all__ = ["CutBlock"]


class CutBlock(msgspec.Struct, frozen=True):
    """A content block that had no `content_block_stop` when `message_stop` came: the
    message ended inside it (`stop_reason`, usually `max_tokens`, says why).

    `block` is the block as the final message holds it. A tool block's input is what the
    official SDK shows for the fragments that arrived: an unfinished string, key or literal
    left out, never presented as the finished value (no `ToolInput` for it either).
    """

    index: int
    """The block's index in the message's content."""
    block: ContentBlock
    """The block as the final message holds it."""
    stop_reason: StopReason | None
    """Why the message ended (`max_tokens`, `refusal`, ...; None if no `message_delta` said)."""
